"""Copy a whole store into another (any backend to any), resumably, and check both sides match.

Tables go in dependency order (storage/portable.py TABLES), in batches by primary key; each
batch commits together with its cursor in the target's `migrate_progress` table, so a copy
killed at any moment resumes where its last batch committed: no row twice, none lost.

Revisions are not copied: the target stamps every batch with a revision of its own (SQLite: a
new counter value, PostgreSQL: the batch's transaction id), so a search index built on the
target from (0, 0) sees every paper and vector, and writes after the copy come after it. A
vector stays current (or due to be redone) as it was in the source.

Of `meta`, the trending half-life (the stored ranks were made with it) and the signing key
(links in mail already sent must still verify) come across, replacing the target's own. The
target keeps its own `instance` id: search indexes made from the source record the
source's id and revisions, which mean nothing in the target, so an index meeting the target
must see a different database and rebuild. The source's id is recorded in migrate_progress
instead, which is how a rerun knows it is resuming the same copy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from paperfeed.storage import Store, open_store
from paperfeed.storage.portable import TABLES, Checksum, ImportProgress, Table
from paperfeed.storage.urls import is_postgres, redact, sqlite_path

DEFAULT_BATCH = 2000
_LOCK = "migrate-store"

ProgressFn = Callable[[str, int, int | None], None]


class MigrationRefused(Exception):
    """The copy cannot start: a bad URL, no source, or a target that holds other data."""


@dataclass(frozen=True)
class TableCheck:
    """One table's row count and checksum on both sides."""

    name: str
    source_rows: int
    target_rows: int
    source_checksum: str
    target_checksum: str

    @property
    def matches(self) -> bool:
        return (self.source_rows, self.source_checksum) == (self.target_rows, self.target_checksum)


@dataclass
class MigrationReport:
    """What a run copied, and how the two sides compare afterwards."""

    copied: dict[str, int] = field(default_factory=dict)  # rows copied by this run, by table
    resumed: bool = False
    checks: list[TableCheck] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return all(check.matches for check in self.checks)

    def lines(self) -> list[str]:
        """The comparison as a table for the terminal."""
        out = [
            f"{'table':<20} {'source rows':>11} {'target rows':>11}  "
            f"{'source checksum':<16}  target checksum"
        ]
        for check in self.checks:
            out.append(
                f"{check.name:<20} {check.source_rows:>11,} {check.target_rows:>11,}  "
                f"{check.source_checksum[:16]}  {check.target_checksum[:16]}  "
                f"{'ok' if check.matches else 'DIFFERENT'}"
            )
        return out


def _check_url(option: str, url: str) -> None:
    if not (url.startswith("sqlite:///") or is_postgres(url)):
        raise MigrationRefused(
            f"{option}: not a SQLite or PostgreSQL URL: {redact(url)!r} "
            "(expected sqlite:///path.db or postgresql://user@host/dbname)"
        )
    if url.startswith("sqlite:") and sqlite_path(url) is None:
        raise MigrationRefused(f"{option}: an in-memory database cannot be copied from or to")


def open_stores(source_url: str, target_url: str) -> tuple[Store, Store]:
    """The source (which must be a paperfeed database; its schema is brought up to date, as
    any command does) and the target (made, or migrated, when needed)."""
    _check_url("--from", source_url)
    _check_url("--to", target_url)
    if source_url == target_url:
        raise MigrationRefused("--from and --to name the same database")
    if source_url.startswith("sqlite:"):
        path = sqlite_path(source_url)
        if path is None or not Path(path).is_file():
            raise MigrationRefused(f"--from: no database at {path}")
    source = open_store(source_url, migrate=False, pool_size=2)
    try:
        if not source.applied_migrations():
            raise MigrationRefused(f"--from: {redact(source_url)} is not a paperfeed database")
        source.migrate()
        target = open_store(target_url, pool_size=3)
    except BaseException:
        source.close()
        raise
    return source, target


def migrate_store(
    source: Store, target: Store, batch: int = DEFAULT_BATCH, progress: ProgressFn | None = None
) -> MigrationReport:
    """Copy every portable table of `source` into `target` (continuing a copy that was
    stopped), then count and checksum both sides."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    source_id = source.instance_id()
    if source_id == target.instance_id():
        raise MigrationRefused("the source and the target are the same database")
    with target.job_lock(_LOCK) as held:
        if not held:
            raise MigrationRefused("another migrate-store is copying into the target right now")
        state = target.import_progress()
        _check_target(target, source_id, state)
        report = MigrationReport(resumed=bool(state))
        for spec in TABLES:
            report.copied[spec.name] = _copy_table(
                source, target, spec, source_id, state.get(spec.name), batch, progress
            )
        for number, spec in enumerate(TABLES, 1):
            report.checks.append(compare_table(source, target, spec, batch))
            if progress:
                progress("checking both sides", number, len(TABLES))
    return report


def _check_target(target: Store, source_id: str, state: dict[str, ImportProgress]) -> None:
    """Refuse a target that holds anything but (part of) a copy of this source."""
    others = {progress.source for progress in state.values()} - {source_id}
    if others:
        raise MigrationRefused(
            f"the target holds a copy of another database (instance {sorted(others)[0]}), "
            f"not of this source (instance {source_id})"
        )
    for spec in TABLES:
        if spec.replace:
            continue
        expected = state[spec.name].rows if spec.name in state else 0
        found = target.count_rows(spec.name)
        if found != expected and not state:
            raise MigrationRefused(
                f"the target already holds data: {spec.name} has {found:,} rows "
                "(copy into a new, empty database)"
            )
        if found != expected:
            raise MigrationRefused(
                f"the target has changed since the copy stopped: {spec.name} has {found:,} "
                f"rows where the copy wrote {expected:,}"
            )


def _copy_table(
    source: Store,
    target: Store,
    spec: Table,
    source_id: str,
    before: ImportProgress | None,
    batch: int,
    progress: ProgressFn | None,
) -> int:
    """Copy what is left of one table; how many rows this call copied."""
    if before is not None and before.done:
        return 0
    after = before.after if before else None
    rows_so_far = before.rows if before else 0
    limit = min(batch, spec.max_batch or batch)
    total = source.count_rows(spec.name) if progress else None
    copied = 0
    while True:
        rows = source.export_rows(spec.name, after, limit)
        finished = len(rows) < limit
        if rows:
            after = spec.key_of(rows[-1])
        copied += len(rows)
        target.import_rows(
            spec.name, rows, ImportProgress(source_id, after, rows_so_far + copied, finished)
        )
        if progress and rows:
            progress(f"copying {spec.name}", rows_so_far + copied, total)
        if finished:
            return copied


def table_checksum(store: Store, spec: Table, batch: int = DEFAULT_BATCH) -> Checksum:
    """Count and checksum every portable row of one table (storage/portable.py Checksum)."""
    checksum = Checksum(spec)
    limit = min(batch, spec.max_batch or batch)
    after = None
    while True:
        rows = store.export_rows(spec.name, after, limit)
        checksum.add(rows)
        if len(rows) < limit:
            return checksum
        after = spec.key_of(rows[-1])


def compare_table(source: Store, target: Store, spec: Table, batch: int) -> TableCheck:
    ours, theirs = table_checksum(source, spec, batch), table_checksum(target, spec, batch)
    return TableCheck(spec.name, ours.rows, theirs.rows, ours.hexdigest(), theirs.hexdigest())
