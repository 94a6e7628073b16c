//! The shopper's phone: scanning a Native `code_url`, and the WeChat JS
//! bridge's `getBrandWCPayRequest` for JSAPI.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::orders::{Order, PayRefused, TradeState, TradeType};
use super::protocol::ApiError;
use super::{Outcome, Wechat};

#[derive(Debug, Deserialize)]
struct ScanRequest {
    code_url: String,
    outcome: ScanOutcome,
}

/// What the shopper does after a scan.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ScanOutcome {
    Pay,
    Decline,
    /// Scan and stop at the confirmation: only under the `pay_after_close`
    /// fault (WeChat Pay never does it for these orders); the order is
    /// USERPAYING, and a later `pay` completes it even if the merchant
    /// closed it meanwhile.
    Hold,
}

impl From<ScanOutcome> for Outcome {
    fn from(outcome: ScanOutcome) -> Outcome {
        match outcome {
            ScanOutcome::Pay => Outcome::Pay,
            ScanOutcome::Decline => Outcome::Decline,
            ScanOutcome::Hold => Outcome::Hold,
        }
    }
}

impl Wechat {
    /// The phone scans `code_url` and the shopper pays or declines.
    pub(crate) fn scan(
        self: &Arc<Self>,
        code_url: &str,
        outcome: Outcome,
    ) -> Result<Order, ApiError> {
        let now = self.clock.unix_seconds();
        let out_trade_no = {
            let mut state = self.lock();
            let out_trade_no = state.orders.by_code_url(code_url.trim()).ok_or_else(|| {
                ApiError::new(StatusCode::NOT_FOUND, "CODE_URL_NOT_FOUND", "二维码无效")
            })?;
            let valid = state
                .orders
                .get(&out_trade_no, now)
                .is_some_and(|order| order.handle_valid(now));
            if !valid {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "CODE_URL_EXPIRED",
                    "二维码已过期",
                ));
            }
            out_trade_no
        };
        self.settle(&out_trade_no, outcome)
            .map_err(|refused| match refused {
                PayRefused::NotFound => {
                    ApiError::new(StatusCode::NOT_FOUND, "CODE_URL_NOT_FOUND", "二维码无效")
                }
                PayRefused::Paid => ApiError::new(StatusCode::CONFLICT, "ORDERPAID", "订单已支付"),
                PayRefused::Closed => {
                    ApiError::new(StatusCode::CONFLICT, "ORDER_CLOSED", "订单已关闭")
                }
                PayRefused::NoHold => ApiError::new(
                    StatusCode::CONFLICT,
                    "FAULT_OFF",
                    "WeChat Pay holds only payment-code payments at USERPAYING; \
                     turn on the pay_after_close fault in /control to hold this order",
                ),
            })
    }
}

/// `POST /phone/scan` `{"code_url", "outcome": "pay"|"decline"|"hold"}`.
pub(super) async fn scan(State(wechat): State<Arc<Wechat>>, body: Bytes) -> Response {
    let request: ScanRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => return ApiError::param(format!("bad scan body: {error}")).into_response(),
    };
    match wechat.scan(&request.code_url, request.outcome.into()) {
        Ok(order) => Json(json!({ "trade_state": order.state.wire() })).into_response(),
        Err(error) => error.into_response(),
    }
}

/// The arguments the page passed to `WeixinJSBridge.invoke('getBrandWCPayRequest', ...)`,
/// plus what the shopper does.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BridgeRequest {
    app_id: Option<String>,
    time_stamp: Option<String>,
    nonce_str: Option<String>,
    package: Option<String>,
    sign_type: Option<String>,
    pay_sign: Option<String>,
    outcome: BridgeOutcome,
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum BridgeOutcome {
    Pay,
    Decline,
    Cancel,
}

/// What the WeChat client hands the page's callback.
#[derive(Debug, Serialize)]
struct BridgeAnswer {
    err_msg: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    err_desc: Option<String>,
}

const BRIDGE_OK: &str = "get_brand_wcpay_request:ok";
const BRIDGE_FAIL: &str = "get_brand_wcpay_request:fail";
const BRIDGE_CANCEL: &str = "get_brand_wcpay_request:cancel";

fn fail(desc: &str) -> BridgeAnswer {
    BridgeAnswer {
        err_msg: BRIDGE_FAIL,
        err_desc: Some(desc.to_owned()),
    }
}

/// `POST /phone/jsapi`: the WeChat client checks the bridge's arguments,
/// shows the cashier and reports what happened as `err_msg`. A request the
/// client would reject also answers 200, with `:fail`, as the callback does.
pub(super) async fn jsapi(State(wechat): State<Arc<Wechat>>, body: Bytes) -> Response {
    let request: BridgeRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => return ApiError::param(format!("bad bridge body: {error}")).into_response(),
    };
    Json(bridge(&wechat, request)).into_response()
}

fn bridge(wechat: &Arc<Wechat>, request: BridgeRequest) -> BridgeAnswer {
    let (
        Some(app_id),
        Some(time_stamp),
        Some(nonce_str),
        Some(package),
        Some(sign_type),
        Some(pay_sign),
    ) = (
        request.app_id,
        request.time_stamp,
        request.nonce_str,
        request.package,
        request.sign_type,
        request.pay_sign,
    )
    else {
        return fail("缺少参数：appId、timeStamp、nonceStr、package、signType、paySign均为必填");
    };
    if app_id != wechat.config.appid {
        return fail("appId与商户号不匹配");
    }
    if sign_type != "RSA" {
        return fail("signType应为RSA");
    }
    let message = format!("{app_id}\n{time_stamp}\n{nonce_str}\n{package}\n");
    if !wechat.keys.merchant_signed(message.as_bytes(), &pay_sign) {
        return fail("支付验证签名失败");
    }
    let Some(prepay_id) = package.strip_prefix("prepay_id=") else {
        return fail("package格式错误，应为prepay_id=***");
    };
    let now = wechat.clock.unix_seconds();
    let out_trade_no = {
        let mut state = wechat.lock();
        let Some(out_trade_no) = state.orders.by_prepay_id(prepay_id) else {
            return fail("prepay_id无效");
        };
        let Some(order) = state.orders.get(&out_trade_no, now) else {
            return fail("prepay_id无效");
        };
        if order.params.trade_type != TradeType::Jsapi {
            return fail("prepay_id无效");
        }
        if !order.handle_valid(now) {
            return fail("prepay_id已过期");
        }
        match order.state {
            TradeState::Success | TradeState::Refund => return fail("该订单已支付"),
            TradeState::Closed => return fail("订单已关闭"),
            TradeState::NotPay | TradeState::UserPaying | TradeState::PayError => {}
        }
        out_trade_no
    };
    let outcome = match request.outcome {
        BridgeOutcome::Cancel => {
            return BridgeAnswer {
                err_msg: BRIDGE_CANCEL,
                err_desc: None,
            }
        }
        BridgeOutcome::Pay => Outcome::Pay,
        BridgeOutcome::Decline => Outcome::Decline,
    };
    match wechat.settle(&out_trade_no, outcome) {
        Ok(order) if order.state == TradeState::Success => BridgeAnswer {
            err_msg: BRIDGE_OK,
            err_desc: None,
        },
        Ok(_) => fail("支付失败"),
        Err(PayRefused::Paid) => fail("该订单已支付"),
        Err(PayRefused::Closed) => fail("订单已关闭"),
        Err(PayRefused::NotFound) => fail("prepay_id无效"),
        Err(PayRefused::NoHold) => fail("支付失败"),
    }
}
