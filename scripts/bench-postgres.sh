#!/usr/bin/env bash
# A PostgreSQL server for the benchmarks, kept between runs (loading a million papers takes
# minutes), configured as a production server would be (fsync on, unlike the test server):
#   scripts/bench-postgres.sh start   # prints its URL; starts it (first: creates it) if needed
#   scripts/bench-postgres.sh stop
# The folder is PAPERFEED_BENCH_PG_DIR (default /tmp/paperfeed-bench-pg), the port
# PAPERFEED_BENCH_PG_PORT (default 55440). Installs PostgreSQL 15 and pgvector when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=/usr/lib/postgresql/15/bin
DIR=${PAPERFEED_BENCH_PG_DIR:-/tmp/paperfeed-bench-pg}
PORT=${PAPERFEED_BENCH_PG_PORT:-55440}
URL="postgresql://postgres@127.0.0.1:$PORT/postgres"
as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"
  elif [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"
  else sudo -u postgres "$@"; fi
}

case "${1:-start}" in
  start)
    if as_postgres "$BIN/pg_ctl" -D "$DIR/data" status > /dev/null 2>&1; then
      echo "$URL"; exit 0
    fi
    scripts/postgres-install.sh >&2
    if [ ! -f "$DIR/data/PG_VERSION" ]; then
      mkdir -p "$DIR"
      chown postgres "$DIR" 2> /dev/null || true
      as_postgres "$BIN/initdb" -D "$DIR/data" --auth=trust --username=postgres -E UTF8 \
        --locale=C.UTF-8 > /dev/null
    fi
    # Memory for a 24 GiB, 2-core machine: a quarter for shared buffers, room for an HNSW
    # build of a million vectors in memory, both cores for index builds.
    as_postgres "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -o \
      "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c max_connections=200 \
       -c shared_buffers=6GB -c effective_cache_size=16GB -c maintenance_work_mem=6GB \
       -c max_parallel_maintenance_workers=2 -c work_mem=64MB -c max_wal_size=8GB" \
      start > /dev/null
    echo "$URL"
    ;;
  stop)
    as_postgres "$BIN/pg_ctl" -D "$DIR/data" -m fast stop > /dev/null || true
    ;;
  *)
    echo "usage: $0 start|stop" >&2; exit 2
    ;;
esac
