#!/usr/bin/env bash
# Local MariaDB server (Debian's mariadb-server package) for development and tests, run as a
# plain background process: no systemd, no Docker, data outside the repository.
#
# Usage: scripts/mariadb.sh start | stop | status | reset | url
#   start   initialize the data folder on first use (mariadb-install-db), start the server in
#           the background, create the database and its user, and return once it accepts
#           clients; does nothing if it already runs
#   stop    stop the server this script started (SIGTERM, SIGKILL after a timeout)
#   status  print whether it runs; exit 0 if running, 3 if not
#   reset   stop it and delete its data (every database, user and password)
#   url     print the matching WAREHOUSE_URL (mysql://USER:PASSWORD@127.0.0.1:PORT/DATABASE)
#           as the last line of output
#
# Settings (environment):
#   MARIADB_PORT           TCP port on 127.0.0.1 (default 3306)
#   MARIADB_CACHE_DIR      data, socket, logs (default ~/.cache/datalake-mariadb)
#   MARIADB_DATABASE       database created by start (default datalake)
#   MARIADB_USER           user created by start (default datalake); it may also create and drop
#                          databases named <MARIADB_DATABASE>_* (tests use one per test file)
#   MARIADB_LOCAL_INFILE   1 (default) or 0: whether the server allows LOAD DATA LOCAL INFILE
#                          (the loader's fast path; MySQL 8 servers have it off by default)
#   MARIADB_START_TIMEOUT  seconds `start` waits for the server (default 60)
#   MARIADB_STOP_TIMEOUT   seconds `stop` waits before SIGKILL (default 30)
#
# Files, all outside the repository ($MARIADB_CACHE_DIR/port-<port>/):
#   data/       the server's datadir (survives restarts)
#   password    the user's password, generated on first start (mode 600)
#   mariadb.{pid,sock,log}
# Administration goes through the socket as the OS user who installed it (unix_socket);
# clients of the product use TCP with the user and password.
set -euo pipefail

PORT="${MARIADB_PORT:-3306}"
HOST=127.0.0.1
RUN_DIR="${MARIADB_CACHE_DIR:-$HOME/.cache/datalake-mariadb}/port-$PORT"
DATA_DIR="$RUN_DIR/data"
PID_FILE="$RUN_DIR/mariadb.pid"
SOCKET="$RUN_DIR/mariadb.sock"
LOG_FILE="$RUN_DIR/mariadb.log"
PASSWORD_FILE="$RUN_DIR/password"
DATABASE="${MARIADB_DATABASE:-datalake}"
DB_USER="${MARIADB_USER:-datalake}"
START_TIMEOUT="${MARIADB_START_TIMEOUT:-60}"
LOCAL_INFILE="${MARIADB_LOCAL_INFILE:-1}"
[[ "$LOCAL_INFILE" == 0 || "$LOCAL_INFILE" == 1 ]] || die "MARIADB_LOCAL_INFILE must be 0 or 1"
STOP_TIMEOUT="${MARIADB_STOP_TIMEOUT:-30}"

say() { echo "mariadb.sh: $*"; }
die() { echo "mariadb.sh: error: $*" >&2; exit 1; }

for n in "$PORT" "$START_TIMEOUT" "$STOP_TIMEOUT"; do
  [[ "$n" =~ ^[0-9]+$ ]] || die "not a number: '$n' (check MARIADB_PORT and friends)"
done
[[ "$DATABASE" =~ ^[A-Za-z0-9_]{1,40}$ ]] || die "MARIADB_DATABASE must be letters, digits, _"
[[ "$DB_USER" =~ ^[A-Za-z0-9_]{1,32}$ ]] || die "MARIADB_USER must be letters, digits, _"

find_bin() {
  local name
  for name in "$@"; do
    if command -v "$name" >/dev/null; then command -v "$name"; return 0; fi
    if [[ -x "/usr/sbin/$name" ]]; then echo "/usr/sbin/$name"; return 0; fi
  done
  return 1
}
need_server() {
  MARIADBD="$(find_bin mariadbd mysqld)" ||
    die "mariadbd not found; install it with: apt-get install mariadb-server mariadb-client"
  INSTALL_DB="$(find_bin mariadb-install-db mysql_install_db)" ||
    die "mariadb-install-db not found (package mariadb-server)"
}
need_client() {
  CLIENT="$(find_bin mariadb mysql)" || die "mariadb client not found (package mariadb-client)"
}

# The pid of the server this script started on this port, if it still runs. Checks the command
# line too, so a recycled pid is never mistaken for (and killed as) the server.
server_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  ps -p "$pid" -o args= 2>/dev/null | grep -qF "$DATA_DIR" || return 1
  echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; }

# Administration over the socket as the OS user who installed it: mariadb-install-db gives that
# user (and root) unix_socket authentication and every privilege.
admin_sql() { "$CLIENT" --no-defaults --protocol=socket --socket="$SOCKET" -u"$(id -un)" -N -B -e "$1"; }

server_answers() { [[ -S "$SOCKET" ]] && admin_sql "SELECT 1" >/dev/null 2>&1; }

password() {
  if [[ ! -s "$PASSWORD_FILE" ]]; then
    mkdir -p "$RUN_DIR"
    (umask 077 && head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$PASSWORD_FILE")
  fi
  cat "$PASSWORD_FILE"
}

show_log() { tail -n 25 "$LOG_FILE" >&2 || true; }

init_data() {
  [[ -d "$DATA_DIR/mysql" ]] && return 0
  say "initializing $DATA_DIR (first start)"
  rm -rf "$DATA_DIR" && mkdir -p "$DATA_DIR"
  "$INSTALL_DB" --no-defaults --datadir="$DATA_DIR" --user="$(id -un)" \
    --auth-root-authentication-method=socket --skip-test-db >>"$LOG_FILE" 2>&1 ||
    { show_log; rm -rf "$DATA_DIR"; die "mariadb-install-db failed (log above)"; }
}

# The database, its user with a password, and the right to make <database>_* databases.
create_database() {
  local pw
  pw="$(password)"
  admin_sql "CREATE DATABASE IF NOT EXISTS \`$DATABASE\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
    CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$pw';
    CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$pw';
    ALTER USER '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$pw';
    ALTER USER '$DB_USER'@'localhost' IDENTIFIED BY '$pw';
    GRANT ALL PRIVILEGES ON \`$DATABASE\`.* TO '$DB_USER'@'127.0.0.1', '$DB_USER'@'localhost';
    GRANT ALL PRIVILEGES ON \`${DATABASE//_/\\_}\\_%\`.* TO '$DB_USER'@'127.0.0.1', '$DB_USER'@'localhost';
    FLUSH PRIVILEGES;" || die "could not create database $DATABASE and user $DB_USER"
}

start() {
  need_client
  local pid=""
  if pid="$(server_pid)" && server_answers; then
    create_database
    say "already running (pid $pid) on $HOST:$PORT"
    return 0
  fi
  need_server
  mkdir -p "$RUN_DIR"
  if [[ -z "${pid:-}" ]]; then
    port_open && die "port $PORT is taken by a server this script did not start (set MARIADB_PORT)"
    if [[ -f "$LOG_FILE" && $(wc -c <"$LOG_FILE") -gt 10000000 ]]; then
      mv "$LOG_FILE" "$LOG_FILE.old"
    fi
    echo "----- start $(date '+%Y-%m-%d %H:%M:%S') -----" >>"$LOG_FILE"
    init_data
    local detach=(nohup)
    command -v setsid >/dev/null && detach=(setsid)
    rm -f "$PID_FILE"
    # Small buffers: a development server on a shared machine. local-infile: the loader's
    # fast path and bench/load.sh's peer.
    "${detach[@]}" "$MARIADBD" --no-defaults --datadir="$DATA_DIR" --user="$(id -un)" \
      --bind-address="$HOST" --port="$PORT" --socket="$SOCKET" --pid-file="$PID_FILE" \
      --log-error="$LOG_FILE" --skip-name-resolve --character-set-server=utf8mb4 \
      --collation-server=utf8mb4_bin --default-storage-engine=InnoDB \
      --innodb-buffer-pool-size=128M --innodb-log-file-size=64M --max-connections=200 \
      --local-infile="$LOCAL_INFILE" --skip-log-bin </dev/null >>"$LOG_FILE" 2>&1 &
    disown 2>/dev/null || true
    say "starting MariaDB on $HOST:$PORT, log: $LOG_FILE"
  else
    say "server (pid $pid) is still starting; waiting for it"
  fi

  local began=$SECONDS deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    if server_answers; then
      create_database
      say "ready on $HOST:$PORT (pid $(cat "$PID_FILE")) after $((SECONDS - began))s, database $DATABASE"
      return 0
    fi
    if ((SECONDS - began > 3)) && ! server_pid >/dev/null; then
      show_log
      die "the server exited during start-up (log above, full log: $LOG_FILE)"
    fi
    sleep 0.5
  done
  show_log
  die "the server did not accept clients within ${START_TIMEOUT}s (log: $LOG_FILE)"
}

stop() {
  local pid
  if ! pid="$(server_pid)"; then
    rm -f "$PID_FILE"
    say "not running on $HOST:$PORT (or not started by this script)"
    return 0
  fi
  say "stopping server (pid $pid) on $HOST:$PORT"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then
    say "still running after ${STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  fi
  rm -f "$PID_FILE"
  say "stopped"
}

status() {
  need_client
  local pid
  if pid="$(server_pid)"; then
    if server_answers; then
      say "running (pid $pid) on $HOST:$PORT, data: $DATA_DIR"
    else
      say "running (pid $pid) on $HOST:$PORT but not answering yet (log: $LOG_FILE)"
    fi
    return 0
  fi
  say "not running on $HOST:$PORT"
  return 3
}

reset() {
  stop
  say "deleting $DATA_DIR and the stored password"
  rm -rf "$DATA_DIR" "$PASSWORD_FILE"
}

url() {
  echo "mysql://$DB_USER:$(password)@$HOST:$PORT/$DATABASE"
}

case "${1:-}" in
  start | stop | status | reset | url) "$1" ;;
  *)
    echo "usage: $0 start | stop | status | reset | url" >&2
    exit 2
    ;;
esac
