#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL server on loopback, then stop it:
#   scripts/with-postgres.sh pytest ...
# The server runs as the `postgres` OS user (initdb refuses root) from a folder in /tmp, on a free
# port, and the command sees its URL as PAPERFEED_TEST_POSTGRES_URL. Installs PostgreSQL 15 and
# pgvector first when they are missing. When PAPERFEED_TEST_POSTGRES_URL is set already, the
# command runs against that server instead.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${PAPERFEED_TEST_POSTGRES_URL:-}" ]; then
  exec "$@"
fi

scripts/postgres-install.sh
BIN=/usr/lib/postgresql/15/bin
# Under /tmp: the postgres user must reach it, and a checkout under /root is closed to it.
DIR=${PAPERFEED_PG_DIR:-$(mktemp -d /tmp/paperfeed-postgres.XXXXXX)}
as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"
  elif [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"
  else sudo -u postgres "$@"; fi
}
PORT=${PAPERFEED_PG_PORT:-}
[ -n "$PORT" ] || PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

rm -rf "$DIR"
mkdir -p "$DIR"
chown postgres "$DIR" 2> /dev/null || true
as_postgres "$BIN/initdb" -D "$DIR/data" --auth=trust --username=postgres -E UTF8 --locale=C.UTF-8 > /dev/null
as_postgres "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -o \
  "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c synchronous_commit=off \
   -c full_page_writes=off -c max_connections=300 -c shared_buffers=256MB" start > /dev/null
stop() { as_postgres "$BIN/pg_ctl" -D "$DIR/data" -m fast stop > /dev/null || true; rm -rf "$DIR"; }
trap stop EXIT

export PAPERFEED_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$PORT/postgres"
echo "PostgreSQL on 127.0.0.1:$PORT (PAPERFEED_TEST_POSTGRES_URL)"
"$@"
