//! WeChat Pay API v3's cryptography: what requests, answers and JSAPI
//! `paySign` sign (SHA256withRSA, `super::super::rsa`), and notification
//! resources decrypted with AEAD_AES_256_GCM and the APIv3 key.

use aws_lc_rs::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

pub use super::super::rsa::KeyError;

/// What a request signs: `METHOD\nPATH_AND_QUERY\nTIMESTAMP\nNONCE\nBODY\n`.
pub fn request_message(
    method: &str,
    path: &str,
    timestamp: i64,
    nonce: &str,
    body: &str,
) -> String {
    format!("{method}\n{path}\n{timestamp}\n{nonce}\n{body}\n")
}

/// What responses and notifications sign: `TIMESTAMP\nNONCE\nBODY\n`.
pub fn answer_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut message = format!("{timestamp}\n{nonce}\n").into_bytes();
    message.extend_from_slice(body);
    message.push(b'\n');
    message
}

/// What JSAPI's `paySign` signs: `APPID\nTIMESTAMP\nNONCE\nPACKAGE\n`.
pub fn jsapi_message(appid: &str, timestamp: &str, nonce: &str, package: &str) -> String {
    format!("{appid}\n{timestamp}\n{nonce}\n{package}\n")
}

/// The `Authorization` header of a request.
pub fn authorization(
    mchid: &str,
    serial: &str,
    timestamp: i64,
    nonce: &str,
    signature: &str,
) -> String {
    format!(
        "WECHATPAY2-SHA256-RSA2048 mchid=\"{mchid}\",nonce_str=\"{nonce}\",timestamp=\"{timestamp}\",serial_no=\"{serial}\",signature=\"{signature}\""
    )
}

/// Decrypts a notification's `resource`: AES-GCM with the APIv3 key (32
/// bytes, AES-256, as WeChat issues them; 16-byte keys, which some of the
/// SDKs' published vectors use, give AES-128), the resource's `nonce` and
/// `associated_data`; `ciphertext` is base64 of the ciphertext and its
/// 16-byte tag.
pub fn decrypt_resource(
    apiv3_key: &[u8],
    nonce: &str,
    associated_data: &str,
    ciphertext: &str,
) -> Result<Vec<u8>, KeyError> {
    let algorithm = match apiv3_key.len() {
        32 => &aead::AES_256_GCM,
        16 => &aead::AES_128_GCM,
        n => return Err(KeyError::new(format!("an APIv3 key has 32 bytes, not {n}"))),
    };
    let key = LessSafeKey::new(
        UnboundKey::new(algorithm, apiv3_key).map_err(|_| KeyError::new("a bad APIv3 key"))?,
    );
    let nonce = Nonce::try_assume_unique_for_key(nonce.as_bytes())
        .map_err(|_| KeyError::new("the nonce is not 12 bytes"))?;
    let mut sealed = BASE64
        .decode(ciphertext)
        .map_err(|_| KeyError::new("the ciphertext is not base64"))?;
    let plain = key
        .open_in_place(nonce, Aad::from(associated_data.as_bytes()), &mut sealed)
        .map_err(|_| KeyError::new("the resource does not decrypt with this key"))?;
    Ok(plain.to_vec())
}

#[cfg(test)]
mod tests {
    //! The published vectors of WeChat Pay's official SDKs
    //! (wechatpay-apiv3/wechatpay-go and wechatpay-java test fixtures).

    use super::*;
    use crate::providers::rsa::{SigningKey, VerifyingKey};

    /// wechatpay-go `utils/sign_test.go`'s key (its armour says TESTING
    /// KEY there, to keep secret scanners quiet).
    const GO_PRIVATE_KEY: &str = "-----BEGIN PRIVATE KEY-----
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
-----END PRIVATE KEY-----";

    /// `TestSha256WithRsa`: the signature of `source` with that key.
    const GO_SIGNATURE: &str = "BKyAfU4iMCuvXMXS0Wzam3V/cnxZ+JaqigPM5OhljS2iOT95OO6Fsuml2JkFANJU9K6q9bLlDhPXuoVz+pp4hAm6pHU4ld815U4jsKu1RkyaII+1CYBUYC8TK0XtJ8FwUXXz8vZHh58rrAVN1XwNyvD1vfpxrMT4SL536GLwvpUHlCqIMzoZUguLli/K8V29QiOhuH6IEqLNJn8e9b3nwNcQ7be3CzYGpDAKBfDGPCqCv8Rw5zndhlffk2FEA70G4hvMwe51qMN/RAJbknXG23bSlObuTCN7Ndj1aJGH6/L+hdwfLpUtJm4QYVazzW7DFD27EpSQEqA8bX9+8m1rLg==";

    /// `TestWechatPayPubKeyVerifier`'s public key.
    const GO_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA2VCTd91fnUn73Xy9DLvt
/V62TVxRTEEstVdeRaZ3B3leO0pldE806mXO4RwdHXagHQ4vGeZN0yqm++rDsGK+
U3AH7kejyD2pXshNP9Cq5YwbptiLGtjcquw4HNxJQUOmDeJf2vg6byms9RUipiq4
SzbJKqJFlUpbuIPDpSpWz10PYmyCNeDGUUK65E5h2B834uxl1zNLYQCrkdBzb8oU
xwYeP5a2DNxmjL5lsJML7DGr5znsevnoqGRwTm9fxCGfy8wus7hwKz6clt3Whmmd
a7UAdb1c08hEQFVRbF14AR73xbnd8N0obCWJPCbzMCtkaSef4FdEEgEXJiw0VAJT
8wIDAQAB
-----END PUBLIC KEY-----";

    /// `TestHandler_ParseNotifyRequest`'s platform certificate (serial
    /// D7CE59D1F522D701, valid until 2031).
    const GO_NOTIFY_CERTIFICATE: &str = "-----BEGIN CERTIFICATE-----
MIIDVzCCAj+gAwIBAgIJANfOWdH1ItcBMA0GCSqGSIb3DQEBCwUAMEIxCzAJBgNV
BAYTAlhYMRUwEwYDVQQHDAxEZWZhdWx0IENpdHkxHDAaBgNVBAoME0RlZmF1bHQg
Q29tcGFueSBMdGQwHhcNMjEwNDI3MDg1NTIzWhcNMzEwNDI1MDg1NTIzWjBCMQsw
CQYDVQQGEwJYWDEVMBMGA1UEBwwMRGVmYXVsdCBDaXR5MRwwGgYDVQQKDBNEZWZh
dWx0IENvbXBhbnkgTHRkMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA
2VCTd91fnUn73Xy9DLvt/V62TVxRTEEstVdeRaZ3B3leO0pldE806mXO4RwdHXag
HQ4vGeZN0yqm++rDsGK+U3AH7kejyD2pXshNP9Cq5YwbptiLGtjcquw4HNxJQUOm
DeJf2vg6byms9RUipiq4SzbJKqJFlUpbuIPDpSpWz10PYmyCNeDGUUK65E5h2B83
4uxl1zNLYQCrkdBzb8oUxwYeP5a2DNxmjL5lsJML7DGr5znsevnoqGRwTm9fxCGf
y8wus7hwKz6clt3Whmmda7UAdb1c08hEQFVRbF14AR73xbnd8N0obCWJPCbzMCtk
aSef4FdEEgEXJiw0VAJT8wIDAQABo1AwTjAdBgNVHQ4EFgQUT1c7nd/SUO76HSoZ
umNUJv1R5PwwHwYDVR0jBBgwFoAUT1c7nd/SUO76HSoZumNUJv1R5PwwDAYDVR0T
BAUwAwEB/zANBgkqhkiG9w0BAQsFAAOCAQEAfTjxKRQMzNB/U6ZoCUS+BSNfa2Oh
0plMN6ZuzwiVVZwg1jywvv5yv04koS7Pd4i9E4gt9ZBUQXlpq+A3oOCEEHNRR6b2
kyazGRM7s0OP5X21WrbpSmKmU6K7hkfx30yYs08LVs/Q8DIhvaj1FCFeJzUCzYn/
fHMq4tsbKO0dKAeydPM/nrUZBmaYQVKMVOORGLFjFKVO7JV6Kq/R86ouhjEPgJOe
2xulNBUcjicqtZlBdEh/PWCYP2SpGVDclKm8jeo175T3EVAkdKzzmfpxtMmnMlmq
cTJOU9TxuGvNASMtjj7pYIerTx+xgZDXEVBWFW9PjJ0TV06tCRsgSHItgg==
-----END CERTIFICATE-----";

    /// `TestHandler_ParseNotifyRequest`'s notification: headers and body.
    const NOTIFY_TIMESTAMP: &str = "1624523846";
    const NOTIFY_NONCE: &str = "EcZ9Cmy4Xyx1i6RlJQzLcCyEqDa26NBz";
    const NOTIFY_SIGNATURE: &str = "tJHIiIS9eB2hAYstmAmbbD3ZE5LiIm/Ug5tuL4fC0YOFRWIHV39UFIZXC0e9Wl6lBu6sKvkqDkzpqzBsVHyXFlbYZTOQrVdG4b6LfTnK4mikv9++ixJMd3vTf2yCqvBkh98zs3Ds5zsYQakzbcwhmw4fMJs4nPLws28H0UW9FjDR//rxELLwXvV1VEA1IBLX70xptjL8hrfUjEE8kkry6yNJTHZRU8CAc7qHli2Ng1V1qb9ARbK8A3ThmFmPQvRGrapI/jS2laKKgYUmfdEdkNO6B2Cke5e8VTxY406ArAmQ90GAihDwIcb16TQMnzCMBoutnwZKNiKRACrFmtxw2Q==";
    const NOTIFY_BODY: &str = r#"{"id":"3119dfba-e649-5eec-ab1e-3412bc4d2e17","create_time":"2021-06-24T16:37:26+08:00","resource_type":"encrypt-resource","event_type":"PAYSCORE.USER_OPEN_SERVICE","summary":"签约成功","resource":{"original_type":"payscore","algorithm":"AEAD_AES_256_GCM","ciphertext":"YDS3lKPaC4Y52Gf3uhft5qUBlIa8b428AWTtTauHQfQrRw+X1WpiuHIDy0vo1Vd6VEq67aVyqPdDYMkRVSDaZL3iZttevRMOoPKMifozg6XPWjIZumks/GpT48lI4NizyeaqLBokNebthah3o1H76qSlO9NkDjp9bzmKLEYYH9TEklFUpsvPqOTOcgSLgh21YJXYR7dEBXFgRLiNIKRgO5JdXh1hccRUAlyVWxE54PXpnQ==","associated_data":"payscore","nonce":"Kj7QIyUiYx1q"}}"#;

    #[test]
    fn a_request_is_signed_as_the_go_sdk_signs_it() {
        let key = SigningKey::from_pem(GO_PRIVATE_KEY).unwrap();
        assert_eq!(key.sign(b"source").unwrap(), GO_SIGNATURE);
    }

    #[test]
    fn a_signature_verifies_with_the_public_key_or_the_certificate() {
        for pem in [GO_PUBLIC_KEY, GO_NOTIFY_CERTIFICATE] {
            let key = VerifyingKey::from_pem(pem).unwrap();
            assert!(key.verifies(b"source", GO_SIGNATURE));
            assert!(!key.verifies(b"wrong source", GO_SIGNATURE));
            assert!(!key.verifies(b"source", "invalid base64 signature"));
        }
    }

    #[test]
    fn the_go_sdk_s_notification_verifies_and_decrypts() {
        let key = VerifyingKey::from_pem(GO_NOTIFY_CERTIFICATE).unwrap();
        let message = answer_message(NOTIFY_TIMESTAMP, NOTIFY_NONCE, NOTIFY_BODY.as_bytes());
        assert!(key.verifies(&message, NOTIFY_SIGNATURE));
        let mut tampered = NOTIFY_BODY.replace("签约成功", "签约失败").into_bytes();
        tampered.push(b' ');
        let tampered = answer_message(NOTIFY_TIMESTAMP, NOTIFY_NONCE, &tampered);
        assert!(!key.verifies(&tampered, NOTIFY_SIGNATURE));

        let body: serde_json::Value = serde_json::from_str(NOTIFY_BODY).unwrap();
        let resource = &body["resource"];
        // This vector's APIv3 key has 16 bytes (the Go SDK then uses AES-128).
        let plain = decrypt_resource(
            b"testMchAPIv3Key0",
            resource["nonce"].as_str().unwrap(),
            resource["associated_data"].as_str().unwrap(),
            resource["ciphertext"].as_str().unwrap(),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(plain).unwrap(),
            r#"{"mchid":"1234567890","appid":"054aa7d7a2a54ab5898df65bd96f001c","create_time":"2020-06-30T12:12:00+08:00","out_contract_code":"21640bdbd08e473e828f3206a2741c6e"}"#
        );
    }

    #[test]
    fn the_java_sdk_s_32_byte_key_decrypts_its_resource() {
        let plain = decrypt_resource(
            b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb",
            "uluk4a9R25RW",
            "associatedData",
            "ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI=",
        )
        .unwrap();
        assert_eq!(plain, b"message");
        assert!(decrypt_resource(
            b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gc",
            "uluk4a9R25RW",
            "associatedData",
            "ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI="
        )
        .is_err());
    }

    #[test]
    fn the_messages_are_the_documented_lines() {
        assert_eq!(
            request_message("GET", "/v3/certificates", 1624523846, "A1B2C3D4E5F6G7", ""),
            "GET\n/v3/certificates\n1624523846\nA1B2C3D4E5F6G7\n\n"
        );
        assert_eq!(
            authorization(
                "1234567890",
                "0123456789ABC",
                1624523846,
                "A1B2C3D4E5F6G7",
                "s"
            ),
            r#"WECHATPAY2-SHA256-RSA2048 mchid="1234567890",nonce_str="A1B2C3D4E5F6G7",timestamp="1624523846",serial_no="0123456789ABC",signature="s""#
        );
        assert_eq!(
            jsapi_message("wx1", "1", "n", "prepay_id=p"),
            "wx1\n1\nn\nprepay_id=p\n"
        );
    }
}
