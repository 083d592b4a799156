import dataclasses
import gzip
import json
from datetime import date

from conftest import FIXTURES
from paperfeed.ingest.pipeline import IngestReport, ingest_sources
from paperfeed.models import (
    MAX_ABSTRACT_CHARS,
    MAX_AUTHOR_CHARS,
    MAX_AUTHORS,
    MAX_AUTHORS_CHARS,
    MAX_COMMENT_CHARS,
    MAX_TITLE_CHARS,
    Featured,
)
from replay import Reply

LINE = {
    "id": "2606.27372",
    "title": "DnA: Denoising Attention for Visual Tasks",
    "abstract": "The softmax activation in multihead attention is the de facto standard.",
    "authors": ["Ron Campos", "Xin Li"],
    "categories": ["cs.CV"],
    "published": "2026-06-26",
    "comment": None,
}


def _record(n: int, **changes) -> dict:
    return {**LINE, "id": f"2606.{n:05d}", **changes}


def _write_jsonl(path, records) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def test_ingesting_the_same_file_twice_changes_nothing(tmp_path, store, settings):
    path = tmp_path / "papers.jsonl"
    _write_jsonl(path, [_record(n) for n in range(1, 121)])
    first = ingest_sources(store, [str(path)], settings)
    second = ingest_sources(store, [str(path)], settings)
    assert first.summary() == "added 120, updated 0, unchanged 0, skipped 0"
    assert second.summary() == "added 0, updated 0, unchanged 120, skipped 0"
    assert store.count_papers() == 120


def test_gzipped_files_and_every_format_are_detected(tmp_path, store, settings):
    gz = tmp_path / "dump.jsonl.gz"
    with gzip.open(gz, "wt") as handle:
        handle.write(json.dumps(_record(1)) + "\n")
    sources = [
        gz,
        FIXTURES / "kaggle_snapshot.jsonl",
        FIXTURES / "hf_daily_papers.json",
        FIXTURES / "oai_arxiv_page1.xml",
        FIXTURES / "atom_id_list.xml",
    ]
    report = ingest_sources(store, [str(s) for s in sources], settings)
    assert report.summary() == "added 23, updated 0, unchanged 0, skipped 0, featured days 4"
    assert store.get_paper("0704.0001").source == "kaggle"
    assert store.get_paper("2410.17243").source == "hf-daily"
    assert store.get_paper("1412.8323").source == "arxiv-oai"
    assert store.get_paper("2005.14124").source == "arxiv-api"
    assert store.featured_for("2410.17243")[0].upvotes == 64


def test_bad_lines_are_reported_with_file_and_line_and_skipped(tmp_path, store, settings):
    path = tmp_path / "mixed.jsonl"
    lines = [
        json.dumps(_record(1)),
        "{not json",
        "",
        json.dumps(["a", "list"]),
        json.dumps(_record(2, published="someday")),
        json.dumps({"title": "no id"}),
        json.dumps({**LINE, "id": "x/../../outbox"}),
        json.dumps(_record(3)),
    ]
    path.write_text("\n".join(lines) + "\n")
    report = ingest_sources(store, [str(path)], settings)
    assert report.summary() == "added 2, updated 0, unchanged 0, skipped 5"
    assert report.problems == [
        "mixed.jsonl:2: invalid JSON "
        "(Expecting property name enclosed in double quotes at column 2)",
        "mixed.jsonl:4: expected a JSON object, got list",
        "mixed.jsonl:5 (id '2606.00002'): unreadable date 'someday'",
        "mixed.jsonl:6: missing id",
        "mixed.jsonl:7 (id 'x/../../outbox'): unusable id 'x/../../outbox': "
        "an empty, '.' or '..' segment between slashes",
    ]


def test_hostile_text_is_stored_safely(tmp_path, store, settings):
    path = tmp_path / "odd.jsonl"
    huge = "word " * 200_000
    records = [
        _record(1, title="", abstract=""),
        _record(2, abstract=huge),
        _record(
            3, title="<script>alert(1)</script> $\\mathcal{O}(n)$ \\emph{x}", abstract="a\x00b"
        ),
    ]
    body = "".join(json.dumps(r) + "\n" for r in records).encode()
    bad_bytes = (
        json.dumps(_record(4, title="Caf\u00e9")).encode().replace(b"Caf\\u00e9", b"Caf\xe9")
    )
    path.write_bytes(body + bad_bytes + b"\n")
    report = ingest_sources(store, [str(path)], settings)
    assert report.summary() == "added 4, updated 0, unchanged 0, skipped 0, shortened 1"
    assert store.get_paper("2606.00001").title == ""
    assert store.get_paper("2606.00002").abstract == huge[: MAX_ABSTRACT_CHARS - 1].strip() + "…"
    assert (
        store.get_paper("2606.00003").title
        == "<script>alert(1)</script> $\\mathcal{O}(n)$ \\emph{x}"
    )
    assert store.get_paper("2606.00003").abstract == "ab"
    assert store.get_paper("2606.00004").title == "Caf\ufffd"


def test_over_long_fields_are_cut_at_their_caps_and_reported_by_line(tmp_path, store, settings):
    path = tmp_path / "long.jsonl"
    authors = [f"Author Number{n}" for n in range(1, 12_001)]  # a big collaboration, and more
    records = [
        _record(1, title="\\(" * 20_000, comment="c" * 5_000, authors=authors),
        _record(2, authors=["A. Person", "N" * 1_000]),
        _record(3, authors=authors[:MAX_AUTHORS], title="t" * MAX_TITLE_CHARS),  # at the caps
        _record(4, authors=[f"{n:03d}" + "x" * 247 for n in range(1_000)]),  # 250,000 characters
    ]
    _write_jsonl(path, records)
    report = ingest_sources(store, [str(path)], settings)
    assert report.summary() == "added 4, updated 0, unchanged 0, skipped 0, shortened 3"
    assert report.problems == [
        f"long.jsonl:1 (id '2606.00001'): title cut to {MAX_TITLE_CHARS:,} characters "
        "(it had 40,000)",
        f"long.jsonl:1 (id '2606.00001'): comment cut to {MAX_COMMENT_CHARS:,} characters "
        "(it had 5,000)",
        f"long.jsonl:1 (id '2606.00001'): authors cut to the first {MAX_AUTHORS:,} (it had 12,000)",
        f"long.jsonl:2 (id '2606.00002'): author names cut to {MAX_AUTHOR_CHARS} characters",
        "long.jsonl:4 (id '2606.00004'): authors cut to the first 800 "
        f"({MAX_AUTHORS_CHARS:,} characters; it had 1,000)",
    ]
    first = store.get_paper("2606.00001")
    assert len(first.title) == MAX_TITLE_CHARS and first.title.endswith("…")
    assert len(first.comment) == MAX_COMMENT_CHARS
    assert first.authors == tuple(authors[:MAX_AUTHORS])  # the first authors are kept
    assert store.get_paper("2606.00002").authors == ("A. Person", "N" * 299 + "…")
    assert store.get_paper("2606.00004").authors[-1] == "799" + "x" * 247
    untouched = store.get_paper("2606.00003")
    assert untouched.title == "t" * MAX_TITLE_CHARS and len(untouched.authors) == MAX_AUTHORS


def test_ingesting_again_cuts_what_a_database_from_before_the_caps_holds(tmp_path, store, settings):
    from conftest import make_paper

    huge = "word " * 200_000
    store.upsert_papers([make_paper("2606.00001", abstract=huge.strip(), source="jsonl")])
    path = tmp_path / "again.jsonl"
    _write_jsonl(path, [_record(1, abstract=huge, version=1)])
    report = ingest_sources(store, [str(path)], settings)
    assert report.summary() == "added 0, updated 1, unchanged 0, skipped 0, shortened 1"
    assert len(store.get_paper("2606.00001").abstract) == MAX_ABSTRACT_CHARS


def test_a_damaged_gzip_keeps_what_came_before_the_damage(tmp_path, store, settings):
    whole = tmp_path / "whole.jsonl.gz"
    with gzip.open(whole, "wt") as handle:
        for n in range(1, 3001):
            handle.write(json.dumps(_record(n, abstract=f"abstract number {n} " * 20)) + "\n")
    data = whole.read_bytes()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(data[: len(data) // 2])
    report = ingest_sources(store, [str(cut)], settings)
    assert report.failed_sources == [str(cut)]
    assert "damaged gzip data" in report.problems[-1]
    assert 0 < store.count_papers() < 3000
    assert ingest_sources(store, [str(whole)], settings).read == 3000
    assert store.count_papers() == 3000


def test_a_missing_file_does_not_stop_the_others(tmp_path, store, settings):
    good = tmp_path / "good.jsonl"
    _write_jsonl(good, [_record(1)])
    report = ingest_sources(store, [str(tmp_path / "nope.jsonl"), str(good)], settings)
    assert report.failed_sources == [str(tmp_path / "nope.jsonl")]
    assert report.added == 1
    assert report.problems == [f"{tmp_path / 'nope.jsonl'}: no such file"]


def test_forced_format_overrides_detection(store, settings):
    report = ingest_sources(store, [str(FIXTURES / "kaggle_snapshot.jsonl")], settings, fmt="jsonl")
    # Read as our schema, the snapshot's records still parse (id, title, abstract)...
    assert report.added == 9
    assert store.get_paper("0704.0002").source == "jsonl"
    report = ingest_sources(store, [str(FIXTURES / "atom_id_list.xml")], settings, fmt="oai")
    assert report.read == 0  # ...but an Atom feed read as OAI-PMH has no records


def test_atom_query_urls_are_paged(replay, store, settings):
    page1 = (FIXTURES / "atom_search_page1.xml").read_bytes()
    page2 = (FIXTURES / "atom_search_page2.xml").read_bytes()
    replay.route("/api/query", Reply(page1), start="0")
    replay.route("/api/query", Reply(page2), start="2")
    url = f"{replay.url}/api/query?search_query=all:testing&sortBy=relevance"
    report = ingest_sources(store, [url], settings)
    assert report.summary() == "added 4, updated 0, unchanged 0, skipped 0"
    assert [r.params for r in replay.requests] == [
        {"search_query": "all:testing", "sortBy": "relevance", "start": "0", "max_results": "100"},
        {"search_query": "all:testing", "sortBy": "relevance", "start": "2", "max_results": "100"},
    ]


def test_arxiv_ids_are_fetched_in_one_id_list_query(replay, store, settings):
    replay.route("/api/query", Reply((FIXTURES / "atom_id_list.xml").read_bytes()))
    settings = dataclasses.replace(settings, arxiv_api_url=f"{replay.url}/api/query")
    sources = ["arxiv:2005.14124v2", "arxiv:astro-ph/0601001", "arxiv:1605.08386"]
    report = ingest_sources(store, sources, settings)
    assert report.added == 3
    assert replay.requests[0].params == {
        "id_list": "2005.14124v2,astro-ph/0601001,1605.08386",
        "start": "0",
        "max_results": "3",
    }


def test_atom_errors_are_reported_with_arxivs_message(replay, store, settings):
    replay.route("/api/query", Reply((FIXTURES / "atom_error.xml").read_bytes(), status=400))
    report = ingest_sources(store, [f"{replay.url}/api/query?id_list=abc"], settings)
    assert report.read == 0
    assert report.problems == [f"{replay.url}/api/query?id_list=abc: incorrect id format for abc"]


def test_hf_daily_urls_are_paged_until_a_short_page(replay, store, settings):
    items = json.loads((FIXTURES / "hf_daily_papers.json").read_text())
    replay.route("/api/daily_papers", Reply(json.dumps(items[:2]).encode()), p="0")
    replay.route("/api/daily_papers", Reply(json.dumps(items[2:3]).encode()), p="1")
    url = f"{replay.url}/api/daily_papers?date=2024-10-25&limit=2"
    report = ingest_sources(store, [url], settings)
    assert report.summary() == "added 3, updated 0, unchanged 0, skipped 0, featured days 3"
    assert [r.params["p"] for r in replay.requests] == ["0", "1"]
    assert store.featured_for("2410.18533") == [
        Featured("2410.18533", date(2024, 10, 25), "hf-daily", 37, 2, "ZetangForward")
    ]


def test_plain_urls_are_downloaded_and_detected(replay, store, settings, tmp_path):
    body = gzip.compress(b"".join(json.dumps(_record(n)).encode() + b"\n" for n in range(1, 4)))
    replay.route("/dump.jsonl.gz", Reply(body))
    report = ingest_sources(store, [f"{replay.url}/dump.jsonl.gz"], settings)
    assert report.added == 3


def test_report_summary_mentions_failures():
    report = IngestReport(added=1, failed_sources=["x"])
    assert report.summary() == "added 1, updated 0, unchanged 0, skipped 0, failed sources 1"


def test_a_gzip_bomb_behind_a_url_stops_at_the_decompressed_cap(replay, store, settings):
    good = b"".join(json.dumps(_record(n)).encode() + b"\n" for n in range(1, 4))
    # Three good records, then 200 MB of zeros without a line break, in 200 KB of gzip.
    body = gzip.compress(good + b"\0" * 200_000_000, compresslevel=9)
    replay.route("/dump.jsonl.gz", Reply(body))
    settings = dataclasses.replace(settings, max_decompressed_bytes=10_000_000)
    url = f"{replay.url}/dump.jsonl.gz"
    report = ingest_sources(store, [url], settings)
    assert report.failed_sources == [url]
    assert report.problems == [
        f"{url}: more than 10,000,000 bytes once decompressed "
        "(PAPERFEED_MAX_DECOMPRESSED_BYTES=10,000,000); the rest was not read"
    ]
    assert report.added == 3  # what came before the cap is kept
