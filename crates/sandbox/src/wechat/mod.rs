//! WeChat Pay API v3, played on loopback: the pay API host
//! (`/wechat-pay`, like `api.mch.weixin.qq.com`), the H5 cashier, WeChat's
//! web OAuth (`/wechat-open`, `/wechat-api`), the shopper's phone (`/phone`)
//! and the switches of `/control`.

mod api;
mod control;
mod crypto;
mod notify;
mod oauth;
mod orders;
mod pages;
mod phone;
mod protocol;
mod refunds;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{OriginalUri, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use tokio::sync::oneshot;

use crate::{Clock, WechatConfig};
use control::{Control, Plan};
use crypto::Keys;
use orders::{Order, Orders, PayRefused};
use protocol::{ApiError, Authorization};

/// A request's `Authorization` timestamp may be this far from now.
const FRESHNESS_SECONDS: i64 = 5 * 60;

/// WeChat Pay's longest `nonce_str`.
const MAX_NONCE_CHARS: usize = 32;
/// No API v3 body the emulator accepts comes near this.
const MAX_BODY_BYTES: usize = 1 << 20;
/// How long an `early` notification may hold up the create answer.
const EARLY_WAIT: Duration = Duration::from_secs(2);

/// The emulated WeChat Pay: configuration, keys and in-memory state.
pub(crate) struct Wechat {
    config: WechatConfig,
    keys: Keys,
    public_url: String,
    clock: Clock,
    http: reqwest::Client,
    state: Mutex<EmulatorState>,
}

/// Everything that changes, behind one lock (never held across an await).
#[derive(Default)]
pub(crate) struct EmulatorState {
    orders: Orders,
    oauth: oauth::Codes,
    control: Control,
}

/// What the shopper does with a payment request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Pay,
    Decline,
    /// Scanned, and being confirmed on the phone (USERPAYING).
    Hold,
}

/// The routes of every WeChat host the emulator plays.
///
/// # Panics
/// When the configuration's keys cannot be used.
pub(crate) fn router(config: WechatConfig, public_url: String, clock: Clock) -> Router {
    let keys = Keys::load(&config)
        .unwrap_or_else(|error| panic!("payment-sandbox: unusable WeChat configuration: {error}"));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default();
    let wechat = Arc::new(Wechat {
        config,
        keys,
        public_url,
        clock,
        http,
        state: Mutex::new(EmulatorState::default()),
    });

    let v3 = Router::new()
        .route("/pay/transactions/native", post(api::create_native))
        .route("/pay/transactions/h5", post(api::create_h5))
        .route("/pay/transactions/jsapi", post(api::create_jsapi))
        .route(
            "/pay/transactions/out-trade-no/{out_trade_no}",
            get(api::query_by_out_trade_no),
        )
        .route(
            "/pay/transactions/out-trade-no/{out_trade_no}/close",
            post(api::close),
        )
        .route(
            "/pay/transactions/id/{transaction_id}",
            get(api::query_by_transaction_id),
        )
        .route("/refund/domestic/refunds", post(api::create_refund))
        .route(
            "/refund/domestic/refunds/{out_refund_no}",
            get(api::query_refund),
        )
        // A route, not a fallback: nested routers' fallbacks do not survive
        // being nested twice.
        .route("/{*rest}", any(api::not_found))
        .layer(middleware::from_fn_with_state(wechat.clone(), guard));
    let pay_host = Router::new()
        .nest("/v3", v3)
        .route("/h5/pay", get(pages::h5_page).post(pages::h5_submit));

    Router::new()
        .nest("/wechat-pay", pay_host)
        .route(
            "/wechat-open/connect/oauth2/authorize",
            get(oauth::authorize),
        )
        .route(
            "/wechat-api/sns/oauth2/access_token",
            get(oauth::access_token),
        )
        .route("/phone", get(pages::phone_page).post(pages::phone_submit))
        .route("/phone/scan", post(phone::scan))
        .route("/phone/jsapi", post(phone::jsapi))
        .route("/control", get(control::read).post(control::update))
        .with_state(wechat)
}

impl Wechat {
    fn lock(&self) -> MutexGuard<'_, EmulatorState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn control(&self) -> Control {
        self.lock().control.clone()
    }

    /// The openid of the emulated shopper under `appid`: the same on every
    /// run, as a real user's openid is stable per app.
    fn openid_for(&self, appid: &str) -> String {
        let digest = aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA256,
            format!("payment-sandbox shopper\n{appid}").as_bytes(),
        );
        let mut openid = format!("o{}", URL_SAFE_NO_PAD.encode(digest.as_ref()));
        openid.truncate(28);
        openid
    }

    /// Pays or declines an order as the shopper; a payment is notified as
    /// `/control` says, a decline never (WeChat does not notify those).
    fn settle(self: &Arc<Self>, out_trade_no: &str, outcome: Outcome) -> Result<Order, PayRefused> {
        let now = self.clock.unix_seconds();
        let openid = self.openid_for(&self.config.appid);
        let (result, control) = {
            let mut state = self.lock();
            let result = match outcome {
                Outcome::Pay => state.orders.pay(out_trade_no, &openid, now),
                Outcome::Decline => state.orders.decline(out_trade_no, now),
                Outcome::Hold if state.control.pay_after_close => {
                    state.orders.hold(out_trade_no, now)
                }
                Outcome::Hold => Err(PayRefused::NoHold),
            };
            (result, state.control.clone())
        };
        if let Ok(order) = &result {
            tracing::info!(
                out_trade_no,
                trade_state = order.state.wire(),
                "shopper settled an order"
            );
            if outcome == Outcome::Pay {
                self.notify_paid(order, control.plan(false));
            }
        }
        result
    }

    /// Ends a refund as `/control` says once its delay has passed, and
    /// notifies it (in the background).
    fn finish_refund_later(self: &Arc<Self>, out_refund_no: String) {
        let wechat = self.clone();
        tokio::spawn(async move {
            let control = wechat.control();
            tokio::time::sleep(Duration::from_millis(control.refund_delay_ms)).await;
            let status = match wechat.control().refund {
                control::RefundOutcome::Success => refunds::RefundStatus::Success,
                control::RefundOutcome::Abnormal => refunds::RefundStatus::Abnormal,
                control::RefundOutcome::Closed => refunds::RefundStatus::Closed,
            };
            let now = wechat.clock.unix_seconds();
            let Some(refund) = wechat.lock().orders.end_refund(&out_refund_no, status, now) else {
                return;
            };
            tracing::info!(%out_refund_no, status = status.wire(), "refund ended");
            let Some(url) = refund.params.notify_url.clone() else {
                return;
            };
            let Some(plan) = wechat.control().plan(false) else {
                tracing::info!(%out_refund_no, "refund notification dropped (control: drop)");
                return;
            };
            match notify::build_refund(&wechat.keys, &wechat.config.mchid, &refund, now) {
                Ok(notification) => {
                    notify::deliver(wechat.clone(), url, notification, plan, None).await
                }
                Err(error) => tracing::error!(%error, "cannot build a refund notification"),
            }
        });
    }

    /// Starts the notification of a paid order in the background; the
    /// receiver hears when its first attempt is over.
    fn notify_paid(
        self: &Arc<Self>,
        order: &Order,
        plan: Option<Plan>,
    ) -> Option<oneshot::Receiver<()>> {
        let Some(plan) = plan else {
            tracing::info!(out_trade_no = %order.params.out_trade_no, "notification dropped (control: drop)");
            return None;
        };
        let notification =
            match notify::build(&self.keys, &order.transaction(), self.clock.unix_seconds()) {
                Ok(notification) => notification,
                Err(error) => {
                    tracing::error!(%error, "cannot build a notification");
                    return None;
                }
            };
        let (heard, first_attempt) = oneshot::channel();
        tokio::spawn(notify::deliver(
            self.clone(),
            order.params.notify_url.clone(),
            notification,
            plan,
            Some(heard),
        ));
        Some(first_attempt)
    }

    /// Checks a request's `Authorization` against the merchant's key, over
    /// the path and query exactly as this server received them (as the real
    /// host checks them).
    fn check_signature(
        &self,
        method: &Method,
        paths: &[&str],
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), String> {
        let header = headers
            .get(AUTHORIZATION)
            .ok_or("no Authorization header")?
            .to_str()
            .map_err(|_| "Authorization is not ASCII")?;
        let auth = Authorization::parse(header)?;
        if auth.mchid != self.config.mchid {
            return Err(format!("mchid {} is not this merchant", auth.mchid));
        }
        if auth.nonce_str.is_empty() || auth.nonce_str.chars().count() > MAX_NONCE_CHARS {
            return Err(format!(
                "nonce_str must have 1 to {MAX_NONCE_CHARS} characters"
            ));
        }
        if auth.serial_no != self.config.merchant_serial {
            return Err(format!(
                "serial_no {} is not the merchant certificate's serial",
                auth.serial_no
            ));
        }
        let timestamp: i64 = auth
            .timestamp
            .parse()
            .map_err(|_| "timestamp is not a number of seconds")?;
        // abs_diff: the header is not yet trusted, and any i64 may come.
        let skew = self.clock.unix_seconds().abs_diff(timestamp);
        if skew > FRESHNESS_SECONDS.unsigned_abs() {
            return Err(format!("timestamp is {skew} s away from now"));
        }
        let signed = paths.iter().any(|path| {
            let mut message =
                format!("{method}\n{path}\n{}\n{}\n", auth.timestamp, auth.nonce_str).into_bytes();
            message.extend_from_slice(body);
            message.push(b'\n');
            self.keys.merchant_signed(&message, &auth.signature)
        });
        if !signed {
            return Err(format!(
                "signature does not verify with the merchant key over {method}\\n{}\\nTIMESTAMP\\nNONCE\\nBODY\\n",
                paths.first().unwrap_or(&"/")
            ));
        }
        Ok(())
    }

    /// Adds the `Wechatpay-*` headers that let the merchant check an answer.
    async fn sign_response(&self, response: Response) -> Response {
        let (mut parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        let timestamp = self.clock.unix_seconds().to_string();
        let nonce = crypto::nonce(32);
        let mut message = format!("{timestamp}\n{nonce}\n").into_bytes();
        message.extend_from_slice(&body);
        message.push(b'\n');
        let signature = self.keys.platform_sign(&message).unwrap_or_else(|error| {
            tracing::error!(%error, "cannot sign a response");
            String::new()
        });
        let headers = [
            ("wechatpay-timestamp", timestamp),
            ("wechatpay-nonce", nonce),
            ("wechatpay-signature", signature),
            ("wechatpay-serial", self.config.platform_key_id.clone()),
            (
                "request-id",
                format!("{}-0", crypto::random_from(b"0123456789ABCDEF", 46)),
            ),
        ];
        for (name, value) in headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                parts.headers.insert(HeaderName::from_static(name), value);
            }
        }
        Response::from_parts(parts, Body::from(body))
    }
}

/// Every `/v3` call: refused while an outage or a rate limit is on, then its signature is
/// checked; whatever the answer, it is signed.
async fn guard(
    State(wechat): State<Arc<Wechat>>,
    OriginalUri(uri): OriginalUri,
    request: Request,
    next: Next,
) -> Response {
    let control = wechat.control();
    let response = if control.outage {
        ApiError::system().into_response()
    } else if control.busy {
        ApiError::frequency_limited().into_response()
    } else {
        let (parts, body) = request.into_parts();
        let received = uri.path_and_query().map_or("/", |p| p.as_str());
        match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
            Err(_) => ApiError::param("请求体过大或无法读取").into_response(),
            Ok(body) => {
                match wechat.check_signature(&parts.method, &[received], &parts.headers, &body) {
                    Err(reason) => {
                        tracing::warn!(%uri, %reason, "refused an unsigned or badly signed request");
                        ApiError::sign(&reason).into_response()
                    }
                    Ok(()) => next.run(Request::from_parts(parts, Body::from(body))).await,
                }
            }
        }
    };
    wechat.sign_response(response).await
}
