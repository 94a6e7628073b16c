//! The HTTP contract and the reference server's promises, over real HTTP,
//! against the provider sandbox (the WeChat Pay v3 and Alipay OpenAPI
//! emulators, the webhook receiver), on a real SQLite file, and again on
//! PostgreSQL when `PS_TEST_POSTGRES` names one (`cargo xtask test` does).
//!
//! - `amounts`: every method, in every context, shown, sent and paid at
//!   the session's amount;
//! - `sessions`: the contract's sessions, credentials and idempotency;
//! - `one_payment`: one payable intent per session, and a second payment
//!   kept for a refund;
//! - `outcomes`: declines, outages and lost notifications told truthfully;
//! - `merchant`: reads with the secret key, webhooks, batches, running live;
//! - `tenancy`: merchants kept apart, by key and by provider account;
//! - `refunds`: money given back through the provider;
//! - `nothing_blocks`: what is stuck holds up nobody else;
//! - `operations`: health, readiness, metrics, request ids, proxies;
//! - `instances`: several servers on one database, and one killed;
//! - `wechat`: WeChat Pay's Native, H5 and JSAPI flows end to end;
//! - `alipay`: Alipay's code, WAP cashier and in-app `tradePay`, and its
//!   refunds and notifications.
//!
//! Every answer of the server, and every webhook event, is checked against
//! the contract's OpenAPI document on the way (`conformance`).

mod alipay;
mod amounts;
mod cmpay;
mod conformance;
mod instances;
mod merchant;
mod nothing_blocks;
mod one_code;
mod one_payment;
mod operations;
mod outcomes;
mod pages;
mod refunds;
mod sessions;
mod tenancy;
mod unionpay;
mod wechat;
mod world;
