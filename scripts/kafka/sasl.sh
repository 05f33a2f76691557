# The optional SASL_SSL listener of the single local broker (sourced by scripts/kafka.sh):
# a throwaway CA and broker certificate, one user for PLAIN (JAAS) and SCRAM-SHA-256/512
# (created at format time), and the settings a client needs. Everything lives in
# $RUN_DIR/sasl/ and goes with `reset`.
# shellcheck shell=bash

SASL_USER=datalake

sasl_paths() {
  SASL_DIR="$RUN_DIR/sasl"
  CA_FILE="$SASL_DIR/ca.pem"
  KEYSTORE="$SASL_DIR/broker-keystore.pem"
  PASSWORD_FILE="$SASL_DIR/password"
  SCRAM_DONE="$SASL_DIR/scram-users-created"
}

# A CA valid 30 days and a broker certificate signed by it for 127.0.0.1 and localhost (in the
# subjectAltName, so clients verify the host name). Made again when missing or about to expire.
make_certificates() {
  if [[ -f "$CA_FILE" && -f "$KEYSTORE" ]] &&
    openssl x509 -checkend 86400 -noout -in "$CA_FILE" >/dev/null 2>&1; then
    return 0
  fi
  command -v openssl >/dev/null || die "openssl not found; the SASL_SSL listener needs it"
  say "making a throwaway CA and broker certificate in $SASL_DIR"
  local work="$SASL_DIR/tls.$$"
  mkdir -p "$work"
  (
    cd "$work"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 30 \
      -subj "/CN=datalake local test CA $(date +%s)" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req -newkey rsa:2048 -nodes -keyout broker.key -out broker.csr -subj "/CN=localhost"
    printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
      "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >ext.cnf
    openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
      -extfile ext.cnf -out broker.crt
    # Kafka reads a PEM keystore: the (PKCS#8, unencrypted) key, then the certificate chain.
    cat broker.key broker.crt ca.pem >broker-keystore.pem
  ) >>"$LOG_FILE" 2>&1 || { rm -rf "$work"; die "openssl could not make the certificates (log: $LOG_FILE)"; }
  chmod 600 "$work/broker-keystore.pem" "$work/ca.key" "$work/broker.key"
  mv "$work/ca.pem" "$CA_FILE"
  mv "$work/broker-keystore.pem" "$KEYSTORE"
  rm -rf "$work"
}

# The user's password: random, made once per data folder, readable only by its owner.
sasl_password() {
  if [[ ! -s "$PASSWORD_FILE" ]]; then
    mkdir -p "$SASL_DIR"
    (umask 077 && openssl rand -hex 16 >"$PASSWORD_FILE")
  fi
  cat "$PASSWORD_FILE"
}

# Listener lines added to server.properties when SASL_SSL_PORT is set.
sasl_config() {
  local password
  password="$(sasl_password)"
  cat <<EOF
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$SASL_USER="$password";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.ssl.keystore.type=PEM
listener.name.sasl_ssl.ssl.keystore.location=$KEYSTORE
listener.name.sasl_ssl.ssl.client.auth=none
EOF
}

# Arguments of `kafka-storage format` that create the SCRAM users with the metadata.
scram_format_args() {
  local password
  password="$(sasl_password)"
  echo "--add-scram" "SCRAM-SHA-256=[name=$SASL_USER,password=$password]" \
    "--add-scram" "SCRAM-SHA-512=[name=$SASL_USER,password=$password]"
}

# Creates or changes a SCRAM user on the running broker (through its plaintext listener), for
# data formatted before the listener existed and for tests that rotate credentials.
scram_user() {
  local name="$1" password="$2"
  [[ "$name" =~ ^[A-Za-z0-9._-]+$ ]] || die "user name: letters, digits, . _ - only"
  [[ "$password" =~ ^[^],=[:space:]]+$ ]] || die "password: no spaces, commas, = or ]"
  local mechanism
  # One mechanism per request: Kafka refuses two changes of one user in the same request.
  for mechanism in SCRAM-SHA-256 SCRAM-SHA-512; do
    kafka_java kafka.admin.ConfigCommand --bootstrap-server "$HOST:$PORT" --alter \
      --add-config "$mechanism=[password=$password]" \
      --entity-type users --entity-name "$name" >/dev/null 2>>"$LOG_FILE" ||
      die "could not set the $mechanism credentials of $name on $HOST:$PORT (log: $LOG_FILE)"
  done
}

# The SASL_SSL port the running broker was configured with (empty if none).
configured_sasl_port() {
  [[ -f "$CONFIG" ]] || return 0
  sed -nE 's/^listeners=.*SASL_SSL:\/\/[^:,]+:([0-9]+).*/\1/p' "$CONFIG"
}
