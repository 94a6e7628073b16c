-- The reference server's schema. Portable SQL: 64-bit integers for money
-- (minor units) and times (Unix seconds), TEXT for ids and names, partial
-- indexes that PostgreSQL reads the same way.

CREATE TABLE checkout_sessions (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    amount_value BIGINT NOT NULL,
    currency TEXT NOT NULL,
    reference TEXT NOT NULL,
    return_url TEXT NOT NULL,
    client_secret_hash TEXT NOT NULL,
    -- open | completed | expired
    status TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    completed_at BIGINT,
    paid_intent_id TEXT
);

CREATE INDEX checkout_sessions_open_by_expiry
    ON checkout_sessions (expires_at) WHERE status = 'open';

CREATE TABLE payment_intents (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES checkout_sessions (id),
    idempotency_key TEXT NOT NULL,
    request_fingerprint TEXT NOT NULL,
    method TEXT NOT NULL,
    flow TEXT NOT NULL,
    amount_value BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    failure_reason TEXT,
    expires_at BIGINT NOT NULL,
    -- The hand-off (contract NextAction as JSON) while it requires action,
    -- and when it must be asked of the provider again (an H5 URL lives
    -- five minutes).
    next_action TEXT,
    next_action_expires_at BIGINT,
    -- What the provider needs to know about the payer: the phone's IP (H5)
    -- or its id in the wallet (WeChat's openid, for JSAPI).
    payer_ip TEXT,
    payer_id TEXT,
    transaction_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_queried_at BIGINT,
    UNIQUE (session_id, idempotency_key)
);

-- At most one payable intent per session.
CREATE UNIQUE INDEX payment_intents_one_open_per_session
    ON payment_intents (session_id) WHERE status IN ('requires_action', 'processing');

CREATE INDEX payment_intents_open_by_expiry
    ON payment_intents (expires_at) WHERE status IN ('requires_action', 'processing');

-- Every provider notification received, once (deduplicated on its id),
-- and what became of it; one whose amount did not match is kept here for
-- review.
CREATE TABLE provider_notifications (
    provider TEXT NOT NULL,
    id TEXT NOT NULL,
    out_trade_no TEXT NOT NULL,
    outcome TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (provider, id)
);

-- The outbox of webhook events, written with the change each reports and
-- delivered until the merchant's endpoint accepts it.
CREATE TABLE webhook_events (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    delivered_at BIGINT,
    last_error TEXT
);

CREATE INDEX webhook_events_due
    ON webhook_events (next_attempt_at) WHERE delivered_at IS NULL;

-- The outbox of provider calls that must happen (closing a code that can
-- no longer be allowed to take money), retried until done.
CREATE TABLE provider_jobs (
    id TEXT PRIMARY KEY,
    intent_id TEXT NOT NULL REFERENCES payment_intents (id),
    kind TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    done_at BIGINT,
    last_error TEXT
);

CREATE INDEX provider_jobs_due
    ON provider_jobs (next_attempt_at) WHERE done_at IS NULL;
