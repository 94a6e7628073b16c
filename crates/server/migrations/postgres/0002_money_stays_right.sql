-- Money that stays right: refunds through the provider, payments that wait
-- for a person, provider work that backs off, events kept in order for
-- every merchant, and sessions created idempotently.

-- The provider account an intent was made with (`wechat_pay:<mchid>`): a
-- notification or a query's answer is applied only by that account.
ALTER TABLE payment_intents ADD COLUMN provider_account TEXT;
-- What the provider took (minor units of the intent's currency), once
-- paid: what refunds may give back.
ALTER TABLE payment_intents ADD COLUMN amount_received BIGINT;
-- Payments recorded before this migration took the order's amount (one of
-- another amount was never recorded): they can be given back.
UPDATE payment_intents SET amount_received = amount_value
WHERE status IN ('succeeded', 'requires_refund') AND amount_received IS NULL;
-- Why an intent waits for a person (requires_review).
ALTER TABLE payment_intents ADD COLUMN review_reason TEXT;
-- Background provider work on an intent (queries, closes) backs off per
-- intent: failures in a row, and the earliest time to try again. Taking
-- it on moves that time ahead too (a lease).
ALTER TABLE payment_intents ADD COLUMN provider_failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE payment_intents ADD COLUMN provider_retry_at BIGINT NOT NULL DEFAULT 0;

-- A merchant's list, newest first (a session's intents are found by the
-- unique (session_id, idempotency_key) index already).
CREATE INDEX payment_intents_by_creation ON payment_intents (created_at, id);

-- A session created with an Idempotency-Key answers a repeat with itself;
-- its client secret is kept sealed with a key derived from the merchant's
-- secret key, which the repeat must carry (the database alone opens none).
ALTER TABLE checkout_sessions ADD COLUMN idempotency_key TEXT;
ALTER TABLE checkout_sessions ADD COLUMN request_fingerprint TEXT;
ALTER TABLE checkout_sessions ADD COLUMN client_secret_sealed TEXT;

CREATE UNIQUE INDEX checkout_sessions_one_per_key
    ON checkout_sessions (merchant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- Refunds: asked of the provider (again, with the same out_refund_no, until
-- it has answered), then followed until it says how they ended.
CREATE TABLE refunds (
    -- The order they were asked for in.
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    intent_id TEXT NOT NULL REFERENCES payment_intents (id),
    merchant_id TEXT NOT NULL,
    -- NULL for the server's own (automatic) refunds.
    idempotency_key TEXT,
    request_fingerprint TEXT,
    amount_value BIGINT NOT NULL,
    currency TEXT NOT NULL,
    reason TEXT,
    -- pending | succeeded | failed
    status TEXT NOT NULL,
    failure_reason TEXT,
    automatic BOOLEAN NOT NULL,
    -- When the provider accepted the request (NULL: to be sent).
    submitted_at BIGINT,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE UNIQUE INDEX refunds_one_per_key
    ON refunds (intent_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE UNIQUE INDEX refunds_one_automatic
    ON refunds (intent_id) WHERE automatic;
CREATE INDEX refunds_of_intent ON refunds (intent_id, created_at);
CREATE INDEX refunds_due ON refunds (next_attempt_at) WHERE status = 'pending';

-- Events get a sequence (the order a merchant reads them in) and are kept
-- for every merchant: next_attempt_at is NULL for an event that is not to
-- be delivered (no endpoint, or given up).
CREATE TABLE events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    merchant_id TEXT NOT NULL,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT,
    delivered_at BIGINT,
    last_error TEXT
);

INSERT INTO events (id, merchant_id, type, payload, created_at, attempts, next_attempt_at,
                    delivered_at, last_error)
SELECT id, merchant_id, type, payload, created_at, attempts,
       CASE WHEN next_attempt_at >= 9223372036854775807 THEN NULL ELSE next_attempt_at END,
       delivered_at, last_error
FROM webhook_events ORDER BY created_at, id;

DROP TABLE webhook_events;
ALTER TABLE events RENAME TO webhook_events;

CREATE INDEX webhook_events_due
    ON webhook_events (next_attempt_at) WHERE delivered_at IS NULL AND next_attempt_at IS NOT NULL;
CREATE INDEX webhook_events_of_merchant ON webhook_events (merchant_id, seq);

-- Provider jobs name what they act on (an intent, to close) and say when
-- they were written (how long the oldest has waited).
ALTER TABLE provider_jobs ADD COLUMN created_at BIGINT;
CREATE INDEX provider_jobs_of_intent ON provider_jobs (intent_id);
