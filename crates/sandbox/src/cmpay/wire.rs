//! The wire format of `cmpayService` 2.0.0: form fields in, `k=v&...`
//! out, the hmac both ways, and the return codes.
//!
//! Documented (the official 2.0.0 PDFs and demo kits in PHP, Java and
//! .NET; vectors reproduced in the tests below):
//! - Requests are `application/x-www-form-urlencoded` forms.
//! - `hmac` is `hex(HMAC-MD5(signKey, hex(HMAC-MD5("", signData))))`,
//!   lowercase, where `signData` is the values of the message's fields
//!   (not their names) concatenated in the documented order with nothing
//!   between them, an empty or absent field adding nothing, as UTF-8
//!   (whatever `characterSet` says). `hmac` itself is never signed.
//! - Answers are `k=v&...` not URL-encoded as a whole: the values are raw
//!   (`payUrl` and `amtItem` keep their `=`), but the platform signs the
//!   Chinese text first and then URL-encodes it as UTF-8, so `message`,
//!   `reserved1` and `reserved2` travel encoded and a verifier decodes
//!   them before it concatenates.
//! - Return codes (DOC-DPC §9.2): `000000` success, IPS0001 wrong
//!   merchant, IPS0008 signature mismatch, MCG010xx for malformed fields,
//!   RPM22201 no such order, RPM22208 order state wrong (also a repeated
//!   `requestId`), RPM22407 refund larger than what is left, RPM99981
//!   order expired, RPM77040 no permission for this kind of transaction.
//!   The query and refund PDFs print the same list with `D`/`C` prefixes
//!   (D22201, ...); the emulator answers the `RPM`/`MCG` forms everywhere.
//!
//! Assumed: the form is read as UTF-8 whatever `characterSet` says (a
//! merchant sending Chinese values should say `02`); the first of repeated
//! fields counts; `SBX0001` is the sandbox's own code for a required field
//! that is missing or malformed where 和包 publishes no code (`orderId`,
//! `requestId`, `callbackUrl`, `notifyUrl`, `ipAddress`, `merAcDate`, a
//! return address outside the merchant's domains).

use hmac::{Hmac, Mac};
use md5::Md5;

/// A return code and its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Code {
    pub code: &'static str,
    pub msg: &'static str,
}

const fn code(code: &'static str, msg: &'static str) -> Code {
    Code { code, msg }
}

/// Done (the text is what the published answers carry).
pub(crate) const SUCCESS: Code = code("000000", "SUCCESS");
/// The merchant number or its key is wrong.
pub(crate) const MERCHANT: Code = code("IPS0001", "商户编号或密钥错误");
/// The hmac does not match (or is not MD5).
pub(crate) const SIGNATURE: Code = code("IPS0008", "签名不符");
/// 订单金额域为空 (also: not digits, or zero).
pub(crate) const AMOUNT: Code = code("MCG01014", "订单金额域为空");
/// 币种域为空.
pub(crate) const CURRENCY_EMPTY: Code = code("MCG01018", "币种域为空");
/// 币种域取值不合法.
pub(crate) const CURRENCY: Code = code("MCG01019", "币种域取值不合法");
/// 订单日期域为空.
pub(crate) const ORDER_DATE_EMPTY: Code = code("MCG01024", "订单日期域为空");
/// 订单日期域不合法.
pub(crate) const ORDER_DATE: Code = code("MCG01025", "订单日期域不合法");
/// 有效期数量域为空 (also: not digits).
pub(crate) const PERIOD_EMPTY: Code = code("MCG01027", "有效期数量域为空");
/// 有效期数量域为0.
pub(crate) const PERIOD_ZERO: Code = code("MCG01028", "有效期数量域为0");
/// 有效期单位域不合法.
pub(crate) const PERIOD_UNIT: Code = code("MCG01030", "有效期单位域不合法");
/// 产品名称域为空.
pub(crate) const PRODUCT_EMPTY: Code = code("MCG01033", "产品名称域为空");
/// 产品名称域越界.
pub(crate) const PRODUCT_LONG: Code = code("MCG01081", "产品名称域越界");
/// 退货金额域非法.
pub(crate) const REFUND_AMOUNT: Code = code("MCG01088", "退货金额域非法");
/// 订单不存在.
pub(crate) const NOT_FOUND: Code = code("RPM22201", "订单不存在");
/// 订单状态异常.
pub(crate) const STATE: Code = code("RPM22208", "订单状态异常");
/// 退款金额大于可退款金额.
pub(crate) const REFUND_TOO_LARGE: Code = code("RPM22407", "退款金额大于可退款金额");
/// 商户没有开通此类交易的权限.
pub(crate) const NO_PERMISSION: Code = code("RPM77040", "商户没有开通此类交易的权限");
/// 订单已过期.
pub(crate) const EXPIRED: Code = code("RPM99981", "订单已过期");
/// Not a 和包 code: a required field the platform publishes no code for.
pub(crate) const FIELD: Code = code("SBX0001", "参数错误");

/// A refusal: the code, and what the sandbox adds about why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub code: Code,
    pub note: String,
}

impl Refusal {
    pub(crate) fn new(code: Code, note: impl Into<String>) -> Refusal {
        Refusal {
            code,
            note: note.into(),
        }
    }

    /// The `message` of the answer: the code's text, and the note.
    pub(crate) fn message(&self) -> String {
        if self.note.is_empty() {
            self.code.msg.to_owned()
        } else {
            format!("{} (sandbox: {})", self.code.msg, self.note)
        }
    }
}

impl From<Code> for Refusal {
    fn from(code: Code) -> Refusal {
        Refusal::new(code, "")
    }
}

/// The fields of a request, as the form had them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Fields(Vec<(String, String)>);

impl Fields {
    /// Reads a form body (UTF-8).
    pub(crate) fn parse(body: &[u8]) -> Fields {
        Fields(form_urlencoded::parse(body).into_owned().collect())
    }

    /// The first value of `name`, or "" when absent.
    pub(crate) fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(known, _)| known == name)
            .map_or("", |(_, value)| value.as_str())
    }

    /// A value that must not be empty.
    pub(crate) fn require(&self, name: &str) -> Result<&str, Refusal> {
        let value = self.get(name);
        if value.is_empty() {
            Err(Refusal::new(FIELD, format!("{name} is required")))
        } else {
            Ok(value)
        }
    }

    /// The values of `order` concatenated: the data the hmac covers.
    pub(crate) fn sign_data(&self, order: &[&str]) -> String {
        order.iter().map(|name| self.get(name)).collect()
    }
}

/// `lowercase_hex(HMAC-MD5(key, data))`.
fn hmac_md5_hex(key: &[u8], data: &[u8]) -> String {
    let mut mac = new_mac(key);
    mac.update(data);
    hex(&mac.finalize().into_bytes())
}

fn new_mac(key: &[u8]) -> Hmac<Md5> {
    // HMAC takes keys of any length (longer ones are hashed first).
    <Hmac<Md5> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2)
        || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok())
        .collect()
}

/// The hmac of `sign_data` under the merchant's key.
pub(crate) fn sign(key: &str, sign_data: &str) -> String {
    let inner = hmac_md5_hex(b"", sign_data.as_bytes());
    hmac_md5_hex(key.as_bytes(), inner.as_bytes())
}

/// Whether `hmac` is the hmac of `sign_data`: lowercase hex, as the kits
/// compare strings, checked in constant time.
pub(crate) fn verify(key: &str, sign_data: &str, hmac: &str) -> bool {
    let Some(expected) = unhex(hmac) else {
        return false;
    };
    let inner = hmac_md5_hex(b"", sign_data.as_bytes());
    let mut mac = new_mac(key.as_bytes());
    mac.update(inner.as_bytes());
    mac.verify_slice(&expected).is_ok()
}

/// Fields the platform URL-encodes (UTF-8) in its `k=v&...` answers.
const ENCODED: [&str; 3] = ["message", "reserved1", "reserved2"];

/// A message the platform sends: fields in hmac order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Message(Vec<(&'static str, String)>);

impl Message {
    pub(crate) fn new() -> Message {
        Message::default()
    }

    pub(crate) fn with(mut self, name: &'static str, value: impl Into<String>) -> Message {
        self.0.push((name, value.into()));
        self
    }

    pub(crate) fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(known, _)| *known == name)
            .map_or("", |(_, value)| value.as_str())
    }

    /// Replaces a value (after signing: a tampered notification).
    pub(crate) fn set(&mut self, name: &str, value: String) {
        if let Some(slot) = self.0.iter_mut().find(|(known, _)| *known == name) {
            slot.1 = value;
        }
    }

    /// The fields and `hmac` last, signed over the values in order.
    pub(crate) fn signed(mut self, key: &str) -> Message {
        let data: String = self.0.iter().map(|(_, value)| value.as_str()).collect();
        let hmac = sign(key, &data);
        self.0.push(("hmac", hmac));
        self
    }

    /// The answer's text: `k=v&...`, only `message`, `reserved1` and
    /// `reserved2` URL-encoded.
    pub(crate) fn answer_text(&self) -> String {
        self.0
            .iter()
            .map(|(name, value)| {
                if ENCODED.contains(name) {
                    format!(
                        "{name}={}",
                        form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>()
                    )
                } else {
                    format!("{name}={value}")
                }
            })
            .collect::<Vec<_>>()
            .join("&")
    }

    /// An ordinary URL-encoded form (notifications).
    pub(crate) fn form_text(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.0.iter().map(|(name, value)| (*name, value.as_str())))
            .finish()
    }

    pub(crate) fn pairs(&self) -> &[(&'static str, String)] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The jfshare integrator's published key (merchant 888009953110701).
    const JFSHARE: &str = "UVLujdX0lBRBG3KPJbprdBRoJzXCM7KvGZ17wJ4v8M3uYYoVyO0iTiSmX3E4HMSO";
    /// The key that reproduces the official PDFs' samples (888009941120001).
    const DOC: &str = "8Fb5j7RAYj4Dw3s6bZ11hVynY9oyx0LHdTz3Xww8xmNsfzGd1qABCerSz0ZRXMA3";

    #[test]
    fn reproduces_the_published_wap_request_and_answer() {
        let request = Fields::parse(
            b"hmac=22526be0233a1d842d955f128fb24f61&characterSet=02&callbackUrl=http%3A%2F%2Fh5.jfshare.com%2Fshare%2Fhtml%2Fpay-success.html&notifyUrl=http%3A%2F%2F120.24.153.102%3A13005%2Fpay%2Fnotify%2Fhebaowap&ipAddress=127.0.0.1&merchantId=888009953110701&requestId=ef3c240626f2e00ea032b4b00ff768f81&signType=MD5&type=WAPDirectPayConfirm&version=2.0.0&amount=1&bankAbbr=&currency=00&orderDate=20160408&orderId=ef3c240626f2e00ea032b4b00ff768f81&merAcDate=20160408&period=24&periodUnit=01&merchantAbbr=&productDesc=dd&productId=&productName=jssss&productNum=&reserved1=&reserved2=&userToken=&showUrl=&couponsFlag=00",
        );
        let data = request.sign_data(&super::super::service::PAY_ORDER);
        assert_eq!(sign(JFSHARE, &data), "22526be0233a1d842d955f128fb24f61");
        assert!(verify(JFSHARE, &data, request.get("hmac")));
        assert!(!verify(JFSHARE, &data, "22526BE0233A1D842D955F128FB24F61"));
        assert!(!verify(DOC, &data, request.get("hmac")));

        let answer = Message::new()
            .with("merchantId", "888009953110701")
            .with("requestId", "ef3c240626f2e00ea032b4b00ff768f81")
            .with("signType", "MD5")
            .with("type", "WAPDirectPayConfirm")
            .with("version", "2.0.0")
            .with("returnCode", "000000")
            .with("message", "SUCCESS")
            .with("payUrl", "url<hi:=>http://ipos.10086.cn/wap/index.xhtml<hi:$$>method<hi:=>POST<hi:$$>sessionId<hi:=>20160408201604080466790130")
            .signed(JFSHARE);
        assert_eq!(answer.get("hmac"), "89937537b442211b99e1d2a72d2f4e3a");
        assert_eq!(
            answer.answer_text(),
            "merchantId=888009953110701&requestId=ef3c240626f2e00ea032b4b00ff768f81&signType=MD5&type=WAPDirectPayConfirm&version=2.0.0&returnCode=000000&message=SUCCESS&payUrl=url<hi:=>http://ipos.10086.cn/wap/index.xhtml<hi:$$>method<hi:=>POST<hi:$$>sessionId<hi:=>20160408201604080466790130&hmac=89937537b442211b99e1d2a72d2f4e3a"
        );
    }

    #[test]
    fn reproduces_the_published_notifications_and_query() {
        let values = |text: &str| -> String {
            text.split('&')
                .map(|pair| pair.split_once('=').map_or("", |(_, value)| value))
                .collect()
        };
        let offline = "merchantId=888009953110701&payNo=201605226650729006&returnCode=000000&message=SUCCESS&signType=MD5&type=OfflineNotify&version=2.0.0&amount=1&amtItem=CNY_AMT=1#CMY_AMT=0#RED_AMT=0#VCH_AMT=0#POT_CHG_AMT=0&bankAbbr=&mobile=150****8779&orderId=3404ab75feb1a15d9d34cce62385a5b2&payDate=20160522173209&accountDate=20160522&reserved1=&reserved2=&status=SUCCESS&orderDate=20160522&fee=0";
        assert_eq!(
            sign(JFSHARE, &values(offline)),
            "d0d0de92470f9d00ea4ad3c817c3f17e"
        );
        let page_notify = "merchantId=888009941120001&payNo=201901310005378468&returnCode=000000&message=SUCCESS&signType=MD5&type=PageNotify&version=2.0.0&amount=100&amtItem=CNY_AMT=100#CMY_AMT=0#RED_AMT=0#VCH_AMT=0#POT_CHG_AMT=0&bankAbbr=ICBC&mobile=151****0263&orderId=201103091030298930&payDate=20190131102735&accountDate=20190131&reserved1=11&reserved2=12&status=SUCCESS&orderDate=20110309&fee=0";
        assert_eq!(
            sign(DOC, &values(page_notify)),
            "c0a1bfd0a3458ccb21d910739789bece"
        );
        let query_answer = "merchantId=888009941120001&payNo=201902010005385674&returnCode=000000&message=SUCCESS&signType=MD5&type=OrderQuery&version=2.0.0&amount=100&amtItem=CNY_AMT=100#CMY_AMT=0#RED_AMT=0#VCH_AMT=0#POT_CHG_AMT=0&bankAbbr=ICBC&mobile=138****0773&orderId=2011030953515&payDate=20190131145219&reserved1=保留数据1&reserved2=保留数据2&status=FAILED&orderDate=20110309&fee=0";
        assert_eq!(
            sign(DOC, &values(query_answer)),
            "f6be881aed52114f3b9ff4c8345232f5"
        );
        assert_eq!(
            sign(
                DOC,
                "8880099411200012011/3/9 15:34:47MD5OrderQuery2.0.02011030953515"
            ),
            "c0353365e28b13e9789973fbec15a9ef"
        );
        assert_eq!(
            sign(
                DOC,
                "8880099411200012011/3/9 14:57:56MD5OrderRefund2.0.02011030953515100"
            ),
            "cd21ac1f968afdd8a51094fa8a1f8315"
        );
    }

    #[test]
    fn encodes_only_the_chinese_fields_of_answers() {
        let message = Message::new()
            .with("returnCode", "RPM22201")
            .with("message", "订单不存在 a&b")
            .with("amtItem", "CNY_AMT=1#CMY_AMT=0");
        assert_eq!(
            message.answer_text(),
            "returnCode=RPM22201&message=%E8%AE%A2%E5%8D%95%E4%B8%8D%E5%AD%98%E5%9C%A8+a%26b&amtItem=CNY_AMT=1#CMY_AMT=0"
        );
        assert_eq!(unhex("0a"), Some(vec![10]));
        assert_eq!(unhex("0A"), None);
        assert_eq!(unhex("abc"), None);
    }
}
