//! `/alipay/control`: switches that make the emulated Alipay misbehave the
//! way the real one sometimes does: outages, rate limits, notifications
//! that come late, twice, never or out of order, refunds whose money moves
//! later, a merchant balance too short to refund.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::Alipay;

/// How notifications are delivered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum NotifyMode {
    /// At once, retried until the merchant answers `success`.
    #[default]
    Normal,
    /// After `notify_delay_ms`.
    Late,
    /// The same notification (same `notify_id`) delivered twice.
    Duplicate,
    /// Never: only a query tells.
    Drop,
    /// Of a trade's notifications, the later is sent first: each waits
    /// `notify_delay_ms` unless an earlier one of its trade is still
    /// waiting, in which case it goes at once.
    OutOfOrder,
}

/// The whole control state, as `GET /alipay/control` answers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Control {
    /// Every gateway call answers 20000 `isp.unknow-error`.
    pub outage: bool,
    /// Every gateway call answers 40005 `isv.app-call-limited`.
    pub busy: bool,
    pub notify: NotifyMode,
    pub notify_delay_ms: u64,
    /// Refunds answer `fund_change` "N" and succeed `refund_delay_ms` later.
    pub refund_fund_change_later: bool,
    pub refund_delay_ms: u64,
    /// New refunds are refused with ACQ.SELLER_BALANCE_NOT_ENOUGH.
    pub balance_short: bool,
}

impl Default for Control {
    fn default() -> Self {
        Control {
            outage: false,
            busy: false,
            notify: NotifyMode::Normal,
            notify_delay_ms: 2000,
            refund_fund_change_later: false,
            refund_delay_ms: 500,
            balance_short: false,
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
    refund_fund_change_later: Option<bool>,
    refund_delay_ms: Option<u64>,
    balance_short: Option<bool>,
}

/// When and how often one notification goes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    pub delay: Duration,
    pub copies: u32,
}

impl Control {
    /// The plan for a notification; `earlier_waiting` says whether an
    /// earlier notification of the same trade has not gone out yet.
    /// `None` when it is dropped.
    pub(crate) fn plan(&self, earlier_waiting: bool) -> Option<Plan> {
        let later = Duration::from_millis(self.notify_delay_ms);
        let (delay, copies) = match self.notify {
            NotifyMode::Drop => return None,
            NotifyMode::Normal => (Duration::ZERO, 1),
            NotifyMode::Late => (later, 1),
            NotifyMode::Duplicate => (Duration::ZERO, 2),
            NotifyMode::OutOfOrder if earlier_waiting => (Duration::ZERO, 1),
            NotifyMode::OutOfOrder => (later, 1),
        };
        Some(Plan { delay, copies })
    }

    fn apply(&mut self, update: ControlUpdate) {
        let ControlUpdate {
            outage,
            busy,
            notify,
            notify_delay_ms,
            refund_fund_change_later,
            refund_delay_ms,
            balance_short,
        } = update;
        self.outage = outage.unwrap_or(self.outage);
        self.busy = busy.unwrap_or(self.busy);
        self.notify = notify.unwrap_or(self.notify);
        self.notify_delay_ms = notify_delay_ms.unwrap_or(self.notify_delay_ms);
        self.refund_fund_change_later =
            refund_fund_change_later.unwrap_or(self.refund_fund_change_later);
        self.refund_delay_ms = refund_delay_ms.unwrap_or(self.refund_delay_ms);
        self.balance_short = balance_short.unwrap_or(self.balance_short);
    }
}

/// `GET /alipay/control`.
pub(super) async fn read(State(alipay): State<Arc<Alipay>>) -> Json<Control> {
    Json(alipay.control())
}

/// `POST /alipay/control`: applies the fields given, answers the whole state.
pub(super) async fn update(State(alipay): State<Arc<Alipay>>, body: Bytes) -> Response {
    let update: ControlUpdate = match serde_json::from_slice(&body) {
        Ok(update) => update,
        Err(error) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({
                    "code": "INVALID_CONTROL",
                    "message": format!("bad control body: {error}"),
                })),
            )
                .into_response()
        }
    };
    let control = {
        let mut state = alipay.lock();
        state.control.apply(update);
        state.control.clone()
    };
    tracing::info!(?control, "alipay sandbox control changed");
    Json(control).into_response()
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
        control.notify = NotifyMode::Duplicate;
        assert_eq!(control.plan(false).map(|p| p.copies), Some(2));
        control.notify = NotifyMode::Late;
        control.notify_delay_ms = 1500;
        assert_eq!(
            control.plan(false).map(|p| p.delay),
            Some(Duration::from_millis(1500))
        );
        control.notify = NotifyMode::OutOfOrder;
        assert_eq!(
            control.plan(false).map(|p| p.delay),
            Some(Duration::from_millis(1500)),
            "the first of a trade waits"
        );
        assert_eq!(
            control.plan(true).map(|p| p.delay),
            Some(Duration::ZERO),
            "a later one overtakes it"
        );
        control.notify = NotifyMode::Drop;
        assert_eq!(control.plan(false), None);
    }

    #[test]
    fn applies_any_subset() {
        let mut control = Control::default();
        control.apply(serde_json::from_str(r#"{"busy": true, "notify": "out_of_order"}"#).unwrap());
        assert!(control.busy);
        assert_eq!(control.notify, NotifyMode::OutOfOrder);
        assert!(!control.outage);
        assert!(serde_json::from_str::<ControlUpdate>(r#"{"bogus": 1}"#).is_err());
    }
}
