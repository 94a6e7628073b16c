//! The merchant server's pay page (`{server}/pay/{token}`) as the phone
//! reads it: which screen it shows (`h1#ps-screen[data-screen]`) and its
//! headline, the claim form (`form#ps-claim`), and the hand-off of the
//! `pay` screen (`script#ps-pay`, the server's `NextAction` as JSON).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::markup::{self, Form};

/// What the pay page shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Screen {
    /// This app can pay: the page claims the code for this phone.
    Claim,
    /// The page hands the payment to the app (`#ps-pay`).
    Pay,
    /// The server is learning how the payment went.
    Checking,
    /// Paid, on this phone.
    Paid,
    /// Another phone is paying this code.
    PayingElsewhere,
    /// Another phone paid this code.
    PaidElsewhere,
    /// The session is over or the code expired.
    Ended,
    /// The payment failed.
    Failed,
    /// The wallet could not be opened; the shopper may try again.
    TryAgain,
    /// Not an app that can pay here: the page lists the ones that can.
    ScanWithApp,
}

impl Screen {
    const ALL: [Screen; 10] = [
        Screen::Claim,
        Screen::Pay,
        Screen::Checking,
        Screen::Paid,
        Screen::PayingElsewhere,
        Screen::PaidElsewhere,
        Screen::Ended,
        Screen::Failed,
        Screen::TryAgain,
        Screen::ScanWithApp,
    ];

    /// The name of `data-screen`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Screen::Claim => "claim",
            Screen::Pay => "pay",
            Screen::Checking => "checking",
            Screen::Paid => "paid",
            Screen::PayingElsewhere => "paying_elsewhere",
            Screen::PaidElsewhere => "paid_elsewhere",
            Screen::Ended => "ended",
            Screen::Failed => "failed",
            Screen::TryAgain => "try_again",
            Screen::ScanWithApp => "scan_with_app",
        }
    }
}

/// A pay page's screen and its headline (the `h1`'s text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Shown {
    /// Which screen.
    pub screen: Screen,
    /// What its `h1` says.
    pub headline: String,
}

/// The screen `html` shows, or why it is not a pay page the phone knows.
pub(super) fn shown(html: &str) -> Result<Shown, String> {
    let tags = markup::tags(html);
    let Some(h1) = tags.iter().find(|tag| tag.attr("id") == Some("ps-screen")) else {
        let title = ["h1", "title"]
            .into_iter()
            .find_map(|name| tags.iter().find(|tag| tag.name == name))
            .map(|tag| markup::text(html, tag))
            .unwrap_or_default();
        return Err(format!("not a pay page (no #ps-screen): \"{title}\""));
    };
    let name = h1.attr("data-screen").unwrap_or_default();
    let screen = Screen::ALL
        .into_iter()
        .find(|screen| screen.as_str() == name)
        .ok_or_else(|| format!("data-screen=\"{name}\" is not a screen the phone knows"))?;
    Ok(Shown {
        screen,
        headline: markup::text(html, h1),
    })
}

/// The claim screen's `form#ps-claim`.
pub(super) fn claim_form(html: &str) -> Option<Form> {
    markup::forms(html)
        .into_iter()
        .find(|form| form.tag.attr("id") == Some("ps-claim"))
}

/// The hand-off of the `pay` screen, as the page's script reads it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum Handoff {
    /// `WeixinJSBridge.invoke('getBrandWCPayRequest', params)`: the page
    /// passes `params` as they are, and WeChat checks them.
    InvokeWechatJsapi {
        /// `appId`, `timeStamp`, `nonceStr`, `package`, `signType`, `paySign`.
        params: Map<String, Value>,
    },
    /// `AlipayJSBridge.call('tradePay', {tradeNO})`.
    InvokeAlipayTradePay {
        /// Alipay's number for the trade.
        trade_no: String,
    },
    /// The page goes to `url`: a GET, or a POST form of `fields`.
    Redirect {
        /// Where to go.
        url: String,
        /// `POST` or `GET`, in any case.
        method: String,
        /// The form's fields.
        #[serde(default)]
        fields: BTreeMap<String, String>,
    },
}

impl Handoff {
    /// Its `type`, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Handoff::InvokeWechatJsapi { .. } => "invoke_wechat_jsapi",
            Handoff::InvokeAlipayTradePay { .. } => "invoke_alipay_trade_pay",
            Handoff::Redirect { .. } => "redirect",
        }
    }
}

/// The hand-off in `script#ps-pay`, or why there is none the phone can run.
pub(super) fn handoff(html: &str) -> Result<Handoff, String> {
    let tags = markup::tags(html);
    let script = tags
        .iter()
        .find(|tag| tag.name == "script" && tag.attr("id") == Some("ps-pay"))
        .ok_or("the pay screen has no script#ps-pay")?;
    // A script's content is raw text: the JSON's own escapes (`\u003c`)
    // are all there is to undo, and serde does.
    serde_json::from_str(markup::raw_content(html, script))
        .map_err(|error| format!("#ps-pay is not a hand-off the phone can run: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(body: &str) -> String {
        format!("<!doctype html><html><head><title>Pay</title></head><body><main>{body}</main></body></html>")
    }

    #[test]
    fn reads_the_screen_and_its_headline() {
        let html = page(
            "<h1 class=\"ps-title\" data-screen=\"paying_elsewhere\" id=\"ps-screen\">\
             另一部手机正在支付 <span lang=\"en\">Another phone is paying &amp; …</span></h1>",
        );
        assert_eq!(
            shown(&html),
            Ok(Shown {
                screen: Screen::PayingElsewhere,
                headline: "另一部手机正在支付 Another phone is paying & …".into(),
            })
        );
        for screen in Screen::ALL {
            let html = page(&format!(
                "<h1 id=\"ps-screen\" data-screen=\"{}\">x</h1>",
                screen.as_str()
            ));
            assert_eq!(shown(&html).map(|shown| shown.screen), Ok(screen));
            assert_eq!(
                serde_json::to_value(screen).ok(),
                Some(screen.as_str().into())
            );
        }
    }

    #[test]
    fn a_page_without_a_known_screen_is_refused() {
        let error = shown(&page("<h1>Oops! Something went wrong:(</h1>")).unwrap_err();
        assert!(error.contains("Oops! Something went wrong:("), "{error}");
        let error = shown(&page("<h1 id=\"ps-screen\" data-screen=\"later\">x</h1>")).unwrap_err();
        assert!(error.contains("\"later\""), "{error}");
    }

    #[test]
    fn finds_the_claim_form() {
        let html = page(
            "<h1 id=\"ps-screen\" data-screen=\"claim\">Opening…</h1>\
             <form id=\"ps-search\" action=\"/search\"></form>\
             <form id=\"ps-claim\" method=\"post\" action=\"/pay/tok_1?a=1&amp;b=2\">\
             <noscript><button type=\"submit\">Continue</button></noscript></form>",
        );
        let form = claim_form(&html).unwrap();
        assert_eq!(form.action(), "/pay/tok_1?a=1&b=2");
        assert!(form.posts());
        assert!(form.fields.is_empty());
        assert_eq!(claim_form(&page("<form action=\"/x\"></form>")), None);
    }

    #[test]
    fn reads_the_hand_off_with_its_escapes() {
        let html = page(
            "<h1 id=\"ps-screen\" data-screen=\"pay\">Pay</h1>\
             <script>const a = 1 < 2;</script>\
             <script type=\"application/json\" id=\"ps-pay\">\
             {\"type\":\"invoke_alipay_trade_pay\",\"trade_no\":\"2026\\u003c/script\\u003e01\"}\
             </script>",
        );
        assert_eq!(
            handoff(&html),
            Ok(Handoff::InvokeAlipayTradePay {
                trade_no: "2026</script>01".into()
            })
        );
    }

    #[test]
    fn reads_every_hand_off_the_apps_run() {
        let pay = |json: &str| {
            handoff(&page(&format!(
                "<script type=\"application/json\" id=\"ps-pay\">{json}</script>"
            )))
        };
        let wechat = pay(
            r#"{"type":"invoke_wechat_jsapi","params":{"appId":"wx1","timeStamp":"1","nonceStr":"n","package":"prepay_id=p","signType":"RSA","paySign":"s\u003c"}}"#,
        );
        let Ok(Handoff::InvokeWechatJsapi { params }) = wechat else {
            panic!("{wechat:?}");
        };
        assert_eq!(params.get("package"), Some(&Value::from("prepay_id=p")));
        assert_eq!(params.get("paySign"), Some(&Value::from("s<")));

        let unionpay = pay(
            r#"{"type":"redirect","url":"http://127.0.0.1:1/unionpay/gateway/api/frontTransReq.do","method":"POST","fields":{"txnAmt":"100","signature":"a+b/c="}}"#,
        );
        let Ok(Handoff::Redirect {
            url,
            method,
            fields,
        }) = unionpay
        else {
            panic!("{unionpay:?}");
        };
        assert!(url.ends_with("/frontTransReq.do"));
        assert_eq!(method, "POST");
        assert_eq!(fields.get("signature").map(String::as_str), Some("a+b/c="));

        let qr = pay(r#"{"type":"display_qr_code","payload":"weixin://x","expires_at":1}"#);
        assert!(qr.is_err(), "{qr:?}");
        assert!(handoff(&page("<p>no script</p>")).is_err());
    }
}
