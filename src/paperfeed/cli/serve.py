"""The serve command: run the web server on the configured store."""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import os
from typing import Any

import click

from paperfeed.cli.context import get_settings
from paperfeed.config import settings_environment
from paperfeed.netaddr import is_loopback
from paperfeed.web.hosts import allowed_hosts
from paperfeed.web.workers import WorkerFailed, serve_workers


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes (each loads the model and the vectors).",
)
@click.option(
    "--forwarded-allow-ips",
    default=None,
    help="Reverse proxies (comma-separated addresses or networks) whose X-Forwarded-For and "
    "X-Forwarded-Proto are believed; default PAPERFEED_TRUSTED_PROXIES (none).",
)
@click.option(
    "--dev",
    is_flag=True,
    help="Development mode: show the mail outbox at /outbox (loopback hosts only).",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    log_level: str,
    workers: int,
    forwarded_allow_ips: str | None,
    dev: bool,
) -> None:
    """Serve the web pages, the JSON API and the feeds (uvicorn)."""
    import uvicorn

    from paperfeed.web.access_log import log_config
    from paperfeed.web.app import create_app

    settings = get_settings(ctx)
    if dev:
        settings = dataclasses.replace(settings, dev=True)
    if settings.dev and not is_loopback(host):
        raise click.UsageError(
            f"development mode shows every mail, sign-in links included, at /outbox: it only "
            f"listens on loopback (127.0.0.1, ::1, localhost), not on {host}. Serve without "
            "--dev (and PAPERFEED_DEV unset) to listen there, or reach a development server "
            "through an SSH tunnel (ssh -L 8000:127.0.0.1:8000 host)."
        )
    if forwarded_allow_ips is not None:
        settings = dataclasses.replace(settings, trusted_proxies=forwarded_allow_ips)
    proxies = _proxy_options(settings.trusted_proxies)
    _limit_malloc_arenas()
    click.echo(f"paperfeed on http://{host}:{port} (database {settings.database_url})", err=True)
    click.echo(f"answering to host names: {', '.join(allowed_hosts(settings))}", err=True)
    if workers == 1:
        uvicorn.run(
            create_app(settings),
            host=host,
            port=port,
            log_level=log_level,
            log_config=log_config(),
            **proxies,
        )
        return
    # Worker processes build their own app from the environment: hand them these settings.
    # The embedding model gets its share of the cores in each (all of them in every worker
    # made the processes fight over the cores; see README, web benchmark).
    if settings.embedding_threads == 0:
        cores = os.cpu_count() or 1
        settings = dataclasses.replace(settings, embedding_threads=max(1, cores // workers))
    os.environ.update(settings_environment(settings))
    try:
        serve_workers(
            host,
            port,
            workers,
            {"factory": True, "log_level": log_level, "log_config": log_config(), **proxies},
        )
    except (OSError, WorkerFailed) as exc:
        raise click.ClickException(str(exc)) from exc


MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # glibc's mallopt parameter


def _limit_malloc_arenas() -> None:
    """Two malloc arenas instead of glibc's eight per core: the server's pool threads each
    grew an arena of their own, and memory crept up under load (333 to 438 MB in ten minutes
    of bench/load.py; with two, 294 to 323 MB, the same throughput). MALLOC_ARENA_MAX, when
    set, wins; worker processes get it through their environment."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return
    os.environ["MALLOC_ARENA_MAX"] = str(MALLOC_ARENAS)
    with contextlib.suppress(OSError, AttributeError):  # not glibc: its own allocator
        ctypes.CDLL("libc.so.6").mallopt(_M_ARENA_MAX, MALLOC_ARENAS)


def _proxy_options(trusted: str) -> dict[str, Any]:
    """uvicorn's proxy options: believe forwarded headers only from the named proxies (uvicorn
    would otherwise believe any client on loopback, so X-Forwarded-For could pick an IP)."""
    proxies = [p.strip() for p in trusted.split(",") if p.strip()]
    if not proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": proxies}
