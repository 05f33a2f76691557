-- 02: TRANSACTIONS_SECURE, every raw transaction pseudonymized. Needs the HMAC_SHA256 UDF.

-- Pseudonymization. ksqlDB has no HMAC (and no SHA-256) function. Our product writes
-- USER_ID_HASHED, USER_NAME_HASHED and EMAIL_HASHED as the lowercase hex HMAC-SHA256 of the
-- value keyed by ANONYMIZATION_KEY, so ksqlDB needs the small UDF in ksql/udf/HmacSha256.java,
-- packaged as a jar in ksql.extension.dir. Its one-argument form reads the key from the server
-- setting ksql.functions.hmac_sha256.key (set it to ANONYMIZATION_KEY): the secret then never
-- appears in a statement, the command topic or EXPLAIN. Same key, same hashes as our processor,
-- so the lake and warehouse join on USER_ID_HASHED whichever of the two produced the data.
-- Without the UDF there is nothing equivalent: MASK, MASK_KEEP_LEFT and friends only replace
-- characters by X, x and n (different users collide, nothing joins), and a plain SHA-256 from
-- some other UDF would not match our hashes and is weaker: with no key, anyone can hash a list
-- of candidate user ids or emails and reverse it (dictionary attack).

-- Key: PARTITION BY the hashed user id keeps per-user order for USERS and the aggregates, and
-- keeps the raw USER_ID out of the message key. The key column needs its own name, so
-- AS_VALUE copies the hash into the value field USER_ID_HASHED that the lake reads.

SET 'auto.offset.reset' = 'earliest';

CREATE STREAM IF NOT EXISTS TRANSACTIONS_SECURE WITH (
  KAFKA_TOPIC = 'TRANSACTIONS_SECURE',
  KEY_FORMAT = 'KAFKA',
  VALUE_FORMAT = 'JSON'
) AS SELECT
  HMAC_SHA256(USER_ID) AS USER_ID_HASHED_KEY,
  TRANSACTION_ID,
  AS_VALUE(HMAC_SHA256(USER_ID)) AS USER_ID_HASHED,
  HMAC_SHA256(USER_NAME) AS USER_NAME_HASHED,
  HMAC_SHA256(EMAIL) AS EMAIL_HASHED,
  TRANSACTION_TYPE,
  AMOUNT,
  CURRENCY,
  STATUS,
  CITY,
  COUNTRY,
  -- IPv4: last octet set to 0, exactly as our processor does.
  -- IPv6: our processor keeps the first 48 bits (three groups) and zeroes the rest. A regex
  -- cannot expand "::", so this keeps the first three groups as written, then "::", when all
  -- three are spelled out, and otherwise keeps what precedes the first "::", then "::". That is
  -- exact unless the zero groups hidden by "::" end before the third group (2001::1:2:3:4:5:6),
  -- where more bits are zeroed, never fewer. Case and leading zeros stay as written, so the text
  -- can differ from the one our processor writes for the same bits.
  -- Anything that is no IP address becomes NULL (no ELSE) instead of being copied through.
  CASE
    WHEN IP_ADDRESS LIKE '%:%' THEN
      REGEXP_REPLACE(
        REGEXP_REPLACE(IP_ADDRESS, '^([0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}):.*$', '$1::'),
        '^([0-9A-Fa-f:]*?)::.*$', '$1::')
    WHEN REGEXP_EXTRACT('^[0-9]{1,3}([.][0-9]{1,3}){3}$', IP_ADDRESS) IS NOT NULL THEN
      REGEXP_REPLACE(IP_ADDRESS, '^([0-9]{1,3}[.][0-9]{1,3}[.][0-9]{1,3})[.][0-9]{1,3}$', '$1.0')
  END AS IP_MASKED,
  -- Every digit becomes n: "12 Rue de la Paix" is "nn Rue de la Paix".
  REGEXP_REPLACE(STREET, '[0-9]', 'n') AS STREET_MASKED,
  `TIMESTAMP`
FROM TRANSACTIONS
PARTITION BY HMAC_SHA256(USER_ID)
EMIT CHANGES;
