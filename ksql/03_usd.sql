-- 03: TRANSACTIONS_USD, and the rejects our product would quarantine.

-- Unknown currency. A plain stream-table INNER JOIN drops a transaction whose CURRENCY has no
-- rate, silently. Our product never does: it quarantines the raw record in the topic
-- transactions_rejected with the reason in a header. So this file joins once with a LEFT JOIN
-- and splits the result: matched rows go to TRANSACTIONS_USD, unmatched ones to
-- TRANSACTIONS_REJECTED. One join, so a rate arriving mid-way can never put a transaction in
-- both or in neither (two separate joins could). ksqlDB cannot write headers, so the reason is a
-- value field, REJECT_REASON, and the rejects are pseudonymized records in their own topic
-- transactions_rejected_ksql: not raw data, not the same shape as ours.
-- A transaction with a NULL CURRENCY has no join key: ksqlDB skips it (processing log).

SET 'auto.offset.reset' = 'earliest';

-- ksqlDB joins only sources with the same partition count. Our CURRENCY_RATES topic has one
-- partition, the transaction topics three: this copy of the rates has as many partitions as
-- TRANSACTIONS_SECURE (change 3 if your transactions topic has another count).
CREATE TABLE IF NOT EXISTS CURRENCY_RATES_COPARTITIONED WITH (
  KAFKA_TOPIC = 'CURRENCY_RATES_COPARTITIONED',
  PARTITIONS = 3
) AS SELECT * FROM CURRENCY_RATES
EMIT CHANGES;

-- Internal: every secure transaction with its rate, or a NULL rate. Keyed by CURRENCY, the
-- join key, so AS_VALUE keeps CURRENCY in the value too. Join results would otherwise be named
-- S_..., hence an alias on every column.
CREATE STREAM IF NOT EXISTS TRANSACTIONS_RATED WITH (
  KAFKA_TOPIC = 'TRANSACTIONS_RATED',
  VALUE_FORMAT = 'JSON'
) AS SELECT
  S.CURRENCY AS CURRENCY_KEY,
  S.TRANSACTION_ID AS TRANSACTION_ID,
  S.USER_ID_HASHED AS USER_ID_HASHED,
  S.USER_NAME_HASHED AS USER_NAME_HASHED,
  S.EMAIL_HASHED AS EMAIL_HASHED,
  S.TRANSACTION_TYPE AS TRANSACTION_TYPE,
  S.AMOUNT AS AMOUNT,
  AS_VALUE(S.CURRENCY) AS CURRENCY,
  S.STATUS AS STATUS,
  S.CITY AS CITY,
  S.COUNTRY AS COUNTRY,
  S.IP_MASKED AS IP_MASKED,
  S.STREET_MASKED AS STREET_MASKED,
  S.`TIMESTAMP` AS `TIMESTAMP`,
  R.RATE_TO_USD AS RATE_TO_USD
FROM TRANSACTIONS_SECURE S
LEFT JOIN CURRENCY_RATES_COPARTITIONED R ON S.CURRENCY = R.CURRENCY
EMIT CHANGES;

CREATE STREAM IF NOT EXISTS TRANSACTIONS_USD WITH (
  KAFKA_TOPIC = 'TRANSACTIONS_USD',
  VALUE_FORMAT = 'JSON'
) AS SELECT
  CURRENCY_KEY,
  TRANSACTION_ID,
  USER_ID_HASHED,
  USER_NAME_HASHED,
  EMAIL_HASHED,
  TRANSACTION_TYPE,
  AMOUNT,
  CURRENCY,
  STATUS,
  CITY,
  COUNTRY,
  IP_MASKED,
  STREET_MASKED,
  `TIMESTAMP`,
  ROUND(AMOUNT * RATE_TO_USD, 6) AS AMOUNT_USD,
  'USD' AS TARGET_CURRENCY
FROM TRANSACTIONS_RATED
WHERE RATE_TO_USD IS NOT NULL
EMIT CHANGES;

CREATE STREAM IF NOT EXISTS TRANSACTIONS_REJECTED WITH (
  KAFKA_TOPIC = 'transactions_rejected_ksql',
  VALUE_FORMAT = 'JSON'
) AS SELECT
  *,
  CONCAT('unknown currency: ', CURRENCY) AS REJECT_REASON
FROM TRANSACTIONS_RATED
WHERE RATE_TO_USD IS NULL
EMIT CHANGES;
