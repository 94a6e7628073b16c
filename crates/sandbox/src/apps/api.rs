//! `POST /apps/scan`: one scan by a fresh phone, for tests and scripts.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use reqwest::Url;
use serde::Deserialize;
use serde_json::json;

use super::{scan, App, Apps, Outcome};

#[derive(Debug, Deserialize)]
struct ScanRequest {
    url: String,
    app: App,
    #[serde(default)]
    outcome: Outcome,
}

/// The code's payload as the web view opens it: an `http(s)` URL.
pub(super) fn code_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|error| format!("url {text:?}: {error}"))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        scheme => Err(format!(
            "url {text:?}: a web view opens http(s), not {scheme}"
        )),
    }
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// `POST /apps/scan` `{"url", "app": "wechat"|"alipay"|"quickpass",
/// "outcome"?: "pay"|"decline"|"cancel"}`: 200 `{"app", "screens",
/// "bridge", "screen", "headline"}` with whatever the phone shows at the
/// end, 400 for a request it cannot play, 502 when the pages or the
/// bridges could not be reached or read.
pub(super) async fn scan(State(apps): State<Arc<Apps>>, body: Bytes) -> Response {
    let request: ScanRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(reason) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!(
                    "expected {{\"url\": \"...\", \"app\": \"wechat\"|\"alipay\"|\"quickpass\", \
                     \"outcome\": \"pay\"|\"decline\"|\"cancel\"}}: {reason}"
                ),
            )
        }
    };
    let url = match code_url(&request.url) {
        Ok(url) => url,
        Err(reason) => return error(StatusCode::BAD_REQUEST, reason),
    };
    match scan::play(&apps, request.app, url, request.outcome).await {
        Ok(played) => {
            tracing::info!(
                app = played.app.as_str(),
                screen = played.screen.as_str(),
                "wallet app scanned a code"
            );
            Json(played).into_response()
        }
        Err(reason) => {
            tracing::warn!(%reason, "wallet app scan could not be played");
            error(StatusCode::BAD_GATEWAY, reason.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scan_pays_unless_told_otherwise() {
        let request: ScanRequest =
            serde_json::from_str(r#"{"url": "http://127.0.0.1:1/pay/t", "app": "quickpass"}"#)
                .unwrap();
        assert_eq!(
            (request.app, request.outcome),
            (App::Quickpass, Outcome::Pay)
        );
        let bad = serde_json::from_str::<ScanRequest>(r#"{"url": "u", "app": "paypal"}"#);
        assert!(bad.is_err());
    }

    #[test]
    fn opens_only_web_addresses() {
        assert_eq!(
            code_url(" http://127.0.0.1:8080/pay/tok ").map(String::from),
            Ok("http://127.0.0.1:8080/pay/tok".to_owned())
        );
        assert!(code_url("weixin://wxpay/bizpayurl?pr=abc").is_err());
        assert!(code_url("/pay/tok").is_err());
    }
}
