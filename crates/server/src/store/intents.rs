//! Payment intents: one payable intent per session, a payment recorded
//! once, and the backoff of the provider work done on each.

use contract::{FailureReason, IntentStatus, ReviewReason, UnixSeconds};

use super::{from_text, to_text, Store, Tx, OPEN};

/// A payment intent as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IntentRow {
    pub id: String,
    pub session_id: String,
    pub idempotency_key: String,
    pub request_fingerprint: String,
    pub method: String,
    pub flow: String,
    pub amount_value: i64,
    pub currency: String,
    pub status: String,
    pub failure_reason: Option<String>,
    pub expires_at: i64,
    pub next_action: Option<String>,
    pub next_action_expires_at: Option<i64>,
    pub payer_ip: Option<String>,
    pub payer_id: Option<String>,
    pub transaction_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_queried_at: Option<i64>,
    /// The provider account it was made with (`wechat_pay:<mchid>`).
    pub provider_account: Option<String>,
    /// What the provider took, once paid.
    pub amount_received: Option<i64>,
    /// Why it waits for a person.
    pub review_reason: Option<String>,
    /// Background provider calls about it that failed in a row.
    pub provider_failures: i64,
    /// Not to be taken on by the background work before this.
    pub provider_retry_at: i64,
    /// The device the method was chosen on (`desktop`, `mobile`).
    pub device: Option<String>,
    /// One code for every wallet: the token of its `/pay/{token}` URL.
    pub pay_token: Option<String>,
    /// The hash of the claiming phone's cookie, or [`SEALED`].
    pub claimed_by: Option<String>,
    /// When a phone claimed it (and its wallet's order was made).
    pub claimed_at: Option<i64>,
}

/// `claimed_by` of a code closed before any phone claimed it.
pub const SEALED: &str = "sealed";

/// The method of a code no phone has claimed yet.
const ANY_WALLET: &str = "any_wallet";

impl IntentRow {
    /// The status, as the contract names it.
    pub fn status(&self) -> IntentStatus {
        from_text(&self.status).unwrap_or(IntentStatus::Unknown)
    }

    /// True for one code for every wallet that no phone has claimed: there
    /// is no order with any provider to ask about or to close.
    pub fn is_unclaimed_code(&self) -> bool {
        self.method == ANY_WALLET
    }

    /// True once a phone has claimed this code (its wallet pays it).
    pub fn is_claimed(&self) -> bool {
        self.claimed_by.as_deref().is_some_and(|by| by != SEALED)
    }

    /// When the provider's order was made: a code's is made when a phone
    /// claims it.
    pub fn ordered_at(&self) -> UnixSeconds {
        self.claimed_at.unwrap_or(self.created_at)
    }
}

/// What a phone that opened one code for every wallet takes on.
#[derive(Debug, Clone)]
pub struct Claim<'a> {
    /// The hash of the phone's cookie.
    pub by: &'a str,
    /// The wallet its app pays with.
    pub method: &'a str,
    /// The flow inside that app.
    pub flow: &'a str,
    /// The wallet's provider account.
    pub provider_account: Option<&'a str>,
    /// The phone's IP address.
    pub payer_ip: Option<&'a str>,
}

/// What inserting a new intent found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// It is stored.
    Yes,
    /// Another request used this idempotency key first.
    KeyTaken,
    /// The session has another payable intent.
    SessionBusy,
    /// The session is paid or expired.
    SessionClosed,
}

/// What recording a payment found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// It completed its session.
    Completed,
    /// Its session was already paid (or gone): it must be refunded.
    RequiresRefund,
    /// It was recorded before.
    AlreadyRecorded,
}

/// What a merchant's list of intents is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct IntentFilter {
    /// One session's.
    pub session: Option<String>,
    /// In one status.
    pub status: Option<IntentStatus>,
    /// Created at or after.
    pub created_gte: Option<UnixSeconds>,
    /// Older than this intent (created before it, or with a smaller id in
    /// the same second): the page after it.
    pub starting_after: Option<(UnixSeconds, String)>,
}

/// An intent with the sum of its refunds that succeeded.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListedIntent {
    #[sqlx(flatten)]
    pub intent: IntentRow,
    pub refunded_value: i64,
}

impl Store {
    /// An intent by id, for the server's own work.
    pub async fn intent(&self, id: &str) -> Result<Option<IntentRow>, sqlx::Error> {
        on_reads!(self, |db| sqlx::query_as(
            "SELECT * FROM payment_intents WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(db)
        .await)
    }

    /// A merchant's intent.
    pub async fn merchant_intent(
        &self,
        merchant_id: &str,
        id: &str,
    ) -> Result<Option<IntentRow>, sqlx::Error> {
        on_reads!(self, |db| sqlx::query_as(
            "SELECT i.* FROM payment_intents i JOIN checkout_sessions s ON s.id = i.session_id
             WHERE i.id = $1 AND s.merchant_id = $2",
        )
        .bind(id)
        .bind(merchant_id)
        .fetch_optional(db)
        .await)
    }

    /// A session's intent.
    pub async fn session_intent(
        &self,
        session_id: &str,
        id: &str,
    ) -> Result<Option<IntentRow>, sqlx::Error> {
        on_reads!(self, |db| sqlx::query_as(
            "SELECT * FROM payment_intents WHERE id = $1 AND session_id = $2"
        )
        .bind(id)
        .bind(session_id)
        .fetch_optional(db)
        .await)
    }

    /// A page of a merchant's intents, newest first (`limit` rows at most),
    /// each with what has been refunded of it.
    pub async fn merchant_intents(
        &self,
        merchant_id: &str,
        filter: &IntentFilter,
        limit: i64,
    ) -> Result<Vec<ListedIntent>, sqlx::Error> {
        let (after_created, after_id) = filter
            .starting_after
            .clone()
            .map_or((None, None), |(at, id)| (Some(at), Some(id)));
        on_reads!(self, |db| sqlx::query_as(
            "SELECT i.*,
                    CAST(COALESCE((SELECT SUM(r.amount_value) FROM refunds r
                              WHERE r.intent_id = i.id AND r.status = 'succeeded'), 0) AS BIGINT)
                        AS refunded_value
             FROM payment_intents i JOIN checkout_sessions s ON s.id = i.session_id
             WHERE s.merchant_id = $1
               AND ($2 IS NULL OR i.session_id = $3)
               AND ($4 IS NULL OR i.status = $5)
               AND ($6 IS NULL OR i.created_at >= $7)
               AND ($8 IS NULL OR i.created_at < $9 OR (i.created_at = $10 AND i.id < $11))
             ORDER BY i.created_at DESC, i.id DESC LIMIT $12",
        )
        .bind(merchant_id)
        .bind(&filter.session)
        .bind(&filter.session)
        .bind(filter.status.map(IntentStatus::as_str))
        .bind(filter.status.map(IntentStatus::as_str))
        .bind(filter.created_gte)
        .bind(filter.created_gte)
        .bind(after_created)
        .bind(after_created)
        .bind(after_created)
        .bind(&after_id)
        .bind(limit)
        .fetch_all(db)
        .await)
    }

    /// The intent a session's idempotency key made.
    pub async fn intent_by_key(
        &self,
        session_id: &str,
        key: &str,
    ) -> Result<Option<IntentRow>, sqlx::Error> {
        on_reads!(self, |db| sqlx::query_as(
            "SELECT * FROM payment_intents WHERE session_id = $1 AND idempotency_key = $2"
        )
        .bind(session_id)
        .bind(key)
        .fetch_optional(db)
        .await)
    }

    /// The session's payable intent, if it has one.
    pub async fn open_intent(&self, session_id: &str) -> Result<Option<IntentRow>, sqlx::Error> {
        on_reads!(self, |db| sqlx::query_as(&format!(
            "SELECT * FROM payment_intents WHERE session_id = $1 AND status IN {OPEN}"
        ))
        .bind(session_id)
        .fetch_optional(db)
        .await)
    }

    /// The payer id an earlier intent of the session with `method` learned
    /// (WeChat's openid, Alipay's user id: the shopper authorises once per
    /// session).
    pub async fn payer_of_session(
        &self,
        session_id: &str,
        method: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        on_reads!(self, |db| sqlx::query_scalar(
            "SELECT payer_id FROM payment_intents
             WHERE session_id = $1 AND method = $2 AND payer_id IS NOT NULL
               AND claimed_by IS NULL LIMIT 1",
        )
        .bind(session_id)
        .bind(method)
        .fetch_optional(db)
        .await)
    }

    /// Payable intents whose time is up, and that no backoff holds back.
    pub async fn due_intents(
        &self,
        now: UnixSeconds,
        limit: i64,
    ) -> Result<Vec<IntentRow>, sqlx::Error> {
        on_reads!(self, |db| sqlx::query_as(&format!(
            "SELECT * FROM payment_intents
             WHERE status IN {OPEN} AND expires_at <= $1 AND provider_retry_at <= $2
             ORDER BY expires_at LIMIT $3"
        ))
        .bind(now)
        .bind(now)
        .bind(limit)
        .fetch_all(db)
        .await)
    }

    /// Payable intents that have not been asked about since `before` (and
    /// that no backoff holds back), oldest first.
    pub async fn unasked_intents(
        &self,
        before: UnixSeconds,
        now: UnixSeconds,
        limit: i64,
    ) -> Result<Vec<IntentRow>, sqlx::Error> {
        on_reads!(self, |db| sqlx::query_as(&format!(
            "SELECT * FROM payment_intents WHERE status IN {OPEN}
               AND COALESCE(last_queried_at, created_at) < $1 AND provider_retry_at <= $2
             ORDER BY COALESCE(last_queried_at, created_at) LIMIT $3"
        ))
        .bind(before)
        .bind(now)
        .bind(limit)
        .fetch_all(db)
        .await)
    }

    /// Takes on background provider work for a payable intent until
    /// `until`, unless a backoff or another taker holds it; true if taken.
    pub async fn claim_intent(
        &self,
        id: &str,
        now: UnixSeconds,
        until: UnixSeconds,
    ) -> Result<bool, sqlx::Error> {
        let claimed = on_writes!(self, |db| sqlx::query(&format!(
            "UPDATE payment_intents SET provider_retry_at = $1
             WHERE id = $2 AND status IN {OPEN} AND provider_retry_at <= $3"
        ))
        .bind(until)
        .bind(id)
        .bind(now)
        .execute(db)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(claimed == 1)
    }

    /// The provider answered about an intent: no backoff.
    pub async fn provider_answered(&self, id: &str) -> Result<(), sqlx::Error> {
        on_writes!(self, |db| sqlx::query(
            "UPDATE payment_intents SET provider_failures = 0, provider_retry_at = 0 WHERE id = $1",
        )
        .bind(id)
        .execute(db)
        .await
        .map(|done| done.rows_affected()))
        .map(drop)
    }

    /// The provider failed about an intent once more: leave it alone until
    /// `retry_at`.
    pub async fn provider_failed(
        &self,
        id: &str,
        retry_at: UnixSeconds,
    ) -> Result<(), sqlx::Error> {
        on_writes!(self, |db| sqlx::query(
            "UPDATE payment_intents SET provider_failures = provider_failures + 1,
                provider_retry_at = $1
             WHERE id = $2",
        )
        .bind(retry_at)
        .bind(id)
        .execute(db)
        .await
        .map(|done| done.rows_affected()))
        .map(drop)
    }

    /// Notes that the provider was asked about an intent.
    pub async fn mark_queried(&self, intent_id: &str, now: UnixSeconds) -> Result<(), sqlx::Error> {
        on_writes!(self, |db| sqlx::query(
            "UPDATE payment_intents SET last_queried_at = $1 WHERE id = $2"
        )
        .bind(now)
        .bind(intent_id)
        .execute(db)
        .await
        .map(|done| done.rows_affected()))
        .map(drop)
    }

    /// Records what the provider handed the shopper (a fresh H5 URL, the
    /// JSAPI arguments once the payer is known); false if the intent no
    /// longer waits for one (it ended meanwhile, on this server or another).
    pub async fn set_next_action(
        &self,
        id: &str,
        next_action: &str,
        expires_at: Option<UnixSeconds>,
        now: UnixSeconds,
    ) -> Result<bool, sqlx::Error> {
        on_writes!(self, |db| sqlx::query(
            "UPDATE payment_intents SET next_action = $1, next_action_expires_at = $2, updated_at = $3
             WHERE id = $4 AND status = 'requires_action'",
        )
        .bind(next_action)
        .bind(expires_at)
        .bind(now)
        .bind(id)
        .execute(db).await.map(|done| done.rows_affected()))
        .map(|moved| moved == 1)
    }

    /// Lets a repeated request take over an intent whose hand-off was not
    /// got (its first request gave up); true if this call took it.
    pub async fn take_over(&self, id: &str, now: UnixSeconds) -> Result<bool, sqlx::Error> {
        let taken = on_writes!(self, |db| {
            sqlx::query(
            "UPDATE payment_intents SET updated_at = $1
             WHERE id = $2 AND next_action IS NULL AND status = 'requires_action' AND updated_at < $3",
        )
        .bind(now)
        .bind(id)
        .bind(now - 1)
        .execute(db).await.map(|done| done.rows_affected())
        })?;
        Ok(taken == 1)
    }

    /// Marks an intent's hand-off as free for the next request to get.
    pub async fn release(&self, id: &str) -> Result<(), sqlx::Error> {
        on_writes!(self, |db| sqlx::query(
            "UPDATE payment_intents SET updated_at = 0 WHERE id = $1 AND next_action IS NULL",
        )
        .bind(id)
        .execute(db)
        .await
        .map(|done| done.rows_affected()))
        .map(drop)
    }

    /// Records the payer's id in the wallet (WeChat's openid).
    pub async fn set_payer_id(
        &self,
        id: &str,
        payer_id: &str,
        now: UnixSeconds,
    ) -> Result<(), sqlx::Error> {
        on_writes!(self, |db| sqlx::query(
            "UPDATE payment_intents SET payer_id = $1, updated_at = $2 WHERE id = $3"
        )
        .bind(payer_id)
        .bind(now)
        .bind(id)
        .execute(db)
        .await
        .map(|done| done.rows_affected()))
        .map(drop)
    }

    /// The intent behind a `/pay/{token}` code.
    pub async fn intent_by_pay_token(&self, token: &str) -> Result<Option<IntentRow>, sqlx::Error> {
        on_reads!(self, |db| sqlx::query_as(
            "SELECT * FROM payment_intents WHERE pay_token = $1"
        )
        .bind(token)
        .fetch_optional(db)
        .await)
    }

    /// The first phone to open a code takes it: the intent becomes its
    /// wallet's, with no hand-off yet. True if this phone took it; false
    /// if another phone had, or it ended, or it has less than `min_left`
    /// seconds to live. The condition is re-read under the row's lock
    /// (PostgreSQL) or by the one writer (SQLite): two phones never both
    /// take it.
    pub async fn claim_code(
        &self,
        id: &str,
        claim: &Claim<'_>,
        now: UnixSeconds,
        min_left: i64,
    ) -> Result<bool, sqlx::Error> {
        let claimed = on_writes!(self, |db| {
            sqlx::query(
            "UPDATE payment_intents SET claimed_by = $1, claimed_at = $2, method = $3, flow = $4,
                provider_account = $5, payer_ip = $6, device = 'mobile', payer_id = NULL,
                next_action = NULL, next_action_expires_at = NULL, updated_at = $2
             WHERE id = $7 AND status = 'requires_action' AND method = 'any_wallet'
               AND claimed_by IS NULL AND expires_at > $8",
        )
        .bind(claim.by)
        .bind(now)
        .bind(claim.method)
        .bind(claim.flow)
        .bind(claim.provider_account)
        .bind(claim.payer_ip)
        .bind(id)
        .bind(now + min_left)
        .execute(db)
        .await
        .map(|done| done.rows_affected())
        })?;
        Ok(claimed == 1)
    }

    /// Seals a code no phone has claimed, so that none can: true if sealed
    /// (it has no order with any provider), false if a phone claimed it
    /// first.
    pub async fn seal_code(&self, id: &str) -> Result<bool, sqlx::Error> {
        let sealed = on_writes!(self, |db| sqlx::query(
            "UPDATE payment_intents SET claimed_by = $1
             WHERE id = $2 AND method = 'any_wallet' AND (claimed_by IS NULL OR claimed_by = $3)",
        )
        .bind(SEALED)
        .bind(id)
        .bind(SEALED)
        .execute(db)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(sealed == 1)
    }

    /// How many intents stand in each status, for the metrics.
    pub async fn intents_by_status(&self) -> Result<Vec<(String, i64)>, sqlx::Error> {
        on_reads!(self, |db| sqlx::query_as(
            "SELECT status, COUNT(*) FROM payment_intents GROUP BY status"
        )
        .fetch_all(db)
        .await)
    }
}

impl Tx {
    /// Stores a new payable intent unless its key was used, the session has
    /// another payable intent, or the session is paid or expired.
    pub async fn insert_intent(&mut self, row: &IntentRow) -> Result<Inserted, sqlx::Error> {
        // The session's row is held until the intent is in: a payment
        // being recorded for it meanwhile finishes first, or waits.
        let lock = self.lock_rows();
        let session: Option<(String,)> = in_tx!(self, |db| sqlx::query_as(&format!(
            "SELECT status FROM checkout_sessions WHERE id = $1{lock}"
        ))
        .bind(&row.session_id)
        .fetch_optional(db)
        .await)?;
        if session.is_none_or(|(status,)| status != "open") {
            return Ok(Inserted::SessionClosed);
        }
        let inserted = in_tx!(self, |db| {
            sqlx::query(
            "INSERT INTO payment_intents (id, session_id, idempotency_key, request_fingerprint,
                method, flow, amount_value, currency, status, failure_reason, expires_at,
                next_action, next_action_expires_at, payer_ip, payer_id, transaction_id,
                created_at, updated_at, last_queried_at, provider_account, device, pay_token)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10, $11, $12, $13, $14, NULL, $15, $16, NULL, $17, $18, $19)
             ON CONFLICT DO NOTHING",
        )
        .bind(&row.id)
        .bind(&row.session_id)
        .bind(&row.idempotency_key)
        .bind(&row.request_fingerprint)
        .bind(&row.method)
        .bind(&row.flow)
        .bind(row.amount_value)
        .bind(&row.currency)
        .bind(&row.status)
        .bind(row.expires_at)
        .bind(&row.next_action)
        .bind(row.next_action_expires_at)
        .bind(&row.payer_ip)
        .bind(&row.payer_id)
        .bind(row.created_at)
        .bind(row.updated_at)
        .bind(&row.provider_account)
        .bind(&row.device)
        .bind(&row.pay_token)
        .execute(db).await.map(|done| done.rows_affected())
        })?;
        if inserted == 1 {
            return Ok(Inserted::Yes);
        }
        let key_taken: Option<(String,)> = in_tx!(self, |db| sqlx::query_as(
            "SELECT id FROM payment_intents WHERE session_id = $1 AND idempotency_key = $2",
        )
        .bind(&row.session_id)
        .bind(&row.idempotency_key)
        .fetch_optional(db)
        .await)?;
        Ok(if key_taken.is_some() {
            Inserted::KeyTaken
        } else {
            Inserted::SessionBusy
        })
    }

    /// Ends a payable intent with `to` (and `reason`); false if it was no
    /// longer payable.
    pub async fn finish(
        &mut self,
        id: &str,
        to: IntentStatus,
        reason: Option<FailureReason>,
        now: UnixSeconds,
    ) -> Result<bool, sqlx::Error> {
        let finished = in_tx!(self, |db| sqlx::query(&format!(
            "UPDATE payment_intents SET status = $1, failure_reason = $2, next_action = NULL,
                updated_at = $3
             WHERE id = $4 AND status IN {OPEN}"
        ))
        .bind(to.as_str())
        .bind(reason.map(|reason| to_text(&reason)))
        .bind(now)
        .bind(id)
        .execute(db)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(finished == 1)
    }

    /// The shopper has scanned and is confirming on the phone: a waiting
    /// intent becomes `processing`; true if it was waiting.
    pub async fn mark_processing(
        &mut self,
        id: &str,
        now: UnixSeconds,
    ) -> Result<bool, sqlx::Error> {
        let marked = in_tx!(self, |db| sqlx::query(
            "UPDATE payment_intents SET status = 'processing', updated_at = $1
             WHERE id = $2 AND status = 'requires_action'",
        )
        .bind(now)
        .bind(id)
        .execute(db)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(marked == 1)
    }

    /// Hands an intent to a person: `requires_review` with its reason (and
    /// what the provider took, if it took something). Only an intent not
    /// yet settled moves; true if it did.
    pub async fn review(
        &mut self,
        id: &str,
        reason: ReviewReason,
        paid: Option<(&str, i64)>,
        now: UnixSeconds,
    ) -> Result<bool, sqlx::Error> {
        let reviewed = in_tx!(self, |db| {
            sqlx::query(
            "UPDATE payment_intents SET status = 'requires_review', review_reason = $1,
                next_action = NULL, transaction_id = COALESCE($2, transaction_id),
                amount_received = COALESCE($3, amount_received), updated_at = $4
             WHERE id = $5 AND status IN ('requires_action', 'processing', 'canceled', 'expired', 'failed')",
        )
        .bind(to_text(&reason))
        .bind(paid.map(|(transaction, _)| transaction))
        .bind(paid.map(|(_, amount)| amount))
        .bind(now)
        .bind(id)
        .execute(db).await.map(|done| done.rows_affected())
        })?;
        Ok(reviewed == 1)
    }

    /// Records a payment of `intent` (`received` minor units, as the
    /// provider says). The session is completed by the same conditional
    /// write, so two payments cannot both complete it: the second is kept
    /// as `requires_refund`. The session's other payable intents are
    /// canceled, and their closing with the provider queued.
    pub async fn record_payment(
        &mut self,
        intent: &IntentRow,
        transaction_id: &str,
        received: i64,
        now: UnixSeconds,
    ) -> Result<(Settled, IntentRow), sqlx::Error> {
        let (intent_id, session_id) = (intent.id.as_str(), intent.session_id.clone());
        // The session's row, then the intent's (read again), are held until
        // the end: payments of one session (seen by two servers, say) are
        // recorded one after the other, each seeing what the one before did.
        let lock = self.lock_rows();
        let session_open = in_tx!(self, |db| sqlx::query_scalar::<_, String>(&format!(
            "SELECT status FROM checkout_sessions WHERE id = $1{lock}"
        ))
        .bind(&session_id)
        .fetch_one(db)
        .await)?
            == "open";
        let intent: IntentRow = in_tx!(self, |db| sqlx::query_as(&format!(
            "SELECT * FROM payment_intents WHERE id = $1{lock}"
        ))
        .bind(intent_id)
        .fetch_one(db)
        .await)?;
        let recorded = match intent.status() {
            IntentStatus::Succeeded | IntentStatus::RequiresRefund | IntentStatus::Refunded => true,
            // Sent for review before anything was paid (its provider account
            // was gone, say): a payment now is a payment to record.
            IntentStatus::RequiresReview => intent.amount_received.is_some(),
            _ => false,
        };
        if recorded {
            return Ok((Settled::AlreadyRecorded, intent));
        }
        let completed = session_open
            && in_tx!(self, |db| sqlx::query(
                "UPDATE checkout_sessions SET status = 'completed', completed_at = $1,
                    paid_intent_id = $2
                 WHERE id = $3 AND status = 'open'",
            )
            .bind(now)
            .bind(intent_id)
            .bind(&session_id)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))?
                == 1;
        let (settled, status) = if completed {
            (Settled::Completed, IntentStatus::Succeeded)
        } else {
            (Settled::RequiresRefund, IntentStatus::RequiresRefund)
        };
        in_tx!(self, |db| sqlx::query(
            "UPDATE payment_intents SET status = $1, failure_reason = NULL, review_reason = NULL,
                next_action = NULL, transaction_id = $2, amount_received = $3, updated_at = $4
             WHERE id = $5 AND status = $6",
        )
        .bind(status.as_str())
        .bind(transaction_id)
        .bind(received)
        .bind(now)
        .bind(intent_id)
        .bind(&intent.status)
        .execute(db)
        .await
        .map(|done| done.rows_affected()))?;
        if completed {
            let others: Vec<(String,)> = in_tx!(self, |db| {
                sqlx::query_as(&format!(
                "SELECT id FROM payment_intents WHERE session_id = $1 AND id != $2 AND status IN {OPEN}"
            ))
            .bind(&intent.session_id)
            .bind(intent_id)
            .fetch_all(db).await
            })?;
            for (other,) in others {
                self.finish(&other, IntentStatus::Canceled, None, now)
                    .await?;
                self.queue_close(&other, now).await?;
            }
        }
        Ok((settled, self.intent(intent_id).await?))
    }

    /// A `requires_refund` payment given back in full becomes `refunded`;
    /// true if it did.
    pub async fn mark_refunded(&mut self, id: &str, now: UnixSeconds) -> Result<bool, sqlx::Error> {
        let marked = in_tx!(self, |db| sqlx::query(
            "UPDATE payment_intents SET status = 'refunded', updated_at = $1
             WHERE id = $2 AND status = 'requires_refund'",
        )
        .bind(now)
        .bind(id)
        .execute(db)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(marked == 1)
    }

    /// An intent, read inside the transaction.
    pub async fn intent(&mut self, id: &str) -> Result<IntentRow, sqlx::Error> {
        in_tx!(self, |db| sqlx::query_as(
            "SELECT * FROM payment_intents WHERE id = $1"
        )
        .bind(id)
        .fetch_one(db)
        .await)
    }
}
