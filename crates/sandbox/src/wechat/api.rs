//! The `/v3` handlers: prepay (Native, H5, JSAPI), query, close, and
//! domestic refunds (ask, query). They run behind the signature guard,
//! which also signs what they answer.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::control::NotifyMode;
use super::orders::{CloseRefused, CreateRefused, OrderParams, TradeType};
use super::protocol::{ApiError, CloseRequest, PrepayRequest, RefundRequest};
use super::refunds::{RefundParams, RefundRefused};
use super::{Wechat, EARLY_WAIT};
use crate::clock::parse_rfc3339;

/// `time_expire` must be at least this far ahead.
const MIN_EXPIRE_AHEAD_SECONDS: i64 = 60;

/// `POST /v3/pay/transactions/native`.
pub(super) async fn create_native(State(wechat): State<Arc<Wechat>>, body: Bytes) -> Response {
    create(wechat, TradeType::Native, &body).await
}

/// `POST /v3/pay/transactions/h5`.
pub(super) async fn create_h5(State(wechat): State<Arc<Wechat>>, body: Bytes) -> Response {
    create(wechat, TradeType::H5, &body).await
}

/// `POST /v3/pay/transactions/jsapi`.
pub(super) async fn create_jsapi(State(wechat): State<Arc<Wechat>>, body: Bytes) -> Response {
    create(wechat, TradeType::Jsapi, &body).await
}

async fn create(wechat: Arc<Wechat>, kind: TradeType, body: &[u8]) -> Response {
    let now = wechat.clock.unix_seconds();
    let params = match prepay_params(&wechat, kind, body, now) {
        Ok(params) => params,
        Err(error) => return error.into_response(),
    };
    let out_trade_no = params.out_trade_no.clone();
    let shopper = wechat.openid_for(&params.appid);
    let (answer, paid, control) = {
        let mut state = wechat.lock();
        let control = state.control.clone();
        let order = match state.orders.create(params, now) {
            Ok(order) => order.clone(),
            Err(CreateRefused::Paid) => return ApiError::order_paid().into_response(),
            Err(CreateRefused::Closed) => return ApiError::order_closed().into_response(),
            Err(CreateRefused::Conflict) => {
                return ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "INVALID_REQUEST",
                    "201 商户订单号重复",
                )
                .into_response()
            }
        };
        let answer = match kind {
            TradeType::Native => json!({ "code_url": order.code_url }),
            TradeType::Jsapi => json!({ "prepay_id": order.prepay_id }),
            TradeType::H5 => match state.orders.issue_h5_ticket(&out_trade_no, now) {
                Some((prepay_id, package)) => json!({
                    "h5_url": format!(
                        "{}/wechat-pay/h5/pay?prepay_id={prepay_id}&package={package}",
                        wechat.public_url
                    )
                }),
                None => return ApiError::system().into_response(),
            },
        };
        let paid = if control.pay_on_create {
            state.orders.pay(&out_trade_no, &shopper, now).ok()
        } else {
            None
        };
        (answer, paid, control)
    };
    tracing::info!(%out_trade_no, trade_type = kind.wire(), "order created");
    if let Some(order) = paid {
        tracing::info!(%out_trade_no, "paid on create (control: pay_on_create)");
        let first_attempt = wechat.notify_paid(&order, control.plan(true));
        if control.notify == NotifyMode::Early {
            // Early means before the merchant has this answer: hold it until
            // the notification's first attempt is over (bounded, in case the
            // merchant waits on its create call before it answers).
            if let Some(first_attempt) = first_attempt {
                let _ = tokio::time::timeout(EARLY_WAIT, first_attempt).await;
            }
        }
    }
    (StatusCode::OK, Json(answer)).into_response()
}

/// A required string: present and not empty.
fn required(value: Option<String>, path: &str) -> Result<String, ApiError> {
    value
        .filter(|value| !value.is_empty())
        .ok_or_else(|| ApiError::missing(path))
}

/// Validates a prepay body as WeChat does.
fn prepay_params(
    wechat: &Wechat,
    kind: TradeType,
    body: &[u8],
    now: i64,
) -> Result<OrderParams, ApiError> {
    let config = &wechat.config;
    let request: PrepayRequest = serde_json::from_slice(body)
        .map_err(|error| ApiError::param(format!("请求体格式错误：{error}")))?;
    let appid = required(request.appid, "appid")?;
    let mchid = required(request.mchid, "mchid")?;
    let description = required(request.description, "description")?;
    let out_trade_no = required(request.out_trade_no, "out_trade_no")?;
    let notify_url = required(request.notify_url, "notify_url")?;
    let amount = request.amount.ok_or_else(|| ApiError::missing("amount"))?;
    let total = amount
        .total
        .ok_or_else(|| ApiError::missing("amount/total"))?;

    if mchid != config.mchid {
        return Err(ApiError::param("mchid与请求头中的商户号不一致"));
    }
    if appid != config.appid {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "APPID_MCHID_NOT_MATCH",
            "AppID和mch_id不匹配",
        ));
    }
    if description.chars().count() > 127 {
        return Err(ApiError::param("description长度超过127个字符"));
    }
    let out_trade_no_ok = (6..=32).contains(&out_trade_no.chars().count())
        && out_trade_no
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-|*".contains(c));
    if !out_trade_no_ok {
        return Err(ApiError::param(
            "out_trade_no应为6-32个字符，只能是数字、大小写字母_-|*",
        ));
    }
    let time_expire = match request.time_expire.as_deref() {
        None | Some("") => None,
        Some(text) => {
            let at = parse_rfc3339(text).ok_or_else(|| {
                ApiError::param("time_expire格式错误，应为rfc3339格式，如2018-06-08T10:34:56+08:00")
            })?;
            if at - now < MIN_EXPIRE_AHEAD_SECONDS {
                return Err(ApiError::param("time_expire应至少在当前时间1分钟之后"));
            }
            Some(at)
        }
    };
    check_notify_url(&notify_url)?;
    let attach = request.attach.filter(|attach| !attach.is_empty());
    if attach
        .as_ref()
        .is_some_and(|attach| attach.chars().count() > 128)
    {
        return Err(ApiError::param("attach长度超过128个字符"));
    }
    if total <= 0 {
        return Err(ApiError::param("amount.total应为大于0的整数，单位为分"));
    }
    let currency = amount
        .currency
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "CNY".to_owned());
    if currency != "CNY" {
        return Err(ApiError::param("amount.currency只支持CNY"));
    }

    let openid = match kind {
        TradeType::Jsapi => {
            let payer = request.payer.ok_or_else(|| ApiError::missing("payer"))?;
            let openid = required(payer.openid, "payer/openid")?;
            if openid != wechat.openid_for(&appid) {
                return Err(ApiError::param("openid和appid不匹配"));
            }
            Some(openid)
        }
        TradeType::Native | TradeType::H5 => None,
    };
    if kind == TradeType::H5 {
        let scene = request
            .scene_info
            .ok_or_else(|| ApiError::missing("scene_info"))?;
        required(scene.payer_client_ip, "scene_info/payer_client_ip")?;
        let h5_info = scene
            .h5_info
            .ok_or_else(|| ApiError::missing("scene_info/h5_info"))?;
        let h5_type = required(h5_info.kind, "scene_info/h5_info/type")?;
        if !["iOS", "Android", "Wap"].contains(&h5_type.as_str()) {
            return Err(ApiError::param(
                "scene_info.h5_info.type应为iOS、Android或Wap",
            ));
        }
    }

    Ok(OrderParams {
        trade_type: kind,
        appid,
        mchid,
        description,
        out_trade_no,
        time_expire,
        notify_url,
        attach,
        total,
        currency,
        openid,
    })
}

/// An absolute http(s) URL without a query: WeChat does not allow
/// parameters on `notify_url`. (Real WeChat wants https; the sandbox also
/// takes http, for loopback merchants.)
fn check_notify_url(url: &str) -> Result<(), ApiError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| ApiError::param("notify_url应为https地址"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || url.len() > 255 {
        return Err(ApiError::param("notify_url格式错误"));
    }
    if url.contains('?') || url.contains('#') {
        return Err(ApiError::param("notify_url不能携带参数"));
    }
    Ok(())
}

/// The `mchid` query parameter of the query calls.
fn check_mchid(
    wechat: &Wechat,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<(), ApiError> {
    let Query(query) = query.map_err(|_| ApiError::param("查询参数格式错误"))?;
    match query.get("mchid").filter(|mchid| !mchid.is_empty()) {
        None => Err(ApiError::param(
            "输入源“/query/mchid”映射到值字段“mchid”必填性规则校验失败，此字段为必填项",
        )),
        Some(mchid) if *mchid != wechat.config.mchid => {
            Err(ApiError::param("mchid与请求头中的商户号不一致"))
        }
        Some(_) => Ok(()),
    }
}

/// `GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=`.
pub(super) async fn query_by_out_trade_no(
    State(wechat): State<Arc<Wechat>>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    let Ok(Path(out_trade_no)) = path else {
        return ApiError::order_not_exist().into_response();
    };
    if let Err(error) = check_mchid(&wechat, query) {
        return error.into_response();
    }
    let now = wechat.clock.unix_seconds();
    let transaction = wechat
        .lock()
        .orders
        .get(&out_trade_no, now)
        .map(|order| order.transaction());
    match transaction {
        Some(transaction) => Json(transaction).into_response(),
        None => ApiError::order_not_exist().into_response(),
    }
}

/// `GET /v3/pay/transactions/id/{transaction_id}?mchid=`.
pub(super) async fn query_by_transaction_id(
    State(wechat): State<Arc<Wechat>>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    let Ok(Path(transaction_id)) = path else {
        return ApiError::order_not_exist().into_response();
    };
    if let Err(error) = check_mchid(&wechat, query) {
        return error.into_response();
    }
    let now = wechat.clock.unix_seconds();
    let transaction = wechat
        .lock()
        .orders
        .get_by_transaction_id(&transaction_id, now)
        .map(|order| order.transaction());
    match transaction {
        Some(transaction) => Json(transaction).into_response(),
        None => ApiError::order_not_exist().into_response(),
    }
}

/// `POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close`: 204.
pub(super) async fn close(
    State(wechat): State<Arc<Wechat>>,
    path: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Response {
    let Ok(Path(out_trade_no)) = path else {
        return ApiError::order_not_exist().into_response();
    };
    let request: CloseRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => return ApiError::param(format!("请求体格式错误：{error}")).into_response(),
    };
    match required(request.mchid, "mchid") {
        Err(error) => return error.into_response(),
        Ok(mchid) if mchid != wechat.config.mchid => {
            return ApiError::param("mchid与请求头中的商户号不一致").into_response()
        }
        Ok(_) => {}
    }
    let now = wechat.clock.unix_seconds();
    let closed = wechat.lock().orders.close(&out_trade_no, now);
    match closed {
        Ok(()) => {
            tracing::info!(%out_trade_no, "order closed");
            StatusCode::NO_CONTENT.into_response()
        }
        Err(CloseRefused::NotFound) => ApiError::order_not_exist().into_response(),
        Err(CloseRefused::Paid) => ApiError::order_paid().into_response(),
    }
}

/// `POST /v3/refund/domestic/refunds`: the refund, PROCESSING; it ends
/// later (as `/control` says) and is notified to its `notify_url`.
pub(super) async fn create_refund(State(wechat): State<Arc<Wechat>>, body: Bytes) -> Response {
    let params = match refund_params(&body) {
        Ok(params) => params,
        Err(error) => return error.into_response(),
    };
    let now = wechat.clock.unix_seconds();
    let out_refund_no = params.out_refund_no.clone();
    let asked = {
        let mut state = wechat.lock();
        let known = state.orders.refund_record(&out_refund_no).is_some();
        if state.control.balance_short && !known {
            return ApiError::new(StatusCode::FORBIDDEN, "NOT_ENOUGH", "余额不足").into_response();
        }
        state.orders.refund(params, now)
    };
    match asked {
        Ok(refund) => {
            tracing::info!(%out_refund_no, out_trade_no = %refund.params.out_trade_no, refund = refund.params.refund, "refund asked for");
            if refund.status == super::refunds::RefundStatus::Processing {
                wechat.finish_refund_later(out_refund_no);
            }
            Json(refund.answer()).into_response()
        }
        Err(RefundRefused::NotFound) => ApiError::resource_not_exists("订单不存在").into_response(),
        Err(RefundRefused::NotPaid) => {
            ApiError::invalid_request("订单尚未支付，不能退款").into_response()
        }
        Err(RefundRefused::TotalMismatch) => {
            ApiError::param("amount.total与订单金额不一致").into_response()
        }
        Err(RefundRefused::Exceeds) => {
            ApiError::invalid_request("申请退款金额超过订单可退金额").into_response()
        }
        Err(RefundRefused::Conflict) => {
            ApiError::invalid_request("退款单号重复，且请求参数与之前不一致").into_response()
        }
    }
}

/// Validates a refund body as WeChat does.
fn refund_params(body: &[u8]) -> Result<RefundParams, ApiError> {
    let request: RefundRequest = serde_json::from_slice(body)
        .map_err(|error| ApiError::param(format!("请求体格式错误：{error}")))?;
    if request.transaction_id.is_some() && request.out_trade_no.is_none() {
        return Err(ApiError::param(
            "sandbox: refunds by transaction_id are not emulated; send out_trade_no",
        ));
    }
    let out_trade_no = required(request.out_trade_no, "out_trade_no")?;
    let out_refund_no = required(request.out_refund_no, "out_refund_no")?;
    let no_ok = (1..=64).contains(&out_refund_no.chars().count())
        && out_refund_no
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-|*@".contains(c));
    if !no_ok {
        return Err(ApiError::param(
            "out_refund_no应为1-64个字符，只能是数字、大小写字母_-|*@",
        ));
    }
    let reason = request.reason.filter(|reason| !reason.is_empty());
    if reason
        .as_ref()
        .is_some_and(|reason| reason.chars().count() > 80)
    {
        return Err(ApiError::param("reason长度超过80个字符"));
    }
    let notify_url = request.notify_url.filter(|url| !url.is_empty());
    if let Some(url) = &notify_url {
        check_notify_url(url)?;
    }
    if let Some(account) = request.funds_account.filter(|account| !account.is_empty()) {
        if account != "AVAILABLE" {
            return Err(ApiError::param("funds_account只支持AVAILABLE"));
        }
    }
    let amount = request.amount.ok_or_else(|| ApiError::missing("amount"))?;
    let refund = amount
        .refund
        .ok_or_else(|| ApiError::missing("amount/refund"))?;
    let total = amount
        .total
        .ok_or_else(|| ApiError::missing("amount/total"))?;
    let currency = required(amount.currency, "amount/currency")?;
    if currency != "CNY" {
        return Err(ApiError::param("amount.currency只支持CNY"));
    }
    if refund <= 0 || total <= 0 {
        return Err(ApiError::param(
            "退款金额和订单金额应为大于0的整数，单位为分",
        ));
    }
    Ok(RefundParams {
        out_trade_no,
        out_refund_no,
        reason,
        notify_url,
        refund,
        total,
        currency,
    })
}

/// `GET /v3/refund/domestic/refunds/{out_refund_no}`.
pub(super) async fn query_refund(
    State(wechat): State<Arc<Wechat>>,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(out_refund_no)) = path else {
        return ApiError::resource_not_exists("退款单不存在").into_response();
    };
    let answer = wechat
        .lock()
        .orders
        .refund_record(&out_refund_no)
        .map(|refund| refund.answer());
    match answer {
        Some(answer) => Json(answer).into_response(),
        None => ApiError::resource_not_exists("退款单不存在").into_response(),
    }
}

/// Any other `/v3` path.
pub(super) async fn not_found() -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "请求的资源不存在 (sandbox: this API is not emulated)",
    )
    .into_response()
}
