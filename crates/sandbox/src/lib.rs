//! Provider emulators that play the providers' side on loopback, in the
//! manner of stripe-mock or LocalStack.
//!
//! This version plays WeChat Pay API v3 (Native, H5 and JSAPI, with WeChat's
//! web OAuth `snsapi_base`) closely enough that a WeChat Pay adapter cannot
//! tell it from `api.mch.weixin.qq.com` except by its base URL: the same
//! paths, fields, status codes and error bodies, SHA256withRSA signatures
//! both ways and AEAD_AES_256_GCM notification resources. It plays Alipay's
//! OpenAPI gateway the same way (`gateway.do` with RSA2 both ways, order
//! codes, the WAP cashier, in-app payment after `auth_base`, refunds, form
//! notifications), and UnionPay's online gateway (UPOP 5.1.0: the browser's
//! `frontTransReq.do` with its card page, order codes, refunds,
//! cancellations and queries through `backTransReq.do` and
//! `queryTrans.do`, signed both ways with certificates under a test chain),
//! and China Mobile Pay (和包支付, the IPOS `cmpayService` 2.0.0: pay
//! requests for desktop and phone with their cashier, queries and refunds,
//! MD5 hmacs both ways, form notifications answered `SUCCESS`).
//! It also plays the shopper (cashier pages, phones that scan and pay, and
//! the wallet apps' web views that open a merchant's pay page) and a
//! merchant's webhook receiver.
//!
//! | prefix | plays |
//! |---|---|
//! | `/wechat-pay` | `api.mch.weixin.qq.com` (`/v3/...`) and the H5 cashier (`/h5/pay`) |
//! | `/wechat-open` | `open.weixin.qq.com` (`/connect/oauth2/authorize`) |
//! | `/wechat-api` | `api.weixin.qq.com` (`/sns/oauth2/access_token`) |
//! | `/phone` | the WeChat shopper's phone: `/phone/scan`, `/phone/jsapi`, and a page |
//! | `/control` | WeChat Pay's outages, rate limits and notification behaviour |
//! | `/alipay` | `openapi.alipay.com/gateway.do`, `openauth.alipay.com`, the WAP cashier, the Alipay shopper's phone and its controls |
//! | `/unionpay` | `gateway.test.95516.com` (`/gateway/api/...`), the card page, the UnionPay shopper's phone and its controls |
//! | `/cmpay` | `ipos.10086.cn` (`/ips/cmpayService`), the 和包 cashier (`/wap/index.xhtml`), the shopper's statement and its controls |
//! | `/apps` | WeChat's, Alipay's and QuickPass's web views opening a code's URL on the merchant's server and paying there: `/apps/scan`, and a page |
//! | `/webhooks` | a merchant's webhook endpoint |
//!
//! State lives in memory, per [`app`].

#![warn(missing_docs)]

mod alipay;
mod apps;
mod clock;
mod cmpay;
mod crypto;
mod html;
mod unionpay;
mod urls;
mod webhooks;
mod wechat;

use std::net::SocketAddr;

use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

pub use clock::Clock;
pub use unionpay::certs as unionpay_certs;

/// The emulated WeChat Pay merchant account: who the merchant is, the keys
/// on both sides, and the H5 domains it registered.
#[derive(Clone, Debug)]
pub struct WechatConfig {
    /// The merchant number (`mchid`), e.g. `1900000001`.
    pub mchid: String,
    /// The app (official account) the merchant pays under, e.g. `wx8888888888888888`.
    pub appid: String,
    /// The app's secret, checked by `sns/oauth2/access_token`.
    pub app_secret: String,
    /// The merchant certificate serial that the `Authorization` header must name.
    pub merchant_serial: String,
    /// The merchant's public key (SPKI PEM): verifies request signatures and JSAPI `paySign`.
    pub merchant_public_key_pem: String,
    /// WeChat Pay's private key (PKCS#8 PEM): signs responses and notifications.
    pub platform_private_key_pem: String,
    /// Sent as `Wechatpay-Serial`: the WeChat Pay public key id.
    pub platform_key_id: String,
    /// The APIv3 key, 32 ASCII bytes: AEAD_AES_256_GCM key of notification resources.
    pub apiv3_key: String,
    /// When not empty, the H5 cashier refuses a Referer whose host is not one
    /// of these (or a subdomain of one).
    pub h5_domains: Vec<String>,
    /// When not empty, web authorisation refuses a `redirect_uri` whose
    /// host is not exactly one of these.
    pub oauth_domains: Vec<String>,
}

impl WechatConfig {
    /// The demo merchant with the committed test keys (`crates/sandbox/keys`).
    pub fn demo() -> WechatConfig {
        WechatConfig {
            mchid: "1900000001".into(),
            appid: "wx8888888888888888".into(),
            app_secret: "sandbox-app-secret".into(),
            merchant_serial: "4F1C2B3A5D6E7F8091A2B3C4D5E6F708192A3B4C".into(),
            merchant_public_key_pem: include_str!("../keys/merchant_public.pem").into(),
            platform_private_key_pem: include_str!("../keys/platform_private.pem").into(),
            platform_key_id: "PUB_KEY_ID_0119000000012026112300000000000001".into(),
            apiv3_key: "sandbox-apiv3-key-0123456789abcd".into(),
            h5_domains: Vec::new(),
            oauth_domains: Vec::new(),
        }
    }
}

/// The emulated Alipay merchant application: who it is, the keys on both
/// sides, and where its pages may send the shopper back to.
#[derive(Clone, Debug)]
pub struct AlipayConfig {
    /// The application's `app_id`, e.g. `9021000142691120`.
    pub app_id: String,
    /// The merchant's Alipay user id (16 digits from 2088): `seller_id` in
    /// answers, returns and notifications.
    pub seller_id: String,
    /// The application's public key (SPKI PEM): verifies request signatures.
    pub app_public_key_pem: String,
    /// Alipay's private key (PKCS#8 PEM): signs answers, returns and notifications.
    pub alipay_private_key_pem: String,
    /// When not empty, the host of every `return_url`, `quit_url` and OAuth
    /// `redirect_uri` must be exactly one of these.
    pub return_domains: Vec<String>,
}

impl AlipayConfig {
    /// The demo application with the committed test keys (`crates/sandbox/keys`).
    pub fn demo() -> AlipayConfig {
        AlipayConfig {
            app_id: "9021000142691120".into(),
            seller_id: "2088721000000001".into(),
            app_public_key_pem: include_str!("../keys/alipay_app_public.pem").into(),
            alipay_private_key_pem: include_str!("../keys/alipay_platform_private.pem").into(),
            return_domains: Vec::new(),
        }
    }
}

/// The emulated UnionPay merchant: who it is, the certificates and keys on
/// both sides, and where its card page may send the shopper back to.
#[derive(Clone, Debug)]
pub struct UnionpayConfig {
    /// The merchant number (`merId`), e.g. `777290058110048`.
    pub mer_id: String,
    /// The merchant's signing certificate (PEM): verifies request
    /// signatures; its serial number in decimal is the `certId` requests
    /// must name.
    pub merchant_cert_pem: String,
    /// UnionPay's signing certificate (PEM), sent as `signPubKeyCert`.
    pub sign_cert_pem: String,
    /// UnionPay's signing key (PKCS#8 PEM): signs answers, front returns
    /// and notifications.
    pub sign_private_key_pem: String,
    /// A self-signed certificate under UnionPay's name, for notifications a
    /// verifier must refuse (`/unionpay/control` `rogue_cert`).
    pub rogue_cert_pem: String,
    /// The rogue certificate's key (PKCS#8 PEM).
    pub rogue_private_key_pem: String,
    /// When not empty, the host of every `frontUrl` must be exactly one of
    /// these.
    pub return_domains: Vec<String>,
}

impl UnionpayConfig {
    /// The demo merchant with the committed test chain (`crates/sandbox/keys`).
    pub fn demo() -> UnionpayConfig {
        UnionpayConfig {
            mer_id: "777290058110048".into(),
            merchant_cert_pem: include_str!("../keys/unionpay_merchant.pem").into(),
            sign_cert_pem: include_str!("../keys/unionpay_sign.pem").into(),
            sign_private_key_pem: include_str!("../keys/unionpay_sign_private.pem").into(),
            rogue_cert_pem: include_str!("../keys/unionpay_rogue.pem").into(),
            rogue_private_key_pem: include_str!("../keys/unionpay_rogue_private.pem").into(),
            return_domains: Vec::new(),
        }
    }
}

/// The emulated China Mobile Pay (和包) merchant: who it is, its signing
/// key, and where the cashier may send the shopper back to.
#[derive(Clone, Debug)]
pub struct CmpayConfig {
    /// The merchant number (`merchantId`), e.g. `888009900000001`.
    pub merchant_id: String,
    /// The merchant's key (和包 hands out 64 characters): the `hmac` of
    /// every request and answer is keyed with it.
    pub sign_key: String,
    /// When not empty, the host of every `callbackUrl` and `notifyUrl` must
    /// be exactly one of these.
    pub return_domains: Vec<String>,
}

impl CmpayConfig {
    /// The demo merchant and its sandbox key.
    pub fn demo() -> CmpayConfig {
        CmpayConfig {
            merchant_id: "888009900000001".into(),
            sign_key: "sandboxCmpayKey0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM".into(),
            return_domains: Vec::new(),
        }
    }
}

/// Everything the sandbox plays.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// The WeChat Pay merchant account.
    pub wechat: WechatConfig,
    /// The Alipay merchant application.
    pub alipay: AlipayConfig,
    /// The UnionPay merchant.
    pub unionpay: UnionpayConfig,
    /// The China Mobile Pay merchant.
    pub cmpay: CmpayConfig,
    /// The secret of `Payment-Selector-Signature` that `/webhooks` checks.
    pub webhook_secret: String,
}

impl SandboxConfig {
    /// The demo configuration: [`WechatConfig::demo`], [`AlipayConfig::demo`],
    /// [`UnionpayConfig::demo`], [`CmpayConfig::demo`] and
    /// `whsec_sandbox_demo`.
    pub fn demo() -> SandboxConfig {
        SandboxConfig {
            wechat: WechatConfig::demo(),
            alipay: AlipayConfig::demo(),
            unionpay: UnionpayConfig::demo(),
            cmpay: CmpayConfig::demo(),
            webhook_secret: "whsec_sandbox_demo".into(),
        }
    }

    /// The demo for pages served on this machine (`cargo xtask serve`, the
    /// end-to-end journeys): as WeChat's do, its H5 cashier opens only from
    /// the merchant's registered domain and its web authorisation returns
    /// only there, and Alipay's, UnionPay's and China Mobile Pay's pages
    /// send the shopper back (and 和包 its notifications) only there, here
    /// the loopback names.
    pub fn local_demo() -> SandboxConfig {
        let mut config = SandboxConfig::demo();
        let loopback = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
        config.wechat.h5_domains = loopback.clone();
        config.wechat.oauth_domains = loopback.clone();
        config.alipay.return_domains = loopback.clone();
        config.unionpay.return_domains = loopback.clone();
        config.cmpay.return_domains = loopback;
        config
    }
}

/// Everything, as one axum Router. `public_url` is where this server is
/// reachable (`http://127.0.0.1:PORT`), used to build `h5_url` and page links.
///
/// # Panics
/// When the configuration's keys cannot be used (a PEM that does not parse,
/// an APIv3 key that is not 32 bytes, an Alipay key that is not RSA, a
/// UnionPay certificate that does not parse).
pub fn app(config: SandboxConfig, public_url: String) -> Router {
    app_with_clock(config, public_url, Clock::system())
}

/// [`app`] on a clock the caller can move (tests of expiry).
///
/// # Panics
/// As [`app`].
pub fn app_with_clock(config: SandboxConfig, public_url: String, clock: Clock) -> Router {
    let public_url = public_url.trim_end_matches('/').to_owned();
    Router::new()
        .route("/", get(index))
        .merge(wechat::router(
            config.wechat,
            public_url.clone(),
            clock.clone(),
        ))
        .merge(alipay::router(config.alipay, clock.clone()))
        .merge(unionpay::router(config.unionpay, clock.clone()))
        .merge(cmpay::router(
            config.cmpay,
            public_url.clone(),
            clock.clone(),
        ))
        .merge(apps::router(public_url))
        .merge(webhooks::router(&config.webhook_secret, clock))
}

/// Serves [`app`] on `listener` until the task is dropped; the public URL is
/// the listener's address (an unspecified address is named as loopback).
pub async fn serve(
    config: SandboxConfig,
    listener: tokio::net::TcpListener,
) -> std::io::Result<()> {
    let public_url = public_url(listener.local_addr()?);
    axum::serve(listener, app(config, public_url)).await
}

/// `http://ADDR` for a bound address, naming `0.0.0.0` and `[::]` as loopback.
pub fn public_url(mut addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    format!("http://{addr}")
}

async fn index() -> Response {
    html::page(
        StatusCode::OK,
        "payment-sandbox",
        "<header>payment-sandbox</header><section class=\"card\">\
         <p>Provider emulators on loopback.</p><ul>\
         <li><code>/wechat-pay/v3/...</code>: WeChat Pay API v3 (Native, H5, JSAPI), signed both ways</li>\
         <li><code>/wechat-open</code>, <code>/wechat-api</code>: WeChat web OAuth (snsapi_base)</li>\
         <li><a href=\"/phone\">/phone</a>: pay or decline a <code>code_url</code></li>\
         <li><a href=\"/control\">/control</a>: outages, rate limits and notification behaviour</li>\
         <li><code>/alipay/gateway.do</code>: the Alipay OpenAPI gateway (precreate, WAP cashier, in-app, refunds), RSA2 both ways</li>\
         <li><a href=\"/alipay/phone\">/alipay/phone</a>: pay, scan or decline an Alipay <code>qr_code</code>; <a href=\"/alipay/control\">/alipay/control</a>: its controls</li>\
         <li><code>/unionpay/gateway/api/...</code>: UnionPay's online gateway 5.1.0 (card page, order codes, refunds, cancellations, queries), signed both ways</li>\
         <li><a href=\"/unionpay/phone\">/unionpay/phone</a>: pay, scan or decline a UnionPay <code>qrCode</code>; <a href=\"/unionpay/control\">/unionpay/control</a>: its controls</li>\
         <li><code>/cmpay/ips/cmpayService</code>: China Mobile Pay (和包) cmpayService 2.0.0 (desktop and phone cashier, queries, refunds), MD5 hmac both ways</li>\
         <li><a href=\"/cmpay/phone\">/cmpay/phone</a>: the 和包 shopper's statement; <a href=\"/cmpay/control\">/cmpay/control</a>: its controls</li>\
         <li><a href=\"/apps\">/apps</a>: a wallet app (WeChat, Alipay, QuickPass) scans a code that opens the merchant's pay page</li>\
         <li><a href=\"/webhooks\">/webhooks</a>: the events a merchant received</li>\
         </ul></section>",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_unspecified_addresses_as_loopback() {
        assert_eq!(
            public_url("0.0.0.0:8090".parse().unwrap()),
            "http://127.0.0.1:8090"
        );
        assert_eq!(
            public_url("[::]:8090".parse().unwrap()),
            "http://[::1]:8090"
        );
        assert_eq!(
            public_url("127.0.0.1:1".parse().unwrap()),
            "http://127.0.0.1:1"
        );
    }

    #[test]
    fn the_demo_cmpay_key_is_64_characters() {
        let key = CmpayConfig::demo().sign_key;
        assert_eq!(key.len(), 64);
        assert!(key.is_ascii());
    }

    #[test]
    fn the_demo_apiv3_key_is_32_bytes() {
        assert_eq!(WechatConfig::demo().apiv3_key.len(), 32);
    }
}
