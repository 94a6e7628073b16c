//! `/apps` as a page, for people trying the demo: paste the code's URL,
//! pick the app, pay, decline or cancel, and see what the phone showed.

use std::sync::Arc;

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::api::code_url;
use super::scan::{self, Played};
use super::{App, Apps, Outcome};
use crate::html::{escape, page};

const TITLE: &str = "钱包扫码 · Wallet apps (sandbox)";

/// `GET /apps?url=`.
#[derive(Debug, Deserialize)]
pub(super) struct Prefill {
    #[serde(default)]
    url: String,
}

/// `POST /apps`.
#[derive(Debug, Deserialize)]
pub(super) struct PlayForm {
    url: String,
    app: App,
    outcome: Outcome,
}

/// `GET /apps`: the form, its URL filled from `?url=`.
pub(super) async fn view(query: Result<Query<Prefill>, QueryRejection>) -> Response {
    let url = query.map(|Query(prefill)| prefill.url).unwrap_or_default();
    page(StatusCode::OK, TITLE, &body(&url, App::Wechat, ""))
}

/// `POST /apps`: plays the scan, then shows the phone's last screen, the
/// screens before it, and the form again.
pub(super) async fn submit(
    State(apps): State<Arc<Apps>>,
    form: Result<Form<PlayForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        let error = error("请填写二维码内容并选择钱包 · Fill in the code's URL and pick an app");
        return page(
            StatusCode::BAD_REQUEST,
            TITLE,
            &body("", App::Wechat, &error),
        );
    };
    let played = match code_url(&form.url) {
        Ok(url) => scan::play(&apps, form.app, url, form.outcome)
            .await
            .map_err(|reason| reason.to_string()),
        Err(reason) => Err(reason),
    };
    let (status, result) = match played {
        Ok(played) => (StatusCode::OK, result(&played)),
        Err(reason) => (StatusCode::BAD_GATEWAY, error(&reason)),
    };
    page(status, TITLE, &body(&form.url, form.app, &result))
}

fn error(message: &str) -> String {
    format!(
        "<section class=\"card\"><p class=\"error\" role=\"alert\" data-testid=\"apps-error\">{}</p></section>",
        escape(message)
    )
}

fn result(played: &Played) -> String {
    let screens: Vec<String> = played
        .screens
        .iter()
        .map(|screen| format!("<code>{}</code>", screen.as_str()))
        .collect();
    let bridge = played
        .bridge
        .as_deref()
        .map(|bridge| {
            format!(
                "<p class=\"note\">bridge <code data-testid=\"apps-bridge\">{}</code></p>",
                escape(bridge)
            )
        })
        .unwrap_or_default();
    format!(
        "<section class=\"card\"><p class=\"note\">{app}</p>\
         <h1 data-testid=\"apps-headline\">{headline}</h1>\
         <p class=\"note\">screen <code data-testid=\"apps-screen\">{screen}</code></p>{bridge}\
         <p class=\"note\">经过的页面 · screens <span data-testid=\"apps-screens\">{screens}</span></p></section>",
        app = played.app.label(),
        headline = escape(&played.headline),
        screen = played.screen.as_str(),
        screens = screens.join(" → "),
    )
}

/// The page: `result` (trusted HTML), then the form with its URL and app
/// as given.
fn body(url: &str, app: App, result: &str) -> String {
    let apps: String = App::ALL
        .into_iter()
        .map(|each| {
            let name = each.as_str();
            format!(
                "<label for=\"app-{name}\"><input type=\"radio\" id=\"app-{name}\" name=\"app\" value=\"{name}\"{checked} data-testid=\"apps-app-{name}\"> {label}</label>",
                checked = if each == app { " checked" } else { "" },
                label = each.label(),
            )
        })
        .collect();
    let buttons: String = [
        (Outcome::Pay, "primary", "付款 · Pay"),
        (Outcome::Decline, "secondary", "被拒 · Decline"),
        (Outcome::Cancel, "plain", "取消 · Cancel"),
    ]
    .into_iter()
    .map(|(outcome, class, label)| {
        let value = outcome.as_str();
        format!(
            "<button type=\"submit\" name=\"outcome\" value=\"{value}\" class=\"{class}\" data-testid=\"apps-{value}\">{label}</button>"
        )
    })
    .collect();
    format!(
        "<header>钱包扫码 · a wallet app scans one code (sandbox)</header>{result}\
         <section class=\"card\">\
         <form method=\"post\" action=\"/apps\" class=\"fields\">\
         <label for=\"url\">二维码内容 · the code's URL</label>\
         <input class=\"field\" id=\"url\" name=\"url\" type=\"url\" required value=\"{url}\" placeholder=\"http://127.0.0.1:8080/pay/...\" data-testid=\"apps-url\">\
         <fieldset data-testid=\"apps-app\"><legend>扫码的 App · the app that scans</legend>{apps}</fieldset>\
         {buttons}</form></section>",
        url = escape(url),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_keeps_the_url_and_the_app() {
        let html = body("http://h/pay/t?a=1&b=\"2\"", App::Alipay, "");
        assert!(html.contains("value=\"http://h/pay/t?a=1&amp;b=&quot;2&quot;\""));
        assert!(html.contains("value=\"alipay\" checked"));
        assert!(!html.contains("value=\"wechat\" checked"));
        for outcome in ["pay", "decline", "cancel"] {
            assert!(html.contains(&format!("name=\"outcome\" value=\"{outcome}\"")));
        }
    }
}
