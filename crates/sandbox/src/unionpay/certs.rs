//! The UnionPay test certificate chain, made fresh by
//! `payment-sandbox unionpay-certs DIR`: a root and an intermediate CA in
//! the manner of CFCA's, UnionPay's signing certificate and the merchant's
//! under them, and a self-signed impostor of UnionPay's.
//!
//! The names follow the test environment's: UnionPay's signing certificate
//! is `CN=041@Z20@00040000:SIGN@00000001` (the SDKs check the part after the
//! second `@`, `00040000:SIGN`, when `ifValidateCNName` is on), the
//! merchant's `CN=041@Z20@777290058110048@00000001` (its merchant number).
//! The serials of the two signing certificates are fixed, so that the
//! `certId` the merchant names does not change when the chain is remade.
//! Keys are RSA-2048 from aws-lc-rs, certificates X.509 v3 signed
//! SHA256withRSA, valid from 2026-01-01 to 2046-01-01 (UTC).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::der::asn1::{Any, BitString, GeneralizedTime};
use x509_cert::der::pem::LineEnding;
use x509_cert::der::{DateTime, Document, EncodePem};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{
    AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier, EncodePublicKey,
    SignatureBitStringEncoding, SubjectPublicKeyInfoOwned,
};
use x509_cert::time::{Time, Validity};

/// The root CA's subject.
pub const ROOT_SUBJECT: &str =
    "CN=payment-sandbox UnionPay Test Root,O=China Financial Certification Authority,C=CN";
/// The intermediate CA's subject.
pub const MIDDLE_SUBJECT: &str =
    "CN=payment-sandbox UnionPay Test OCA,O=China Financial Certification Authority,C=CN";
/// UnionPay's signing certificate's subject (the rogue's too).
pub const SIGN_SUBJECT: &str =
    "CN=041@Z20@00040000:SIGN@00000001,OU=00000000,O=China UnionPay,C=CN";
/// The demo merchant's signing certificate's subject.
pub const MERCHANT_SUBJECT: &str =
    "CN=041@Z20@777290058110048@00000001,OU=Local RA,O=CFCA TEST OCA1,C=CN";
/// The serial of UnionPay's signing certificate (and of the rogue).
pub const SIGN_SERIAL: u64 = 69_629_715_588;
/// The serial of the merchant's signing certificate: the `certId` its
/// requests name.
pub const MERCHANT_SERIAL: u64 = 69_042_905_377;

/// One certificate and its key, as PEM.
#[derive(Clone, Debug)]
pub struct Issued {
    /// `-----BEGIN CERTIFICATE-----`.
    pub cert_pem: String,
    /// PKCS#8, `-----BEGIN PRIVATE KEY-----`.
    pub private_key_pem: String,
}

/// The whole test set.
#[derive(Clone, Debug)]
pub struct TestChain {
    /// The self-signed root CA.
    pub root: Issued,
    /// The intermediate CA, signed by the root, path length 0.
    pub middle: Issued,
    /// UnionPay's signing certificate, signed by the intermediate.
    pub sign: Issued,
    /// The merchant's signing certificate, signed by the intermediate.
    pub merchant: Issued,
    /// Self-signed, with the subject and serial of UnionPay's.
    pub rogue: Issued,
}

/// A fresh chain with new keys.
pub fn generate() -> Result<TestChain, String> {
    let root_key = Signer::generate()?;
    let middle_key = Signer::generate()?;
    let sign_key = Signer::generate()?;
    let merchant_key = Signer::generate()?;
    let rogue_key = Signer::generate()?;
    let root_name = name(ROOT_SUBJECT)?;
    let middle_name = name(MIDDLE_SUBJECT)?;
    let sign_name = name(SIGN_SUBJECT)?;

    let root = issue(Profile::Root, 1, root_name.clone(), &root_key, &root_key)?;
    let middle = issue(
        Profile::SubCA {
            issuer: root_name,
            path_len_constraint: Some(0),
        },
        2,
        middle_name.clone(),
        &middle_key,
        &root_key,
    )?;
    let leaf = |issuer: &Name| Profile::Leaf {
        issuer: issuer.clone(),
        enable_key_agreement: false,
        enable_key_encipherment: false,
    };
    let sign = issue(
        leaf(&middle_name),
        SIGN_SERIAL,
        sign_name.clone(),
        &sign_key,
        &middle_key,
    )?;
    let merchant = issue(
        leaf(&middle_name),
        MERCHANT_SERIAL,
        name(MERCHANT_SUBJECT)?,
        &merchant_key,
        &middle_key,
    )?;
    // Issued by itself under UnionPay's name: only a verifier that checks
    // the chain, not the name, is fooled.
    let rogue = issue(
        leaf(&sign_name),
        SIGN_SERIAL,
        sign_name,
        &rogue_key,
        &rogue_key,
    )?;
    Ok(TestChain {
        root: Issued {
            cert_pem: root,
            private_key_pem: root_key.private_key_pem()?,
        },
        middle: Issued {
            cert_pem: middle,
            private_key_pem: middle_key.private_key_pem()?,
        },
        sign: Issued {
            cert_pem: sign,
            private_key_pem: sign_key.private_key_pem()?,
        },
        merchant: Issued {
            cert_pem: merchant,
            private_key_pem: merchant_key.private_key_pem()?,
        },
        rogue: Issued {
            cert_pem: rogue,
            private_key_pem: rogue_key.private_key_pem()?,
        },
    })
}

/// Generates a chain and writes the files the sandbox commits
/// (`unionpay_root.pem`, `unionpay_middle.pem`, `unionpay_sign.pem`,
/// `unionpay_sign_private.pem`, `unionpay_merchant.pem`,
/// `unionpay_merchant_private.pem`, `unionpay_rogue.pem`,
/// `unionpay_rogue_private.pem`) into `dir`, returning their paths. The CAs'
/// keys are not written: nothing more is issued under them.
pub fn write(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let chain = generate()?;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let files = [
        ("unionpay_root.pem", &chain.root.cert_pem),
        ("unionpay_middle.pem", &chain.middle.cert_pem),
        ("unionpay_sign.pem", &chain.sign.cert_pem),
        ("unionpay_sign_private.pem", &chain.sign.private_key_pem),
        ("unionpay_merchant.pem", &chain.merchant.cert_pem),
        (
            "unionpay_merchant_private.pem",
            &chain.merchant.private_key_pem,
        ),
        ("unionpay_rogue.pem", &chain.rogue.cert_pem),
        ("unionpay_rogue_private.pem", &chain.rogue.private_key_pem),
    ];
    let mut written = Vec::with_capacity(files.len());
    for (file, text) in files {
        let path = dir.join(file);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

fn name(rfc4514: &str) -> Result<Name, String> {
    Name::from_str(rfc4514).map_err(|e| format!("bad name {rfc4514}: {e}"))
}

/// One certificate for `subject_key`, signed by `issuer_key`, as PEM.
fn issue(
    profile: Profile,
    serial: u64,
    subject: Name,
    subject_key: &Signer,
    issuer_key: &Signer,
) -> Result<String, String> {
    let spki = SubjectPublicKeyInfoOwned::try_from(subject_key.spki_der.as_slice())
        .map_err(|e| format!("public key: {e}"))?;
    let builder = CertificateBuilder::new(
        profile,
        SerialNumber::from(serial),
        validity()?,
        subject,
        spki,
        issuer_key,
    )
    .map_err(|e| format!("certificate: {e}"))?;
    builder
        .build::<RsaSignature>()
        .map_err(|e| format!("certificate: {e}"))?
        .to_pem(LineEnding::LF)
        .map_err(|e| format!("certificate PEM: {e}"))
}

fn validity() -> Result<Validity, String> {
    let at = |year| {
        DateTime::new(year, 1, 1, 0, 0, 0)
            .map(|t| Time::GeneralTime(GeneralizedTime::from_date_time(t)))
            .map_err(|e| format!("validity: {e}"))
    };
    // The builder turns these into UTCTime, as RFC 5280 wants before 2050.
    Ok(Validity {
        not_before: at(2026)?,
        not_after: at(2046)?,
    })
}

/// An aws-lc-rs RSA key behind the traits the certificate builder signs
/// through.
struct Signer {
    key: KeyPair,
    spki_der: Vec<u8>,
    rng: SystemRandom,
}

impl Signer {
    fn generate() -> Result<Signer, String> {
        let key = KeyPair::generate(KeySize::Rsa2048).map_err(|_| "RSA key generation failed")?;
        let spki: PublicKeyX509Der = key
            .public_key()
            .as_der()
            .map_err(|_| "cannot encode the public key")?;
        let spki_der = spki.as_ref().to_vec();
        Ok(Signer {
            key,
            spki_der,
            rng: SystemRandom::new(),
        })
    }

    fn private_key_pem(&self) -> Result<String, String> {
        let der: Pkcs8V1Der = self
            .key
            .as_der()
            .map_err(|_| "cannot encode the private key")?;
        x509_cert::der::pem::encode_string("PRIVATE KEY", LineEnding::LF, der.as_ref())
            .map_err(|e| format!("private key PEM: {e}"))
    }
}

/// A SubjectPublicKeyInfo, DER.
#[derive(Clone)]
struct Spki(Vec<u8>);

impl EncodePublicKey for Spki {
    fn to_public_key_der(&self) -> x509_cert::spki::Result<Document> {
        Document::try_from(self.0.as_slice()).map_err(Into::into)
    }
}

impl signature::Keypair for Signer {
    type VerifyingKey = Spki;

    fn verifying_key(&self) -> Spki {
        Spki(self.spki_der.clone())
    }
}

impl DynSignatureAlgorithmIdentifier for Signer {
    fn signature_algorithm_identifier(&self) -> x509_cert::spki::Result<AlgorithmIdentifierOwned> {
        Ok(AlgorithmIdentifierOwned {
            oid: x509_cert::der::oid::db::rfc5912::SHA_256_WITH_RSA_ENCRYPTION,
            // RFC 4055: the parameters of sha256WithRSAEncryption are NULL.
            parameters: Some(Any::null()),
        })
    }
}

/// A PKCS#1 v1.5 signature's bytes.
struct RsaSignature(Vec<u8>);

impl SignatureBitStringEncoding for RsaSignature {
    fn to_bitstring(&self) -> x509_cert::der::Result<BitString> {
        BitString::from_bytes(&self.0)
    }
}

impl signature::Signer<RsaSignature> for Signer {
    fn try_sign(&self, message: &[u8]) -> Result<RsaSignature, signature::Error> {
        let mut out = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(&RSA_PKCS1_SHA256, &self.rng, message, &mut out)
            .map_err(|_| signature::Error::new())?;
        Ok(RsaSignature(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
    use x509_cert::der::{DecodePem, Encode};
    use x509_cert::Certificate;

    fn cert(issued: &Issued) -> Certificate {
        Certificate::from_pem(issued.cert_pem.as_bytes()).unwrap()
    }

    fn issued_by(cert: &Certificate, issuer: &Certificate) -> bool {
        let public = issuer
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes();
        cert.tbs_certificate.issuer == issuer.tbs_certificate.subject
            && UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public)
                .verify(
                    &cert.tbs_certificate.to_der().unwrap(),
                    cert.signature.raw_bytes(),
                )
                .is_ok()
    }

    #[test]
    fn makes_a_chain_with_an_impostor_outside_it() {
        let chain = generate().unwrap();
        let (root, middle) = (cert(&chain.root), cert(&chain.middle));
        let (sign, merchant, rogue) =
            (cert(&chain.sign), cert(&chain.merchant), cert(&chain.rogue));
        assert!(issued_by(&root, &root));
        assert!(issued_by(&middle, &root));
        assert!(issued_by(&sign, &middle));
        assert!(issued_by(&merchant, &middle));
        assert!(issued_by(&rogue, &rogue));
        assert!(!issued_by(&rogue, &middle));
        assert_eq!(rogue.tbs_certificate.subject, sign.tbs_certificate.subject);
        assert_eq!(
            sign.tbs_certificate.subject.to_string(),
            SIGN_SUBJECT,
            "written back in RFC 4514 order"
        );
        let serial = |c: &Certificate| {
            super::super::keys::decimal(c.tbs_certificate.serial_number.as_bytes())
        };
        assert_eq!(serial(&sign), SIGN_SERIAL.to_string());
        assert_eq!(serial(&rogue), SIGN_SERIAL.to_string());
        assert_eq!(serial(&merchant), MERCHANT_SERIAL.to_string());
        assert!(chain
            .merchant
            .private_key_pem
            .starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert!(crate::crypto::rsa_private_key(&chain.sign.private_key_pem).is_ok());
    }
}
