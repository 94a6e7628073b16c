-- One code for every wallet: the desktop's code is a URL with this token,
-- and the intent's method is decided when a phone's wallet opens it. The
-- first phone claims the intent (the hash of its cookie); another phone
-- finds it claimed. An intent closed before any phone came is sealed.
ALTER TABLE payment_intents ADD COLUMN pay_token TEXT;
ALTER TABLE payment_intents ADD COLUMN claimed_by TEXT;
ALTER TABLE payment_intents ADD COLUMN claimed_at BIGINT;
CREATE UNIQUE INDEX payment_intents_by_pay_token ON payment_intents (pay_token);
