//! What the component tells the server about where the shopper is. The
//! server chooses each method's flow from it; the component never does.

use contract::{ClientContext, Device, InApp};

/// Reads the device and in-app browser from a `User-Agent` string and the
/// number of touch points the screen takes (`navigator.maxTouchPoints`):
/// an iPad says "Macintosh", as a Mac does, but a Mac has no touch screen.
///
/// ```
/// # use payment_selector::context::from_navigator;
/// # use contract::Device;
/// let ipad = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Version/17.0 Safari/605.1.15";
/// assert_eq!(from_navigator(ipad, 5).device, Device::Mobile);
/// assert_eq!(from_navigator(ipad, 0).device, Device::Desktop);
/// ```
pub fn from_navigator(user_agent: &str, max_touch_points: i32) -> ClientContext {
    let mut context = from_user_agent(user_agent);
    if max_touch_points > 1 && has(&user_agent.to_ascii_lowercase(), "macintosh") {
        context.device = Device::Mobile;
    }
    context
}

/// True when the lower-cased `ua` contains `marker`. A byte window, not
/// `str::contains`: the bundle then carries no string searcher.
fn has(ua: &str, marker: &str) -> bool {
    ua.as_bytes()
        .windows(marker.len())
        .any(|window| window == marker.as_bytes())
}

/// Reads the device and in-app browser from a `User-Agent` string.
///
/// ```
/// # use payment_selector::context::from_user_agent;
/// # use contract::{Device, InApp};
/// let ua = "Mozilla/5.0 (iPhone) AppleWebKit Mobile MicroMessenger/8.0.49";
/// let context = from_user_agent(ua);
/// assert_eq!(context.device, Device::Mobile);
/// assert_eq!(context.in_app, Some(InApp::Wechat));
/// ```
pub fn from_user_agent(user_agent: &str) -> ClientContext {
    let ua = user_agent.to_ascii_lowercase();
    let has = |marker: &str| has(&ua, marker);
    let in_app = if has("micromessenger") {
        Some(InApp::Wechat)
    } else if has("alipayclient") {
        Some(InApp::Alipay)
    } else if has("unionpay/") {
        Some(InApp::Quickpass)
    } else {
        None
    };
    let mobile = ["mobi", "android", "iphone", "ipad", "ipod", "harmonyos"]
        .iter()
        .any(|marker| has(marker));
    let device = if mobile || in_app.is_some() {
        Device::Mobile
    } else {
        Device::Desktop
    };
    ClientContext { device, in_app }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn desktop_browsers_are_desktop() {
        let chrome =
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36";
        assert_eq!(
            from_user_agent(chrome),
            ClientContext {
                device: Device::Desktop,
                in_app: None
            }
        );
    }

    #[test]
    fn phones_are_mobile() {
        for ua in [
            "Mozilla/5.0 (Linux; Android 14; V2309A) AppleWebKit/537.36 Chrome/120 Mobile Safari/537.36",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
        ] {
            assert_eq!(from_user_agent(ua).device, Device::Mobile, "{ua}");
        }
    }

    #[test]
    fn in_app_browsers_are_named() {
        let alipay = "Mozilla/5.0 (Linux; Android 13) Mobile AlipayClient/10.5.0";
        assert_eq!(from_user_agent(alipay).in_app, Some(InApp::Alipay));
        let quickpass =
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 \
                         (KHTML, like Gecko) Mobile/15E148 (com.unionpay.chsp) (cordova 4.5.4) \
                         (updebug 0) (version 1011) (UnionPay/1.0 CloudPay) (clientVersion 311)";
        assert_eq!(from_user_agent(quickpass).in_app, Some(InApp::Quickpass));
        assert_eq!(from_user_agent(quickpass).device, Device::Mobile);
        // WeChat's desktop client is still WeChat: Alipay pages stay blocked there.
        let wechat_pc =
            "Mozilla/5.0 (Windows NT 10.0) Chrome/81 MicroMessenger/7.0.20 WindowsWechat";
        assert_eq!(from_user_agent(wechat_pc).in_app, Some(InApp::Wechat));
    }
}
