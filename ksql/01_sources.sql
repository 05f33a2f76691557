-- 01: the sources. Run the files in order (ksql/README.md). ksqlDB 0.29 / Confluent Platform 7.x.
-- Comments here avoid apostrophes and semicolons so that any statement splitter copes.

-- Raw transactions: personal data, never stored in the lake.
-- The Kafka key is USER_ID, but USER_ID is read from the value, which carries it too: the
-- pipeline does not depend on how a producer serialized the key, and the raw key can never be
-- carried into a derived topic (no KEY column is declared).
-- TIMESTAMP (ISO 8601, UTC) becomes ROWTIME, the event time of each record and of every record
-- derived from it: the 5-minute windows and the USERS dates are in event time, not arrival time.
-- A value whose TIMESTAMP does not parse is skipped and logged to the processing log.
-- PARTITIONS is used only if ksqlDB has to create the topic, and must otherwise equal the
-- existing count (3 in our product, see src/kafka/topics.ts).
CREATE STREAM IF NOT EXISTS TRANSACTIONS (
  TRANSACTION_ID VARCHAR,
  USER_ID VARCHAR,
  USER_NAME VARCHAR,
  EMAIL VARCHAR,
  TRANSACTION_TYPE VARCHAR,
  AMOUNT DOUBLE,
  CURRENCY VARCHAR,
  STATUS VARCHAR,
  CITY VARCHAR,
  COUNTRY VARCHAR,
  IP_ADDRESS VARCHAR,
  STREET VARCHAR,
  `TIMESTAMP` VARCHAR
) WITH (
  KAFKA_TOPIC = 'transactions',
  VALUE_FORMAT = 'JSON',
  PARTITIONS = 3,
  TIMESTAMP = 'TIMESTAMP',
  TIMESTAMP_FORMAT = 'yyyy-MM-dd''T''HH:mm:ss[.SSS]X'
);

-- Exchange rates: key = currency code as a plain UTF-8 string (KAFKA format), value
-- {"CURRENCY": "EUR", "RATE_TO_USD": 1.08}. The value keeps CURRENCY too because our lake
-- stores values only. Our product keeps this topic as a one-partition static feed.
-- Joins run in event-time order: a rate must carry a Kafka timestamp older than the
-- transactions it converts, or they are rejected as unknown currency (see 03_usd.sql).
CREATE TABLE IF NOT EXISTS CURRENCY_RATES (
  CURRENCY VARCHAR PRIMARY KEY,
  RATE_TO_USD DOUBLE
) WITH (
  KAFKA_TOPIC = 'CURRENCY_RATES',
  KEY_FORMAT = 'KAFKA',
  VALUE_FORMAT = 'JSON',
  PARTITIONS = 1
);
