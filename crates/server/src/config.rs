//! Merchants, their eligible methods and the server's time limits: a TOML
//! file, with `merchants.toml` embedded as the default.

use std::path::Path;

use contract::MethodKind;
use serde::Deserialize;

/// The embedded default configuration.
pub const DEFAULT_CONFIG: &str = include_str!("../merchants.toml");

/// The server's configuration.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// Default lifetime of a checkout session, in seconds.
    pub session_ttl_seconds: i64,
    /// Lifetime of one payment intent, in seconds.
    pub intent_ttl_seconds: i64,
    /// The merchant the demo endpoint sells for.
    pub demo_merchant: String,
    /// Every merchant.
    pub merchants: Vec<MerchantConfig>,
}

/// One merchant.
#[derive(Debug, Clone, Deserialize)]
pub struct MerchantConfig {
    /// Its id.
    pub id: String,
    /// Its name as shoppers know it.
    pub display_name: String,
    /// The key its server authenticates with.
    pub secret_key: String,
    /// The methods it takes, in display order.
    pub methods: Vec<MethodConfig>,
}

/// One method a merchant takes.
#[derive(Debug, Clone, Deserialize)]
pub struct MethodConfig {
    /// Which institution.
    #[serde(rename = "type")]
    pub kind: MethodKind,
    /// False while the merchant's switch-on is pending.
    #[serde(default = "enabled")]
    pub enabled: bool,
}

fn enabled() -> bool {
    true
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
        if config.merchant(&config.demo_merchant).is_none() {
            return Err(ConfigError::Invalid(format!(
                "no merchant {:?} for the demo",
                config.demo_merchant
            )));
        }
        if config.session_ttl_seconds < 60 || config.intent_ttl_seconds < 60 {
            return Err(ConfigError::Invalid(
                "time limits must be at least 60 seconds".into(),
            ));
        }
        if let Some(merchant) = config
            .merchants
            .iter()
            .find(|m| m.methods.iter().any(|m| m.kind == MethodKind::Unsupported))
        {
            return Err(ConfigError::Invalid(format!(
                "merchant {} names an unknown method",
                merchant.id
            )));
        }
        Ok(config)
    }

    /// The merchant with this id.
    pub fn merchant(&self, id: &str) -> Option<&MerchantConfig> {
        self.merchants.iter().find(|merchant| merchant.id == id)
    }

    /// The merchant with this secret key.
    pub fn merchant_by_key(&self, key: &str) -> Option<&MerchantConfig> {
        self.merchants
            .iter()
            .find(|merchant| crate::auth::same_secret(&merchant.secret_key, key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_configuration_is_valid() {
        let config = Config::embedded().unwrap();
        let demo = config.merchant(&config.demo_merchant).unwrap();
        assert_eq!(demo.methods[0].kind, MethodKind::WechatPay);
    }

    #[test]
    fn unknown_methods_and_missing_demo_merchants_are_refused() {
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
    }
}
