//! `/control`: switches that make the emulator misbehave the way the real
//! one sometimes does (outages, late, repeated, lost or early
//! notifications; refunds that end abnormal or closed), a named fault that
//! the real one should never show (a closed order paid anyway), and a
//! shortcut that pays orders as they are created.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::protocol::ApiError;
use super::Wechat;

/// How payment notifications are delivered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum NotifyMode {
    /// At once, retried with backoff until the merchant answers 200 or 204.
    #[default]
    Normal,
    /// After `notify_delay_ms`.
    Late,
    /// The same notification (same `id`) delivered twice.
    Duplicate,
    /// Never: only a query tells.
    Drop,
    /// With `pay_on_create`, before the create call has answered.
    Early,
}

/// How a refund ends, once `refund_delay_ms` has passed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RefundOutcome {
    /// SUCCESS: the money is back with the shopper.
    #[default]
    Success,
    /// ABNORMAL: it could not go back where it came from.
    Abnormal,
    /// CLOSED.
    Closed,
}

/// The whole control state, as `GET /control` answers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Control {
    pub outage: bool,
    /// Every call refused with 429 FREQUENCY_LIMITED, as a rate limit does.
    pub busy: bool,
    pub notify: NotifyMode,
    pub notify_delay_ms: u64,
    pub pay_on_create: bool,
    /// How refunds end.
    pub refund: RefundOutcome,
    /// How long a refund stays PROCESSING.
    pub refund_delay_ms: u64,
    /// The merchant's balance cannot cover a refund: refunds are refused
    /// with 403 NOT_ENOUGH (to be asked again once it can).
    pub balance_short: bool,
    /// A fault WeChat Pay should never show: the phone may hold a Native,
    /// H5 or JSAPI order at USERPAYING, and its payment then goes through
    /// after the merchant closed the order (a second payment to give
    /// back). Off, a held scan is refused and a closed order stays closed.
    pub pay_after_close: bool,
}

impl Default for Control {
    fn default() -> Self {
        Control {
            outage: false,
            busy: false,
            notify: NotifyMode::Normal,
            notify_delay_ms: 2000,
            pay_on_create: false,
            refund: RefundOutcome::Success,
            refund_delay_ms: 500,
            balance_short: false,
            pay_after_close: false,
        }
    }
}

/// A change to the control state: any subset of its fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ControlUpdate {
    outage: Option<bool>,
    busy: Option<bool>,
    notify: Option<NotifyMode>,
    notify_delay_ms: Option<u64>,
    pay_on_create: Option<bool>,
    refund: Option<RefundOutcome>,
    refund_delay_ms: Option<u64>,
    balance_short: Option<bool>,
    pay_after_close: Option<bool>,
}

/// When and how often one notification goes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    pub delay: Duration,
    pub copies: u32,
}

/// With `pay_on_create` the order is paid before the merchant has the
/// create answer; a normal notification waits this long so that it comes
/// after it, as a real shopper's payment would.
const AFTER_CREATE_ANSWER: Duration = Duration::from_millis(500);

impl Control {
    /// The plan for a payment's notification, `None` when it is dropped.
    pub(crate) fn plan(&self, paid_on_create: bool) -> Option<Plan> {
        let normal = if paid_on_create {
            AFTER_CREATE_ANSWER
        } else {
            Duration::ZERO
        };
        let (delay, copies) = match self.notify {
            NotifyMode::Drop => return None,
            NotifyMode::Normal => (normal, 1),
            NotifyMode::Late => (Duration::from_millis(self.notify_delay_ms), 1),
            NotifyMode::Duplicate => (normal, 2),
            NotifyMode::Early if paid_on_create => (Duration::ZERO, 1),
            NotifyMode::Early => (normal, 1),
        };
        Some(Plan { delay, copies })
    }

    fn apply(&mut self, update: ControlUpdate) {
        if let Some(outage) = update.outage {
            self.outage = outage;
        }
        if let Some(busy) = update.busy {
            self.busy = busy;
        }
        if let Some(notify) = update.notify {
            self.notify = notify;
        }
        if let Some(delay) = update.notify_delay_ms {
            self.notify_delay_ms = delay;
        }
        if let Some(pay_on_create) = update.pay_on_create {
            self.pay_on_create = pay_on_create;
        }
        if let Some(refund) = update.refund {
            self.refund = refund;
        }
        if let Some(delay) = update.refund_delay_ms {
            self.refund_delay_ms = delay;
        }
        if let Some(short) = update.balance_short {
            self.balance_short = short;
        }
        if let Some(pay_after_close) = update.pay_after_close {
            self.pay_after_close = pay_after_close;
        }
    }
}

/// `GET /control`.
pub(crate) async fn read(State(wechat): State<Arc<Wechat>>) -> Json<Control> {
    Json(wechat.control())
}

/// `POST /control`: applies the fields given, answers the whole state.
pub(crate) async fn update(State(wechat): State<Arc<Wechat>>, body: axum::body::Bytes) -> Response {
    let update: ControlUpdate = match serde_json::from_slice(&body) {
        Ok(update) => update,
        Err(error) => return ApiError::param(format!("bad control body: {error}")).into_response(),
    };
    let control = {
        let mut state = wechat.lock();
        state.control.apply(update);
        state.control.clone()
    };
    tracing::info!(?control, "sandbox control changed");
    (StatusCode::OK, Json(control)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_follow_the_mode() {
        let mut control = Control::default();
        assert_eq!(
            control.plan(false),
            Some(Plan {
                delay: Duration::ZERO,
                copies: 1
            })
        );
        assert_eq!(
            control.plan(true).map(|p| p.delay),
            Some(AFTER_CREATE_ANSWER)
        );
        control.notify = NotifyMode::Early;
        assert_eq!(control.plan(true).map(|p| p.delay), Some(Duration::ZERO));
        control.notify = NotifyMode::Duplicate;
        assert_eq!(control.plan(false).map(|p| p.copies), Some(2));
        control.notify = NotifyMode::Late;
        control.notify_delay_ms = 1500;
        assert_eq!(
            control.plan(false).map(|p| p.delay),
            Some(Duration::from_millis(1500))
        );
        control.notify = NotifyMode::Drop;
        assert_eq!(control.plan(false), None);
    }
}
