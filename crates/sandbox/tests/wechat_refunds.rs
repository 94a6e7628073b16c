//! The emulator's domestic refunds, driven as a merchant would over signed
//! HTTP: asked for, answered PROCESSING, ended as `/control` says and
//! notified with an encrypted `refund` resource; never more than the order
//! took; the same refund number is the same refund.

mod common;

use std::time::Duration;

use common::{NotifyReceiver, Sandbox, MCHID};
use serde_json::{json, Value};

const REFUNDS: &str = "/v3/refund/domestic/refunds";

/// A paid ¥128.00 Native order.
async fn paid_order(sandbox: &Sandbox, out_trade_no: &str, notify_url: &str) {
    let code_url = sandbox.create_native(out_trade_no, notify_url).await;
    assert_eq!(sandbox.scan(&code_url, "pay").await.0, 200);
}

fn refund(out_trade_no: &str, out_refund_no: &str, refund: i64, notify_url: &str) -> Value {
    json!({
        "out_trade_no": out_trade_no,
        "out_refund_no": out_refund_no,
        "reason": "商品已售完",
        "notify_url": notify_url,
        "amount": {"refund": refund, "total": 12800, "currency": "CNY"},
    })
}

#[tokio::test]
async fn a_refund_is_processing_then_succeeds_and_is_notified() {
    let sandbox = Sandbox::start().await;
    let receiver = NotifyReceiver::start().await;
    paid_order(&sandbox, "order_refund_1", &receiver.url).await;
    let paid = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(paid.len(), 1);

    let asked = sandbox
        .call(
            "POST",
            REFUNDS,
            Some(&refund("order_refund_1", "refund_1", 2800, &receiver.url)),
        )
        .await;
    assert_eq!(asked.status, 200, "{}", asked.text());
    let asked = asked.json();
    assert_eq!(asked["status"], "PROCESSING");
    assert_eq!(asked["out_refund_no"], "refund_1");
    assert_eq!(asked["out_trade_no"], "order_refund_1");
    assert_eq!(asked["amount"]["refund"], 2800);
    assert_eq!(asked["amount"]["total"], 12800);
    assert_eq!(asked["amount"]["currency"], "CNY");
    let refund_id = asked["refund_id"].as_str().unwrap().to_owned();
    assert_eq!(
        sandbox.query("order_refund_1").await.json()["trade_state"],
        "REFUND",
        "a paid order with a refund"
    );

    let notifications = receiver.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(notifications.len(), 2);
    let (kind, notice) = sandbox.open_refund_notification(&notifications[1]);
    assert_eq!(kind, "REFUND.SUCCESS");
    assert_eq!(notice["mchid"], MCHID);
    assert_eq!(notice["out_trade_no"], "order_refund_1");
    assert_eq!(notice["out_refund_no"], "refund_1");
    assert_eq!(notice["refund_id"], refund_id.as_str());
    assert_eq!(notice["refund_status"], "SUCCESS");
    assert_eq!(notice["amount"]["refund"], 2800);
    assert!(notice["success_time"].as_str().unwrap().ends_with("+08:00"));

    let queried = sandbox
        .call("GET", &format!("{REFUNDS}/refund_1"), None)
        .await;
    assert_eq!(queried.status, 200);
    assert_eq!(queried.json()["status"], "SUCCESS");
    assert_eq!(queried.json()["refund_id"], refund_id.as_str());
    sandbox
        .call("GET", &format!("{REFUNDS}/refund_unknown"), None)
        .await
        .assert_error(404, "RESOURCE_NOT_EXISTS");
}

#[tokio::test]
async fn refunds_give_back_at_most_what_was_paid_and_repeat_by_number() {
    let sandbox = Sandbox::start().await;
    let receiver = NotifyReceiver::start().await;
    paid_order(&sandbox, "order_refund_2", &receiver.url).await;
    let first = sandbox
        .call(
            "POST",
            REFUNDS,
            Some(&refund("order_refund_2", "refund_2a", 10000, &receiver.url)),
        )
        .await;
    assert_eq!(first.status, 200);
    let again = sandbox
        .call(
            "POST",
            REFUNDS,
            Some(&refund("order_refund_2", "refund_2a", 10000, &receiver.url)),
        )
        .await;
    assert_eq!(
        again.json()["refund_id"],
        first.json()["refund_id"],
        "the same number is the same refund"
    );
    sandbox
        .call(
            "POST",
            REFUNDS,
            Some(&refund("order_refund_2", "refund_2a", 500, &receiver.url)),
        )
        .await
        .assert_error(400, "INVALID_REQUEST");
    sandbox
        .call(
            "POST",
            REFUNDS,
            Some(&refund("order_refund_2", "refund_2b", 2801, &receiver.url)),
        )
        .await
        .assert_error(400, "INVALID_REQUEST");
    assert_eq!(
        sandbox
            .call(
                "POST",
                REFUNDS,
                Some(&refund("order_refund_2", "refund_2b", 2800, &receiver.url)),
            )
            .await
            .status,
        200,
        "exactly what is left"
    );

    let mut wrong_total = refund("order_refund_2", "refund_2c", 1, &receiver.url);
    wrong_total["amount"]["total"] = json!(1);
    sandbox
        .call("POST", REFUNDS, Some(&wrong_total))
        .await
        .assert_error(400, "PARAM_ERROR");
    sandbox
        .call(
            "POST",
            REFUNDS,
            Some(&refund("order_nowhere", "refund_2d", 1, &receiver.url)),
        )
        .await
        .assert_error(404, "RESOURCE_NOT_EXISTS");
    let unpaid = sandbox
        .create_native("order_refund_unpaid", &receiver.url)
        .await;
    assert!(!unpaid.is_empty());
    sandbox
        .call(
            "POST",
            REFUNDS,
            Some(&refund(
                "order_refund_unpaid",
                "refund_2e",
                1,
                &receiver.url,
            )),
        )
        .await
        .assert_error(400, "INVALID_REQUEST");
    let mut nameless = refund("order_refund_2", "", 1, &receiver.url);
    nameless["out_refund_no"] = json!("");
    sandbox
        .call("POST", REFUNDS, Some(&nameless))
        .await
        .assert_error(400, "PARAM_ERROR");
}

#[tokio::test]
async fn a_refund_can_end_abnormal_or_closed_as_the_control_says() {
    let sandbox = Sandbox::start().await;
    let receiver = NotifyReceiver::start().await;
    paid_order(&sandbox, "order_refund_3", &receiver.url).await;
    receiver.wait_for(1, Duration::from_secs(10)).await;
    for (outcome, no, event, status) in [
        ("abnormal", "refund_3a", "REFUND.ABNORMAL", "ABNORMAL"),
        ("closed", "refund_3b", "REFUND.CLOSED", "CLOSED"),
    ] {
        sandbox
            .control(json!({ "refund": outcome, "refund_delay_ms": 10 }))
            .await;
        let asked = sandbox
            .call(
                "POST",
                REFUNDS,
                Some(&refund("order_refund_3", no, 100, &receiver.url)),
            )
            .await;
        assert_eq!(asked.status, 200);
        let before = receiver.received().len();
        let notifications = receiver.wait_for(before + 1, Duration::from_secs(10)).await;
        let (kind, notice) = sandbox.open_refund_notification(&notifications[before]);
        assert_eq!(
            (kind.as_str(), notice["refund_status"].as_str()),
            (event, Some(status))
        );
        assert!(notice.get("success_time").is_none());
        let queried = sandbox.call("GET", &format!("{REFUNDS}/{no}"), None).await;
        assert_eq!(queried.json()["status"], status);
    }
}

#[tokio::test]
async fn the_phone_s_statement_shows_payments_and_refunds() {
    let sandbox = Sandbox::start().await;
    paid_order(
        &sandbox,
        "order_refund_4",
        "https://merchant.example/notify",
    )
    .await;
    sandbox.control(json!({ "refund_delay_ms": 10 })).await;
    let asked = sandbox
        .call(
            "POST",
            REFUNDS,
            Some(&refund(
                "order_refund_4",
                "refund_4",
                12800,
                "https://merchant.example/notify",
            )),
        )
        .await;
    assert_eq!(asked.status, 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let page = sandbox
        .http
        .get(format!("{}/phone", sandbox.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = page
        .split("data-testid=\"statement-line\"")
        .skip(1)
        .collect();
    assert_eq!(lines.len(), 2, "{page}");
    assert!(
        lines
            .iter()
            .any(|line| line.contains("-¥128.00") && line.contains("支付成功")),
        "the payment: {page}"
    );
    assert!(
        lines
            .iter()
            .any(|line| line.contains("+¥128.00") && line.contains("退款成功")),
        "the refund: {page}"
    );
}
