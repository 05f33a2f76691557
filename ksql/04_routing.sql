-- 04: TRANSACTIONS_BLACKLISTED and one TRANSACTIONS_<STATUS> stream per status.
-- Each is a filter of TRANSACTIONS_SECURE: same fields, same key (the hashed user id).

SET 'auto.offset.reset' = 'earliest';

-- The blacklist mirrors our settings: BLACKLIST_USER_IDS (raw user ids, default U00013,U00042)
-- and BLACKLIST_COUNTRIES (default North Korea). Edit both lists to match your values.
-- Only hashed ids reach this stream, so each raw id is hashed with the same UDF. To keep raw ids
-- out of the statement text too, write the hashes themselves instead, for example the output of
--   printf %s U00013 | openssl dgst -sha256 -hmac "$ANONYMIZATION_KEY"
-- A static list, like our configuration: a change means CREATE OR REPLACE. A ksqlDB table of
-- blacklisted values would let it change live, but matching the user id OR the country is two
-- lookups on two different keys: two chained joins and one more intermediate topic.
CREATE STREAM IF NOT EXISTS TRANSACTIONS_BLACKLISTED WITH (
  KAFKA_TOPIC = 'TRANSACTIONS_BLACKLISTED',
  VALUE_FORMAT = 'JSON'
) AS SELECT *
FROM TRANSACTIONS_SECURE
WHERE USER_ID_HASHED IN (HMAC_SHA256('U00013'), HMAC_SHA256('U00042'))
   OR COUNTRY IN ('North Korea')
EMIT CHANGES;

-- Routed by STATUS upper-cased, as our processor names the topics. A status outside these
-- five goes to none of them (it is still in TRANSACTIONS_SECURE).
CREATE STREAM IF NOT EXISTS TRANSACTIONS_COMPLETED WITH (
  KAFKA_TOPIC = 'TRANSACTIONS_COMPLETED',
  VALUE_FORMAT = 'JSON'
) AS SELECT * FROM TRANSACTIONS_SECURE WHERE UCASE(STATUS) = 'COMPLETED'
EMIT CHANGES;

CREATE STREAM IF NOT EXISTS TRANSACTIONS_FAILED WITH (
  KAFKA_TOPIC = 'TRANSACTIONS_FAILED',
  VALUE_FORMAT = 'JSON'
) AS SELECT * FROM TRANSACTIONS_SECURE WHERE UCASE(STATUS) = 'FAILED'
EMIT CHANGES;

CREATE STREAM IF NOT EXISTS TRANSACTIONS_PENDING WITH (
  KAFKA_TOPIC = 'TRANSACTIONS_PENDING',
  VALUE_FORMAT = 'JSON'
) AS SELECT * FROM TRANSACTIONS_SECURE WHERE UCASE(STATUS) = 'PENDING'
EMIT CHANGES;

CREATE STREAM IF NOT EXISTS TRANSACTIONS_PROCESSING WITH (
  KAFKA_TOPIC = 'TRANSACTIONS_PROCESSING',
  VALUE_FORMAT = 'JSON'
) AS SELECT * FROM TRANSACTIONS_SECURE WHERE UCASE(STATUS) = 'PROCESSING'
EMIT CHANGES;

CREATE STREAM IF NOT EXISTS TRANSACTIONS_CANCELLED WITH (
  KAFKA_TOPIC = 'TRANSACTIONS_CANCELLED',
  VALUE_FORMAT = 'JSON'
) AS SELECT * FROM TRANSACTIONS_SECURE WHERE UCASE(STATUS) = 'CANCELLED'
EMIT CHANGES;
