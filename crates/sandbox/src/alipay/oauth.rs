//! Alipay's web authorisation with `auth_base`: the silent redirect of
//! `openauth.alipay.com/oauth2/publicAppAuthorize.htm` and the exchange of
//! its `auth_code` with `alipay.system.oauth.token`.
//!
//! Documented (Alipay's "获取用户 user_id" guide; opendocs
//! alipay.system.oauth.token, and answers recorded in public code):
//! `publicAppAuthorize.htm?app_id=&scope=auth_base&redirect_uri=&state=`
//! asks nothing for `auth_base` and returns to `redirect_uri` with
//! `app_id`, `source=alipay_wallet`, `scope`, `state` (as given, at most
//! 100 characters) and `auth_code`; the `redirect_uri` must be the application's registered callback address; an
//! `auth_code` is good once and for "3 minutes to 24 hours".
//! `alipay.system.oauth.token` takes `grant_type` (`authorization_code` or
//! `refresh_token`) and `code` or `refresh_token` as plain parameters (not
//! in `biz_content`) and answers `{access_token, auth_start, expires_in,
//! re_expires_in, refresh_token, user_id | open_id}` with no `code`; an
//! unusable code is 40002 `isv.code-invalid` in an unsigned `error_response`.
//!
//! Assumed: a code lives 3 minutes (the documented minimum); the answer
//! carries both `user_id` and `open_id` (an application gets one or the
//! other, as it is configured); the token lifetimes are those of recorded
//! answers (15 and 30 days); a bad `grant_type` is `isv.grant-type-invalid`;
//! every browser is the logged-in shopper (outside the Alipay app the real
//! page asks the shopper to log in first); scopes other than `auth_base`
//! are refused, since they would ask the shopper to consent.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::biz::is_web_url;
use super::cashier::error_page;
use super::wire::{Node, Params, Refusal};
use super::Alipay;
use crate::clock::cst_datetime;
use crate::crypto;
use crate::urls::{append_query, percent_encode};

/// An `auth_code` lives three minutes and is good once.
const CODE_SECONDS: i64 = 3 * 60;
/// `expires_in` of an access token.
const ACCESS_TOKEN_SECONDS: i64 = 15 * 24 * 60 * 60;
/// `state` comes back as given, at most 100 characters.
const MAX_STATE_CHARS: usize = 100;
/// `re_expires_in` of a refresh token.
const REFRESH_TOKEN_SECONDS: i64 = 30 * 24 * 60 * 60;

/// The codes and refresh tokens handed out.
#[derive(Debug, Default)]
pub(crate) struct Codes {
    codes: HashMap<String, Code>,
    /// Refresh tokens and when they were issued.
    refresh_tokens: HashMap<String, i64>,
}

#[derive(Debug)]
struct Code {
    issued_at: i64,
    used: bool,
}

type QueryMap = Result<Query<HashMap<String, String>>, QueryRejection>;

/// `GET /alipay/oauth2/publicAppAuthorize.htm?app_id=&scope=auth_base&redirect_uri=&state=`:
/// 302 to `redirect_uri` with the `auth_code`.
pub(super) async fn authorize(State(alipay): State<Arc<Alipay>>, query: QueryMap) -> Response {
    let query = query.map(|Query(map)| map).unwrap_or_default();
    let get = |name: &str| query.get(name).map(String::as_str).unwrap_or_default();
    let app_id = get("app_id");
    if app_id.is_empty() {
        return error_page("missing-app-id", "缺少app_id参数");
    }
    if app_id != alipay.config.app_id {
        return error_page("invalid-app-id", "无效的AppID参数");
    }
    let scopes: Vec<&str> = get("scope").split(',').map(str::trim).collect();
    if !scopes.contains(&"auth_base") {
        return error_page("invalid-scope", "scope参数错误，应为auth_base");
    }
    if scopes.iter().any(|scope| *scope != "auth_base") {
        return error_page(
            "invalid-scope",
            "sandbox: only the silent auth_base is emulated (auth_user asks the shopper to consent)",
        );
    }
    let redirect_uri = get("redirect_uri");
    if redirect_uri.is_empty() {
        return error_page("missing-redirect-uri", "缺少redirect_uri参数");
    }
    let state = get("state");
    if state.chars().count() > MAX_STATE_CHARS {
        return error_page("invalid-state", "state参数长度不能超过100");
    }
    if !is_web_url(redirect_uri) || !alipay.on_return_domains(redirect_uri) {
        return error_page(
            "invalid-redirect-uri",
            "redirect_uri与应用配置的授权回调地址不一致",
        );
    }
    let code = format!(
        "{}{}{}",
        crypto::hex(28),
        crypto::random_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", 2),
        crypto::digits(2)
    );
    let now = alipay.clock.unix_seconds();
    alipay.lock().oauth.codes.insert(
        code.clone(),
        Code {
            issued_at: now,
            used: false,
        },
    );
    let mut pairs = format!("app_id={app_id}&source=alipay_wallet&scope=auth_base");
    if !state.is_empty() {
        pairs.push_str(&format!("&state={}", percent_encode(state)));
    }
    pairs.push_str(&format!("&auth_code={code}"));
    tracing::info!("alipay auth_base code issued");
    (
        StatusCode::FOUND,
        [(LOCATION, append_query(redirect_uri, &pairs))],
    )
        .into_response()
}

fn code_invalid() -> Refusal {
    Refusal::invalid("isv.code-invalid", "授权码code无效").in_error_response()
}

/// `alipay.system.oauth.token`: the shopper's ids for an `auth_code` (or a
/// fresh token for a `refresh_token`).
pub(super) fn token(alipay: &Arc<Alipay>, params: &Params) -> Result<Node, Refusal> {
    let now = alipay.clock.unix_seconds();
    let mut state = alipay.lock();
    let codes = &mut state.oauth;
    match params.get("grant_type") {
        Some("authorization_code") => {
            let code = params.get("code").ok_or_else(code_invalid)?;
            let issued = codes.codes.get_mut(code).ok_or_else(code_invalid)?;
            if issued.used || now - issued.issued_at >= CODE_SECONDS {
                return Err(code_invalid());
            }
            issued.used = true;
        }
        Some("refresh_token") => {
            let token = params.get("refresh_token").ok_or_else(|| {
                Refusal::invalid("isv.refresh-token-invalid", "刷新令牌refresh_token无效")
                    .in_error_response()
            })?;
            match codes.refresh_tokens.remove(token) {
                Some(issued_at) if now - issued_at < REFRESH_TOKEN_SECONDS => {}
                _ => {
                    return Err(Refusal::invalid(
                        "isv.refresh-token-invalid",
                        "刷新令牌refresh_token无效",
                    )
                    .in_error_response())
                }
            }
        }
        _ => {
            return Err(
                Refusal::invalid("isv.grant-type-invalid", "grant_type参数不正确")
                    .in_error_response(),
            )
        }
    }
    let token = |prefix: &str| {
        format!(
            "{prefix}{}{}{}",
            crypto::hex(29),
            crypto::random_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", 1),
            crypto::digits(2)
        )
    };
    let refresh_token = token("authbseB");
    codes.refresh_tokens.insert(refresh_token.clone(), now);
    drop(state);
    Ok(Node::bare()
        .with("access_token", token("authbseB"))
        .with("auth_start", cst_datetime(now))
        .with("expires_in", ACCESS_TOKEN_SECONDS)
        .with("re_expires_in", REFRESH_TOKEN_SECONDS)
        .with("refresh_token", refresh_token)
        .with("user_id", alipay.shopper.user_id.clone())
        .with("open_id", alipay.shopper.open_id.clone()))
}
