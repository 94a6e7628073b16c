//! `/cmpay/control`: switches that make the emulated platform misbehave
//! the way a real one sometimes does: outages, notifications that come
//! late, twice, never, or altered after signing, refunds that fail. As
//! JSON (`GET`, `POST` with any subset of the fields) and as a page (`GET`
//! with `Accept: text/html`, and its form).

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

use super::Cmpay;
use crate::html::{escape, page};

/// How the notifications that follow are delivered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum NotifyMode {
    /// At once, retried until the merchant answers `SUCCESS`.
    #[default]
    Normal,
    /// Never: only a query tells.
    Lost,
    /// After `notify_delay_ms`.
    Late,
    /// The same notification delivered twice.
    Duplicate,
    /// `amount` raised by one fen after signing: a verifier refuses it.
    Tampered,
}

impl NotifyMode {
    const ALL: [(NotifyMode, &'static str); 5] = [
        (NotifyMode::Normal, "normal"),
        (NotifyMode::Lost, "lost"),
        (NotifyMode::Late, "late"),
        (NotifyMode::Duplicate, "duplicate"),
        (NotifyMode::Tampered, "tampered"),
    ];
}

/// The whole control state, as `GET /cmpay/control` answers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Control {
    /// `cmpayService` answers HTTP 503; the cashier shows an error.
    pub outage: bool,
    pub notify: NotifyMode,
    pub notify_delay_ms: u64,
    /// Refunds asked from now on end `status=FAILED`, nothing refunded.
    pub refunds_fail: bool,
    /// Refunds are made but their answers lost (HTTP 502), and a
    /// `requestId` seen before is refused (RPM22208) as the documents say:
    /// the merchant cannot learn what became of such a refund.
    pub strict_refunds: bool,
}

impl Default for Control {
    fn default() -> Self {
        Control {
            outage: false,
            notify: NotifyMode::Normal,
            notify_delay_ms: 2000,
            refunds_fail: false,
            strict_refunds: false,
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
    refunds_fail: Option<bool>,
    strict_refunds: Option<bool>,
}

/// When, how often and how one notification goes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    pub delay: Duration,
    pub copies: u32,
    pub tampered: bool,
}

impl Control {
    /// The plan for a notification; `None` when it is lost.
    pub(crate) fn plan(&self) -> Option<Plan> {
        let plan = |delay, copies, tampered| {
            Some(Plan {
                delay,
                copies,
                tampered,
            })
        };
        match self.notify {
            NotifyMode::Lost => None,
            NotifyMode::Normal => plan(Duration::ZERO, 1, false),
            NotifyMode::Late => plan(Duration::from_millis(self.notify_delay_ms), 1, false),
            NotifyMode::Duplicate => plan(Duration::ZERO, 2, false),
            NotifyMode::Tampered => plan(Duration::ZERO, 1, true),
        }
    }

    fn apply(&mut self, update: ControlUpdate) {
        let ControlUpdate {
            outage,
            notify,
            notify_delay_ms,
            refunds_fail,
            strict_refunds,
        } = update;
        self.outage = outage.unwrap_or(self.outage);
        self.notify = notify.unwrap_or(self.notify);
        self.notify_delay_ms = notify_delay_ms.unwrap_or(self.notify_delay_ms);
        self.refunds_fail = refunds_fail.unwrap_or(self.refunds_fail);
        self.strict_refunds = strict_refunds.unwrap_or(self.strict_refunds);
    }
}

/// The page's form as an update: a checkbox left unticked is `false`.
fn form_update(body: &[u8]) -> Result<ControlUpdate, String> {
    let mut update = ControlUpdate {
        outage: Some(false),
        refunds_fail: Some(false),
        strict_refunds: Some(false),
        ..ControlUpdate::default()
    };
    for (name, value) in form_urlencoded::parse(body) {
        match name.as_ref() {
            "outage" => update.outage = Some(true),
            "refunds_fail" => update.refunds_fail = Some(true),
            "strict_refunds" => update.strict_refunds = Some(true),
            "notify" => {
                let mode = NotifyMode::ALL
                    .iter()
                    .find(|(_, wire)| *wire == value)
                    .ok_or_else(|| format!("unknown notify mode {value}"))?;
                update.notify = Some(mode.0);
            }
            "notify_delay_ms" => {
                update.notify_delay_ms = Some(value.parse::<u64>().map_err(|_| {
                    "notify_delay_ms must be a whole number of milliseconds".to_owned()
                })?)
            }
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

/// `GET /cmpay/control`: the state as JSON, or the page.
pub(super) async fn read(State(cmpay): State<Arc<Cmpay>>, headers: HeaderMap) -> Response {
    let control = cmpay.control();
    if wants_html(&headers) {
        control_page(&control, None)
    } else {
        Json(control).into_response()
    }
}

/// `POST /cmpay/control`: a JSON update answered with the whole state, or
/// the page's form answered with the page.
pub(super) async fn update(
    State(cmpay): State<Arc<Cmpay>>,
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
        Err(message) if form => return control_page(&cmpay.control(), Some(&message)),
        Err(message) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({ "code": "INVALID_CONTROL", "message": message })),
            )
                .into_response()
        }
    };
    let control = {
        let mut state = cmpay.lock();
        state.control.apply(update);
        state.control.clone()
    };
    tracing::info!(?control, "cmpay sandbox control changed");
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
            let selected = if *mode == control.notify {
                " selected"
            } else {
                ""
            };
            format!("<option value=\"{wire}\"{selected}>{wire}</option>")
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let error = error
        .map(|message| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(message)))
        .unwrap_or_default();
    page(
        status,
        "和包支付 · China Mobile Pay control (sandbox)",
        &format!(
            "<header class=\"cmpay\">和包支付 · China Mobile Pay controls (sandbox)</header>\
             <section class=\"card\">{error}\
             <form method=\"post\" action=\"/cmpay/control\" class=\"fields\">\
             <label><input type=\"checkbox\" name=\"outage\"{outage}> 停机 outage: cmpayService answers HTTP 503, the cashier shows an error</label>\
             <label for=\"notify\">通知 notifications</label>\
             <select id=\"notify\" name=\"notify\">{modes}</select>\
             <label for=\"notify_delay_ms\">late delay (ms)</label>\
             <input class=\"field\" id=\"notify_delay_ms\" name=\"notify_delay_ms\" inputmode=\"numeric\" value=\"{delay}\">\
             <label><input type=\"checkbox\" name=\"refunds_fail\"{refunds_fail}> 退款失败 refunds fail (status FAILED)</label>\
             <label><input type=\"checkbox\" name=\"strict_refunds\"{strict_refunds}> 退款应答丢失 refund answers lost, repeated requestId refused</label>\
             <button type=\"submit\" class=\"cmpay\">保存 Save</button>\
             </form></section>",
            outage = checked(control.outage),
            delay = control.notify_delay_ms,
            refunds_fail = checked(control.refunds_fail),
            strict_refunds = checked(control.strict_refunds),
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
            control.plan(),
            Some(Plan {
                delay: Duration::ZERO,
                copies: 1,
                tampered: false,
            })
        );
        control.notify = NotifyMode::Duplicate;
        assert_eq!(control.plan().map(|p| p.copies), Some(2));
        control.notify = NotifyMode::Tampered;
        assert_eq!(control.plan().map(|p| p.tampered), Some(true));
        control.notify = NotifyMode::Late;
        control.notify_delay_ms = 1500;
        assert_eq!(
            control.plan().map(|p| p.delay),
            Some(Duration::from_millis(1500))
        );
        control.notify = NotifyMode::Lost;
        assert_eq!(control.plan(), None);
    }

    #[test]
    fn applies_json_and_the_form() {
        let mut control = Control::default();
        control.apply(serde_json::from_str(r#"{"outage": true, "notify": "tampered"}"#).unwrap());
        assert!(control.outage);
        assert_eq!(control.notify, NotifyMode::Tampered);
        assert!(serde_json::from_str::<ControlUpdate>(r#"{"bogus": 1}"#).is_err());

        control.apply(form_update(b"notify=late&notify_delay_ms=300&refunds_fail=on").unwrap());
        assert!(!control.outage, "unticked");
        assert!(control.refunds_fail);
        assert_eq!(control.notify, NotifyMode::Late);
        assert_eq!(control.notify_delay_ms, 300);
        assert!(form_update(b"notify=sometimes").is_err());
        assert!(form_update(b"notify_delay_ms=soon").is_err());
    }
}
