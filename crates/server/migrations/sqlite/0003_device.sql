-- The device the shopper chose the method on: a card's gateway page comes
-- in a desktop and a phone layout (UnionPay's channelType 07 and 08), and a
-- hand-off made again must be the same one.
ALTER TABLE payment_intents ADD COLUMN device TEXT;
