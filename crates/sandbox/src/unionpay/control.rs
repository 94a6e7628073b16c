//! `/unionpay/control`: switches that make the emulated gateway misbehave
//! the way the real one sometimes does: outages, notifications that come
//! late, twice, never, out of order or signed by a certificate that is not
//! UnionPay's, refunds that take their time, a merchant balance too short
//! to refund. As JSON (`GET`, `POST` with any subset of the fields) and as
//! a page (`GET` with `Accept: text/html`, and its form).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::keys::Signer;
use super::Unionpay;
use crate::html::{escape, page};

/// How the notifications that follow are delivered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum NotifyMode {
    /// At once, retried until the merchant answers HTTP 200.
    #[default]
    Normal,
    /// Never: only a query tells.
    Lost,
    /// After `notify_delay_ms`.
    Late,
    /// The same notification delivered twice.
    Duplicate,
    /// Signed with the rogue certificate and key: a verifier that checks
    /// the chain refuses it.
    RogueCert,
    /// Of an order's notifications (its payment, its refunds), the later
    /// is sent first: each waits `notify_delay_ms` unless an earlier one is
    /// still waiting, in which case it goes at once.
    OutOfOrder,
}

impl NotifyMode {
    const ALL: [(NotifyMode, &'static str); 6] = [
        (NotifyMode::Normal, "normal"),
        (NotifyMode::Lost, "lost"),
        (NotifyMode::Late, "late"),
        (NotifyMode::Duplicate, "duplicate"),
        (NotifyMode::RogueCert, "rogue_cert"),
        (NotifyMode::OutOfOrder, "out_of_order"),
    ];
}

/// The whole control state, as `GET /unionpay/control` answers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Control {
    /// `backTransReq.do` and `queryTrans.do` answer HTTP 503; the card
    /// page shows 02.
    pub outage: bool,
    pub notify: NotifyMode,
    pub notify_delay_ms: u64,
    /// How long a refund or cancellation stays processing.
    pub refund_delay_ms: u64,
    /// Refunds and cancellations accepted from now on fail (01) when they
    /// complete.
    pub balance_short: bool,
    /// A payment being decided at its `payTimeout` (a code scanned, not yet
    /// confirmed) is decided after it, as UnionPay's online-banking
    /// payments may be: it does not fail with 69, and the phone may still
    /// pay it.
    pub late_decisions: bool,
}

impl Default for Control {
    fn default() -> Self {
        Control {
            outage: false,
            notify: NotifyMode::Normal,
            notify_delay_ms: 2000,
            refund_delay_ms: 1000,
            balance_short: false,
            late_decisions: false,
        }
    }
}

/// A change to the control state: any subset of its fields.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ControlUpdate {
    outage: Option<bool>,
    notify: Option<NotifyMode>,
    notify_delay_ms: Option<u64>,
    refund_delay_ms: Option<u64>,
    balance_short: Option<bool>,
    late_decisions: Option<bool>,
}

/// When, how often and signed by whom one notification goes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    pub delay: Duration,
    pub copies: u32,
    pub signer: Signer,
}

impl Control {
    /// The plan for a notification; `earlier_waiting` says whether an
    /// earlier notification of the same order has not gone out yet.
    /// `None` when it is lost.
    pub(crate) fn plan(&self, earlier_waiting: bool) -> Option<Plan> {
        let later = Duration::from_millis(self.notify_delay_ms);
        let (delay, copies, signer) = match self.notify {
            NotifyMode::Lost => return None,
            NotifyMode::Normal => (Duration::ZERO, 1, Signer::UnionPay),
            NotifyMode::Late => (later, 1, Signer::UnionPay),
            NotifyMode::Duplicate => (Duration::ZERO, 2, Signer::UnionPay),
            NotifyMode::RogueCert => (Duration::ZERO, 1, Signer::Rogue),
            NotifyMode::OutOfOrder if earlier_waiting => (Duration::ZERO, 1, Signer::UnionPay),
            NotifyMode::OutOfOrder => (later, 1, Signer::UnionPay),
        };
        Some(Plan {
            delay,
            copies,
            signer,
        })
    }

    fn apply(&mut self, update: ControlUpdate) {
        let ControlUpdate {
            outage,
            notify,
            notify_delay_ms,
            refund_delay_ms,
            balance_short,
            late_decisions,
        } = update;
        self.outage = outage.unwrap_or(self.outage);
        self.notify = notify.unwrap_or(self.notify);
        self.notify_delay_ms = notify_delay_ms.unwrap_or(self.notify_delay_ms);
        self.refund_delay_ms = refund_delay_ms.unwrap_or(self.refund_delay_ms);
        self.balance_short = balance_short.unwrap_or(self.balance_short);
        self.late_decisions = late_decisions.unwrap_or(self.late_decisions);
    }
}

/// The page's form as an update: a checkbox left unticked is `false`.
fn form_update(body: &[u8]) -> Result<ControlUpdate, String> {
    let mut update = ControlUpdate {
        outage: Some(false),
        balance_short: Some(false),
        late_decisions: Some(false),
        ..ControlUpdate::default()
    };
    for (name, value) in form_urlencoded::parse(body) {
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{name} must be a whole number of milliseconds"))
        };
        match name.as_ref() {
            "outage" => update.outage = Some(true),
            "balance_short" => update.balance_short = Some(true),
            "late_decisions" => update.late_decisions = Some(true),
            "notify" => {
                let mode = NotifyMode::ALL
                    .iter()
                    .find(|(_, wire)| *wire == value)
                    .ok_or_else(|| format!("unknown notify mode {value}"))?;
                update.notify = Some(mode.0);
            }
            "notify_delay_ms" => update.notify_delay_ms = Some(number()?),
            "refund_delay_ms" => update.refund_delay_ms = Some(number()?),
            other => return Err(format!("unknown field {other}")),
        }
    }
    Ok(update)
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// `GET /unionpay/control`: the state as JSON, or the page.
pub(super) async fn read(State(unionpay): State<Arc<Unionpay>>, headers: HeaderMap) -> Response {
    let control = unionpay.control();
    if wants_html(&headers) {
        control_page(&control, None)
    } else {
        Json(control).into_response()
    }
}

/// `POST /unionpay/control`: a JSON update answered with the whole state,
/// or the page's form answered with the page.
pub(super) async fn update(
    State(unionpay): State<Arc<Unionpay>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    let update = if form {
        form_update(&body)
    } else {
        serde_json::from_slice::<ControlUpdate>(&body).map_err(|e| format!("bad control body: {e}"))
    };
    let update = match update {
        Ok(update) => update,
        Err(message) if form => {
            return control_page(&unionpay.control(), Some(&message));
        }
        Err(message) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({ "code": "INVALID_CONTROL", "message": message })),
            )
                .into_response()
        }
    };
    let control = {
        let mut state = unionpay.lock();
        state.control.apply(update);
        state.txns.late_decisions = state.control.late_decisions;
        state.control.clone()
    };
    tracing::info!(?control, "unionpay sandbox control changed");
    if form {
        control_page(&control, None)
    } else {
        Json(control).into_response()
    }
}

fn control_page(control: &Control, error: Option<&str>) -> Response {
    let checked = |on: bool| if on { " checked" } else { "" };
    let modes: String = NotifyMode::ALL
        .iter()
        .map(|(mode, wire)| {
            format!(
                "<option value=\"{wire}\"{}>{wire}</option>",
                if *mode == control.notify {
                    " selected"
                } else {
                    ""
                }
            )
        })
        .collect();
    let error = error
        .map(|message| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(message)))
        .unwrap_or_default();
    let status = if error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    page(
        status,
        "银联 · UnionPay control (sandbox)",
        &format!(
            "<header class=\"unionpay\">银联 · UnionPay gateway controls (sandbox)</header>\
             <section class=\"card\">{error}\
             <form method=\"post\" action=\"/unionpay/control\" class=\"fields\">\
             <label><input type=\"checkbox\" name=\"outage\"{outage}> 停机 outage: back and query answer HTTP 503</label>\
             <label for=\"notify\">通知 notifications</label>\
             <select id=\"notify\" name=\"notify\">{modes}</select>\
             <label for=\"notify_delay_ms\">late / out_of_order delay (ms)</label>\
             <input class=\"field\" id=\"notify_delay_ms\" name=\"notify_delay_ms\" inputmode=\"numeric\" value=\"{notify_delay}\">\
             <label for=\"refund_delay_ms\">退款处理时间 refund delay (ms)</label>\
             <input class=\"field\" id=\"refund_delay_ms\" name=\"refund_delay_ms\" inputmode=\"numeric\" value=\"{refund_delay}\">\
             <label><input type=\"checkbox\" name=\"balance_short\"{balance_short}> 商户余额不足 balance short: new refunds fail</label>\
             <label><input type=\"checkbox\" name=\"late_decisions\"{late_decisions}> 超时后确认 late decisions: a scanned code may still be paid after its payTimeout</label>\
             <button type=\"submit\" class=\"unionpay\">保存 Save</button>\
             </form></section>",
            outage = checked(control.outage),
            notify_delay = control.notify_delay_ms,
            refund_delay = control.refund_delay_ms,
            balance_short = checked(control.balance_short),
            late_decisions = checked(control.late_decisions),
        ),
    )
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
                copies: 1,
                signer: Signer::UnionPay,
            })
        );
        control.notify = NotifyMode::Duplicate;
        assert_eq!(control.plan(false).map(|p| p.copies), Some(2));
        control.notify = NotifyMode::RogueCert;
        assert_eq!(control.plan(false).map(|p| p.signer), Some(Signer::Rogue));
        control.notify = NotifyMode::Late;
        control.notify_delay_ms = 1500;
        assert_eq!(
            control.plan(false).map(|p| p.delay),
            Some(Duration::from_millis(1500))
        );
        control.notify = NotifyMode::OutOfOrder;
        assert_eq!(
            control.plan(true).map(|p| p.delay),
            Some(Duration::ZERO),
            "a later one overtakes the earlier"
        );
        control.notify = NotifyMode::Lost;
        assert_eq!(control.plan(false), None);
    }

    #[test]
    fn applies_json_and_the_form() {
        let mut control = Control::default();
        control.apply(serde_json::from_str(r#"{"outage": true, "notify": "rogue_cert"}"#).unwrap());
        assert!(control.outage);
        assert_eq!(control.notify, NotifyMode::RogueCert);
        assert!(serde_json::from_str::<ControlUpdate>(r#"{"bogus": 1}"#).is_err());

        control.apply(form_update(b"notify=late&notify_delay_ms=300&balance_short=on").unwrap());
        assert!(!control.outage, "unticked");
        assert!(control.balance_short);
        assert_eq!(control.notify, NotifyMode::Late);
        assert_eq!(control.notify_delay_ms, 300);
        assert!(form_update(b"notify=sometimes").is_err());
        assert!(form_update(b"refund_delay_ms=soon").is_err());
    }
}
