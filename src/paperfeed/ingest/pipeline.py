"""Run an ingest: read each path or URL, parse its records, write them in batches, report."""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import logging
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from paperfeed.config import Settings
from paperfeed.ingest import atom, hf_daily, jsonl, kaggle, oai
from paperfeed.ingest.http import PoliteClient, SourceUnavailable
from paperfeed.ingest.records import BadRecord, Item, Outcome, Rejected, cap_paper
from paperfeed.models import Featured, Paper
from paperfeed.storage import Store, StoreBusy

log = logging.getLogger("paperfeed.ingest")

FORMATS = ("auto", "jsonl", "kaggle", "hf-daily", "atom", "oai")
RECORD_FORMATS = ("jsonl", "kaggle", "hf-daily")
HF_PAGE_LIMIT = 100
HF_MAX_PAGES = 50
MAX_PROBLEMS_KEPT = 1000

# (label, done, total): bytes for files, records for network sources.
ProgressFn = Callable[[str, int, int | None], None]


def _no_progress(label: str, done: int, total: int | None) -> None:
    return None


class IngestFailed(Exception):
    """A source could not be read at all (missing file, unreachable URL, unknown format)."""


class IngestInterrupted(IngestFailed):
    """The ingest stopped part-way (the database stayed busy, the source failed mid-way):
    `report` says what was written before, in whole batches; running it again adds the rest
    and nothing twice."""

    def __init__(self, cause: Exception, report: IngestReport, resume: str) -> None:
        super().__init__(f"{cause}; kept: {report.summary()}; {resume}")
        self.report = report


@dataclass
class IngestReport:
    """What an ingest did; `summary()` is the line the CLI ends with."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    shortened: int = 0  # papers kept with a field cut to its cap (records.MAX_*)
    featured: int = 0
    problems: list[str] = field(default_factory=list)
    failed_sources: list[str] = field(default_factory=list)

    @property
    def read(self) -> int:
        """Records that became papers (new, changed or already known)."""
        return self.added + self.updated + self.unchanged

    def summary(self) -> str:
        line = (
            f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
            f"skipped {self.skipped}"
        )
        if self.shortened:
            line += f", shortened {self.shortened}"
        if self.featured:
            line += f", featured days {self.featured}"
        if self.failed_sources:
            line += f", failed sources {len(self.failed_sources)}"
        return line

    def note_problem(self, message: str) -> None:
        log.warning("%s", message)
        if len(self.problems) < MAX_PROBLEMS_KEPT:
            self.problems.append(message)


class BatchWriter:
    """Collects parsed records and writes them `batch_size` at a time, one transaction each.

    A batch is committed whole or not at all, so a killed ingest can simply be run again.
    """

    def __init__(self, store: Store, report: IngestReport, batch_size: int) -> None:
        self.store = store
        self.report = report
        self.batch_size = batch_size
        self._papers: list[Paper] = []
        self._featured: list[Featured] = []

    def add(self, outcome: Outcome) -> None:
        if isinstance(outcome, Rejected):
            self.report.skipped += 1
            self.report.note_problem(str(outcome))
            return
        paper, cuts = cap_paper(outcome.paper)
        if cuts:
            self.report.shortened += 1
            where = outcome.where or paper.id
            for cut in cuts:
                self.report.note_problem(f"{where}: {cut}")
        self._papers.append(paper)
        if outcome.featured is not None:
            self._featured.append(outcome.featured)
        if len(self._papers) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if self._papers:
            counts = self.store.upsert_papers(self._papers)
            self.report.added += counts.added
            self.report.updated += counts.updated
            self.report.unchanged += counts.unchanged
        if self._featured:
            self.report.featured += self.store.upsert_featured(self._featured)
        self._papers, self._featured = [], []


def ingest_sources(
    store: Store,
    sources: Iterable[str],
    settings: Settings,
    fmt: str = "auto",
    progress: ProgressFn = _no_progress,
    client: PoliteClient | None = None,
) -> IngestReport:
    """Ingest each path, URL or `arxiv:ID` in `sources`; a failing source is reported, not fatal."""
    if fmt not in FORMATS:
        raise IngestFailed(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    report = IngestReport()
    writer = BatchWriter(store, report, settings.ingest_batch_size)
    own_client = client is None
    http = client or PoliteClient(settings)
    try:
        sources = list(sources)
        arxiv_ids = [s[len("arxiv:") :] for s in sources if s.lower().startswith("arxiv:")]
        others = [s for s in sources if not s.lower().startswith("arxiv:")]
        if arxiv_ids:
            others.append(f"{settings.arxiv_api_url}?id_list={','.join(arxiv_ids)}")
        for source in others:
            try:
                for outcome in _read_source(source, fmt, http, progress, settings):
                    writer.add(outcome)
            except (IngestFailed, SourceUnavailable, atom.AtomError, oai.OaiError, OSError) as exc:
                report.failed_sources.append(source)
                report.note_problem(f"{source}: {exc}")
            writer.flush()  # what was read before a failure is kept
    except StoreBusy as exc:
        # Not the source's fault, and the next source would wait as long: stop here.
        raise IngestInterrupted(
            exc, report, "run it again to add the rest (nothing is added twice)"
        ) from exc
    finally:
        if own_client:
            http.close()
    return report


def _read_source(
    source: str, fmt: str, http: PoliteClient, progress: ProgressFn, settings: Settings
) -> Iterator[Outcome]:
    if source.startswith(("http://", "https://")):
        yield from _read_url(source, fmt, http, progress, settings.max_decompressed_bytes)
        return
    path = Path(source)
    if not path.is_file():
        raise IngestFailed("no such file")
    total = path.stat().st_size
    with path.open("rb") as raw:
        yield from _read_stream(raw, path.name, fmt, lambda: progress(path.name, raw.tell(), total))
    progress(path.name, total, total)


def _read_url(
    url: str, fmt: str, http: PoliteClient, progress: ProgressFn, max_decompressed: int
) -> Iterator[Outcome]:
    path = urlsplit(url).path
    if fmt == "atom" or (fmt == "auto" and path.endswith("/api/query")):
        done = 0
        for page in atom.fetch_pages(http, url):
            yield from page.outcomes
            done += len(page.outcomes)
            progress(url, done, page.total_results)
        return
    if fmt == "hf-daily" or (fmt == "auto" and path.rstrip("/").endswith("/api/daily_papers")):
        yield from _read_hf_daily_url(url, http)
        return
    body = io.BytesIO(http.get(url).content)
    yield from _read_stream(body, url, fmt, lambda: None, max_decompressed)


def _read_hf_daily_url(url: str, http: PoliteClient) -> Iterator[Outcome]:
    parts = urlsplit(url)
    base = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    limit = int(params["limit"]) if params.get("limit", "").isdigit() else HF_PAGE_LIMIT
    page = int(params["p"]) if params.get("p", "").isdigit() else 0
    for _ in range(HF_MAX_PAGES):
        query = {**params, "limit": str(limit), "p": str(page)}
        try:
            items = hf_daily.parse_response(http.get(base, params=query).text)
        except BadRecord as exc:
            raise IngestFailed(f"page {page}: {exc}") from None
        for index, item in enumerate(items):
            yield parse_object(item, "hf-daily", f"{url} page {page} item {index}")
        if len(items) < limit:
            return
        page += 1


def _read_stream(
    raw: IO[bytes],
    name: str,
    fmt: str,
    tick: Callable[[], None],
    max_decompressed: int | None = None,
) -> Iterator[Outcome]:
    """Records of a seekable byte stream, gzipped or not: JSON lines, a JSON array, or XML.

    With `max_decompressed` (downloads), gzipped data may not grow past that many bytes.
    """
    gzipped = _head(raw, 2) == b"\x1f\x8b"
    stream = cast(IO[bytes], gzip.GzipFile(fileobj=raw)) if gzipped else raw
    try:
        first = _head(stream, 4096).lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
        if gzipped and max_decompressed is not None:
            stream = _capped(stream, max_decompressed)
        if fmt in ("atom", "oai") or (fmt == "auto" and first == b"<"):
            yield from _read_xml(stream.read(), name, fmt)
        elif first == b"[":
            yield from _read_json_array(stream.read(), name, fmt)
        else:
            yield from _read_lines(stream, name, fmt, tick)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        # A damaged .gz: the records before the damage have been read and are kept.
        raise IngestFailed(f"damaged gzip data ({exc})") from None


class _CappedReader(io.RawIOBase):
    """Reads from `stream` until `limit` bytes have come, then fails the source."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self._done = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(min(len(buffer), self._limit + 1 - self._done))
        self._done += len(data)
        if self._done > self._limit:
            raise IngestFailed(
                f"more than {self._limit:,} bytes once decompressed "
                f"(PAPERFEED_MAX_DECOMPRESSED_BYTES={self._limit:,}); the rest was not read"
            )
        buffer[: len(data)] = data
        return len(data)


def _capped(stream: IO[bytes], limit: int) -> IO[bytes]:
    """`stream` read through _CappedReader: lines, read() and all, never past `limit` bytes."""
    return cast(IO[bytes], io.BufferedReader(_CappedReader(stream, limit)))


def _head(stream: IO[bytes], size: int) -> bytes:
    """The first `size` bytes, leaving the stream at its start (all streams here can seek)."""
    head = stream.read(size)
    stream.seek(0)
    return head


def _read_lines(
    stream: IO[bytes], name: str, fmt: str, tick: Callable[[], None]
) -> Iterator[Outcome]:
    for number, raw in enumerate(stream, 1):
        if number % 2000 == 0:
            tick()
        if not raw.strip():
            continue
        where = f"{name}:{number}"
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", errors="replace")
            log.warning("%s: bytes that are not UTF-8 were replaced with U+FFFD", where)
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            yield Rejected(where, f"invalid JSON ({exc.msg} at column {exc.colno})")
            continue
        yield parse_object(record, fmt, where)


def _read_json_array(body: bytes, name: str, fmt: str) -> Iterator[Outcome]:
    try:
        items = json.loads(body.decode("utf-8", errors="replace"))
    except json.JSONDecodeError as exc:
        raise IngestFailed(f"invalid JSON ({exc.msg} at line {exc.lineno})") from None
    for index, item in enumerate(items):
        yield parse_object(item, fmt, f"{name}[{index}]")


def _read_xml(body: bytes, name: str, fmt: str) -> Iterator[Outcome]:
    head = body[:2048]
    if fmt == "oai" or (fmt == "auto" and b"OAI-PMH" in head):
        yield from oai.parse_page(body).outcomes
    elif fmt == "atom" or (fmt == "auto" and b"Atom" in head):
        yield from atom.parse_feed(body).outcomes
    else:
        raise IngestFailed("XML that is neither an OAI-PMH response nor an Atom feed")


def record_format(record: Mapping[str, Any]) -> str:
    """Which schema a decoded record follows: hf-daily, kaggle or our own jsonl."""
    if isinstance(record.get("paper"), Mapping):
        return "hf-daily"
    if "authors_parsed" in record or "versions" in record or "update_date" in record:
        return "kaggle"
    return "jsonl"


def parse_object(record: object, fmt: str, where: str) -> Outcome:
    """Parse one decoded JSON value in format `fmt` (or detect it); never raises for bad data."""
    if not isinstance(record, Mapping):
        return Rejected(where, f"expected a JSON object, got {type(record).__name__}")
    kind = record_format(record) if fmt == "auto" else fmt
    if kind not in RECORD_FORMATS:
        return Rejected(where, f"a JSON record cannot be read as {kind!r}")
    label = record.get("id", record.get("_id"))
    suffix = f" (id {str(label)[:60]!r})" if isinstance(label, str | int) else ""
    try:
        if kind == "hf-daily":
            item = hf_daily.parse_item(record)
        elif kind == "kaggle":
            item = kaggle.parse_record(record)
        else:
            item = jsonl.parse_record(record)
    except BadRecord as exc:
        return Rejected(f"{where}{suffix}", str(exc))
    return dataclasses.replace(item, where=f"{where}{suffix}")


__all__ = [
    "FORMATS",
    "BatchWriter",
    "IngestFailed",
    "IngestInterrupted",
    "IngestReport",
    "Item",
    "ingest_sources",
    "parse_object",
]
