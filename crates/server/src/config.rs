//! The server's configuration: merchants (their keys, webhooks, methods and
//! switch-on dates, provider accounts), batches of switch-ons, currencies
//! and time limits. A TOML file; `merchants.toml` is embedded as the
//! sandbox default.

use std::path::Path;

use contract::{Currency, MethodKind, UnixSeconds};
use serde::Deserialize;

use crate::auth::KeyMode;

/// The embedded default configuration: the sandbox's demo merchant.
pub const DEFAULT_CONFIG: &str = include_str!("../merchants.toml");

/// Where URLs name the sandbox in a configuration (`{sandbox}/webhooks`);
/// replaced with the sandbox's address in sandbox mode, refused live.
pub const SANDBOX_PLACEHOLDER: &str = "{sandbox}";

/// The server's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Default lifetime of a checkout session, in seconds.
    pub session_ttl_seconds: i64,
    /// Lifetime of one payment intent, in seconds.
    pub intent_ttl_seconds: i64,
    /// The merchant the sandbox's demo endpoint sells for.
    #[serde(default)]
    pub demo_merchant: Option<String>,
    /// The currencies sessions may be opened in.
    #[serde(default = "default_currencies")]
    pub currencies: Vec<Currency>,
    /// Switch-on times shared by many merchants' methods.
    #[serde(default)]
    pub batches: Vec<BatchConfig>,
    /// Every merchant.
    pub merchants: Vec<MerchantConfig>,
}

fn default_currencies() -> Vec<Currency> {
    vec![Currency::CNY]
}

/// A batch: methods switched on together, for many merchants at once.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchConfig {
    /// Its name, as methods refer to it.
    pub id: String,
    /// When its methods become available (RFC 3339, such as
    /// `2026-12-01T10:00:00+08:00`).
    #[serde(deserialize_with = "rfc3339")]
    pub switch_on_at: UnixSeconds,
}

/// One merchant.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MerchantConfig {
    /// Its id.
    pub id: String,
    /// Its name as shoppers know it.
    pub display_name: String,
    /// The hash of the key its server authenticates with, as
    /// `payment-server key` prints it: `live:sha256:<hex>` or
    /// `test:sha256:<hex>`.
    pub secret_key_hash: String,
    /// The methods it takes, in display order.
    pub methods: Vec<MethodConfig>,
    /// Where the server tells it what happened.
    #[serde(default)]
    pub webhook: Option<WebhookConfig>,
    /// Its WeChat Pay merchant account; a sandbox server supplies the
    /// emulator's when absent.
    #[serde(default)]
    pub wechat_pay: Option<WechatPayConfig>,
    /// Its Alipay application; a sandbox server supplies the emulator's
    /// when absent.
    #[serde(default)]
    pub alipay: Option<AlipayConfig>,
    /// Its China Mobile Pay merchant; a sandbox server supplies the
    /// emulator's when absent.
    #[serde(default)]
    pub cmpay: Option<CmpayConfig>,
    /// Its UnionPay online-gateway merchant (cards and QuickPass); a
    /// sandbox server supplies the emulator's when absent.
    #[serde(default)]
    pub unionpay: Option<UnionpayConfig>,
    /// Whether a second payment of a paid session is given back by the
    /// server at once (the merchant is told both things); without it the
    /// merchant refunds it (`payment_intent.requires_refund`).
    #[serde(default = "enabled")]
    pub auto_refund: bool,
}

/// One method a merchant takes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MethodConfig {
    /// Which institution.
    #[serde(rename = "type")]
    pub kind: MethodKind,
    /// False while the merchant's switch-on has no date yet.
    #[serde(default = "enabled")]
    pub enabled: bool,
    /// Switched on at this moment (RFC 3339).
    #[serde(default, deserialize_with = "optional_rfc3339")]
    pub enabled_from: Option<UnixSeconds>,
    /// Switched on with this batch.
    #[serde(default)]
    pub batch: Option<String>,
}

fn enabled() -> bool {
    true
}

/// A merchant's webhook endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Where events are POSTed.
    pub url: String,
    /// The HMAC-SHA256 key events are signed with.
    pub secret: String,
}

/// A WeChat Pay (API v3) merchant account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WechatPayConfig {
    /// The merchant id (`mchid`).
    pub mchid: String,
    /// The official account's app id (`appid`).
    pub appid: String,
    /// The official account's secret, for web authorisation (JSAPI).
    pub app_secret: String,
    /// The serial number of the merchant's API certificate.
    pub merchant_serial: String,
    /// The merchant's API private key, PKCS#8 PEM (or `file:<path>`).
    pub merchant_private_key: String,
    /// WeChat Pay's public key, SPKI PEM (or `file:<path>`; a platform
    /// certificate's PEM is read too). One key and one serial at a time: a
    /// certificate switch-over, when WeChat Pay signs with two serials at
    /// once, is not supported; the public-key mode has no switch-over.
    pub platform_public_key: String,
    /// Its id, as `Wechatpay-Serial` names it (`PUB_KEY_ID_…`).
    pub platform_key_id: String,
    /// The APIv3 key (32 bytes) that notifications are encrypted with.
    pub apiv3_key: String,
    /// The pay API's host.
    #[serde(default = "wechat_pay_host")]
    pub pay_base_url: String,
    /// The web authorisation page's host.
    #[serde(default = "wechat_open_host")]
    pub open_base_url: String,
    /// The authorisation API's host.
    #[serde(default = "wechat_api_host")]
    pub api_base_url: String,
}

/// An Alipay application (the OpenAPI gateway, RSA2 keys).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlipayConfig {
    /// The application's id (`app_id`).
    pub app_id: String,
    /// The merchant's partner id (`seller_id`, `2088…`): a notification or
    /// an answer about another seller is refused.
    pub seller_id: String,
    /// The application's private key, PKCS#8 PEM (or `file:<path>`):
    /// requests are signed with it.
    pub app_private_key: String,
    /// Alipay's public key, SPKI PEM (or `file:<path>`): answers, returns
    /// and notifications are verified with it.
    pub alipay_public_key: String,
    /// The OpenAPI gateway.
    #[serde(default = "alipay_gateway")]
    pub gateway_url: String,
    /// The authorisation page (`auth_base`, inside the Alipay app).
    #[serde(default = "alipay_authorize")]
    pub authorize_url: String,
}

/// A China Mobile Pay merchant (the `cmpayService` 2.0.0 interface,
/// HMAC-MD5).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CmpayConfig {
    /// The merchant number (`merchantId`).
    pub merchant_id: String,
    /// The signing key China Mobile issued (or `file:<path>`).
    pub sign_key: String,
    /// The service every request is posted to.
    #[serde(default = "cmpay_service")]
    pub service_url: String,
}

fn cmpay_service() -> String {
    "https://ipos.10086.cn/ips/cmpayService".into()
}

/// A UnionPay online-gateway merchant (version 5.1.0, RSA certificates).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnionpayConfig {
    /// The merchant number (`merId`, 15 digits).
    pub mer_id: String,
    /// The merchant's signing key, PKCS#8 PEM (or `file:<path>`): from the
    /// `.pfx` UnionPay issues, `openssl pkcs12 -in sign.pfx -nocerts -nodes`.
    pub sign_key: String,
    /// The certificate of that key, PEM (or `file:<path>`): its serial is
    /// the `certId` every request names (`openssl pkcs12 -in sign.pfx
    /// -nokeys -clcerts`).
    pub sign_cert: String,
    /// UnionPay's root certificate, PEM (or `file:<path>`; `acp_prod_root.cer`):
    /// the certificates that sign answers and notifications chain to it.
    pub root_cert: String,
    /// UnionPay's intermediate certificate, PEM (or `file:<path>`;
    /// `acp_prod_middle.cer`).
    pub middle_cert: String,
    /// The gateway's base: `frontTransReq.do`, `backTransReq.do` and
    /// `queryTrans.do` are under it.
    #[serde(default = "unionpay_gateway")]
    pub gateway_url: String,
}

fn unionpay_gateway() -> String {
    "https://gateway.95516.com/gateway/api".into()
}

/// The host of UnionPay's test environment: a live server refuses it.
const UNIONPAY_TEST_HOST: &str = "test.95516.com";

fn alipay_gateway() -> String {
    "https://openapi.alipay.com/gateway.do".into()
}

fn alipay_authorize() -> String {
    "https://openauth.alipay.com/oauth2/publicAppAuthorize.htm".into()
}

/// Hosts of Alipay's own sandbox: a live server refuses them.
const ALIPAY_SANDBOX_HOSTS: [&str; 2] = ["alipaydev.com", "alipay-sandbox"];

fn wechat_pay_host() -> String {
    "https://api.mch.weixin.qq.com".into()
}

fn wechat_open_host() -> String {
    "https://open.weixin.qq.com".into()
}

fn wechat_api_host() -> String {
    "https://api.weixin.qq.com".into()
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// Which file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is malformed.
    #[error("invalid configuration: {0}")]
    Parse(#[from] toml::de::Error),
    /// The TOML parses but makes no sense.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// The embedded default.
    pub fn embedded() -> Result<Config, ConfigError> {
        Config::parse(DEFAULT_CONFIG)
    }

    /// Reads a configuration file.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Config::parse(&text)
    }

    /// Parses and checks a configuration.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text)?;
        let invalid = |message: String| Err(ConfigError::Invalid(message));
        if let Some(demo) = &config.demo_merchant {
            if config.merchant(demo).is_none() {
                return invalid(format!("no merchant {demo:?} for the demo"));
            }
        }
        if config.session_ttl_seconds < 60 || config.intent_ttl_seconds < 60 {
            return invalid("time limits must be at least 60 seconds".into());
        }
        if config.currencies.is_empty() {
            return invalid("no currency".into());
        }
        if let Some(unknown) = config.currencies.iter().find(|c| !c.is_known()) {
            return invalid(format!(
                "currency {unknown} is not one the checkout shows (payment_contract::Currency::KNOWN)"
            ));
        }
        for merchant in &config.merchants {
            if KeyMode::of_hash(&merchant.secret_key_hash).is_none() {
                return invalid(format!(
                    "merchant {}: secret_key_hash must be live:sha256:<hex> or test:sha256:<hex> (payment-server key prints one)",
                    merchant.id
                ));
            }
            for method in &merchant.methods {
                if method.kind == MethodKind::Unsupported {
                    return invalid(format!("merchant {} names an unknown method", merchant.id));
                }
                if let Some(batch) = &method.batch {
                    if config.batch(batch).is_none() {
                        return invalid(format!("merchant {}: no batch {batch:?}", merchant.id));
                    }
                }
            }
        }
        Ok(config)
    }

    /// Checks what a live server needs: no test keys, no sandbox URLs, a
    /// provider account for every method it offers today or later.
    pub fn check_live(&self) -> Result<(), ConfigError> {
        for merchant in &self.merchants {
            if KeyMode::of_hash(&merchant.secret_key_hash) != Some(KeyMode::Live) {
                return Err(ConfigError::Invalid(format!(
                    "merchant {}: a live server takes live keys only (payment-server key --live)",
                    merchant.id
                )));
            }
            for method in merchant.methods.iter().filter(|method| method.enabled) {
                let account = match method.kind {
                    MethodKind::WechatPay => merchant.wechat_pay.is_some(),
                    MethodKind::Alipay => merchant.alipay.is_some(),
                    MethodKind::Unionpay | MethodKind::Card => merchant.unionpay.is_some(),
                    MethodKind::ChinaMobilePay => merchant.cmpay.is_some(),
                    // Methods without an adapter yet offer no payment.
                    _ => true,
                };
                if !account {
                    return Err(ConfigError::Invalid(format!(
                        "merchant {}: it offers {:?} without an account for it",
                        merchant.id, method.kind
                    )));
                }
            }
            if let Some(alipay) = &merchant.alipay {
                let sandbox = [&alipay.gateway_url, &alipay.authorize_url]
                    .iter()
                    .any(|url| {
                        url.contains(SANDBOX_PLACEHOLDER)
                            || ALIPAY_SANDBOX_HOSTS.iter().any(|host| url.contains(host))
                    });
                if sandbox {
                    return Err(ConfigError::Invalid(format!(
                        "merchant {}: a live server refuses Alipay's sandbox gateway",
                        merchant.id
                    )));
                }
                let plain = [&alipay.gateway_url, &alipay.authorize_url]
                    .iter()
                    .any(|url| !url.starts_with("https://"));
                if plain {
                    return Err(ConfigError::Invalid(format!(
                        "merchant {}: Alipay's gateway and authorisation are https",
                        merchant.id
                    )));
                }
            }
            if let Some(unionpay) = &merchant.unionpay {
                let url = &unionpay.gateway_url;
                if url.contains(SANDBOX_PLACEHOLDER) || url.contains(UNIONPAY_TEST_HOST) {
                    return Err(ConfigError::Invalid(format!(
                        "merchant {}: a live server refuses UnionPay's test gateway",
                        merchant.id
                    )));
                }
                if !url.starts_with("https://") {
                    return Err(ConfigError::Invalid(format!(
                        "merchant {}: UnionPay's gateway is https",
                        merchant.id
                    )));
                }
            }
            if let Some(cmpay) = &merchant.cmpay {
                let url = &cmpay.service_url;
                if url.contains(SANDBOX_PLACEHOLDER) || !url.starts_with("https://") {
                    return Err(ConfigError::Invalid(format!(
                        "merchant {}: China Mobile Pay's service is https, and not the sandbox",
                        merchant.id
                    )));
                }
            }
            if let Some(webhook) = &merchant.webhook {
                if webhook.url.contains(SANDBOX_PLACEHOLDER) {
                    return Err(ConfigError::Invalid(format!(
                        "merchant {}: its webhook names the sandbox",
                        merchant.id
                    )));
                }
                if !webhook.url.starts_with("https://") {
                    return Err(ConfigError::Invalid(format!(
                        "merchant {}: a live webhook URL must be https (events carry payments)",
                        merchant.id
                    )));
                }
            }
        }
        Ok(())
    }

    /// Puts the sandbox's address where the configuration names it.
    pub fn with_sandbox(mut self, sandbox_url: &str) -> Config {
        for merchant in &mut self.merchants {
            if let Some(webhook) = &mut merchant.webhook {
                webhook.url = webhook.url.replace(SANDBOX_PLACEHOLDER, sandbox_url);
            }
        }
        self
    }

    /// The merchant with this id.
    pub fn merchant(&self, id: &str) -> Option<&MerchantConfig> {
        self.merchants.iter().find(|merchant| merchant.id == id)
    }

    /// The batch with this id.
    pub fn batch(&self, id: &str) -> Option<&BatchConfig> {
        self.batches.iter().find(|batch| batch.id == id)
    }

    /// When a merchant's method switches on: `None` if never (not enabled),
    /// `Some(0)` if it always was.
    pub fn switch_on(&self, method: &MethodConfig) -> Option<UnixSeconds> {
        if !method.enabled {
            return None;
        }
        let batch = method
            .batch
            .as_deref()
            .and_then(|id| self.batch(id))
            .map(|batch| batch.switch_on_at);
        Some(
            batch
                .into_iter()
                .chain(method.enabled_from)
                .max()
                .unwrap_or(0),
        )
    }
}

/// Reads a key or certificate given inline or as `file:<path>`.
pub fn pem_text(value: &str) -> Result<String, ConfigError> {
    match value.strip_prefix("file:") {
        Some(path) => std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        }),
        None => Ok(value.to_owned()),
    }
}

/// An RFC 3339 time, as a TOML string or a TOML date-time.
#[derive(Deserialize)]
#[serde(untagged)]
enum TimeText {
    Text(String),
    Toml(toml::value::Datetime),
}

fn parse_time(text: &str) -> Result<UnixSeconds, String> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|moment| moment.unix_timestamp())
        .map_err(|error| format!("{text:?} is not an RFC 3339 time with its offset: {error}"))
}

fn rfc3339<'de, D: serde::Deserializer<'de>>(d: D) -> Result<UnixSeconds, D::Error> {
    let text = match TimeText::deserialize(d)? {
        TimeText::Text(text) => text,
        TimeText::Toml(moment) => moment.to_string(),
    };
    parse_time(&text).map_err(serde::de::Error::custom)
}

fn optional_rfc3339<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<UnixSeconds>, D::Error> {
    rfc3339(d).map(Some)
}

/// A configuration of one merchant, `m`, whose keys are `mode`'s
/// (`test` or `live`), with `rest` (its methods, accounts, webhook) under
/// it: for tests here and in other modules.
#[cfg(test)]
pub(crate) fn one_merchant(mode: &str, rest: &str) -> String {
    format!(
        "session_ttl_seconds = 1800\nintent_ttl_seconds = 900\n[[merchants]]\n\
         id = \"m\"\ndisplay_name = \"M\"\nsecret_key_hash = \"{mode}:sha256:00\"\n{rest}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_configuration_is_valid() {
        let config = Config::embedded().unwrap();
        let demo = config.merchant("demo").unwrap();
        assert_eq!(demo.methods[0].kind, MethodKind::WechatPay);
        assert!(config.check_live().is_err(), "its key is a test key");
    }

    #[test]
    fn unknown_methods_missing_merchants_and_plain_keys_are_refused() {
        let unknown = DEFAULT_CONFIG.replace(r#"type = "card""#, r#"type = "paypal""#);
        assert!(matches!(
            Config::parse(&unknown),
            Err(ConfigError::Invalid(_))
        ));
        let no_demo =
            DEFAULT_CONFIG.replace(r#"demo_merchant = "demo""#, r#"demo_merchant = "nobody""#);
        assert!(matches!(
            Config::parse(&no_demo),
            Err(ConfigError::Invalid(_))
        ));
        let plain = DEFAULT_CONFIG.replace("test:sha256:", "");
        assert!(matches!(
            Config::parse(&plain),
            Err(ConfigError::Invalid(_))
        ));
    }

    #[test]
    fn switch_on_is_the_later_of_the_batch_and_the_method_s_own_date() {
        let config = Config::parse(
            r#"
            session_ttl_seconds = 1800
            intent_ttl_seconds = 900
            [[batches]]
            id = "wave-3"
            switch_on_at = "2026-12-01T10:00:00+08:00"
            [[merchants]]
            id = "m"
            display_name = "M"
            secret_key_hash = "live:sha256:00"
            methods = [
              { type = "wechat_pay" },
              { type = "alipay", batch = "wave-3" },
              { type = "unionpay", batch = "wave-3", enabled_from = 2026-12-05T00:00:00+08:00 },
              { type = "card", enabled = false },
            ]
            "#,
        )
        .unwrap();
        let methods = &config.merchants[0].methods;
        assert_eq!(config.switch_on(&methods[0]), Some(0));
        assert_eq!(config.switch_on(&methods[1]), Some(1_796_090_400));
        assert_eq!(config.switch_on(&methods[2]), Some(1_796_400_000));
        assert_eq!(config.switch_on(&methods[3]), None);
        assert!(config.merchants[0].auto_refund, "on unless turned off");
    }

    #[test]
    fn a_live_server_needs_each_wallet_s_account_and_alipay_s_real_gateway() {
        let live = |alipay: &str| {
            let methods = r#"methods = [{ type = "alipay" }, { type = "card", enabled = false }]"#;
            Config::parse(&one_merchant("live", &format!("{methods}\n{alipay}")))
                .unwrap()
                .check_live()
        };
        let keys = r#"app_id = "2021000000000001"
                seller_id = "2088000000000001"
                app_private_key = "file:/etc/alipay/app_private.pem"
                alipay_public_key = "file:/etc/alipay/alipay_public.pem""#;
        let missing = live("").unwrap_err().to_string();
        assert!(missing.contains("without an account"), "{missing}");
        assert!(
            live(&format!("[merchants.alipay]\n{keys}")).is_ok(),
            "Alipay's own hosts"
        );
        for gateway in [
            "https://openapi-sandbox.dl.alipaydev.com/gateway.do",
            "http://openapi.alipay.com/gateway.do",
        ] {
            let refused = live(&format!(
                "[merchants.alipay]\n{keys}\ngateway_url = \"{gateway}\""
            ));
            assert!(refused.is_err(), "{gateway}");
        }
    }

    #[test]
    fn a_live_server_needs_unionpay_s_and_china_mobile_s_real_hosts() {
        let live = |methods: &str, accounts: &str| {
            Config::parse(&one_merchant(
                "live",
                &format!("methods = [{methods}]\n{accounts}"),
            ))
            .unwrap()
            .check_live()
        };
        let unionpay = r#"[merchants.unionpay]
                mer_id = "898000000000001"
                sign_key = "file:/etc/unionpay/sign_key.pem"
                sign_cert = "file:/etc/unionpay/sign_cert.pem"
                root_cert = "file:/etc/unionpay/acp_prod_root.cer"
                middle_cert = "file:/etc/unionpay/acp_prod_middle.cer""#;
        for method in [r#"{ type = "card" }"#, r#"{ type = "unionpay" }"#] {
            let missing = live(method, "").unwrap_err().to_string();
            assert!(missing.contains("without an account"), "{missing}");
            assert!(live(method, unionpay).is_ok(), "UnionPay's own gateway");
        }
        let test_gateway =
            format!("{unionpay}\ngateway_url = \"https://gateway.test.95516.com/gateway/api\"");
        assert!(live(r#"{ type = "card" }"#, &test_gateway).is_err());

        let cmpay = r#"[merchants.cmpay]
                merchant_id = "888000000000001"
                sign_key = "file:/etc/cmpay/key""#;
        let method = r#"{ type = "china_mobile_pay" }"#;
        assert!(live(method, "").is_err());
        assert!(live(method, cmpay).is_ok(), "China Mobile's own service");
        let plain = format!("{cmpay}\nservice_url = \"http://ipos.10086.cn/ips/cmpayService\"");
        assert!(live(method, &plain).is_err());
    }

    #[test]
    fn a_live_webhook_must_be_https() {
        let live = |url: &str| {
            let methods = r#"methods = [{ type = "card", enabled = false }]"#;
            let webhook = format!(r#"webhook = {{ url = "{url}", secret = "whsec_x" }}"#);
            Config::parse(&one_merchant("live", &format!("{methods}\n{webhook}")))
                .unwrap()
                .check_live()
        };
        assert!(live("https://shop.example/hooks").is_ok());
        let refused = live("http://shop.example/hooks").unwrap_err().to_string();
        assert!(refused.contains("https"), "{refused}");
    }
}
