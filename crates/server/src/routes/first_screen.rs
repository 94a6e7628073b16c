//! `GET /checkout-sessions/{id}/first-screen`: the inside of the page's
//! `<payment-selector>` for one shopper, so that the checkout's first screen
//! arrives with the storefront's HTML (drawn by the component's own views,
//! `payment_selector::first_screen`).

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use contract::CreatedCheckoutSession;
use payment_selector::context::from_user_agent;
use payment_selector::first_screen::{render, Styles};
use payment_selector::i18n::Locale;
use serde::Deserialize;

use crate::auth::bearer;
use crate::error::ApiError;
use crate::static_files::first_screen_styles;
use crate::AppState;

/// The answer's header naming the `style-src` source its inline styles
/// need (a page with a Content-Security-Policy adds it).
const STYLE_SOURCE_HEADER: header::HeaderName =
    header::HeaderName::from_static("payment-selector-style-src");

/// The query: both optional.
#[derive(Deserialize)]
pub struct FirstScreenQuery {
    locale: Option<String>,
    stylesheet: Option<String>,
}

/// The declarative shadow root with the first screen, then the session as
/// this shopper's browser reads it, with its client secret, inline.
pub async fn first_screen(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(query): Query<FirstScreenQuery>,
) -> Result<Response, ApiError> {
    let session = super::sessions::authorize(&state, &headers, &id).await?;
    let client_secret = bearer(&headers).ok_or_else(ApiError::unauthorized)?;
    let header = |name| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    };
    let locale = match query.locale.as_deref() {
        Some(tag) => Locale::from_tag(tag).ok_or_else(|| {
            ApiError::invalid(format!("locale {tag:?} is not zh-CN, zh-TW or en"))
        })?,
        None => Locale::negotiate(
            header(header::ACCEPT_LANGUAGE)
                .split(',')
                .map(|tag| tag.split(';').next().unwrap_or_default()),
        ),
    };
    let styles = match query.stylesheet.as_deref() {
        None => Styles::Inline,
        Some(address) if is_stylesheet_address(address) => Styles::Linked(address),
        Some(_) => {
            return Err(ApiError::invalid(
                "stylesheet must be a path or an https URL",
            ))
        }
    };
    let context = from_user_agent(header(header::USER_AGENT));
    let created = CreatedCheckoutSession {
        session: super::sessions::view(&state, &session, context)?,
        client_secret: client_secret.to_owned(),
    };
    let shadow_root = render(&created.session, locale, styles);
    let json = serde_json::to_string(&created)
        .map_err(|e| ApiError::internal(format!("session JSON: {e}")))?;
    // Inside <script> no "<" may start a tag: JSON lets it be escaped.
    let json = json.replace('<', "\\u003c");
    let html = format!(r#"{shadow_root}<script type="application/json">{json}</script>"#);
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
            (header::VARY, "User-Agent, Accept-Language".to_owned()),
            (STYLE_SOURCE_HEADER, first_screen_styles()),
        ],
        html,
    )
        .into_response())
}

/// A same-site path (`/…`, not `//…` nor `/\…`, which browsers read as
/// another host) or an https URL, with nothing an attribute would have to
/// escape.
fn is_stylesheet_address(address: &str) -> bool {
    let path = address.starts_with('/') && !address.starts_with("//");
    let https = address.starts_with("https://");
    (path || https)
        && address
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\'' | '<' | '>' | '`' | '\\'))
}
