//! WeChat Pay v3's keys: the merchant's public key, the platform's private
//! key and the APIv3 key, with AEAD_AES_256_GCM for notification resources
//! (the RSA and PEM plumbing is the crate's, `crate::crypto`).

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::RsaKeyPair;

pub(crate) use crate::crypto::{
    digits, hex, nonce, pem_to_der, random_from, rsa_private_key, rsa_sign, rsa_verify,
    spki_to_pkcs1,
};
use crate::WechatConfig;

/// The parsed keys of one emulated merchant account.
pub(crate) struct Keys {
    /// The merchant's public key as PKCS#1 `RSAPublicKey`.
    merchant: Vec<u8>,
    platform: RsaKeyPair,
    apiv3: LessSafeKey,
    rng: SystemRandom,
}

impl Keys {
    /// Parses the keys of `config`, saying which one is wrong.
    pub(crate) fn load(config: &WechatConfig) -> Result<Keys, String> {
        let spki = pem_to_der(&config.merchant_public_key_pem, "PUBLIC KEY")
            .map_err(|e| format!("merchant_public_key_pem: {e}"))?;
        let merchant = spki_to_pkcs1(&spki)
            .map_err(|e| format!("merchant_public_key_pem: {e}"))?
            .to_vec();
        let platform = rsa_private_key(&config.platform_private_key_pem)
            .map_err(|e| format!("platform_private_key_pem: {e}"))?;
        let apiv3 =
            aes_256_gcm_key(config.apiv3_key.as_bytes()).map_err(|e| format!("apiv3_key: {e}"))?;
        Ok(Keys {
            merchant,
            platform,
            apiv3,
            rng: SystemRandom::new(),
        })
    }

    /// Checks a base64 SHA256withRSA signature made with the merchant key.
    pub(crate) fn merchant_signed(&self, message: &[u8], signature_base64: &str) -> bool {
        rsa_verify(&self.merchant, message, signature_base64)
    }

    /// Signs with the platform key, base64.
    pub(crate) fn platform_sign(&self, message: &[u8]) -> Result<String, String> {
        rsa_sign(&self.platform, &self.rng, message)
    }

    /// Encrypts with the APIv3 key: ciphertext followed by the 16-byte tag.
    pub(crate) fn apiv3_seal(
        &self,
        nonce: &[u8],
        associated_data: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, String> {
        seal(&self.apiv3, nonce, associated_data, plaintext)
    }
}

/// An AES-256-GCM key; WeChat's APIv3 key is 32 bytes used as given.
pub(crate) fn aes_256_gcm_key(key: &[u8]) -> Result<LessSafeKey, String> {
    if key.len() != 32 {
        return Err(format!("must be 32 bytes, not {}", key.len()));
    }
    UnboundKey::new(&AES_256_GCM, key)
        .map(LessSafeKey::new)
        .map_err(|_| "not an AES-256 key".to_owned())
}

/// AES-GCM with a 12-byte nonce: ciphertext followed by the tag.
pub(crate) fn seal(
    key: &LessSafeKey,
    nonce: &[u8],
    associated_data: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, String> {
    let nonce = Nonce::try_assume_unique_for_key(nonce)
        .map_err(|_| "the nonce must be 12 bytes".to_owned())?;
    let mut in_out = plaintext.to_vec();
    key.seal_in_place_append_tag(nonce, Aad::from(associated_data), &mut in_out)
        .map_err(|_| "AES-GCM sealing failed".to_owned())?;
    Ok(in_out)
}

#[cfg(test)]
mod tests {
    //! Against the vectors the official SDKs publish (wechatpay-go's
    //! `utils/sign_test.go`, `sha256withrsa_pubkey_verifier_test.go`;
    //! wechatpay-java's `AeadAesCipherTest`).

    use super::*;
    use aws_lc_rs::aead::Nonce;
    use aws_lc_rs::signature::KeyPair;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    const GO_TESTING_KEY: &str = "-----BEGIN TESTING KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDZUJN33V+dSfvd
fL0Mu+39XrZNXFFMQSy1V15FpncHeV47SmV0TzTqZc7hHB0ddqAdDi8Z5k3TKqb7
6sOwYr5TcAfuR6PIPaleyE0/0KrljBum2Isa2Nyq7Dgc3ElBQ6YN4l/a+DpvKaz1
FSKmKrhLNskqokWVSlu4g8OlKlbPXQ9ibII14MZRQrrkTmHYHzfi7GXXM0thAKuR
0HNvyhTHBh4/lrYM3GaMvmWwkwvsMavnOex6+eioZHBOb1/EIZ/LzC6zuHArPpyW
3daGaZ1rtQB1vVzTyERAVVFsXXgBHvfFud3w3ShsJYk8JvMwK2RpJ5/gV0QSARcm
LDRUAlPzAgMBAAECggEBAMc7rDeUaXiWv6bMGbZ3BTXpg1FhdddnWUnYE8HfX/km
OFI7XtBHXcgYFpcjYz4D5787pcsk7ezPidAj58zqenuclmjKnUmT3pfbI5eCA2v4
C9HnbYDrmUPK1ZcADtka4D6ScDccpNYNa1g2TFHzkIrEa6H+q7S3O2fqxY/DRVtN
0JIXalBb8daaqL5QVzSmM2BMVnHy+YITJWIkP2a3pKs9C0W65JGDsnG0wVrHinHF
+cnhFZIbaPEI//DAFMc9NkrWOKVRTEgcCUxCFaHOZVNxDWZD7A2ZfJB2rK6eg//y
gEiFDR2h6mTaDowMB4YF2n2dsIO4/dCG8vPHI20jn4ECgYEA/ZGu6lEMlO0XZnam
AZGtiNgLcCfM/C2ZERZE7QTRPZH1WdK92Al9ndldsswFw4baJrJLCmghjF/iG4zi
hhBvLnOLksnZUfjdumxoHDWXo2QBWbI5QsWIE7AuTiWgWj1I7X4fCXSQf6i+M/y2
6TogQ7d0ANpZFyOkTNMn/tiJvLECgYEA22XqlamG/yfAGWery5KNH2DGlTIyd6xJ
WtJ9j3jU99lZ0bCQ5xhiBbU9ImxCi3zgTsoqLWgA/p00HhNFNoUcTl9ofc0G3zwT
D1y0ZzcnVKxGJdZ6ohW52V0hJStAigtjYAsUgjm7//FH7PiQDBDP1Wa6xSRkDQU/
aSbQxvEE8+MCgYEA3bb8krW7opyM0XL9RHH0oqsFlVO30Oit5lrqebS0oHl3Zsr2
ZGgoBlWBsEzk3UqUhTFwm/DhJLTSJ/TQPRkxnhQ5/mewNhS9C7yua7wQkzVmWN+V
YeUGTvDGDF6qDz12/vJAgSwDDRym8x4NcXD5tTw7mmNRcwIfL22SkysThIECgYAV
BgccoEoXWS/HP2/u6fQr9ZIR6eV8Ij5FPbZacTG3LlS1Cz5XZra95UgebFFUHHtC
EY1JHJY7z8SWvTH8r3Su7eWNaIAoFBGffzqqSVazfm6aYZsOvRY6BfqPHT3p/H1h
Tq6AbBffxrcltgvXnCTORjHPglU0CjSxVs7awW3AEQKBgB5WtaC8VLROM7rkfVIq
+RXqE5vtJfa3e3N7W3RqxKp4zHFAPfr82FK5CX2bppEaxY7SEZVvVInKDc5gKdG/
jWNRBmvvftZhY59PILHO2X5vO4FXh7suEjy6VIh0gsnK36mmRboYIBGsNuDHjXLe
BDa+8mDLkWu5nHEhOxy2JJZl
-----END TESTING KEY-----
";

    const GO_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA2VCTd91fnUn73Xy9DLvt
/V62TVxRTEEstVdeRaZ3B3leO0pldE806mXO4RwdHXagHQ4vGeZN0yqm++rDsGK+
U3AH7kejyD2pXshNP9Cq5YwbptiLGtjcquw4HNxJQUOmDeJf2vg6byms9RUipiq4
SzbJKqJFlUpbuIPDpSpWz10PYmyCNeDGUUK65E5h2B834uxl1zNLYQCrkdBzb8oU
xwYeP5a2DNxmjL5lsJML7DGr5znsevnoqGRwTm9fxCGfy8wus7hwKz6clt3Whmmd
a7UAdb1c08hEQFVRbF14AR73xbnd8N0obCWJPCbzMCtkaSef4FdEEgEXJiw0VAJT
8wIDAQAB
-----END PUBLIC KEY-----
";

    const GO_SOURCE_SIGNATURE: &str = "BKyAfU4iMCuvXMXS0Wzam3V/cnxZ+JaqigPM5OhljS2iOT95OO6Fsuml2JkFANJU9K6q9bLlDhPXuoVz+pp4hAm6pHU4ld815U4jsKu1RkyaII+1CYBUYC8TK0XtJ8FwUXXz8vZHh58rrAVN1XwNyvD1vfpxrMT4SL536GLwvpUHlCqIMzoZUguLli/K8V29QiOhuH6IEqLNJn8e9b3nwNcQ7be3CzYGpDAKBfDGPCqCv8Rw5zndhlffk2FEA70G4hvMwe51qMN/RAJbknXG23bSlObuTCN7Ndj1aJGH6/L+hdwfLpUtJm4QYVazzW7DFD27EpSQEqA8bX9+8m1rLg==";

    const JAVA_API_V3_KEY: &str = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
    const JAVA_NONCE: &str = "uluk4a9R25RW";
    const JAVA_ASSOCIATED_DATA: &str = "associatedData";
    const JAVA_CIPHERTEXT: &str = "ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI=";

    fn go_public_key() -> Vec<u8> {
        let spki = pem_to_der(GO_PUBLIC_KEY, "PUBLIC KEY").unwrap();
        spki_to_pkcs1(&spki).unwrap().to_vec()
    }

    #[test]
    fn signs_the_go_sdk_vector() {
        let key = rsa_private_key(&GO_TESTING_KEY.replace("TESTING KEY", "PRIVATE KEY")).unwrap();
        let signature = rsa_sign(&key, &SystemRandom::new(), b"source").unwrap();
        assert_eq!(signature, GO_SOURCE_SIGNATURE);
    }

    #[test]
    fn verifies_the_go_sdk_vector_with_its_public_key() {
        let key = go_public_key();
        assert!(rsa_verify(&key, b"source", GO_SOURCE_SIGNATURE));
        assert!(!rsa_verify(&key, b"wrong source", GO_SOURCE_SIGNATURE));
        assert!(!rsa_verify(&key, b"source", "invalid base64 signature"));
    }

    #[test]
    fn the_public_key_is_the_private_keys() {
        let key = rsa_private_key(&GO_TESTING_KEY.replace("TESTING KEY", "PRIVATE KEY")).unwrap();
        assert_eq!(key.public_key().as_ref(), go_public_key().as_slice());
    }

    #[test]
    fn matches_the_java_sdk_aes_256_gcm_vector() {
        let key = aes_256_gcm_key(JAVA_API_V3_KEY.as_bytes()).unwrap();
        let sealed = seal(
            &key,
            JAVA_NONCE.as_bytes(),
            JAVA_ASSOCIATED_DATA.as_bytes(),
            b"message",
        )
        .unwrap();
        assert_eq!(STANDARD.encode(&sealed), JAVA_CIPHERTEXT);

        let mut in_out = STANDARD.decode(JAVA_CIPHERTEXT).unwrap();
        let nonce = Nonce::try_assume_unique_for_key(JAVA_NONCE.as_bytes()).unwrap();
        let plain = key
            .open_in_place(nonce, Aad::from(JAVA_ASSOCIATED_DATA), &mut in_out)
            .unwrap();
        assert_eq!(plain, b"message");

        let mut in_out = STANDARD.decode(JAVA_CIPHERTEXT).unwrap();
        let nonce = Nonce::try_assume_unique_for_key(JAVA_NONCE.as_bytes()).unwrap();
        assert!(key
            .open_in_place(nonce, Aad::from("bad-associatedData"), &mut in_out)
            .is_err());
    }

    #[test]
    fn refuses_keys_that_are_not_32_bytes() {
        assert!(aes_256_gcm_key(b"testAPIv3Key0000").is_err());
    }

    #[test]
    fn the_demo_keys_load_and_pair() {
        let config = crate::WechatConfig::demo();
        let keys = Keys::load(&config).unwrap();
        let merchant = rsa_private_key(include_str!("../../keys/merchant_private.pem")).unwrap();
        let signature = rsa_sign(&merchant, &SystemRandom::new(), b"paired").unwrap();
        assert!(keys.merchant_signed(b"paired", &signature));
        let platform_spki =
            pem_to_der(include_str!("../../keys/platform_public.pem"), "PUBLIC KEY").unwrap();
        let signature = keys.platform_sign(b"paired").unwrap();
        assert!(rsa_verify(
            spki_to_pkcs1(&platform_spki).unwrap(),
            b"paired",
            &signature
        ));
    }
}
