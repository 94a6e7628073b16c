//! The background work that makes sure nothing waits forever: due intents
//! expired (after asking the provider), open intents asked about when no
//! notification came, the provider calls of the outbox retried until done,
//! due sessions expired, and the webhook outbox delivered. Each pass does a
//! bounded amount, so a backlog never floods a provider.

use std::time::Duration;

use contract::IntentStatus;

use crate::payments;
use crate::store::JobRow;
use crate::views;
use crate::AppState;

/// Open intents are asked about after this long without news.
const QUIET_SECONDS: i64 = 60;

/// At most this many provider queries per pass.
const QUERIES_PER_PASS: i64 = 5;

/// Runs passes every `every` until the task is dropped.
pub async fn run(state: AppState, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        pass(&state).await;
    }
}

/// One pass of everything.
pub async fn pass(state: &AppState) {
    expire_intents(state).await;
    ask_quiet_intents(state).await;
    run_jobs(state).await;
    expire_sessions(state).await;
    crate::webhooks::deliver_due(state).await;
}

async fn expire_intents(state: &AppState) {
    let due = match state.inner.store.due_intents(state.now(), 20).await {
        Ok(due) => due,
        Err(error) => return tracing::error!("reading due intents: {error}"),
    };
    for intent in due {
        if let Err(error) = payments::expire(state, &intent).await {
            tracing::warn!("expiring {}: {error}", intent.id);
        }
    }
}

async fn ask_quiet_intents(state: &AppState) {
    let before = state.now() - QUIET_SECONDS;
    let quiet = match state
        .inner
        .store
        .unasked_intents(before, QUERIES_PER_PASS)
        .await
    {
        Ok(quiet) => quiet,
        Err(error) => return tracing::error!("reading quiet intents: {error}"),
    };
    for intent in quiet {
        if let Err(error) = payments::query(state, &intent).await {
            tracing::warn!("asking about {}: {error}", intent.id);
        }
    }
}

async fn run_jobs(state: &AppState) {
    let due = match state.inner.store.due_jobs(state.now(), 20).await {
        Ok(due) => due,
        Err(error) => return tracing::error!("reading provider jobs: {error}"),
    };
    for job in due {
        let done = close_job(state, &job).await;
        let now = state.now();
        let store = &state.inner.store;
        let recorded = match done {
            Ok(()) => store.job_done(&job.id, now).await,
            Err(error) => {
                tracing::warn!("closing {} with its provider: {error}", job.intent_id);
                let next = crate::webhooks::next_try(now, job.attempts);
                store.job_failed(&job.id, next, &error).await
            }
        };
        if let Err(error) = recorded {
            tracing::error!("recording job {}: {error}", job.id);
        }
    }
}

/// Closes a canceled intent's order; a payment found there is recorded
/// (it becomes a refund to make).
async fn close_job(state: &AppState, job: &JobRow) -> Result<(), String> {
    let intent = payments::reload(state, &job.intent_id)
        .await
        .map_err(|e| e.message)?;
    payments::close_order(state, &intent)
        .await
        .map(drop)
        .map_err(|e| e.message)
}

async fn expire_sessions(state: &AppState) {
    let now = state.now();
    let store = &state.inner.store;
    let due = match store.due_sessions(now, 50).await {
        Ok(due) => due,
        Err(error) => return tracing::error!("reading due sessions: {error}"),
    };
    for session in due {
        // An intent still open (its provider unreachable) settles first.
        match store.open_intent(&session.id).await {
            Ok(None) => {}
            Ok(Some(open)) => {
                // Paid meanwhile, the session is completed, and stays so.
                if let Err(error) = payments::close(state, &open, IntentStatus::Expired).await {
                    tracing::warn!("closing {} of expired {}: {error}", open.id, session.id);
                    continue;
                }
            }
            Err(error) => {
                tracing::error!("reading {}: {error}", session.id);
                continue;
            }
        }
        if let Err(error) = expire_session(state, &session.id).await {
            tracing::error!("expiring {}: {error}", session.id);
        }
    }
}

async fn expire_session(state: &AppState, id: &str) -> Result<(), crate::error::ApiError> {
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
        payments::queue(&mut tx, &session.merchant_id, &event).await?;
    }
    tx.commit().await?;
    Ok(())
}
