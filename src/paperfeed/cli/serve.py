"""The serve command: run the web server on the configured store."""

from __future__ import annotations

import dataclasses
import os

import click

from paperfeed.cli.context import get_settings
from paperfeed.config import settings_environment
from paperfeed.web.hosts import allowed_hosts


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
    default="127.0.0.1",
    show_default=True,
    help="Reverse proxies (comma-separated addresses, or *) whose X-Forwarded-For and "
    "X-Forwarded-Proto are believed: rate limits count the client's address, not the proxy's.",
)
@click.option("--dev", is_flag=True, help="Development mode: show the mail outbox at /outbox.")
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    log_level: str,
    workers: int,
    forwarded_allow_ips: str,
    dev: bool,
) -> None:
    """Serve the web pages, the JSON API and the feeds (uvicorn)."""
    import uvicorn

    from paperfeed.web.app import create_app

    settings = get_settings(ctx)
    if dev:
        settings = dataclasses.replace(settings, dev=True)
    click.echo(f"paperfeed on http://{host}:{port} (database {settings.database_url})", err=True)
    click.echo(f"answering to host names: {', '.join(allowed_hosts(settings))}", err=True)
    if workers == 1:
        uvicorn.run(
            create_app(settings),
            host=host,
            port=port,
            log_level=log_level,
            forwarded_allow_ips=forwarded_allow_ips,
        )
        return
    # Worker processes build their own app from the environment: hand them these settings.
    os.environ.update(settings_environment(settings))
    uvicorn.run(
        "paperfeed.web.app:create_app_from_environment",
        factory=True,
        host=host,
        port=port,
        log_level=log_level,
        workers=workers,
        forwarded_allow_ips=forwarded_allow_ips,
    )
