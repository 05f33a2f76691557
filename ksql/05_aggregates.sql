-- 05: the table feeds USER_SPENDING_BY_TYPE, SPEND_LAST_FIVE_MIN_BY_TYPE and USERS.
-- Keyed changelogs: the message key is the primary key. A key column cannot share its name with
-- a value column, so keys are named ..._KEY and AS_VALUE copies them into the value fields the
-- lake reads. GROUP BY drops rows whose key is NULL, hence COALESCE(TRANSACTION_TYPE, UNKNOWN)
-- as our processor counts a NULL type. Times are event times (ROWTIME, from TIMESTAMP) written
-- as ISO 8601 UTC.

SET 'auto.offset.reset' = 'earliest';
-- Emit every update of a table, as our processor does, instead of one per key per commit.
SET 'cache.max.bytes.buffering' = '0';

-- Two key columns need a key format that can hold them: JSON, an object of both.
CREATE TABLE IF NOT EXISTS USER_SPENDING_BY_TYPE WITH (
  KAFKA_TOPIC = 'USER_SPENDING_BY_TYPE',
  KEY_FORMAT = 'JSON',
  VALUE_FORMAT = 'JSON'
) AS SELECT
  USER_ID_HASHED AS USER_ID_HASHED_KEY,
  COALESCE(TRANSACTION_TYPE, 'UNKNOWN') AS TRANSACTION_TYPE_KEY,
  AS_VALUE(USER_ID_HASHED) AS USER_ID_HASHED,
  AS_VALUE(COALESCE(TRANSACTION_TYPE, 'UNKNOWN')) AS TRANSACTION_TYPE,
  SUM(AMOUNT_USD) AS TOTAL_AMOUNT_USD,
  COUNT(*) AS TRANSACTION_COUNT,
  TIMESTAMPTOSTRING(MAX(ROWTIME), 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z''', 'UTC') AS LAST_TRANSACTION_AT
FROM TRANSACTIONS_USD
GROUP BY USER_ID_HASHED, COALESCE(TRANSACTION_TYPE, 'UNKNOWN')
EMIT CHANGES;

-- Tumbling windows are aligned on the epoch: [hh:00, hh:05), [hh:05, hh:10) ... in UTC.
-- EMIT CHANGES writes each update of the open window. An event later than the GRACE PERIOD
-- after its window end (in stream time) is dropped: align it with our processor.
-- The Kafka key is windowed (type plus window start), the value holds TRANSACTION_TYPE.
-- TIMESTAMPTOSTRING is deprecated but still in 0.29. FORMAT_TIMESTAMP(FROM_UNIXTIME(WINDOWSTART),
-- ...) is the newer spelling.
CREATE TABLE IF NOT EXISTS SPEND_LAST_FIVE_MIN_BY_TYPE WITH (
  KAFKA_TOPIC = 'SPEND_LAST_FIVE_MIN_BY_TYPE',
  VALUE_FORMAT = 'JSON'
) AS SELECT
  COALESCE(TRANSACTION_TYPE, 'UNKNOWN') AS TRANSACTION_TYPE_KEY,
  AS_VALUE(COALESCE(TRANSACTION_TYPE, 'UNKNOWN')) AS TRANSACTION_TYPE,
  SUM(AMOUNT_USD) AS TOTAL_AMOUNT_USD,
  COUNT(*) AS TRANSACTION_COUNT,
  TIMESTAMPTOSTRING(WINDOWSTART, 'yyyy-MM-dd''T''HH:mm:ss''Z''', 'UTC') AS WINDOW_START,
  TIMESTAMPTOSTRING(WINDOWEND, 'yyyy-MM-dd''T''HH:mm:ss''Z''', 'UTC') AS WINDOW_END
FROM TRANSACTIONS_USD
WINDOW TUMBLING (SIZE 5 MINUTES, GRACE PERIOD 1 MINUTE)
GROUP BY COALESCE(TRANSACTION_TYPE, 'UNKNOWN')
EMIT CHANGES;

-- Every secure transaction counts, converted or not. TRANSACTIONS_SECURE is already keyed by
-- the hashed user id, so grouping on that key needs no repartition.
-- FIRST_SEEN_AT and LAST_SEEN_AT are the earliest and latest event times seen, whatever the
-- arrival order (a late event can move FIRST_SEEN_AT back). LATEST_BY_OFFSET takes the last
-- value by arrival and skips NULLs.
CREATE TABLE IF NOT EXISTS USERS WITH (
  KAFKA_TOPIC = 'USERS',
  VALUE_FORMAT = 'JSON'
) AS SELECT
  USER_ID_HASHED_KEY,
  AS_VALUE(USER_ID_HASHED_KEY) AS USER_ID_HASHED,
  LATEST_BY_OFFSET(USER_NAME_HASHED) AS USER_NAME_HASHED,
  LATEST_BY_OFFSET(EMAIL_HASHED) AS EMAIL_HASHED,
  LATEST_BY_OFFSET(CITY) AS CITY,
  LATEST_BY_OFFSET(COUNTRY) AS COUNTRY,
  TIMESTAMPTOSTRING(MIN(ROWTIME), 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z''', 'UTC') AS FIRST_SEEN_AT,
  TIMESTAMPTOSTRING(MAX(ROWTIME), 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z''', 'UTC') AS LAST_SEEN_AT
FROM TRANSACTIONS_SECURE
GROUP BY USER_ID_HASHED_KEY
EMIT CHANGES;
