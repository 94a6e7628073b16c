//! The two keys of the emulated application: its public key, which verifies
//! what the merchant signs, and Alipay's private key, which signs answers,
//! sync returns and notifications. RSA2 is SHA256withRSA (PKCS#1 v1.5) in
//! base64 (opendocs common/02mse7).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::RsaKeyPair;

use crate::crypto::{rsa_private_key, rsa_public_key, rsa_sign, rsa_verify};
use crate::AlipayConfig;

/// The parsed keys of the emulated application.
pub(crate) struct Keys {
    /// The application's public key as PKCS#1 `RSAPublicKey`.
    app: Vec<u8>,
    alipay: RsaKeyPair,
    rng: SystemRandom,
}

impl Keys {
    /// Parses the keys of `config`, saying which one is wrong.
    pub(crate) fn load(config: &AlipayConfig) -> Result<Keys, String> {
        let app = rsa_public_key(&config.app_public_key_pem)
            .map_err(|e| format!("app_public_key_pem: {e}"))?;
        let alipay = rsa_private_key(&config.alipay_private_key_pem)
            .map_err(|e| format!("alipay_private_key_pem: {e}"))?;
        Ok(Keys {
            app,
            alipay,
            rng: SystemRandom::new(),
        })
    }

    /// Checks an RSA2 signature made with the application's private key.
    pub(crate) fn app_signed(&self, message: &[u8], signature_base64: &str) -> bool {
        rsa_verify(&self.app, message, signature_base64)
    }

    /// Signs with Alipay's key, RSA2, base64.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<String, String> {
        rsa_sign(&self.alipay, &self.rng, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{pem_to_der, spki_to_pkcs1};

    #[test]
    fn the_demo_keys_load_and_pair() {
        let keys = Keys::load(&AlipayConfig::demo()).unwrap();
        let app = rsa_private_key(include_str!("../../keys/alipay_app_private.pem")).unwrap();
        let signature = rsa_sign(&app, &SystemRandom::new(), b"paired").unwrap();
        assert!(keys.app_signed(b"paired", &signature));
        assert!(!keys.app_signed(b"other", &signature));

        let platform_spki = pem_to_der(
            include_str!("../../keys/alipay_platform_public.pem"),
            "PUBLIC KEY",
        )
        .unwrap();
        let signature = keys.sign(b"paired").unwrap();
        assert!(rsa_verify(
            spki_to_pkcs1(&platform_spki).unwrap(),
            b"paired",
            &signature
        ));
    }

    #[test]
    fn says_which_key_is_wrong() {
        let mut config = AlipayConfig::demo();
        config.app_public_key_pem = "not a key".into();
        assert!(Keys::load(&config)
            .err()
            .is_some_and(|e| e.starts_with("app_public_key_pem")));
    }
}
