"""What every command shares: settings, the store opened on first use, progress display."""

from __future__ import annotations

import sys
import time
from datetime import date, datetime
from typing import Any

import click

from paperfeed.config import Settings
from paperfeed.storage import StorageError, Store, open_store


class AppContext:
    """The settings, and the store opened on first use (and closed when the command ends)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(
                self.settings.database_url,
                pool_size=self.settings.database_pool_size,
                busy_timeout_s=self.settings.database_busy_timeout_s,
            )
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def get_store(ctx: click.Context) -> Store:
    """The command's store; a database that cannot be opened is a clean CLI error."""
    try:
        return ctx.find_object(AppContext).store  # type: ignore[union-attr]
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None


def get_settings(ctx: click.Context) -> Settings:
    return ctx.find_object(AppContext).settings  # type: ignore[union-attr]


def parse_day(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    """A click callback for YYYY-MM-DD options."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected YYYY-MM-DD, got {value!r}") from None


def json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


class Progress:
    """Shows progress: a bar on a terminal, a log line every few seconds otherwise.

    Call it as `progress(label, done, total)`; several labels may be in flight.
    """

    def __init__(self, interactive: bool | None = None, interval_s: float = 10.0) -> None:
        self.interactive = sys.stderr.isatty() if interactive is None else interactive
        self.interval_s = interval_s
        self._bars: dict[str, tuple[Any, int]] = {}
        self._last_line = time.monotonic()

    def __call__(self, label: str, done: int, total: int | None) -> None:
        if self.interactive and total:
            bar, shown = self._bars.get(label, (None, 0))
            if bar is None:
                bar = click.progressbar(length=total, label=label[-40:], file=sys.stderr)
                bar.__enter__()
            bar.update(max(0, min(done, total) - shown))
            self._bars[label] = (bar, min(done, total))
            if done >= total:
                bar.__exit__(None, None, None)
                del self._bars[label]
            return
        now = time.monotonic()
        if now - self._last_line >= self.interval_s or (total and done >= total):
            self._last_line = now
            share = f" ({100 * done / total:.0f}%)" if total else ""
            line = f"{label}: {done:,} of {total:,}{share}" if total else f"{label}: {done:,}"
            click.echo(line, err=True)

    def close(self) -> None:
        for bar, _ in self._bars.values():
            bar.__exit__(None, None, None)
        self._bars.clear()
