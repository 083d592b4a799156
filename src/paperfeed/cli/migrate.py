"""The migrate-store command: copy one store into another and show that both sides match."""

from __future__ import annotations

import click

from paperfeed.cli.context import Progress
from paperfeed.migrate_store import DEFAULT_BATCH, MigrationRefused, migrate_store, open_stores
from paperfeed.storage import StorageError
from paperfeed.storage.urls import redact


@click.command("migrate-store")
@click.option("--from", "source_url", required=True, metavar="URL", help="The store to copy.")
@click.option(
    "--to",
    "target_url",
    required=True,
    metavar="URL",
    help="The store to copy into: new or empty, or one this copy was stopped in.",
)
@click.option(
    "--batch",
    type=click.IntRange(1),
    default=DEFAULT_BATCH,
    show_default=True,
    help="Rows per transaction (each commits with its progress).",
)
def migrate(source_url: str, target_url: str, batch: int) -> None:
    """Copy everything from one database to another (e.g. SQLite to PostgreSQL).

    Stop writers to the source first. Killed or interrupted, run it again with the same
    arguments: it carries on where it stopped. It ends with each table's row count and
    checksum on both sides, and fails unless they all match. Search indexes rebuild from the
    new database. The source is only read (once its schema is up to date, as for any
    command).
    """
    progress = Progress()
    try:
        source, target = open_stores(source_url, target_url)
        try:
            report = migrate_store(source, target, batch, progress)
        finally:
            progress.close()
            source.close()
            target.close()
    except (MigrationRefused, StorageError) as exc:
        raise click.ClickException(str(exc)) from None
    for line in report.lines():
        click.echo(line)
    different = [check.name for check in report.checks if not check.matches]
    if different:
        raise click.ClickException(
            f"{len(different)} tables differ ({', '.join(different)}): has something written "
            "to either database during the copy?"
        )
    copied = sum(report.copied.values())
    where = f"{redact(source_url)} to {redact(target_url)}"
    if report.resumed and not copied:
        done = f"{where} was copied already"
    elif report.resumed:
        done = f"resumed: copied {copied:,} more rows from {where}"
    else:
        done = f"copied {copied:,} rows from {where}"
    click.echo(f"{done}; all {len(report.checks)} tables match")
