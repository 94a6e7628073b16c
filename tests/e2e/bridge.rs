//! A stand-in for a wallet app's JS bridge (`WeixinJSBridge` inside
//! WeChat, `AlipayJSBridge` inside Alipay): it arrives 800 ms after each
//! page, as the apps' own do, announced with its ready event; it records
//! each call and keeps the callback for the test to answer as the app would.

use std::time::Duration;

use serde_json::{json, Value};

use crate::browser::Browser;

/// The stand-in's script for `global.function(name, args, callback)`,
/// announced by the event `ready`.
pub fn stand_in(global: &str, function: &str, ready: &str) -> String {
    stand_in_after(global, function, ready, 800)
}

/// As [`stand_in`], arriving `delay_ms` after each page.
pub fn stand_in_after(global: &str, function: &str, ready: &str, delay_ms: u32) -> String {
    format!(
        r#"(() => {{
  window.__bridgeCalls = [];
  setTimeout(() => {{
    window.{global} = {{
      {function}(name, args, callback) {{
        window.__bridgeCalls.push({{ name, args }});
        window.__bridgeAnswer = callback;
      }},
    }};
    document.dispatchEvent(new Event("{ready}"));
  }}, {delay_ms});
}})();"#
    )
}

/// The page's first call of the bridge, `{name, args}`, once it calls.
pub async fn first_call(browser: &Browser) -> Value {
    for _ in 0..100 {
        // The page goes to the wallet's authorisation and back first: a
        // script that lands while it is leaving fails, and is asked again.
        let calls = browser
            .client
            .execute("return window.__bridgeCalls || [];", vec![])
            .await
            .unwrap_or_default();
        if let Some(call) = calls.as_array().and_then(|calls| calls.first()) {
            return call.clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page never called its wallet's bridge");
}

/// Forgets the calls so far (for a second payment on the same page).
pub async fn forget_calls(browser: &Browser) {
    browser
        .client
        .execute("window.__bridgeCalls = []; return true;", vec![])
        .await
        .expect("the record is cleared");
}

/// Hands `answer` to the page's callback, as the app would.
pub async fn answer(browser: &Browser, answer: Value) {
    browser
        .client
        .execute(
            "window.__bridgeAnswer(arguments[0]); return true;",
            vec![json!(answer)],
        )
        .await
        .expect("the callback runs");
}
