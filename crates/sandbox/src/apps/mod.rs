//! The shopper's wallet apps scanning "one code for every wallet": WeChat,
//! Alipay or UnionPay's QuickPass (云闪付) scans a code whose payload is a
//! URL to the merchant's server, opens it in its in-app web view, and pays
//! there.
//!
//! | route | plays |
//! |---|---|
//! | `POST /apps/scan` | one scan by one phone, played to the end, answered as JSON |
//! | `GET\|POST /apps` | the same as a page, for people trying the demo |
//!
//! The web view is a browser without script: it sends the app's
//! User-Agent, keeps the cookies of one phone, follows redirects and
//! submits the forms a page's script would. On the server's pay page it
//! claims the code (the `claim` screen's form), then runs the hand-off of
//! the `pay` screen the way the app would: WeChat's `getBrandWCPayRequest`
//! through `/phone/jsapi`, Alipay's `tradePay` through
//! `/alipay/phone/trade-pay`, and for QuickPass the UnionPay gateway's
//! phone page, on which the shopper types a test card and the SMS code.
//! Then it loads the pay page again until it no longer says `checking`.
//!
//! Documented: the User-Agents are those the apps' web views send
//! (`MicroMessenger/`, `AlipayClient/`, `com.unionpay.chsp`); the bridges'
//! answers are WeChat's `err_msg` and Alipay's `resultCode`.
//!
//! Assumed (the emulator's own): the JSON of `/apps/scan`; the bridges are
//! reached over HTTP at the emulator's own address, as `/phone` and
//! `/alipay/phone` offer them; on UnionPay's page the phone pays with the
//! debit card `6216261000000000018`, is declined with
//! `6216261000000000026` (insufficient funds) and cancels with
//! "返回商户".

mod api;
mod bridges;
mod jar;
mod markup;
mod page;
mod scan;
mod screen;
mod webview;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};

/// A whole scan, pages and bridges together, stays well under this per
/// request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What every scan shares: where the emulator's own bridges are, and one
/// HTTP client (cookies are per scan, in the web view).
pub(crate) struct Apps {
    public_url: String,
    http: reqwest::Client,
}

/// The routes of `/apps`. `public_url` is the emulator's own address,
/// where the apps' bridges (`/phone/jsapi`, `/alipay/phone/trade-pay`) are.
pub(crate) fn router(public_url: String) -> Router {
    // Redirects are followed by the web view itself, so that it keeps the
    // cookies each hop sets.
    let http = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default();
    let apps = Arc::new(Apps { public_url, http });
    Router::new()
        .route("/apps", get(page::view).post(page::submit))
        .route("/apps/scan", post(api::scan))
        .with_state(apps)
}

/// The wallet app that scans.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum App {
    /// WeChat (微信), paying with WeChat Pay's JSAPI.
    Wechat,
    /// Alipay (支付宝), paying with `tradePay`.
    Alipay,
    /// UnionPay's QuickPass (云闪付), paying on the UnionPay gateway's
    /// phone page.
    Quickpass,
}

impl App {
    /// Every app, in the order pages list them.
    pub(crate) const ALL: [App; 3] = [App::Wechat, App::Alipay, App::Quickpass];

    /// The name on the wire.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            App::Wechat => "wechat",
            App::Alipay => "alipay",
            App::Quickpass => "quickpass",
        }
    }

    /// The name people know it by.
    pub(crate) fn label(self) -> &'static str {
        match self {
            App::Wechat => "微信 WeChat",
            App::Alipay => "支付宝 Alipay",
            App::Quickpass => "云闪付 QuickPass",
        }
    }

    /// What its web view sends as `User-Agent`.
    pub(crate) fn user_agent(self) -> &'static str {
        match self {
            App::Wechat => {
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 \
                 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49(0x18003137) \
                 NetType/WIFI Language/zh_CN"
            }
            App::Alipay => {
                "Mozilla/5.0 (Linux; Android 13; V2309A) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/120.0 Mobile Safari/537.36 AlipayClient/10.5.86.8000 Language/zh-Hans"
            }
            App::Quickpass => {
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 \
                 (KHTML, like Gecko) Mobile/15E148 (com.unionpay.chsp) (cordova 4.5.4) \
                 (updebug 0) (version 1011) (UnionPay/1.0 CloudPay) (clientVersion 311)"
            }
        }
    }
}

/// What the shopper does when the app asks them to pay.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Outcome {
    /// Confirms, and the payment goes through.
    #[default]
    Pay,
    /// Confirms, and the wallet or the bank declines.
    Decline,
    /// Gives up before paying.
    Cancel,
}

impl Outcome {
    /// The name on the wire.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Outcome::Pay => "pay",
            Outcome::Decline => "decline",
            Outcome::Cancel => "cancel",
        }
    }
}

/// Why a scan could not be played to the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PlayError {
    /// A request got no answer (connection, timeout, unreadable body).
    Unreachable {
        /// Where the phone went.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// An answer that is not what the phone can go on with.
    Unexpected {
        /// The page or bridge that answered.
        url: String,
        /// What was wrong with it.
        reason: String,
    },
}

impl PlayError {
    fn unreachable(url: impl fmt::Display, error: &dyn std::error::Error) -> PlayError {
        // reqwest's own message is only "error sending request"; its
        // sources say why (connection refused, timed out).
        let mut reason = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            reason.push_str(": ");
            reason.push_str(&cause.to_string());
            source = cause.source();
        }
        PlayError::Unreachable {
            url: url.to_string(),
            reason,
        }
    }

    fn unexpected(url: impl fmt::Display, reason: impl fmt::Display) -> PlayError {
        PlayError::Unexpected {
            url: url.to_string(),
            reason: reason.to_string(),
        }
    }
}

impl fmt::Display for PlayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlayError::Unreachable { url, reason } => write!(f, "cannot reach {url}: {reason}"),
            PlayError::Unexpected { url, reason } => write!(f, "{url}: {reason}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_web_view_names_its_app() {
        assert!(App::Wechat.user_agent().contains(" MicroMessenger/8.0.49"));
        assert!(App::Alipay
            .user_agent()
            .contains(" AlipayClient/10.5.86.8000 "));
        assert!(App::Quickpass.user_agent().contains("(com.unionpay.chsp)"));
        for app in App::ALL {
            assert!(!app.user_agent().contains("  "), "{app:?}");
        }
    }
}
