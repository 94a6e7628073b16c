//! `/alipay/gateway.do`, playing `https://openapi.alipay.com/gateway.do`:
//! reads a call's parameters, checks the common ones and the signature as
//! the gateway does, and hands the call to its method (or, for
//! `alipay.trade.wap.pay`, opens the cashier).
//!
//! Documented (opendocs common/057k53, 02km9f): the common parameters
//! `app_id`, `method`, `format` (JSON), `charset`, `sign_type` (RSA2),
//! `sign`, `timestamp` (`yyyy-MM-dd HH:mm:ss`, Beijing time), `version`
//! (1.0), `notify_url`, `return_url`, `biz_content` (JSON text); the
//! refusals 40001 `isv.missing-method`, `isv.missing-app-id`,
//! `isv.missing-signature`, `isv.missing-signature-type`,
//! `isv.missing-timestamp`, `isv.missing-version`; 40002
//! `isv.invalid-app-id`, `isv.invalid-method`, `isv.invalid-format`,
//! `isv.invalid-charset`, `isv.invalid-signature-type`,
//! `isv.invalid-timestamp`, `isv.invalid-signature` (whose `sub_msg` quotes
//! the string the gateway verified, `&` written `&amp;`), `isv.illegal-json`.
//! A public probe of the gateway found that it checks `app_id` before the
//! signature.
//!
//! Assumed: the checks run in the order above; a `timestamp` more than 10
//! minutes from now is invalid (Alipay's v3 API documents that window; the
//! gateway's is not documented); only `utf-8` is taken as `charset` (GBK is
//! not emulated), and without one utf-8 is meant; a `version` other than
//! 1.0 is `isv.invalid-parameter`; a multipart body is not read.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use serde_json::{Map, Value};

use super::wire::{self, Node, Params, Refusal};
use super::{api, cashier, oauth, Alipay};
use crate::clock::parse_cst_datetime;

/// `alipay.trade.wap.pay`: a page, not an API answer.
pub(crate) const WAP_PAY: &str = "alipay.trade.wap.pay";
/// How far a request's `timestamp` may be from now.
const TIMESTAMP_WINDOW_SECONDS: i64 = 10 * 60;

/// The methods the emulator plays.
const METHODS: [&str; 8] = [
    "alipay.trade.precreate",
    "alipay.trade.create",
    WAP_PAY,
    "alipay.trade.query",
    "alipay.trade.close",
    "alipay.trade.refund",
    "alipay.trade.fastpay.refund.query",
    "alipay.system.oauth.token",
];

/// `GET|POST /alipay/gateway.do`.
pub(super) async fn handle(
    State(alipay): State<Arc<Alipay>>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let form = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    let params = Params::parse(uri.query(), if form { &body } else { &[] });
    let method = params.get("method").map(str::to_owned);
    if method.as_deref() == Some(WAP_PAY) {
        return cashier::open(&alipay, &headers, &params);
    }
    let outcome = call(&alipay, &params);
    if let Err(refusal) = &outcome {
        tracing::info!(method = method.as_deref().unwrap_or("-"), sub_code = %refusal.sub_code, sub_msg = %refusal.sub_msg, "alipay gateway refused a call");
    }
    wire::respond(&alipay.keys, method.as_deref(), outcome)
}

/// One API call, from its checked parameters to its answer.
fn call(alipay: &Arc<Alipay>, params: &Params) -> Result<Node, Refusal> {
    let control = alipay.control();
    if control.outage {
        return Err(Refusal::unavailable());
    }
    if control.busy {
        return Err(Refusal::call_limited());
    }
    verify(alipay, params)?;
    let biz = biz_content(params)?;
    match params.get("method").unwrap_or_default() {
        "alipay.trade.precreate" => api::precreate(alipay, params, &biz),
        "alipay.trade.create" => api::create(alipay, params, &biz),
        "alipay.trade.query" => api::query(alipay, &biz),
        "alipay.trade.close" => api::close(alipay, &biz),
        "alipay.trade.refund" => api::refund(alipay, &biz),
        "alipay.trade.fastpay.refund.query" => api::refund_query(alipay, &biz),
        "alipay.system.oauth.token" => oauth::token(alipay, params),
        other => Err(invalid_method(other)),
    }
}

fn invalid_method(method: &str) -> Refusal {
    Refusal::invalid("isv.invalid-method", format!("不存在的方法名：{method}")).in_error_response()
}

/// The gateway's checks of a call's common parameters and signature.
pub(super) fn verify(alipay: &Alipay, params: &Params) -> Result<(), Refusal> {
    let method = params.get("method").ok_or_else(|| {
        Refusal::missing("isv.missing-method", "缺少方法名参数").in_error_response()
    })?;
    let app_id = params
        .get("app_id")
        .ok_or_else(|| Refusal::missing("isv.missing-app-id", "缺少AppID参数").unsigned())?;
    if app_id != alipay.config.app_id {
        return Err(Refusal::invalid("isv.invalid-app-id", "无效的AppID参数").unsigned());
    }
    if !METHODS.contains(&method) {
        return Err(invalid_method(method));
    }
    if params
        .get("format")
        .is_some_and(|format| !format.eq_ignore_ascii_case("json"))
    {
        return Err(Refusal::invalid("isv.invalid-format", "无效的数据格式"));
    }
    if params
        .get("charset")
        .is_some_and(|charset| !charset.eq_ignore_ascii_case("utf-8"))
    {
        return Err(Refusal::invalid(
            "isv.invalid-charset",
            "字符集错误 (sandbox: only utf-8)",
        ));
    }
    let sign_type = params
        .get("sign_type")
        .ok_or_else(|| Refusal::missing("isv.missing-signature-type", "缺少签名类型参数"))?;
    if sign_type != "RSA2" {
        return Err(Refusal::invalid(
            "isv.invalid-signature-type",
            "无效签名类型 (sandbox: the application signs with RSA2)",
        ));
    }
    let sign = params
        .get("sign")
        .ok_or_else(|| Refusal::missing("isv.missing-signature", "缺少签名参数"))?;
    let timestamp = params
        .get("timestamp")
        .ok_or_else(|| Refusal::missing("isv.missing-timestamp", "缺少时间戳参数"))?;
    let at = parse_cst_datetime(timestamp, false).ok_or_else(|| {
        Refusal::invalid(
            "isv.invalid-timestamp",
            "非法的时间戳参数，格式应为yyyy-MM-dd HH:mm:ss",
        )
    })?;
    if at.abs_diff(alipay.clock.unix_seconds()) > TIMESTAMP_WINDOW_SECONDS.unsigned_abs() {
        return Err(Refusal::invalid(
            "isv.invalid-timestamp",
            "非法的时间戳参数 (sandbox: more than 10 minutes from now)",
        ));
    }
    let version = params
        .get("version")
        .ok_or_else(|| Refusal::missing("isv.missing-version", "缺少版本参数"))?;
    if version != "1.0" {
        return Err(Refusal::invalid(
            "isv.invalid-parameter",
            "参数无效：version只支持1.0",
        ));
    }
    let content = params.sign_content();
    if !alipay.keys.app_signed(content.as_bytes(), sign) {
        return Err(Refusal::invalid(
            "isv.invalid-signature",
            format!(
                "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：{}",
                content.replace('&', "&amp;")
            ),
        ));
    }
    Ok(())
}

/// `biz_content` as an object (absent: empty).
pub(super) fn biz_content(params: &Params) -> Result<Map<String, Value>, Refusal> {
    match params.get("biz_content") {
        None => Ok(Map::new()),
        Some(text) => match serde_json::from_str(text) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(Refusal::invalid(
                "isv.illegal-json",
                "biz_content不是合法的JSON对象",
            )),
        },
    }
}
