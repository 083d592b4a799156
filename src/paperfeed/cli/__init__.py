"""The `paperfeed` command: parse arguments, call one library function, print the result."""

from __future__ import annotations

import logging
import os
import sys

import click

from paperfeed.cli import (
    catalog,
    digest,
    keywords,
    mail,
    migrate,
    recommend,
    search,
    serve,
    submit,
    thumbnails,
)
from paperfeed.cli.context import AppContext
from paperfeed.config import ConfigError, load_settings, setting_help
from paperfeed.storage import StoreBusy


def _settings_epilog() -> str:
    lines = ["Settings (environment variables):"]
    for env, (_, default, help_text) in setting_help().items():
        lines.append(f"  {env} (default {default!r}): {help_text}")
    return "\b\n" + "\n".join(lines)


class _Commands(click.Group):
    """The command group; a database busy for longer than its timeout, at any point of any
    command, is a clean error (nothing half-written: run the command again)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except StoreBusy as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Commands, epilog=_settings_epilog())
@click.option(
    "--database-url",
    metavar="URL",
    help="Database to use (overrides PAPERFEED_DATABASE_URL), e.g. sqlite:///data/paperfeed.db.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log more (every request and page).")
@click.version_option(package_name="paperfeed")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None, verbose: bool) -> None:
    """paperfeed: a self-hostable catalog of research papers, with search."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        settings = load_settings(os.environ, database_url=database_url)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    state = AppContext(settings)
    ctx.obj = state
    ctx.call_on_close(state.close)


for command in (
    catalog.init,
    catalog.ingest,
    catalog.harvest,
    catalog.stats,
    catalog.show,
    submit.submit,
    search.search,
    search.similar,
    search.embed,
    search.index,
    keywords.keywords,
    search.model,
    recommend.recommend,
    serve.serve,
    mail.mail,
    mail.discussion_mail,
    digest.digest,
    digest.worker,
    migrate.migrate,
    thumbnails.thumbnails,
):
    cli.add_command(command)
