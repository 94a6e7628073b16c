//! What an operator watches, in Prometheus' text format at `/metrics`:
//! requests by route and status with their latency, provider calls by
//! outcome with theirs, webhook deliveries, and, read from the database at
//! each scrape, intents by status and how much waits in each outbox.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::response::Response;
use contract::{Flow, MethodKind, UnixSeconds};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use crate::providers::{
    Closed, HandOff, Notification, OrderRef, Provider, ProviderError, ProviderOrder,
    ProviderRefund, ProviderStatus, RefundRef, RefundState,
};
use crate::store::Store;

/// Every series the server keeps.
pub struct Metrics {
    registry: Registry,
    requests: HistogramVec,
    provider_calls: HistogramVec,
    webhook_deliveries: IntCounterVec,
    intents: IntGaugeVec,
    outbox_waiting: IntGaugeVec,
    outbox_oldest_age: IntGaugeVec,
    refunds_pending: IntGauge,
}

/// Seconds: from a fast read to a provider's timeout.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

impl Metrics {
    /// A fresh set of series.
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new();
        let histogram = |name: &str, help: &str, labels: &[&str]| {
            let opts = HistogramOpts::new(name, help).buckets(BUCKETS.to_vec());
            let histogram = HistogramVec::new(opts, labels)?;
            registry.register(Box::new(histogram.clone()))?;
            Ok::<_, prometheus::Error>(histogram)
        };
        let requests = histogram(
            "http_request_duration_seconds",
            "Requests answered, by route template, method and status, and how long they took.",
            &["route", "method", "status"],
        )?;
        let provider_calls = histogram(
            "provider_call_duration_seconds",
            "Calls to payment providers, by provider, call and outcome (ok, refused, unavailable, busy, bad_answer), and how long they took.",
            &["provider", "call", "outcome"],
        )?;
        let gauges = |name: &str, help: &str, labels: &[&str]| {
            let gauge = IntGaugeVec::new(Opts::new(name, help), labels)?;
            registry.register(Box::new(gauge.clone()))?;
            Ok::<_, prometheus::Error>(gauge)
        };
        let intents = gauges(
            "payment_intents",
            "Payment intents stored, by status.",
            &["status"],
        )?;
        let outbox_waiting = gauges(
            "outbox_waiting",
            "Rows waiting in an outbox (webhooks: events to deliver; provider_jobs: closes to make).",
            &["outbox"],
        )?;
        let outbox_oldest_age = gauges(
            "outbox_oldest_age_seconds",
            "How long the oldest row of an outbox has waited (0 when it is empty).",
            &["outbox"],
        )?;
        let webhook_deliveries = IntCounterVec::new(
            Opts::new(
                "webhook_deliveries_total",
                "Webhook deliveries tried, by outcome (delivered, failed).",
            ),
            &["outcome"],
        )?;
        registry.register(Box::new(webhook_deliveries.clone()))?;
        let refunds_pending = IntGauge::new(
            "refunds_pending",
            "Refunds asked for and not yet ended by their provider.",
        )?;
        registry.register(Box::new(refunds_pending.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            provider_calls,
            webhook_deliveries,
            intents,
            outbox_waiting,
            outbox_oldest_age,
            refunds_pending,
        })
    }

    /// A request answered.
    pub fn request(&self, route: &str, method: &str, status: u16, took: Duration) {
        self.requests
            .with_label_values(&[route, method, &status.to_string()])
            .observe(took.as_secs_f64());
    }

    /// A provider call made.
    pub fn provider_call(&self, provider: &str, call: &str, outcome: &str, took: Duration) {
        self.provider_calls
            .with_label_values(&[provider, call, outcome])
            .observe(took.as_secs_f64());
    }

    /// A webhook delivery tried.
    pub fn webhook_delivery(&self, delivered: bool) {
        let outcome = if delivered { "delivered" } else { "failed" };
        self.webhook_deliveries.with_label_values(&[outcome]).inc();
    }

    /// Everything, in Prometheus' text format, with the database's
    /// figures read now.
    pub async fn render(&self, store: &Store, now: UnixSeconds) -> Result<String, String> {
        let by_status = store.intents_by_status().await.map_err(|e| e.to_string())?;
        self.intents.reset();
        for (status, count) in by_status {
            self.intents.with_label_values(&[&status]).set(count);
        }
        let outboxes = [
            ("webhooks", store.webhook_depth().await),
            ("provider_jobs", store.job_depth().await),
        ];
        for (name, depth) in outboxes {
            let depth = depth.map_err(|e| e.to_string())?;
            self.outbox_waiting
                .with_label_values(&[name])
                .set(depth.waiting);
            let age = depth.oldest.map_or(0, |oldest| (now - oldest).max(0));
            self.outbox_oldest_age.with_label_values(&[name]).set(age);
        }
        self.refunds_pending
            .set(store.pending_refunds().await.map_err(|e| e.to_string())?);
        let mut text = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut text)
            .map_err(|e| e.to_string())?;
        String::from_utf8(text).map_err(|e| e.to_string())
    }
}

/// The outcome label of a provider call.
fn outcome<T>(result: &Result<T, ProviderError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(ProviderError::Refused { .. }) => "refused",
        Err(ProviderError::Unavailable(_)) => "unavailable",
        Err(ProviderError::Busy { .. }) => "busy",
        Err(ProviderError::BadAnswer(_) | ProviderError::BadNotification(_)) => "bad_answer",
    }
}

/// A provider whose every call is counted and timed.
pub struct Measured {
    inner: Arc<dyn Provider>,
    metrics: Arc<Metrics>,
}

impl Measured {
    /// Measures `inner`'s calls into `metrics`.
    pub fn new(inner: Arc<dyn Provider>, metrics: Arc<Metrics>) -> Measured {
        Measured { inner, metrics }
    }

    async fn timed<T>(
        &self,
        call: &str,
        work: impl std::future::Future<Output = Result<T, ProviderError>>,
    ) -> Result<T, ProviderError> {
        let started = Instant::now();
        let result = work.await;
        self.metrics
            .provider_call(self.inner.name(), call, outcome(&result), started.elapsed());
        result
    }
}

#[async_trait::async_trait]
impl Provider for Measured {
    fn method(&self) -> MethodKind {
        self.inner.method()
    }

    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn account(&self) -> String {
        self.inner.account()
    }

    fn supports(&self, flow: Flow) -> bool {
        self.inner.supports(flow)
    }

    fn payer_authorization(&self, flow: Flow, callback: &str, state: &str) -> Option<String> {
        self.inner.payer_authorization(flow, callback, state)
    }

    async fn payer_id(&self, code: &str) -> Result<String, ProviderError> {
        self.timed("payer_id", self.inner.payer_id(code)).await
    }

    async fn create(&self, order: &ProviderOrder) -> Result<HandOff, ProviderError> {
        self.timed("create", self.inner.create(order)).await
    }

    async fn query(&self, order: OrderRef<'_>) -> Result<ProviderStatus, ProviderError> {
        self.timed("query", self.inner.query(order)).await
    }

    async fn close(&self, order: OrderRef<'_>) -> Result<Closed, ProviderError> {
        self.timed("close", self.inner.close(order)).await
    }

    async fn refund(&self, refund: &ProviderRefund) -> Result<RefundState, ProviderError> {
        self.timed("refund", self.inner.refund(refund)).await
    }

    async fn refund_status(
        &self,
        order: OrderRef<'_>,
        refund: RefundRef<'_>,
    ) -> Result<RefundState, ProviderError> {
        self.timed("refund_status", self.inner.refund_status(order, refund))
            .await
    }

    fn parse_notification(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Notification, ProviderError> {
        let started = Instant::now();
        let result = self.inner.parse_notification(headers, body);
        self.metrics.provider_call(
            self.inner.name(),
            "notification",
            outcome(&result),
            started.elapsed(),
        );
        result
    }

    fn notification_answer(&self, refused: Option<&str>) -> Response {
        self.inner.notification_answer(refused)
    }
}
