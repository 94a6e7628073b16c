//! WeChat's web OAuth with `snsapi_base`: the silent authorize redirect
//! (open.weixin.qq.com) and the code exchange (api.weixin.qq.com) that
//! gives the merchant the shopper's `openid`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::{crypto, pages, Wechat};
use crate::urls::{append_query, percent_encode, url_host};

/// A code lives five minutes and is good once.
const CODE_SECONDS: i64 = 5 * 60;
/// An access token's `expires_in`.
const ACCESS_TOKEN_SECONDS: i64 = 7200;

/// The codes handed out by the authorize redirect.
#[derive(Debug, Default)]
pub(crate) struct Codes {
    codes: HashMap<String, Code>,
}

#[derive(Debug)]
struct Code {
    appid: String,
    openid: String,
    issued_at: i64,
    used: bool,
}

type QueryMap = Result<Query<HashMap<String, String>>, QueryRejection>;

fn params(query: QueryMap) -> HashMap<String, String> {
    query.map(|Query(map)| map).unwrap_or_default()
}

/// `GET /wechat-open/connect/oauth2/authorize?appid=&redirect_uri=&response_type=code&scope=snsapi_base&state=`:
/// `snsapi_base` asks the shopper nothing, so it answers 302 at once.
pub(super) async fn authorize(State(wechat): State<Arc<Wechat>>, query: QueryMap) -> Response {
    let query = params(query);
    let get = |name: &str| query.get(name).map(String::as_str).unwrap_or_default();
    let refuse = |code: u32, message: &str| {
        pages::message_page(
            StatusCode::BAD_REQUEST,
            "Oops! Something went wrong:(",
            &format!("{code} {message}"),
        )
    };
    let appid = get("appid");
    let redirect_uri = get("redirect_uri");
    if appid.is_empty() {
        return refuse(10012, "appid不能为空");
    }
    if appid != wechat.config.appid {
        return refuse(10016, "appid参数错误");
    }
    if redirect_uri.is_empty() {
        return refuse(10011, "redirect_uri不能为空");
    }
    if !(redirect_uri.starts_with("https://") || redirect_uri.starts_with("http://")) {
        return refuse(10003, "redirect_uri参数错误");
    }
    // Exactly a registered domain: WeChat allows no subdomains here.
    let domains = &wechat.config.oauth_domains;
    let registered = url_host(redirect_uri).is_some_and(|host| {
        domains
            .iter()
            .any(|domain| domain.eq_ignore_ascii_case(&host))
    });
    if !domains.is_empty() && !registered {
        return refuse(10003, "redirect_uri域名与后台配置不一致");
    }
    if get("response_type") != "code" {
        return refuse(10004, "response_type参数错误");
    }
    if get("scope").is_empty() {
        return refuse(10010, "scope不能为空");
    }
    if get("scope") != "snsapi_base" {
        return refuse(
            10005,
            "此公众号并没有这些scope的权限 (sandbox: snsapi_base only)",
        );
    }
    let state = get("state");
    if state.len() > 128 {
        return refuse(10013, "state参数错误");
    }

    let code = crypto::nonce(32);
    let now = wechat.clock.unix_seconds();
    wechat.lock().oauth.codes.insert(
        code.clone(),
        Code {
            appid: appid.to_owned(),
            openid: wechat.openid_for(appid),
            issued_at: now,
            used: false,
        },
    );
    let location = append_query(
        redirect_uri,
        &format!("code={code}&state={}", percent_encode(state)),
    );
    (StatusCode::FOUND, [(LOCATION, location)]).into_response()
}

/// WeChat's API errors: HTTP 200 with `errcode` and `errmsg`.
fn sns_error(errcode: u32, errmsg: &str) -> Response {
    Json(json!({ "errcode": errcode, "errmsg": errmsg })).into_response()
}

/// `GET /wechat-api/sns/oauth2/access_token?appid=&secret=&code=&grant_type=authorization_code`.
pub(super) async fn access_token(State(wechat): State<Arc<Wechat>>, query: QueryMap) -> Response {
    let query = params(query);
    let get = |name: &str| query.get(name).map(String::as_str).unwrap_or_default();
    let (appid, secret, code) = (get("appid"), get("secret"), get("code"));
    if appid.is_empty() {
        return sns_error(41002, "appid missing");
    }
    if secret.is_empty() {
        return sns_error(41004, "appsecret missing");
    }
    if code.is_empty() {
        return sns_error(41008, "missing code");
    }
    if get("grant_type") != "authorization_code" {
        return sns_error(40002, "invalid grant_type");
    }
    if appid != wechat.config.appid {
        return sns_error(40013, "invalid appid");
    }
    if secret != wechat.config.app_secret {
        return sns_error(40125, "invalid appsecret");
    }
    let now = wechat.clock.unix_seconds();
    let openid = {
        let mut state = wechat.lock();
        let Some(issued) = state.oauth.codes.get_mut(code) else {
            return sns_error(40029, "invalid code");
        };
        if issued.used {
            return sns_error(40163, "code been used");
        }
        if issued.appid != appid || now - issued.issued_at >= CODE_SECONDS {
            return sns_error(40029, "invalid code");
        }
        issued.used = true;
        issued.openid.clone()
    };
    Json(json!({
        "access_token": crypto::nonce(86),
        "expires_in": ACCESS_TOKEN_SECONDS,
        "refresh_token": crypto::nonce(86),
        "openid": openid,
        "scope": "snsapi_base",
    }))
    .into_response()
}
