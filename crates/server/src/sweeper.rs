//! The background work that makes sure nothing waits forever: due intents
//! expired (after asking the provider), open intents asked about when no
//! notification came, the provider calls of the outbox retried until done,
//! refunds asked for and followed until they end, due sessions expired,
//! and the webhook outbox delivered.
//!
//! Nothing stuck holds up the rest. Each row is taken on with a lease (so
//! a pass never takes on what an earlier one still works on) and worked on
//! in a task of its own; a pass does not wait for them. A row whose
//! provider fails backs off on its own schedule, so the others keep their
//! turn; a provider account that is gone sends its intents to a person.
//! At most [`PROVIDER_CALLS_IN_FLIGHT`] provider calls run at once, so a
//! backlog never floods a provider.

use std::time::Duration;

use contract::ReviewReason;
use tokio::sync::OwnedSemaphorePermit;
use tokio::task::JoinHandle;

use crate::error::ApiError;
use crate::payments::{self, backoff, LEASE_SECONDS};
use crate::store::{IntentRow, JobRow};
use crate::views;
use crate::AppState;

/// Background provider calls in flight, at most.
pub const PROVIDER_CALLS_IN_FLIGHT: usize = 16;

/// Open intents are asked about after this long without news.
const QUIET_SECONDS: i64 = 60;

/// At most this many quiet intents are taken on per pass.
const QUERIES_PER_PASS: i64 = 5;

/// At most this many due rows of each kind are taken on per pass.
const ROWS_PER_PASS: i64 = 20;

/// An intent whose provider keeps failing is tried at least this often.
const INTENT_BACKOFF_CAP_SECONDS: i64 = 10 * 60;

/// An intent its provider has not settled this long after its end goes to
/// a person (and its session can end).
const UNSETTLED_AFTER_SECONDS: i64 = 24 * 60 * 60;

/// A close that keeps failing is tried at least this often.
const JOB_BACKOFF_CAP_SECONDS: i64 = 60 * 60;

/// Runs passes every `every` until the task is dropped. A pass starts the
/// work and does not wait for it: a slow provider call finishes in its own
/// task while the next passes go on.
pub async fn run(state: AppState, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        drop(start_pass(&state).await);
    }
}

/// One pass of everything, each kind of work done before the next starts
/// (the tests' way to drive the background work: what a pass started is
/// over when it returns).
pub async fn pass(state: &AppState) {
    finish(provider_work(state).await).await;
    expire_sessions(state).await;
    finish(crate::webhooks::deliver_due(state).await).await;
}

async fn start_pass(state: &AppState) -> Vec<JoinHandle<()>> {
    let mut started = provider_work(state).await;
    expire_sessions(state).await;
    started.extend(crate::webhooks::deliver_due(state).await);
    started
}

async fn provider_work(state: &AppState) -> Vec<JoinHandle<()>> {
    let mut started = expire_intents(state).await;
    started.extend(ask_quiet_intents(state).await);
    started.extend(run_jobs(state).await);
    started.extend(advance_refunds(state).await);
    started
}

async fn finish(tasks: Vec<JoinHandle<()>>) {
    for task in tasks {
        let _ = task.await;
    }
}

/// A slot for one background provider call, if one is free.
fn provider_slot(state: &AppState) -> Option<OwnedSemaphorePermit> {
    state.inner.provider_work.clone().try_acquire_owned().ok()
}

async fn expire_intents(state: &AppState) -> Vec<JoinHandle<()>> {
    let due = match state
        .inner
        .store
        .due_intents(state.now(), ROWS_PER_PASS)
        .await
    {
        Ok(due) => due,
        Err(error) => {
            tracing::error!("reading due intents: {error}");
            return Vec::new();
        }
    };
    work_on_intents(state, due, |state, intent| async move {
        payments::expire(&state, &intent).await.map(drop)
    })
    .await
}

async fn ask_quiet_intents(state: &AppState) -> Vec<JoinHandle<()>> {
    let now = state.now();
    let quiet = match state
        .inner
        .store
        .unasked_intents(now - QUIET_SECONDS, now, QUERIES_PER_PASS)
        .await
    {
        Ok(quiet) => quiet,
        Err(error) => {
            tracing::error!("reading quiet intents: {error}");
            return Vec::new();
        }
    };
    work_on_intents(state, quiet, |state, intent| async move {
        payments::query(&state, &intent).await.map(drop)
    })
    .await
}

/// Takes on each intent that no one else holds, while provider slots are
/// free, and runs `work` on it in a task: a success clears its backoff, a
/// failure extends it.
async fn work_on_intents<F, Fut>(
    state: &AppState,
    intents: Vec<IntentRow>,
    work: F,
) -> Vec<JoinHandle<()>>
where
    F: Fn(AppState, IntentRow) -> Fut,
    Fut: std::future::Future<Output = Result<(), ApiError>> + Send + 'static,
{
    let mut started = Vec::new();
    for intent in intents {
        let Some(slot) = provider_slot(state) else {
            break;
        };
        let now = state.now();
        let store = &state.inner.store;
        match store
            .claim_intent(&intent.id, now, now + LEASE_SECONDS)
            .await
        {
            Ok(true) => {}
            Ok(false) => continue,
            Err(error) => {
                tracing::error!("taking on {}: {error}", intent.id);
                continue;
            }
        }
        let done = work(state.clone(), intent.clone());
        let state = state.clone();
        started.push(tokio::spawn(async move {
            let result = done.await;
            drop(slot);
            let store = &state.inner.store;
            let now = state.now();
            let recorded = match result {
                Ok(()) => store
                    .provider_answered(&intent.id)
                    .await
                    .map_err(Into::into),
                Err(error) if now >= intent.expires_at + UNSETTLED_AFTER_SECONDS => {
                    tracing::error!(
                        "{}: still unsettled a day after its end ({}): kept for review",
                        intent.id,
                        error.message
                    );
                    payments::review(&state, &intent, ReviewReason::Unsettled, None).await
                }
                Err(error) => {
                    tracing::warn!("{}: {}", intent.id, error.message);
                    let retry_at =
                        backoff(now, intent.provider_failures, INTENT_BACKOFF_CAP_SECONDS);
                    store
                        .provider_failed(&intent.id, retry_at)
                        .await
                        .map_err(Into::into)
                }
            };
            if let Err(error) = recorded {
                tracing::error!(
                    "recording the provider's answer on {}: {}",
                    intent.id,
                    error.message
                );
            }
        }));
    }
    started
}

/// Closes, now, the orders waiting to be closed (those of a session just
/// paid). Boxed: a close can record a payment, which can ask for this
/// again.
pub fn close_now(
    state: AppState,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    Box::pin(async move { finish(run_jobs(&state).await).await })
}

async fn run_jobs(state: &AppState) -> Vec<JoinHandle<()>> {
    let due = match state.inner.store.due_jobs(state.now(), ROWS_PER_PASS).await {
        Ok(due) => due,
        Err(error) => {
            tracing::error!("reading provider jobs: {error}");
            return Vec::new();
        }
    };
    let mut started = Vec::new();
    for job in due {
        let Some(slot) = provider_slot(state) else {
            break;
        };
        let now = state.now();
        if !matches!(
            state
                .inner
                .store
                .claim_job(&job.id, now, now + LEASE_SECONDS)
                .await,
            Ok(true)
        ) {
            continue;
        }
        let state = state.clone();
        started.push(tokio::spawn(async move {
            let outcome = close_job(&state, &job).await;
            drop(slot);
            let now = state.now();
            let store = &state.inner.store;
            let recorded = match outcome {
                JobOutcome::Done => store.job_done(&job.id, now, None).await,
                JobOutcome::GivenUp(error) => {
                    tracing::error!("closing {}: given up: {error}", job.intent_id);
                    store.job_done(&job.id, now, Some(&error)).await
                }
                JobOutcome::Failed(error) => {
                    tracing::warn!("closing {} with its provider: {error}", job.intent_id);
                    let next = backoff(now, job.attempts, JOB_BACKOFF_CAP_SECONDS);
                    store.job_failed(&job.id, next, &error).await
                }
            };
            if let Err(error) = recorded {
                tracing::error!("recording job {}: {error}", job.id);
            }
        }));
    }
    started
}

/// How a provider job went.
enum JobOutcome {
    Done,
    /// It cannot be done: its intent went to a person.
    GivenUp(String),
    /// To be tried again.
    Failed(String),
}

/// How long past an order's expiry a payment the provider is still
/// deciding is followed.
const DECIDING_SECONDS: i64 = 24 * 60 * 60;

/// Closes a canceled intent's order; a payment found there is recorded
/// (it becomes a refund to make).
async fn close_job(state: &AppState, job: &JobRow) -> JobOutcome {
    let intent = match payments::reload(state, &job.intent_id).await {
        Ok(intent) => intent,
        Err(error) => return JobOutcome::GivenUp(error.message),
    };
    match payments::close_order(state, &intent).await {
        // Payable at the provider until its expiry: asked again until
        // then (a minute more, for clocks that differ).
        Ok(payments::Ended::NotYet) if state.now() < intent.expires_at + 60 => {
            JobOutcome::Failed("no order at the provider yet; asked again until it expires".into())
        }
        // A payment the provider has not decided can land after the
        // order's time: asked again, for a day, until it is decided.
        Ok(payments::Ended::Deciding) if state.now() < intent.expires_at + DECIDING_SECONDS => {
            JobOutcome::Failed("a payment still being decided; asked again".into())
        }
        Ok(payments::Ended::Deciding) => {
            JobOutcome::GivenUp("a payment still undecided a day after the order's expiry".into())
        }
        Ok(_) => JobOutcome::Done,
        Err(error) => match payments::reload(state, &job.intent_id).await {
            Ok(now) if now.status() == contract::IntentStatus::RequiresReview => {
                JobOutcome::GivenUp(error.message)
            }
            _ => JobOutcome::Failed(error.message),
        },
    }
}

async fn advance_refunds(state: &AppState) -> Vec<JoinHandle<()>> {
    let due = match state
        .inner
        .store
        .due_refunds(state.now(), ROWS_PER_PASS)
        .await
    {
        Ok(due) => due,
        Err(error) => {
            tracing::error!("reading pending refunds: {error}");
            return Vec::new();
        }
    };
    let mut started = Vec::new();
    for refund in due {
        let Some(slot) = provider_slot(state) else {
            break;
        };
        let state = state.clone();
        started.push(tokio::spawn(async move {
            payments::advance_refund(&state, &refund).await;
            drop(slot);
        }));
    }
    started
}

/// Sessions whose time is up and that no payable intent holds (those are
/// expired with their provider first, above).
async fn expire_sessions(state: &AppState) {
    let now = state.now();
    let due = match state.inner.store.due_sessions(now, 50).await {
        Ok(due) => due,
        Err(error) => return tracing::error!("reading due sessions: {error}"),
    };
    for session in due {
        if let Err(error) = expire_session(state, &session.id).await {
            tracing::error!("expiring {}: {error}", session.id);
        }
    }
}

async fn expire_session(state: &AppState, id: &str) -> Result<(), ApiError> {
    let now = state.now();
    let mut tx = state.inner.store.begin().await?;
    if tx.expire_session(id).await? {
        let session = tx.session(id).await?;
        let event = views::session_event(
            contract::EventType::CheckoutSessionExpired,
            &session,
            None,
            now,
        )?;
        payments::queue(state, &mut tx, &session.merchant_id, &event).await?;
    }
    tx.commit().await?;
    Ok(())
}
