"""Fresh copies of bench/search_latency.py's 74,728-paper catalog for benchmarks that write.

A copy is the database (a SQLite file, or a PostgreSQL database made from the catalog's as a
template) and its search indexes, so a benchmark's votes, subscribers and digests never reach
the catalog that bench/search_latency.py measures, and every run starts from the same state.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3

from paperfeed.config import Settings
from paperfeed.storage.urls import database_name
from search_latency import MODEL_DIR, WORK, build, ready_searcher

SCALE = 74_728
BACKENDS = ("sqlite", "postgres")


def add_backend_options(parser: argparse.ArgumentParser) -> None:
    """--backend (default both) and --postgres-url (default $PAPERFEED_BENCH_POSTGRES_URL)."""
    parser.add_argument("--backend", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("PAPERFEED_BENCH_POSTGRES_URL"),
        help="A PostgreSQL server to make the benchmark's databases on "
        "(default: $PAPERFEED_BENCH_POSTGRES_URL; scripts/bench-postgres.sh starts one).",
    )


def chosen_backends(args: argparse.Namespace) -> list[str]:
    """The backends to run; PostgreSQL is dropped, saying so, when no server is given."""
    backends = list(dict.fromkeys(args.backend))
    if "postgres" in backends and not args.postgres_url:
        print("postgres: skipped (no --postgres-url or PAPERFEED_BENCH_POSTGRES_URL)")
        backends.remove("postgres")
    return backends


def versions(server_url: str | None) -> list[str]:
    """The SQLite library's version and the PostgreSQL server's, for the machine line."""
    found = [f"SQLite {sqlite3.sqlite_version}"]
    if server_url:
        import psycopg

        with psycopg.connect(server_url) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        found.append(f"PostgreSQL {str(row[0]).split()[0] if row else '?'}")
    return found


def copy_catalog(name: str, server_url: str | None = None) -> Settings:
    """Settings for a fresh copy named `name` of the catalog on SQLite, or on the PostgreSQL
    server `server_url` (database paperfeed_bench_<name>); the catalog is built first if it
    is missing. Files derived from the copy live in data/bench/."""
    source = _ready_catalog(server_url)
    if server_url is None:
        target = WORK / f"{name}.db"
        with sqlite3.connect(source.removeprefix("sqlite:///")) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        for path in (target, WORK / f"{name}.db-wal", WORK / f"{name}.db-shm"):
            path.unlink(missing_ok=True)
        shutil.copy(source.removeprefix("sqlite:///"), target)
        url, copied = f"sqlite:///{target}", name
    else:
        copied = f"paperfeed_bench_{name.replace('-', '_')}"
        url = _copy_postgres(server_url, f"paperfeed_bench_{SCALE}", copied)
    shutil.rmtree(WORK / f"{copied}.search", ignore_errors=True)
    shutil.copytree(WORK / f"{database_name(source)}.search", WORK / f"{copied}.search")
    return Settings(database_url=url, data_dir=str(WORK), model_dir=str(MODEL_DIR))


def _ready_catalog(server_url: str | None) -> str:
    """The catalog's URL, after building it and its indexes if they are not there yet."""
    name = f"latency-{SCALE}" if server_url is None else f"paperfeed_bench_{SCALE}"
    if server_url is None and (WORK / f"{name}.db").exists() and (WORK / f"{name}.search").exists():
        return f"sqlite:///{WORK / f'{name}.db'}"
    store, settings, embedder, _ = build(SCALE, server_url)
    if not (WORK / f"{name}.search").exists():
        ready_searcher(settings, store, embedder, "local")
    store.close()
    return settings.database_url


def _copy_postgres(server_url: str, template: str, name: str) -> str:
    """Database `name` made anew from `template` (which nobody may be connected to)."""
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        try:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        except psycopg.errors.ObjectInUse as exc:
            raise SystemExit(f"cannot copy {template}: {exc}") from None
    return server_url.rsplit("/", 1)[0] + f"/{name}"
