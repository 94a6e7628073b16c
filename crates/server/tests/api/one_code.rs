//! One code for every wallet: a desktop shows one code; the first phone
//! whose wallet app opens it (WeChat, Alipay, QuickPass, told by the user
//! agent) takes it and pays it inside its app; another phone is told the
//! order is being paid or is paid; a code of an ended checkout pays nothing.

use contract::{
    CreatedCheckoutSession, FormMethod, IntentStatus, MethodKind, NextAction, PaymentIntent,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::pages::{come_back, hidden};
use crate::unionpay::{pay_by_card, DEBIT};
use crate::world::{desktop, error_of, phone, send, World};

const WECHAT: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49 NetType/WIFI";
const ALIPAY: &str = "Mozilla/5.0 (Linux; Android 13; V2309A) AppleWebKit/537.36 Chrome/120.0 \
                      Mobile Safari/537.36 AlipayClient/10.5.86.8000";
const QUICKPASS: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 \
                         (KHTML, like Gecko) Mobile/15E148 (com.unionpay.chsp) (UnionPay/1.0 CloudPay)";
const SAFARI: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";

/// A desktop's one code: the intent and the URL its QR code holds.
async fn one_code(world: &World, created: &CreatedCheckoutSession) -> (PaymentIntent, String) {
    let intent = world
        .intent_with(created, "code", "any_wallet", desktop())
        .await;
    assert_eq!(intent.method, MethodKind::AnyWallet);
    let Some(NextAction::DisplayQrCode {
        payload,
        expires_at,
    }) = &intent.next_action
    else {
        panic!("no code: {intent:?}");
    };
    assert!(payload.starts_with(&world.root_url("/pay/")), "{payload}");
    assert_eq!(
        *expires_at, created.session.expires_at,
        "the code lasts as long as the checkout"
    );
    let payload = payload.clone();
    (intent, payload)
}

/// A phone whose wallet app opened the code: its user agent, and the
/// cookie the server gave it.
struct Phone<'a> {
    world: &'a World,
    user_agent: &'static str,
    cookie: Option<String>,
}

/// A page of the code as the phone sees it.
struct Page {
    status: StatusCode,
    screen: String,
    html: String,
}

impl Page {
    /// The wallet's hand-off the page carries.
    fn hand_off(&self) -> NextAction {
        let start = self
            .html
            .find(r#"id="ps-pay">"#)
            .unwrap_or_else(|| panic!("no hand-off on {}", self.html))
            + r#"id="ps-pay">"#.len();
        let json = &self.html[start..start + self.html[start..].find("</script>").unwrap()];
        serde_json::from_str(json).expect("the contract's hand-off")
    }
}

impl<'a> Phone<'a> {
    fn new(world: &'a World, user_agent: &'static str) -> Phone<'a> {
        Phone {
            world,
            user_agent,
            cookie: None,
        }
    }

    fn request(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let request = request
            .header("User-Agent", self.user_agent)
            .header("Accept-Language", "en");
        match &self.cookie {
            Some(cookie) => request.header("Cookie", cookie),
            None => request,
        }
    }

    async fn open(&self, url: &str) -> Page {
        let response = page(self.request(self.world.http.get(url))).await;
        let status = response.status();
        let policy = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(policy.contains("script-src 'self';"), "{policy}");
        assert_eq!(response.headers()["referrer-policy"], "no-referrer");
        let html = response.text().await.unwrap();
        let marker = r#"data-screen=""#;
        let at = html.find(marker).expect("a screen") + marker.len();
        let screen = html[at..at + html[at..].find('"').unwrap()].to_owned();
        Page {
            status,
            screen,
            html,
        }
    }

    /// Submits the claim form: where the server sends the phone.
    async fn take(&mut self, url: &str) -> String {
        let response = page(self.request(self.world.http.post(url))).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        if let Some(cookie) = response.headers().get("set-cookie") {
            let cookie = cookie.to_str().unwrap();
            assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
            let path = url.trim_start_matches(&self.world.root_url(""));
            assert!(cookie.contains(&format!("Path={path}")), "{cookie}");
            self.cookie = Some(cookie.split(';').next().unwrap().to_owned());
        }
        let to = response.headers()["location"].to_str().unwrap();
        match to.starts_with('/') {
            true => self.world.root_url(to),
            false => to.to_owned(),
        }
    }

    /// Opens the code, takes it, goes through the wallet's silent
    /// authorisation when there is one, and reads the page with the
    /// wallet's hand-off.
    async fn take_and_authorise(&mut self, code: &str) -> Page {
        let first = self.open(code).await;
        assert_eq!(first.screen, "claim", "{}", first.html);
        let to = self.take(code).await;
        if to != code {
            let at_wallet = page(self.request(self.world.http.get(&to))).await;
            assert_eq!(at_wallet.status(), StatusCode::FOUND, "{to}");
            let callback = at_wallet.headers()["location"].to_str().unwrap().to_owned();
            let at_server = send(self.request(self.world.http.get(&callback))).await;
            assert_eq!(at_server.status(), StatusCode::SEE_OTHER);
            assert_eq!(
                at_server.headers()["location"],
                format!("{code}?back").as_str(),
                "back to the code's page"
            );
        }
        let page = self.open(code).await;
        assert_eq!(page.screen, "pay", "{}", page.html);
        page
    }
}

/// The server's pages for phones are HTML, outside the merchant's
/// contract: only the `/api` callbacks between them are checked against it.
async fn page(request: reqwest::RequestBuilder) -> reqwest::Response {
    request.send().await.expect("the server answers")
}

/// WeChat's app answering `getBrandWCPayRequest` with `outcome`.
async fn wechat_bridge(world: &World, action: NextAction, outcome: &str) -> String {
    let NextAction::InvokeWechatJsapi { params } = action else {
        panic!("not WeChat's bridge: {action:?}");
    };
    let params = serde_json::to_value(params).expect("the bridge's arguments");
    crate::wechat::bridge(world, &params, outcome).await
}

/// An Alipay phone takes `code` and pays it: the page it was asked on.
pub async fn paid_inside_alipay(world: &World, code: &str) -> String {
    let mut alipay = Phone::new(world, ALIPAY);
    let page = alipay.take_and_authorise(code).await;
    let NextAction::InvokeAlipayTradePay { trade_no } = page.hand_off() else {
        panic!("not Alipay's bridge: {}", page.html);
    };
    assert_eq!(world.alipay_trade_pay(&trade_no, "pay").await, "9000");
    page.html
}

/// The phone's page once the wallet said it paid, when the server knows.
async fn outcome_on(phone: &Phone<'_>, code: &str) -> Page {
    for _ in 0..50 {
        let page = phone.open(&format!("{code}?done")).await;
        if page.screen != "checking" {
            return page;
        }
        phone.world.advance(3);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the phone never learned the outcome");
}

#[tokio::test]
async fn a_wechat_phone_takes_the_code_pays_inside_wechat_and_the_desktop_learns_the_wallet() {
    let world = World::start().await;
    let created = world.session().await;
    let (intent, code) = one_code(&world, &created).await;

    let mut wechat = Phone::new(&world, WECHAT);
    let page = wechat.take_and_authorise(&code).await;
    assert!(
        page.html.contains("Pay ¥128.00 with WeChat Pay"),
        "{}",
        page.html
    );

    // The desktop learns which wallet, and that the shopper pays on the phone.
    let desktop_sees = world.read_intent(&created, &intent.id).await;
    assert_eq!(desktop_sees.method, MethodKind::WechatPay);
    assert_eq!(desktop_sees.status, IntentStatus::Processing);
    assert_eq!(
        desktop_sees.next_action, None,
        "the phone's hand-off is the phone's"
    );

    // A second phone cannot take it.
    let mut alipay = Phone::new(&world, ALIPAY);
    assert_eq!(alipay.open(&code).await.screen, "paying_elsewhere");
    assert_eq!(alipay.take(&code).await, code);
    assert_eq!(alipay.cookie, None, "nothing taken");
    assert_eq!(alipay.open(&code).await.screen, "paying_elsewhere");

    assert_eq!(
        wechat_bridge(&world, page.hand_off(), "pay").await,
        "get_brand_wcpay_request:ok"
    );
    assert_eq!(outcome_on(&wechat, &code).await.screen, "paid");
    let paid = world.settled(&created, &intent.id).await;
    assert_eq!(paid.status, IntentStatus::Succeeded);
    assert_eq!(paid.method, MethodKind::WechatPay);
    assert_eq!(alipay.open(&code).await.screen, "paid_elsewhere");
    let session = world
        .merchant_get(&format!("/checkout-sessions/{}", created.session.id))
        .await;
    assert_eq!(session["payment"]["method"], "wechat_pay");
}

#[tokio::test]
async fn an_alipay_phone_authorises_and_pays_with_trade_pay() {
    let world = World::start().await;
    let created = world.session().await;
    let (intent, code) = one_code(&world, &created).await;
    let mut alipay = Phone::new(&world, ALIPAY);
    let page = alipay.take_and_authorise(&code).await;
    let NextAction::InvokeAlipayTradePay { trade_no } = page.hand_off() else {
        panic!("not Alipay's bridge: {}", page.html);
    };
    // Closing the pay sheet pays nothing; the page offers Pay again, also
    // once Alipay calls the trade made for this buyer "processing".
    assert_eq!(world.alipay_trade_pay(&trade_no, "cancel").await, "6001");
    world.advance(5);
    world.read_intent_asking(&created, &intent.id, true).await;
    let held = world.merchant_get(&format!("/intents/{}", intent.id)).await;
    assert_eq!(
        held["status"], "processing",
        "Alipay's trade waits for its buyer"
    );
    assert_eq!(alipay.open(&code).await.screen, "pay");
    assert_eq!(world.alipay_trade_pay(&trade_no, "pay").await, "9000");
    assert_eq!(outcome_on(&alipay, &code).await.screen, "paid");
    let paid = world.settled(&created, &intent.id).await;
    assert_eq!(
        (paid.status, paid.method),
        (IntentStatus::Succeeded, MethodKind::Alipay)
    );
}

#[tokio::test]
async fn a_quickpass_phone_pays_on_unionpay_s_phone_page_and_comes_back_to_the_code() {
    let world = World::start().await;
    let created = world.session().await;
    let (intent, code) = one_code(&world, &created).await;
    let mut quickpass = Phone::new(&world, QUICKPASS);
    let page = quickpass.take_and_authorise(&code).await;
    let NextAction::Redirect {
        url,
        method: FormMethod::Post,
        fields,
    } = page.hand_off()
    else {
        panic!("not UnionPay's form: {}", page.html);
    };
    let channel = fields.iter().find(|(name, _)| name == "channelType");
    assert_eq!(
        channel.map(|(_, v)| v.as_str()),
        Some("08"),
        "the phone page"
    );
    let card_page = world
        .http
        .post(&url)
        .form(&fields)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let done = pay_by_card(&world, &hidden(&card_page, "token"), DEBIT).await;
    assert_eq!(
        come_back(&world, &done, "unionpay-return").await,
        format!("{code}?done")
    );
    assert_eq!(outcome_on(&quickpass, &code).await.screen, "paid");
    let paid = world.settled(&created, &intent.id).await;
    assert_eq!(
        (paid.status, paid.method),
        (IntentStatus::Succeeded, MethodKind::Unionpay)
    );
}

#[tokio::test]
async fn an_authorisation_that_comes_back_without_the_payer_offers_to_try_again_not_a_loop() {
    let world = World::start().await;
    let created = world.session().await;
    let (_, code) = one_code(&world, &created).await;
    let mut wechat = Phone::new(&world, WECHAT);
    assert_eq!(wechat.open(&code).await.screen, "claim");
    let to_wallet = wechat.take(&code).await;
    assert_ne!(to_wallet, code, "sent to WeChat's authorisation");
    // The shopper refuses: WeChat comes back with the state and no code.
    let at_wallet = page(wechat.request(world.http.get(&to_wallet))).await;
    let callback = at_wallet.headers()["location"].to_str().unwrap().to_owned();
    let (path, query) = callback.split_once('?').unwrap();
    let without_code: Vec<&str> = query
        .split('&')
        .filter(|pair| !pair.starts_with("code="))
        .collect();
    let refused = format!("{path}?{}", without_code.join("&"));
    let back = send(wechat.request(world.http.get(&refused))).await;
    let back = back.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(back, format!("{code}?back"));
    let page = wechat.open(&back).await;
    assert_eq!(page.screen, "try_again", "{}", page.html);
    assert!(
        !page.html.contains("ps-pay"),
        "not sent to WeChat again unasked"
    );
    // Trying again goes through the authorisation again, and pays.
    let again = wechat.open(&code).await;
    assert_eq!(again.screen, "pay");
}

#[tokio::test]
async fn a_browser_that_is_no_wallet_is_told_which_apps_can_scan_and_takes_nothing() {
    let world = World::start().await;
    let created = world.session().await;
    let (intent, code) = one_code(&world, &created).await;
    let mut safari = Phone::new(&world, SAFARI);
    let page = safari.open(&code).await;
    assert_eq!(page.screen, "scan_with_app");
    for app in ["WeChat Pay", "Alipay", "UnionPay QuickPass"] {
        assert!(
            page.html.contains(&format!("<li>{app}</li>")),
            "{}",
            page.html
        );
    }
    assert_eq!(safari.take(&code).await, code);
    assert_eq!(safari.cookie, None);
    let still = world.read_intent(&created, &intent.id).await;
    assert_eq!(
        (still.method, still.status),
        (MethodKind::AnyWallet, IntentStatus::RequiresAction)
    );
}

#[tokio::test]
async fn a_code_offered_only_on_a_desktop_and_worthless_once_the_checkout_ends() {
    let world = World::start().await;
    let created = world.session().await;
    let offered = |client: Value| {
        let world = &world;
        let created = &created;
        async move {
            world
                .session_in(created, &client)
                .await
                .methods
                .iter()
                .any(|method| method.kind == MethodKind::AnyWallet)
        }
    };
    assert!(offered(desktop()).await);
    assert!(
        !offered(phone()).await,
        "a phone cannot scan its own screen"
    );
    let refused = world
        .create_intent(
            &created,
            Some("p"),
            json!({"method": "any_wallet", "client": phone()}),
        )
        .await;
    assert_eq!(error_of(refused).await.0, StatusCode::UNPROCESSABLE_ENTITY);

    let (intent, code) = one_code(&world, &created).await;
    world.advance(created.session.expires_at - world.state.now() + 1);
    world.sweep().await;
    let mut wechat = Phone::new(&world, WECHAT);
    let page = wechat.open(&code).await;
    assert_eq!(
        (page.status, page.screen.as_str()),
        (StatusCode::GONE, "ended")
    );
    assert_eq!(wechat.take(&code).await, code);
    assert_eq!(wechat.cookie, None);
    let ended = world.read_intent(&created, &intent.id).await;
    assert_eq!(ended.status, IntentStatus::Expired);
    assert_eq!(ended.method, MethodKind::AnyWallet, "no wallet was asked");

    let unknown = wechat.open(&world.root_url("/pay/0123456789abcdef")).await;
    assert_eq!(unknown.screen, "ended");
}

#[tokio::test]
async fn a_code_canceled_on_the_desktop_cannot_be_taken_and_one_taken_is_closed_with_its_wallet() {
    let world = World::start().await;
    let created = world.session().await;
    let (intent, code) = one_code(&world, &created).await;
    assert_eq!(
        world.cancel(&created, &intent.id).await.status(),
        StatusCode::OK
    );
    let mut wechat = Phone::new(&world, WECHAT);
    assert_eq!(wechat.open(&code).await.screen, "ended");
    assert_eq!(wechat.take(&code).await, code);
    assert_eq!(wechat.cookie, None);

    // Taken, then the desktop shopper chooses another way: the wallet's
    // order is closed, and the phone is told.
    let second = world
        .intent_with(&created, "code-2", "any_wallet", desktop())
        .await;
    let Some(NextAction::DisplayQrCode { payload, .. }) = &second.next_action else {
        panic!("no code");
    };
    assert_ne!(payload, &code, "a new code");
    let mut alipay = Phone::new(&world, ALIPAY);
    let page = alipay.take_and_authorise(payload).await;
    let NextAction::InvokeAlipayTradePay { trade_no } = page.hand_off() else {
        panic!("not Alipay's bridge");
    };
    world
        .intent_with(&created, "wechat", "wechat_pay", desktop())
        .await;
    assert_eq!(alipay.open(payload).await.screen, "ended");
    assert_ne!(
        world.alipay_trade_pay(&trade_no, "pay").await,
        "9000",
        "Alipay's trade is closed"
    );
}

#[tokio::test]
async fn two_phones_taking_the_code_at_once_one_wins() {
    let world = World::start().await;
    for round in 0..5 {
        let created = world.session().await;
        let (_, code) = one_code(&world, &created).await;
        let mut wechat = Phone::new(&world, WECHAT);
        let mut alipay = Phone::new(&world, ALIPAY);
        let (to_wechat, to_alipay) = tokio::join!(wechat.take(&code), alipay.take(&code));
        let winners = [&wechat.cookie, &alipay.cookie]
            .iter()
            .filter(|cookie| cookie.is_some())
            .count();
        assert_eq!(winners, 1, "round {round}: {to_wechat} / {to_alipay}");
        let loser = if wechat.cookie.is_some() {
            &alipay
        } else {
            &wechat
        };
        assert_eq!(loser.open(&code).await.screen, "paying_elsewhere");
    }
}

/// The emulator's wallet apps (`/apps/scan`, what `cargo xtask serve`'s
/// sandbox uses) open the code as each app's web view would.
async fn app_scans(world: &World, code: &str, app: &str, outcome: &str) -> Value {
    let answer = world
        .http
        .post(format!("{}/apps/scan", world.sandbox))
        .json(&json!({"url": code, "app": app, "outcome": outcome}))
        .send()
        .await
        .expect("the emulator answers");
    assert_eq!(answer.status(), StatusCode::OK);
    answer.json().await.expect("what the phone showed")
}

#[tokio::test]
async fn the_emulator_s_three_apps_each_pay_a_code_and_a_second_app_is_turned_away() {
    let world = World::start().await;
    for (app, method) in [
        ("wechat", MethodKind::WechatPay),
        ("alipay", MethodKind::Alipay),
        ("quickpass", MethodKind::Unionpay),
    ] {
        let created = world.session().await;
        let (intent, code) = one_code(&world, &created).await;
        let phone = app_scans(&world, &code, app, "pay").await;
        assert_eq!(phone["screen"], "paid", "{app}: {phone}");
        let paid = world.settled(&created, &intent.id).await;
        assert_eq!(
            (paid.status, paid.method),
            (IntentStatus::Succeeded, method)
        );
        let other = if app == "wechat" { "alipay" } else { "wechat" };
        let second = app_scans(&world, &code, other, "pay").await;
        assert_eq!(second["screen"], "paid_elsewhere", "{other}: {second}");
    }
    // The widget's sandbox scan opens a code in the emulated WeChat.
    let created = world.session().await;
    let (intent, code) = one_code(&world, &created).await;
    let scanned = send(
        world
            .http
            .post(world.url("/sandbox/scan"))
            .json(&json!({"code_url": code})),
    )
    .await;
    assert_eq!(scanned.status(), StatusCode::OK);
    let paid = world.settled(&created, &intent.id).await;
    assert_eq!(paid.method, MethodKind::WechatPay);
}
