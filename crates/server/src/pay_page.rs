//! The pages a phone sees when it opens one code for every wallet
//! (`/pay/{token}`), in the shopper's language. They carry no inline
//! script: the hand-off travels as a JSON data block that `/pay/pay.js`
//! carries out, so the pages work under a policy of `script-src 'self'`.
//!
//! Every page names what it shows in `<h1 id="ps-screen" data-screen=…>`,
//! for a test or an emulated app to read.

use contract::MethodKind;
use payment_selector::i18n::Locale;

/// What the phone is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    /// This app can pay: the page takes the code for this phone (its
    /// script submits the form; a person can too).
    Claim(MethodKind),
    /// This phone pays: the wallet's hand-off (the contract's
    /// `NextAction` as JSON) for the script to carry out.
    Pay {
        /// The wallet.
        method: MethodKind,
        /// The hand-off.
        action_json: String,
    },
    /// Paid on this phone; the server is confirming it.
    Checking,
    /// Paid on this phone.
    Paid,
    /// Another phone is paying this code.
    PayingElsewhere,
    /// The order is paid (by another phone, or another way).
    PaidElsewhere,
    /// The checkout ended, or the code is not valid.
    Ended,
    /// This phone's payment did not go through.
    Failed,
    /// The wallet could not be reached, or its authorisation came back
    /// without the payer: the shopper may try again.
    TryAgain,
    /// Not an app that can pay here: which apps can.
    ScanWithApp(Vec<MethodKind>),
}

impl Screen {
    /// The name in `data-screen`.
    pub fn name(&self) -> &'static str {
        match self {
            Screen::Claim(_) => "claim",
            Screen::Pay { .. } => "pay",
            Screen::Checking => "checking",
            Screen::Paid => "paid",
            Screen::PayingElsewhere => "paying_elsewhere",
            Screen::PaidElsewhere => "paid_elsewhere",
            Screen::Ended => "ended",
            Screen::Failed => "failed",
            Screen::TryAgain => "try_again",
            Screen::ScanWithApp(_) => "scan_with_app",
        }
    }
}

/// The order the page is about.
pub struct Order<'a> {
    /// The shop's name.
    pub merchant: &'a str,
    /// The amount, written for the locale.
    pub amount: &'a str,
    /// The code's address (`/pay/{token}`), for forms and links.
    pub path: &'a str,
}

/// How often the checking page asks again, in seconds.
const CHECK_EVERY_SECONDS: u32 = 2;

/// The whole page.
pub fn render(screen: &Screen, order: &Order<'_>, locale: Locale) -> String {
    let words = Words::of(locale);
    let pay_with = |method: MethodKind| {
        fill(
            words.pay_with,
            &[
                ("{amount}", order.amount),
                ("{app}", locale.method_name(method)),
            ],
        )
    };
    let (headline, body) = match screen {
        Screen::Claim(method) => (
            pay_with(*method),
            format!(
                r#"<form id="ps-claim" method="post" action="{path}"><button type="submit">{button}</button></form>"#,
                path = escape(order.path),
                button = escape(&pay_with(*method)),
            ),
        ),
        Screen::Pay {
            method,
            action_json,
        } => (
            pay_with(*method),
            format!(
                r#"<p id="ps-status" role="status" data-failed="{failed}">{opening}</p><button id="ps-pay-again" type="button">{again}</button><a href="{path}?done">{paid_link}</a><script type="application/json" id="ps-pay">{json}</script>"#,
                opening = escape(words.opening),
                failed = escape(words.failed),
                again = escape(words.open_again),
                path = escape(order.path),
                paid_link = escape(words.i_paid),
                // Inside <script> no "<" may start a tag: JSON lets it be escaped.
                json = action_json.replace('<', "\\u003c"),
            ),
        ),
        Screen::Checking => (
            words.checking.to_owned(),
            format!(
                r#"<p role="status">{}</p><a href="{}">{}</a>"#,
                escape(words.checking_detail),
                escape(order.path),
                escape(words.open_again),
            ),
        ),
        Screen::Paid => (words.paid.to_owned(), paragraph(words.paid_detail)),
        Screen::PayingElsewhere => (
            words.paying_elsewhere.to_owned(),
            paragraph(words.paying_elsewhere_detail),
        ),
        Screen::PaidElsewhere => (words.paid_elsewhere.to_owned(), String::new()),
        Screen::TryAgain => (
            words.try_again.to_owned(),
            format!(
                r#"<a href="{}">{}</a>"#,
                escape(order.path),
                escape(words.open_again)
            ),
        ),
        Screen::Ended => (words.ended.to_owned(), paragraph(words.ended_detail)),
        Screen::Failed => (words.failed.to_owned(), paragraph(words.failed_detail)),
        Screen::ScanWithApp(methods) => {
            let apps: String = methods
                .iter()
                .map(|method| format!("<li>{}</li>", escape(locale.method_name(*method))))
                .collect();
            (words.scan_with_app.to_owned(), format!("<ul>{apps}</ul>"))
        }
    };
    let refresh = match screen {
        Screen::Checking => {
            format!(r#"<meta http-equiv="refresh" content="{CHECK_EVERY_SECONDS}">"#)
        }
        _ => String::new(),
    };
    format!(
        r#"<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">{refresh}<title>{title}</title><link rel="stylesheet" href="/pay/pay.css"><script src="/pay/pay.js" defer></script></head><body><main><p class="ps-merchant">{merchant}</p><p class="ps-amount">{amount}</p><h1 id="ps-screen" data-screen="{screen}" tabindex="-1">{headline}</h1>{body}</main></body></html>"#,
        lang = locale.tag(),
        title = escape(order.merchant),
        merchant = escape(order.merchant),
        amount = escape(order.amount),
        screen = screen.name(),
        headline = escape(&headline),
    )
}

fn paragraph(text: &str) -> String {
    format!("<p>{}</p>", escape(text))
}

fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values
        .iter()
        .fold(template.to_owned(), |text, (name, value)| {
            text.replace(name, value)
        })
}

/// Text for HTML content and double-quoted attributes.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// The pages' words in one language.
struct Words {
    pay_with: &'static str,
    opening: &'static str,
    open_again: &'static str,
    i_paid: &'static str,
    checking: &'static str,
    checking_detail: &'static str,
    paid: &'static str,
    paid_detail: &'static str,
    paying_elsewhere: &'static str,
    paying_elsewhere_detail: &'static str,
    paid_elsewhere: &'static str,
    ended: &'static str,
    ended_detail: &'static str,
    failed: &'static str,
    failed_detail: &'static str,
    try_again: &'static str,
    scan_with_app: &'static str,
}

impl Words {
    fn of(locale: Locale) -> &'static Words {
        match locale {
            Locale::ZhCn => &ZH_CN,
            Locale::ZhTw => &ZH_TW,
            Locale::En => &EN,
        }
    }
}

const ZH_CN: Words = Words {
    pay_with: "确认付款 {amount}（{app}）",
    opening: "正在打开支付…",
    open_again: "重新打开支付",
    i_paid: "我已支付",
    checking: "正在确认支付结果…",
    checking_detail: "请稍候，本页会自动更新。",
    paid: "支付成功",
    paid_detail: "可以回到电脑上继续。",
    paying_elsewhere: "该订单正在另一部手机上支付",
    paying_elsewhere_detail: "请勿重复支付。",
    paid_elsewhere: "该订单已支付",
    ended: "该付款码已失效",
    ended_detail: "请回到电脑上重新下单或选择其他支付方式。",
    failed: "支付未成功",
    failed_detail: "请回到电脑上重新选择支付方式。",
    try_again: "暂时无法打开支付",
    scan_with_app: "请使用以下应用扫码支付",
};

const ZH_TW: Words = Words {
    pay_with: "確認付款 {amount}（{app}）",
    opening: "正在開啟付款…",
    open_again: "重新開啟付款",
    i_paid: "我已付款",
    checking: "正在確認付款結果…",
    checking_detail: "請稍候，本頁會自動更新。",
    paid: "付款成功",
    paid_detail: "可以回到電腦上繼續。",
    paying_elsewhere: "此訂單正在另一支手機上付款",
    paying_elsewhere_detail: "請勿重複付款。",
    paid_elsewhere: "此訂單已付款",
    ended: "此付款碼已失效",
    ended_detail: "請回到電腦上重新下單或選擇其他付款方式。",
    failed: "付款未成功",
    failed_detail: "請回到電腦上重新選擇付款方式。",
    try_again: "暫時無法開啟付款",
    scan_with_app: "請使用以下應用程式掃碼付款",
};

const EN: Words = Words {
    pay_with: "Pay {amount} with {app}",
    opening: "Opening the payment…",
    open_again: "Open the payment again",
    i_paid: "I have paid",
    checking: "Checking the payment…",
    checking_detail: "This page updates by itself.",
    paid: "Payment succeeded",
    paid_detail: "You can carry on on your computer.",
    paying_elsewhere: "This order is being paid on another phone",
    paying_elsewhere_detail: "Please don't pay it again.",
    paid_elsewhere: "This order is already paid",
    ended: "This code is no longer valid",
    ended_detail: "Go back to your computer to start again or choose another method.",
    failed: "The payment did not go through",
    failed_detail: "Go back to your computer to choose another method.",
    try_again: "The payment could not be opened",
    scan_with_app: "Scan this code with one of these apps",
};

#[cfg(test)]
mod tests {
    use super::*;

    fn order() -> Order<'static> {
        Order {
            merchant: "Tea & <Co>",
            amount: "¥128.00",
            path: "/pay/abc",
        }
    }

    #[test]
    fn a_hand_off_travels_as_data_that_cannot_close_its_script_element() {
        let page = render(
            &Screen::Pay {
                method: MethodKind::Alipay,
                action_json: r#"{"type":"redirect","url":"https://x/</script><script>alert(1)"}"#
                    .into(),
            },
            &order(),
            Locale::En,
        );
        assert!(page.contains(r#"<script type="application/json" id="ps-pay">"#));
        assert!(!page.contains("</script><script>alert"), "{page}");
        assert!(page.contains(r"\u003c/script>"));
        assert!(page.contains("Tea &amp; &lt;Co&gt;"));
        assert!(page.contains(r#"data-screen="pay""#));
        assert!(page.contains(">Pay ¥128.00 with Alipay</h1>"));
        assert!(page.contains(">Open the payment again</button>"));
    }

    #[test]
    fn every_page_names_its_screen_in_each_language() {
        for locale in [Locale::ZhCn, Locale::ZhTw, Locale::En] {
            let page = render(&Screen::PayingElsewhere, &order(), locale);
            assert!(page.contains(r#"<h1 id="ps-screen" data-screen="paying_elsewhere""#));
            assert!(page.contains(&format!(r#"lang="{}""#, locale.tag())));
        }
        let page = render(
            &Screen::ScanWithApp(vec![MethodKind::WechatPay, MethodKind::Unionpay]),
            &order(),
            Locale::ZhCn,
        );
        assert!(
            page.contains("<li>微信支付</li><li>银联云闪付</li>"),
            "{page}"
        );
    }

    #[test]
    fn only_the_checking_page_refreshes_itself() {
        assert!(render(&Screen::Checking, &order(), Locale::En).contains("http-equiv=\"refresh\""));
        assert!(!render(&Screen::Paid, &order(), Locale::En).contains("http-equiv"));
    }
}
