#!/usr/bin/env bash
# Start (or stop) a throw-away PostgreSQL server on loopback for tests.
# Usage: scripts/postgres-local.sh start|stop|kill|reset   (env: PGPORT=55432, PGDATA_DIR=/tmp/upr-match-pg)
#   start: initialise the data folder if it holds no cluster yet, then start the server
#   reset: wipe the data folder first;  stop: fast shutdown;  kill: immediate shutdown (crash-like)
# Installs Debian's postgresql when missing. initdb refuses to run as root, so the
# server runs as the `postgres` user through runuser.
set -euo pipefail
PORT="${PGPORT:-55432}"
DATA="${PGDATA_DIR:-/tmp/upr-match-pg}"
SOCK="${DATA}-sock"

find_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$dir" ] && echo "$dir"
}

as_pg() {
  # From /: the postgres user may not be allowed into the checkout (a clone under a 0700 temp folder).
  if [ "$(id -u)" = "0" ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

case "${1:-start}" in
  start|reset)
    BIN=$(find_bin || true)
    if [ -z "${BIN:-}" ]; then
      echo "postgresql not found: installing Debian's package" >&2
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >/dev/null
      apt-get install -y -qq postgresql >/dev/null
      BIN=$(find_bin)
    fi
    if [ -f "$DATA/postmaster.pid" ] && as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
      echo "postgresql already running on 127.0.0.1:$PORT" >&2
      exit 0
    fi
    if [ "$1" = "reset" ] || [ ! -f "$DATA/PG_VERSION" ]; then
      rm -rf "$DATA" "$SOCK"
      mkdir -p "$DATA" "$SOCK"
      if [ "$(id -u)" = "0" ]; then chown postgres:postgres "$DATA" "$SOCK"; fi
      as_pg "$BIN/initdb" -D "$DATA" -A trust -U postgres >/dev/null
    fi
    mkdir -p "$SOCK"
    if [ "$(id -u)" = "0" ]; then chown postgres:postgres "$SOCK"; fi
    as_pg "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" \
      -o "-p $PORT -k $SOCK -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on" -w start >/dev/null
    echo "postgresql running on 127.0.0.1:$PORT (data in $DATA)" >&2
    ;;
  stop)
    BIN=$(find_bin)
    as_pg "$BIN/pg_ctl" -D "$DATA" -m fast stop >/dev/null 2>&1 || true
    ;;
  kill)
    BIN=$(find_bin)
    as_pg "$BIN/pg_ctl" -D "$DATA" -m immediate stop >/dev/null 2>&1 || true
    ;;
  *)
    echo "usage: $0 start|stop|kill|reset" >&2; exit 2 ;;
esac
