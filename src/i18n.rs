//! Every word the shopper reads, in Simplified Chinese, Traditional Chinese
//! and English, and the choice among them from the browser's languages.

use contract::{MethodKind, UnavailableReason};

/// A language the checkout speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Locale {
    /// Simplified Chinese (mainland).
    ZhCn,
    /// Traditional Chinese (Taiwan, Hong Kong, Macau).
    ZhTw,
    /// English.
    #[default]
    En,
}

impl Locale {
    /// The BCP 47 tag, for `lang` attributes.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::ZhCn => "zh-CN",
            Locale::ZhTw => "zh-TW",
            Locale::En => "en",
        }
    }

    /// The first of the shopper's preferred languages (as in
    /// `navigator.languages`) that the checkout speaks; English otherwise.
    ///
    /// ```
    /// # use payment_selector::i18n::Locale;
    /// assert_eq!(Locale::negotiate(["fr-FR", "zh-HK", "en"]), Locale::ZhTw);
    /// assert_eq!(Locale::negotiate(["zh"]), Locale::ZhCn);
    /// ```
    pub fn negotiate<'a>(preferences: impl IntoIterator<Item = &'a str>) -> Locale {
        preferences
            .into_iter()
            .find_map(Locale::from_tag)
            .unwrap_or_default()
    }

    /// The locale for one BCP 47 tag, if the checkout speaks it.
    pub fn from_tag(tag: &str) -> Option<Locale> {
        let mut parts = tag.trim().split(['-', '_']);
        let language = parts.next()?;
        if language.eq_ignore_ascii_case("en") {
            return Some(Locale::En);
        }
        if !language.eq_ignore_ascii_case("zh") {
            return None;
        }
        let traditional = parts.any(|part| {
            ["tw", "hk", "mo", "hant"]
                .iter()
                .any(|region| part.eq_ignore_ascii_case(region))
        });
        Some(if traditional {
            Locale::ZhTw
        } else {
            Locale::ZhCn
        })
    }

    /// The text for `key` in this language.
    pub fn text(self, key: Key) -> &'static str {
        let [zh_cn, zh_tw, en] = key.texts();
        match self {
            Locale::ZhCn => zh_cn,
            Locale::ZhTw => zh_tw,
            Locale::En => en,
        }
    }

    /// The shopper-facing name of a payment method.
    pub fn method_name(self, kind: MethodKind) -> &'static str {
        self.text(match kind {
            MethodKind::WechatPay => Key::WechatPay,
            MethodKind::Alipay => Key::Alipay,
            MethodKind::Unionpay => Key::Unionpay,
            MethodKind::ChinaMobilePay => Key::ChinaMobilePay,
            MethodKind::Card => Key::Card,
            MethodKind::AnyWallet => Key::AnyWallet,
            MethodKind::Unsupported => Key::UnsupportedMethod,
        })
    }

    /// Why a method cannot be chosen, in words.
    pub fn unavailable_reason(self, reason: UnavailableReason) -> &'static str {
        self.text(match reason {
            UnavailableReason::BlockedInWechat => Key::BlockedInWechat,
            UnavailableReason::BlockedInAlipay => Key::BlockedInAlipay,
            UnavailableReason::NotYetEnabled => Key::NotYetEnabled,
            UnavailableReason::AmountOutOfRange => Key::AmountOutOfRange,
            UnavailableReason::CurrencyNotSupported => Key::CurrencyNotSupported,
            UnavailableReason::Other => Key::UnavailableOther,
        })
    }

    /// The text for `key` with its one `{placeholder}` filled with `value`.
    pub fn text_with(self, key: Key, value: &str) -> String {
        fill(self.text(key), value)
    }

    /// "m:ss" left on a code, in a sentence.
    pub fn expires_in(self, seconds_left: i64) -> String {
        let seconds_left = seconds_left.max(0);
        let clock = format!("{}:{:02}", seconds_left / 60, seconds_left % 60);
        fill(self.text(Key::ExpiresIn), &clock)
    }
}

/// A message with its one `{placeholder}` replaced by `value`. Found by
/// its braces, not its name: a substring search would bring a string
/// searcher into the bundle for this alone.
fn fill(template: &str, value: &str) -> String {
    let (before, rest) = template.split_once('{').unwrap_or((template, ""));
    let after = rest.split_once('}').map_or("", |(_, after)| after);
    [before, value, after].concat()
}

macro_rules! keys {
    ($($key:ident => [$zh_cn:expr, $zh_tw:expr, $en:expr],)*) => {
        /// A message the checkout shows.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum Key { $($key,)* }

        impl Key {
            /// Every key, for tests that check each language is complete.
            pub const ALL: &'static [Key] = &[$(Key::$key,)*];

            fn texts(self) -> [&'static str; 3] {
                match self { $(Key::$key => [$zh_cn, $zh_tw, $en],)* }
            }
        }
    };
}

keys! {
    Loading => ["正在加载支付方式…", "正在載入付款方式…", "Loading payment methods…"],
    Total => ["订单交易金额", "訂單交易金額", "Order transaction amount"],
    NoSurcharge => ["各支付方式金额相同，不另收费", "各付款方式金額相同，不另收費", "Same amount with every method, no surcharge"],
    PaymentMethod => ["支付方式", "付款方式", "Payment method"],
    Pay => ["支付", "付款", "Pay"],
    ChooseFirst => ["请选择支付方式", "請選擇付款方式", "Choose a payment method"],
    Creating => ["正在发起支付…", "正在發起付款…", "Starting the payment…"],
    ScanWithWechat => ["请使用微信扫一扫完成支付", "請使用微信掃一掃完成付款", "Scan with WeChat to pay"],
    ScanWithAlipay => ["请使用支付宝扫一扫完成支付", "請使用支付寶掃一掃完成付款", "Scan with Alipay to pay"],
    ScanWithQuickpass => ["请使用云闪付扫码支付", "請使用雲閃付掃碼付款", "Scan with QuickPass to pay"],
    ScanWithApp => ["请使用手机扫码完成支付", "請使用手機掃碼完成付款", "Scan with your phone to pay"],
    QrCodeLabel => ["支付二维码", "付款 QR 碼", "Payment QR code"],
    ExpiresIn => ["{time} 后过期", "{time} 後過期", "Expires in {time}"],
    CodeExpired => ["二维码已过期", "QR 碼已過期", "This code has expired"],
    RefreshCode => ["刷新二维码", "重新產生 QR 碼", "Get a new code"],
    ChooseAnother => ["选择其他支付方式", "選擇其他付款方式", "Choose another method"],
    SimulateScan => ["模拟扫码并支付（沙箱）", "模擬掃碼並付款（沙盒）", "Simulate scan and pay (sandbox)"],
    SimulateDecline => ["模拟拒绝支付（沙箱）", "模擬拒絕付款（沙盒）", "Simulate a decline (sandbox)"],
    Waiting => ["等待支付…", "等待付款…", "Waiting for payment…"],
    Redirecting => ["正在跳转到支付页面…", "正在前往付款頁面…", "Taking you to the payment page…"],
    OpeningWechat => ["正在打开微信支付…", "正在開啟微信支付…", "Opening WeChat Pay…"],
    OpeningAlipay => ["正在打开支付宝…", "正在開啟支付寶…", "Opening Alipay…"],
    Checking => ["正在确认支付结果…", "正在確認付款結果…", "Checking the payment…"],
    NotPaidYet => ["尚未收到付款。如已支付，请稍候或重新查询", "尚未收到付款。如已付款，請稍候或重新查詢", "No payment received yet. If you paid, wait a moment or check again."],
    CheckAgain => ["重新查询", "重新查詢", "Check again"],
    PayingWithWechat => ["正在手机上用微信支付…", "正在手機上用微信支付付款…", "Paying with WeChat Pay on your phone…"],
    PayingWithAlipay => ["正在手机上用支付宝支付…", "正在手機上用支付寶付款…", "Paying with Alipay on your phone…"],
    PayingWithQuickpass => ["正在手机上用云闪付支付…", "正在手機上用雲閃付付款…", "Paying with QuickPass on your phone…"],
    ConfirmOnPhone => ["请在手机上完成支付", "請在手機上完成付款", "Finish paying on your phone"],
    UnderReview => ["商家正在核对本次付款，请勿重复支付", "商家正在核對本次付款，請勿重複付款", "The shop is checking this payment: please don't pay again."],
    StillTrying => ["网络不稳定，正在重试…", "網路不穩定，正在重試…", "Connection trouble, still trying…"],
    Succeeded => ["支付成功", "付款成功", "Payment succeeded"],
    PaidTwice => ["订单已支付，本次付款将原路退回", "訂單已付款，本次付款將原路退回", "Your order was already paid: this payment will be refunded"],
    Declined => ["支付机构拒绝了本次支付", "支付機構拒絕了本次付款", "The payment institution declined the payment"],
    ClosedByProvider => ["支付机构已关闭本次支付", "支付機構已關閉本次付款", "The payment institution closed the payment"],
    Failed => ["支付失败", "付款失敗", "Payment failed"],
    Canceled => ["支付已取消", "付款已取消", "Payment canceled"],
    TimedOut => ["支付已超时", "付款已逾時", "The payment timed out"],
    TryAgain => ["重试", "重試", "Try again"],
    WechatPay => ["微信支付", "微信支付", "WeChat Pay"],
    Alipay => ["支付宝", "支付寶", "Alipay"],
    Unionpay => ["银联云闪付", "銀聯雲閃付", "UnionPay QuickPass"],
    ChinaMobilePay => ["和包支付", "和包支付", "China Mobile Pay"],
    Card => ["银行卡", "銀行卡", "Bank card"],
    AnyWallet => ["任一钱包扫码", "任一錢包掃碼", "Any wallet, one code"],
    UnsupportedMethod => ["暂不支持的支付方式", "暫不支援的付款方式", "Unsupported method"],
    BlockedInWechat => ["微信内无法使用，请在浏览器中打开", "微信內無法使用，請在瀏覽器中開啟", "Not available inside WeChat: open this page in your browser"],
    BlockedInAlipay => ["支付宝内无法使用，请在浏览器中打开", "支付寶內無法使用，請在瀏覽器中開啟", "Not available inside Alipay: open this page in your browser"],
    NotYetEnabled => ["即将开通", "即將開通", "Coming soon"],
    AvailableFrom => ["{date}起可用", "{date}起可用", "Available from {date}"],
    AmountOutOfRange => ["当前金额不可用", "目前金額不可用", "Not available for this amount"],
    CurrencyNotSupported => ["不支持该币种", "不支援此幣別", "Not available in this currency"],
    UnavailableOther => ["暂不可用", "暫不可用", "Not available"],
    ErrorNetwork => ["无法连接支付服务，请检查网络后重试", "無法連線至付款服務，請檢查網路後重試", "Can't reach the payment server. Check your connection and try again."],
    ErrorSessionExpired => ["本次支付已过期，请返回商店重新下单", "本次付款已逾期，請返回商店重新下單", "This checkout has expired. Please return to the shop and start again."],
    ErrorSessionCompleted => ["该订单已支付", "此訂單已付款", "This order has already been paid."],
    ErrorMethodUnavailable => ["该支付方式暂不可用，请选择其他方式", "此付款方式暫不可用，請選擇其他方式", "This method can't be used right now. Please choose another."],
    ErrorSessionNotFound => ["支付链接无效", "付款連結無效", "This checkout link is not valid."],
    ErrorRefused => ["无法发起支付，请稍后重试", "無法發起付款，請稍後重試", "The payment could not be started. Please try again."],
    ErrorProviderUnavailable => ["暂时无法连接支付机构，未扣款，请重试", "暫時無法連線支付機構，未扣款，請重試", "The payment institution can't be reached right now. Nothing was charged: please try again."],
    ErrorBadResponse => ["支付服务返回异常，请重试", "付款服務回應異常，請重試", "The payment server sent an unexpected answer. Please try again."],
    ErrorUnsupported => ["该支付方式需要更新版本的收银台", "此付款方式需要較新版本的收銀台", "This method needs a newer version of the checkout."],
    ErrorWechatBridge => ["微信无法发起支付", "微信無法發起付款", "WeChat could not start the payment."],
    ErrorAlipayBridge => ["支付宝无法发起支付", "支付寶無法發起付款", "Alipay could not start the payment."],
    WalletClosed => ["支付已取消，可再次支付或选择其他支付方式", "付款已取消，可再次付款或選擇其他付款方式", "You closed the payment. Pay again, or choose another method."],
    HandOffStalled => ["支付没有打开？请重试或选择其他支付方式", "付款沒有開啟？請重試或選擇其他付款方式", "The payment didn't open? Try again or choose another method."],
    Unconfirmed => ["此页面无法确认支付结果。如已付款，商家会收到通知，请勿重复支付", "此頁面無法確認付款結果。如已付款，商家會收到通知，請勿重複付款", "This page can't confirm the payment. If you paid, the shop will be told: don't pay again."],
    ErrorMisconfigured => ["收银台配置有误", "收銀台設定有誤", "The checkout is not set up correctly."],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_languages_pick_a_locale() {
        let cases: [(&[&str], Locale); 7] = [
            (&["zh-CN", "en"], Locale::ZhCn),
            (&["zh-Hant-HK"], Locale::ZhTw),
            (&["zh_TW"], Locale::ZhTw),
            (&["zh-Hans-SG"], Locale::ZhCn),
            (&["ja-JP", "en-GB"], Locale::En),
            (&["de"], Locale::En),
            (&[], Locale::En),
        ];
        for (preferences, expected) in cases {
            assert_eq!(
                Locale::negotiate(preferences.iter().copied()),
                expected,
                "{preferences:?}"
            );
        }
    }

    #[test]
    fn every_message_exists_in_every_language() {
        for &key in Key::ALL {
            for locale in [Locale::ZhCn, Locale::ZhTw, Locale::En] {
                assert!(
                    !locale.text(key).trim().is_empty(),
                    "{key:?} missing in {locale:?}"
                );
            }
        }
    }

    #[test]
    fn countdowns_read_as_minutes_and_seconds() {
        assert_eq!(Locale::En.expires_in(299), "Expires in 4:59");
        assert_eq!(Locale::ZhCn.expires_in(61), "1:01 后过期");
        assert_eq!(Locale::En.expires_in(-5), "Expires in 0:00");
    }
}
