//! The payment step of each app, after the pay page hands it over:
//! WeChat's `getBrandWCPayRequest` and Alipay's `tradePay` through the
//! emulator's own bridges, and UnionPay's phone page as the shopper goes
//! through it in QuickPass.

use serde_json::{json, Map, Value};

use super::markup::{self, Form};
use super::screen::Handoff;
use super::webview::{Loaded, WebView};
use super::{App, Apps, Outcome, PlayError};

/// The test card the phone pays with (UnionPay's card page lists it).
const PAYING_CARD: &str = "6216261000000000018";
/// The test card its bank declines: insufficient funds (64).
const DECLINED_CARD: &str = "6216261000000000026";
/// The SMS code the emulated bank sends.
const SMS_CODE: &str = "111111";

/// How the payment step ended.
#[derive(Debug)]
pub(super) struct Step {
    /// What the app's bridge told the page: WeChat's `err_msg`, Alipay's
    /// `resultCode`; none for a page.
    pub bridge: Option<String>,
    /// Where a page left the web view (QuickPass: back on the merchant's
    /// `frontUrl`, and wherever that sends it).
    pub landed: Option<Loaded>,
}

/// Runs `handoff` of the pay page `page` as `app` does, the shopper doing
/// `outcome`.
pub(super) async fn pay(
    apps: &Apps,
    view: &mut WebView,
    app: App,
    page: &Loaded,
    handoff: Handoff,
    outcome: Outcome,
) -> Result<Step, PlayError> {
    match (app, handoff) {
        (App::Wechat, Handoff::InvokeWechatJsapi { params }) => {
            let err_msg = get_brand_wcpay_request(apps, params, outcome).await?;
            Ok(Step {
                bridge: Some(err_msg),
                landed: None,
            })
        }
        (App::Alipay, Handoff::InvokeAlipayTradePay { trade_no }) => {
            let result_code = trade_pay(apps, &trade_no, outcome).await?;
            Ok(Step {
                bridge: Some(result_code),
                landed: None,
            })
        }
        (
            App::Quickpass,
            Handoff::Redirect {
                url,
                method,
                fields,
            },
        ) => {
            let url = page.url.join(&url).map_err(|error| {
                PlayError::unexpected(&page.url, format!("redirect url {url:?}: {error}"))
            })?;
            let gateway = if method.eq_ignore_ascii_case("post") {
                let fields: Vec<(String, String)> = fields.into_iter().collect();
                view.post(url, &fields).await?
            } else {
                view.get(url).await?
            };
            Ok(Step {
                bridge: None,
                landed: Some(unionpay_page(view, gateway, outcome).await?),
            })
        }
        (app, handoff) => Err(PlayError::unexpected(
            &page.url,
            format!(
                "{} cannot run the pay screen's hand-off ({})",
                app.label(),
                handoff.kind()
            ),
        )),
    }
}

/// `WeixinJSBridge.invoke('getBrandWCPayRequest', params, callback)`:
/// `/phone/jsapi`, answered with its `err_msg`.
async fn get_brand_wcpay_request(
    apps: &Apps,
    mut params: Map<String, Value>,
    outcome: Outcome,
) -> Result<String, PlayError> {
    params.insert("outcome".into(), outcome.as_str().into());
    let url = format!("{}/phone/jsapi", apps.public_url);
    let answer = call(apps, &url, &Value::Object(params)).await?;
    field(&url, &answer, "err_msg")
}

/// `AlipayJSBridge.call('tradePay', {tradeNO}, callback)`:
/// `/alipay/phone/trade-pay`, answered with its `resultCode`.
async fn trade_pay(apps: &Apps, trade_no: &str, outcome: Outcome) -> Result<String, PlayError> {
    let url = format!("{}/alipay/phone/trade-pay", apps.public_url);
    let request = json!({ "trade_no": trade_no, "outcome": outcome.as_str() });
    let answer = call(apps, &url, &request).await?;
    field(&url, &answer, "resultCode")
}

async fn call(apps: &Apps, url: &str, request: &Value) -> Result<Value, PlayError> {
    let response = apps
        .http
        .post(url)
        .json(request)
        .send()
        .await
        .map_err(|error| PlayError::unreachable(url, &error))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|error| PlayError::unreachable(url, &error))?;
    if !status.is_success() {
        return Err(PlayError::unexpected(url, format!("HTTP {status}: {text}")));
    }
    serde_json::from_str(&text)
        .map_err(|error| PlayError::unexpected(url, format!("not JSON ({error}): {text}")))
}

fn field(url: &str, answer: &Value, name: &str) -> Result<String, PlayError> {
    answer
        .get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| PlayError::unexpected(url, format!("no {name} in {answer}")))
}

/// On UnionPay's phone page the shopper pays with a test card and the SMS
/// code, or is declined by the bank, and the result page sends the web
/// view back to the merchant; or they tap "返回商户" at once. Answers the
/// page the web view lands on.
async fn unionpay_page(
    view: &mut WebView,
    card_page: Loaded,
    outcome: Outcome,
) -> Result<Loaded, PlayError> {
    let mut card_form = form(&card_page, |form| form.action().ends_with("/cashier/card"))?;
    let card = match outcome {
        Outcome::Cancel => {
            let back = form(&card_page, |form| form.tag.has_class("back"))?;
            return view.submit(&card_page, &back).await;
        }
        Outcome::Pay => PAYING_CARD,
        Outcome::Decline => DECLINED_CARD,
    };
    card_form.fill("cardNo", card);
    let sms_page = view.submit(&card_page, &card_form).await?;
    let mut sms_form = form(&sms_page, |form| form.action().ends_with("/cashier/sms"))?;
    sms_form.fill("smsCode", SMS_CODE);
    let result_page = view.submit(&sms_page, &sms_form).await?;
    // What return.js submits after a second.
    let back = form(&result_page, |form| form.tag.has("data-autosubmit"))?;
    view.submit(&result_page, &back).await
}

/// The form of `page` that `wanted` picks, or what the page says instead.
fn form(page: &Loaded, wanted: impl Fn(&Form) -> bool) -> Result<Form, PlayError> {
    markup::forms(&page.html)
        .into_iter()
        .find(|form| wanted(form))
        .ok_or_else(|| {
            PlayError::unexpected(
                &page.url,
                format!("UnionPay's page says {}", says(&page.html)),
            )
        })
}

/// A UnionPay page's heading, and its `respCode` and `respMsg` when it is
/// the gateway's error page.
fn says(html: &str) -> String {
    let tags = markup::tags(html);
    let text_of = |wanted: &dyn Fn(&markup::Tag) -> bool| {
        tags.iter()
            .find(|tag| wanted(tag))
            .map(|tag| markup::text(html, tag))
            .unwrap_or_default()
    };
    let heading = text_of(&|tag| tag.name == "h1");
    let code = text_of(&|tag| tag.attr("data-testid") == Some("unionpay-error-code"));
    if code.is_empty() {
        return format!("\"{heading}\"");
    }
    let msg = text_of(&|tag| tag.attr("data-testid") == Some("unionpay-error-msg"));
    format!("\"{heading}\" (respCode {code}: {msg})")
}
