//! The gateway's API methods, behind its checks: `alipay.trade.precreate`,
//! `.create`, `.query`, `.close`, `.refund` and `.fastpay.refund.query`.
//!
//! Documented answers (opendocs open/05osv9, 02ekfq, 02o6e8, 02ekfs, 02ekft
//! and their samples): precreate `{out_trade_no, qr_code}`; create
//! `{out_trade_no, trade_no}`; query `{trade_no, out_trade_no,
//! trade_status, total_amount, buyer_logon_id, buyer_user_id,
//! buyer_pay_amount, invoice_amount, receipt_amount, point_amount,
//! send_pay_date, fund_bill_list, ...}`; close `{out_trade_no, trade_no}`;
//! refund `{trade_no, out_trade_no, buyer_logon_id, buyer_user_id,
//! fund_change, refund_fee, gmt_refund_pay}`; refund query `{out_request_no,
//! out_trade_no, trade_no, total_amount, refund_amount, refund_status}`
//! (REFUND_SUCCESS once it succeeded; for a refund it does not know, the
//! query "only answers 10000 Success, without refund information"). Errors:
//! ACQ.TRADE_NOT_EXIST, ACQ.TRADE_HAS_SUCCESS, ACQ.TRADE_HAS_CLOSE,
//! ACQ.CONTEXT_INCONSISTENT, ACQ.TRADE_STATUS_ERROR ("only a trade waiting
//! for its buyer closes"), ACQ.REFUND_AMT_NOT_EQUAL_TOTAL,
//! ACQ.DISCORDANT_REPEAT_REQUEST, ACQ.SELLER_BALANCE_NOT_ENOUGH,
//! ACQ.BUYER_SELLER_EQUAL. When both `trade_no` and `out_trade_no` are
//! given, `trade_no` counts. `product_code` is QR_CODE_OFFLINE (or the older
//! FACE_TO_FACE_PAYMENT) for precreate, QUICK_WAP_WAY (required) for WAP,
//! JSAPI_PAY or FACE_TO_FACE_PAYMENT for create.
//!
//! Assumed: refusals echo `out_trade_no` (and, for refunds, `refund_fee`
//! and `send_back_fee` "0.00"), as Alipay's samples of them do; the query
//! of a trade that does not exist also carries the zero amounts of those
//! samples; a query or refund names the buyer by both `buyer_user_id` and
//! `buyer_open_id`; a refund still processing has no `refund_status` and
//! no `gmt_refund_pay`; `gmt_refund_pay` in a refund query only when
//! `query_options` asks for it.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::biz::{is_web_url, Biz};
use super::refunds::{RefundRefused, RefundRequest, RefundStatus};
use super::trades::{BuyerRef, CreateRefused, Product, Trade, TradeParams};
use super::wire::{Node, Params, Refusal};
use super::Alipay;
use crate::clock::cst_datetime;
use crate::html::yuan;

/// `alipay.trade.precreate`: an order code; no trade until it is scanned.
pub(super) fn precreate(
    alipay: &Arc<Alipay>,
    params: &Params,
    biz: &Map<String, Value>,
) -> Result<Node, Refusal> {
    let biz = Biz::new(biz);
    let now = alipay.clock.unix_seconds();
    product_code(&biz, &["QR_CODE_OFFLINE", "FACE_TO_FACE_PAYMENT"], false)?;
    let trade = trade_params(alipay, Product::Precreate, params, &biz, now)?;
    let precreated = alipay
        .lock()
        .trades
        .precreate(trade, now)
        .map_err(create_refusal)?;
    tracing::info!(out_trade_no = %precreated.params.out_trade_no, "alipay order code issued");
    Ok(Node::success()
        .with("out_trade_no", precreated.params.out_trade_no)
        .with("qr_code", precreated.qr_code))
}

/// `alipay.trade.create`: a trade for the named buyer, paid in the app.
pub(super) fn create(
    alipay: &Arc<Alipay>,
    params: &Params,
    biz: &Map<String, Value>,
) -> Result<Node, Refusal> {
    let biz = Biz::new(biz);
    let now = alipay.clock.unix_seconds();
    product_code(&biz, &["JSAPI_PAY", "FACE_TO_FACE_PAYMENT"], false)?;
    let mut trade = trade_params(alipay, Product::Create, params, &biz, now)?;
    let buyer = match (
        biz.optional("buyer_id", 28)?,
        biz.optional("buyer_open_id", 128)?,
    ) {
        (Some(user_id), _) => BuyerRef::UserId(user_id),
        (None, Some(open_id)) => BuyerRef::OpenId(open_id),
        (None, None) => {
            return Err(Refusal::invalid_parameter(
                "buyer_id和buyer_open_id不能同时为空",
            ))
        }
    };
    if buyer == BuyerRef::UserId(alipay.config.seller_id.clone()) {
        return Err(Refusal::business(
            "ACQ.BUYER_SELLER_EQUAL",
            "买卖家不能相同",
        ));
    }
    let shopper = &alipay.shopper;
    let known = match &buyer {
        BuyerRef::UserId(user_id) => *user_id == shopper.user_id,
        BuyerRef::OpenId(open_id) => *open_id == shopper.open_id,
    };
    if !known {
        return Err(Refusal::invalid_parameter(format!(
            "买家不存在 (sandbox: the emulated shopper is user_id {} / open_id {})",
            shopper.user_id, shopper.open_id
        )));
    }
    trade.buyer = Some(buyer);
    let trade = alipay
        .lock()
        .trades
        .create(trade, shopper, now)
        .map_err(create_refusal)?;
    tracing::info!(out_trade_no = %trade.params.out_trade_no, trade_no = %trade.trade_no, "alipay trade created");
    Ok(Node::success()
        .with("out_trade_no", trade.params.out_trade_no)
        .with("trade_no", trade.trade_no))
}

/// The business parameters of `alipay.trade.wap.pay`, checked; its
/// `return_url` and `quit_url` must be on the application's domains.
pub(super) fn wap_params(
    alipay: &Alipay,
    params: &Params,
    biz: &Map<String, Value>,
    now: i64,
) -> Result<TradeParams, Refusal> {
    let biz = Biz::new(biz);
    product_code(&biz, &["QUICK_WAP_WAY"], true)?;
    let mut trade = trade_params(alipay, Product::Wap, params, &biz, now)?;
    let return_url = params.get("return_url").map(str::to_owned);
    let quit_url = biz.optional("quit_url", 400)?;
    for (name, url) in [("return_url", &return_url), ("quit_url", &quit_url)] {
        if let Some(url) = url {
            if !is_web_url(url) {
                return Err(Refusal::invalid_parameter(format!("{name}格式错误")));
            }
            if !alipay.on_return_domains(url) {
                return Err(Refusal::invalid_parameter(format!(
                    "{name}的域名不在应用配置的域名内 (sandbox: return_domains)"
                )));
            }
        }
    }
    trade.return_url = return_url;
    trade.quit_url = quit_url;
    Ok(trade)
}

/// What every trade-making method reads.
fn trade_params(
    alipay: &Alipay,
    product: Product,
    params: &Params,
    biz: &Biz,
    now: i64,
) -> Result<TradeParams, Refusal> {
    let out_trade_no = biz.out_trade_no()?;
    let total = biz.total_amount()?;
    let subject = biz.subject()?;
    let body = biz.optional("body", 128)?;
    let timeout = biz.timeout(now)?;
    let passback_params = biz.optional("passback_params", 512)?;
    if biz
        .text("seller_id")
        .is_some_and(|seller_id| seller_id != alipay.config.seller_id)
    {
        return Err(Refusal::invalid_parameter(
            "seller_id不是本应用签约的收款账号",
        ));
    }
    let notify_url = params.get("notify_url").map(str::to_owned);
    if notify_url.as_deref().is_some_and(|url| !is_web_url(url)) {
        return Err(Refusal::invalid_parameter("notify_url格式错误"));
    }
    Ok(TradeParams {
        product,
        out_trade_no,
        total,
        subject,
        body,
        timeout,
        notify_url,
        return_url: None,
        quit_url: None,
        passback_params,
        buyer: None,
    })
}

/// `product_code`, one of `allowed` (and present when `required`).
fn product_code(biz: &Biz, allowed: &[&str], required: bool) -> Result<(), Refusal> {
    match biz.text("product_code") {
        None if required => Err(Refusal::invalid_parameter("缺少必选参数product_code")),
        None => Ok(()),
        Some(code) if allowed.contains(&code.as_str()) => Ok(()),
        Some(code) => Err(Refusal::invalid_parameter(format!(
            "product_code {code} 不支持，应为 {}",
            allowed.join(" 或 ")
        ))),
    }
}

pub(super) fn create_refusal(refused: CreateRefused) -> Refusal {
    match refused {
        CreateRefused::Paid => Refusal::business("ACQ.TRADE_HAS_SUCCESS", "交易已被支付"),
        CreateRefused::Closed => Refusal::business("ACQ.TRADE_HAS_CLOSE", "交易已经关闭"),
        CreateRefused::Inconsistent => {
            Refusal::business("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
        }
    }
}

/// ACQ.TRADE_NOT_EXIST, echoing what was asked.
fn not_exist(trade_no: &Option<String>, out_trade_no: &Option<String>) -> Refusal {
    Refusal::business("ACQ.TRADE_NOT_EXIST", "交易不存在")
        .with_some("trade_no", trade_no.clone())
        .with_some("out_trade_no", out_trade_no.clone())
}

/// `alipay.trade.query`.
pub(super) fn query(alipay: &Arc<Alipay>, biz: &Map<String, Value>) -> Result<Node, Refusal> {
    let (trade_no, out_trade_no) = Biz::new(biz).trade_ref()?;
    let now = alipay.clock.unix_seconds();
    let trade = {
        let mut state = alipay.lock();
        let found = state
            .trades
            .find(trade_no.as_deref(), out_trade_no.as_deref());
        found.and_then(|no| state.trades.get(&no, now).cloned())
    };
    let Some(trade) = trade else {
        return Err(not_exist(&trade_no, &out_trade_no)
            .with("buyer_pay_amount", "0.00")
            .with("invoice_amount", "0.00")
            .with("point_amount", "0.00")
            .with("receipt_amount", "0.00"));
    };
    Ok(query_node(&trade))
}

fn query_node(trade: &Trade) -> Node {
    let received = if trade.paid_at.is_some() {
        yuan(trade.params.total)
    } else {
        yuan(0)
    };
    let node = Node::success()
        .with("trade_no", trade.trade_no.clone())
        .with("out_trade_no", trade.params.out_trade_no.clone())
        .with("trade_status", trade.status.wire())
        .with("total_amount", yuan(trade.params.total))
        .with("buyer_pay_amount", received.clone())
        .with("invoice_amount", received.clone())
        .with("receipt_amount", received.clone())
        .with("point_amount", "0.00")
        .with_some("send_pay_date", trade.paid_at.map(cst_datetime))
        .with_some(
            "fund_bill_list",
            trade
                .paid_at
                .map(|_| json!([{ "amount": received, "fund_channel": "ALIPAYACCOUNT" }])),
        );
    with_buyer(node, trade).with_some("buyer_user_type", trade.buyer.as_ref().map(|_| "PRIVATE"))
}

fn with_buyer(node: Node, trade: &Trade) -> Node {
    let buyer = trade.buyer.as_ref();
    node.with_some("buyer_logon_id", buyer.map(|b| b.logon_id.clone()))
        .with_some("buyer_user_id", buyer.map(|b| b.user_id.clone()))
        .with_some("buyer_open_id", buyer.map(|b| b.open_id.clone()))
}

/// `alipay.trade.close`.
pub(super) fn close(alipay: &Arc<Alipay>, biz: &Map<String, Value>) -> Result<Node, Refusal> {
    let (trade_no, out_trade_no) = Biz::new(biz).trade_ref()?;
    let now = alipay.clock.unix_seconds();
    let closed = {
        let mut state = alipay.lock();
        let found = state
            .trades
            .find(trade_no.as_deref(), out_trade_no.as_deref());
        let Some(no) = found else {
            return Err(not_exist(&trade_no, &out_trade_no));
        };
        state.trades.close(&no, now)
    };
    match closed {
        Ok(trade) => {
            tracing::info!(out_trade_no = %trade.params.out_trade_no, "alipay trade closed");
            Ok(Node::success()
                .with("out_trade_no", trade.params.out_trade_no)
                .with("trade_no", trade.trade_no))
        }
        Err(_) => Err(
            Refusal::business("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
                .with_some("out_trade_no", out_trade_no),
        ),
    }
}

/// `alipay.trade.refund`.
pub(super) fn refund(alipay: &Arc<Alipay>, biz: &Map<String, Value>) -> Result<Node, Refusal> {
    let biz = Biz::new(biz);
    let (trade_no, out_trade_no) = biz.trade_ref()?;
    let request = RefundRequest {
        amount: biz.refund_amount()?,
        out_request_no: biz.optional("out_request_no", 64)?,
        reason: biz.optional("refund_reason", 256)?,
    };
    let now = alipay.clock.unix_seconds();
    let control = alipay.control();
    let refused = |sub_code: &str, sub_msg: &str| {
        Refusal::business(sub_code, sub_msg)
            .with_some("out_trade_no", out_trade_no.clone())
            .with("refund_fee", "0.00")
            .with("send_back_fee", "0.00")
    };
    let result = {
        let mut state = alipay.lock();
        let found = state
            .trades
            .find(trade_no.as_deref(), out_trade_no.as_deref());
        let Some(no) = found else {
            return Err(refused("ACQ.TRADE_NOT_EXIST", "交易不存在"));
        };
        state.trades.refund(
            &no,
            request,
            control.refund_fund_change_later,
            control.balance_short,
            now,
        )
    };
    let refunded = result.map_err(|refusal| match refusal {
        RefundRefused::NotFound => refused("ACQ.TRADE_NOT_EXIST", "交易不存在"),
        RefundRefused::NotPaid => refused("ACQ.TRADE_STATUS_ERROR", "交易状态非法，交易尚未支付"),
        RefundRefused::Closed => refused("ACQ.TRADE_HAS_CLOSE", "交易已经关闭"),
        RefundRefused::Exceeds => refused("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限"),
        RefundRefused::PartialWithoutRequestNo => refused(
            "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL",
            "退款金额超限：部分退款须传入out_request_no",
        ),
        RefundRefused::Discordant => refused("ACQ.DISCORDANT_REPEAT_REQUEST", "不一致的请求"),
        RefundRefused::BalanceShort => refused("ACQ.SELLER_BALANCE_NOT_ENOUGH", "卖家余额不足"),
    })?;
    let (trade, refund) = (&refunded.trade, &refunded.refund);
    if refunded.new {
        tracing::info!(out_trade_no = %trade.params.out_trade_no, out_request_no = %refund.out_request_no, amount = refund.amount, "alipay refund");
        match refund.status {
            RefundStatus::Success => alipay.notify(trade, Some(refund)),
            RefundStatus::Processing => alipay.finish_refund_later(
                trade.params.out_trade_no.clone(),
                refund.out_request_no.clone(),
            ),
        }
    }
    let node = Node::success()
        .with("trade_no", trade.trade_no.clone())
        .with("out_trade_no", trade.params.out_trade_no.clone())
        .with("fund_change", if refunded.fund_change { "Y" } else { "N" })
        .with("refund_fee", yuan(trade.refunded()))
        .with_some("gmt_refund_pay", refund.succeeded_at.map(cst_datetime));
    Ok(with_buyer(node, trade))
}

/// `alipay.trade.fastpay.refund.query`.
pub(super) fn refund_query(
    alipay: &Arc<Alipay>,
    biz: &Map<String, Value>,
) -> Result<Node, Refusal> {
    let biz_fields = biz;
    let biz = Biz::new(biz);
    let (trade_no, out_trade_no) = biz.trade_ref()?;
    let out_request_no = biz.required("out_request_no")?;
    let wants_time = biz_fields
        .get("query_options")
        .and_then(Value::as_array)
        .is_some_and(|options| options.iter().any(|o| o == "gmt_refund_pay"));
    let now = alipay.clock.unix_seconds();
    let trade = {
        let mut state = alipay.lock();
        let found = state
            .trades
            .find(trade_no.as_deref(), out_trade_no.as_deref());
        found.and_then(|no| state.trades.get(&no, now).cloned())
    };
    let Some(trade) = trade else {
        return Err(not_exist(&trade_no, &out_trade_no));
    };
    let Some(refund) = trade.refund_by(&out_request_no) else {
        return Ok(Node::success());
    };
    let succeeded = refund.status == RefundStatus::Success;
    Ok(Node::success()
        .with("out_request_no", refund.out_request_no.clone())
        .with("out_trade_no", trade.params.out_trade_no.clone())
        .with("trade_no", trade.trade_no.clone())
        .with("total_amount", yuan(trade.params.total))
        .with("refund_amount", yuan(refund.amount))
        .with_some("refund_reason", refund.reason.clone())
        .with_some("refund_status", succeeded.then_some("REFUND_SUCCESS"))
        .with_some(
            "gmt_refund_pay",
            refund.succeeded_at.filter(|_| wants_time).map(cst_datetime),
        ))
}
