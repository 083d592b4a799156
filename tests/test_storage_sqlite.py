import sqlite3
import threading
from datetime import UTC, date, datetime

import pytest

from conftest import make_paper
from paperfeed.models import Featured, HarvestState, Preferences, SearchFilters, UpsertCounts
from paperfeed.storage import PaperNotFound, SqliteStore, StorageError, open_store
from paperfeed.storage.sqlite import sqlite_path


def test_sqlite_urls_name_relative_absolute_and_memory_databases(tmp_path):
    assert str(sqlite_path("sqlite:///data/paperfeed.db")) == "data/paperfeed.db"
    assert str(sqlite_path("sqlite:////srv/pf/x.db")) == "/srv/pf/x.db"
    assert sqlite_path("sqlite:///:memory:") is None
    with pytest.raises(StorageError):
        sqlite_path("mysql://localhost/db")
    with pytest.raises(StorageError, match="unsupported database URL"):
        open_store("mysql://localhost/pf")


def test_database_is_in_wal_mode_and_migrations_run_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'sub' / 'pf.db'}"
    store = open_store(url)
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.migrate() == []
    store.close()
    raw = sqlite3.connect(tmp_path / "sub" / "pf.db")
    names = [row[0] for row in raw.execute("SELECT name FROM schema_migrations")]
    assert names == [
        "001_init.sql",
        "002_search.sql",
        "003_listings.sql",
        "004_people.sql",
        "005_votes_digests.sql",
        "006_contract.sql",
        "007_email_key.sql",
        "008_list_version.sql",
        "009_library.sql",
        "011_keywords.sql",
    ]


def test_fresh_database_applies_every_migration(tmp_path):
    store = SqliteStore(tmp_path / "new.db")
    assert store.migrate() == [
        "001_init.sql",
        "002_search.sql",
        "003_listings.sql",
        "004_people.sql",
        "005_votes_digests.sql",
        "006_contract.sql",
        "007_email_key.sql",
        "008_list_version.sql",
        "009_library.sql",
        "011_keywords.sql",
    ]
    assert store.migrate() == []
    store.close()


def test_a_database_of_an_older_schema_is_migrated_with_its_data(tmp_path):
    from importlib import resources

    path = tmp_path / "old.db"
    raw = sqlite3.connect(path)
    first = resources.files("paperfeed.storage") / "migrations" / "sqlite" / "001_init.sql"
    raw.executescript(first.read_text())
    raw.execute("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    raw.execute("INSERT INTO schema_migrations VALUES ('001_init.sql', '2026-11-01T00:00:00Z')")
    raw.execute(
        "INSERT INTO papers (id, title, abstract, source, created_at, modified_at) "
        "VALUES ('2606.00001', 'Old', 'Kept', 'jsonl', 'x', 'x')"
    )
    raw.commit()
    raw.close()
    store = open_store(f"sqlite:///{path}")
    assert store.get_paper("2606.00001").title == "Old"
    assert [rev for rev, _, _ in store.changed_papers((0, 0), 10)] == [1]
    assert len(store.instance_id()) == 32
    store.close()


def test_upsert_is_idempotent(store):
    papers = [make_paper("2606.00001"), make_paper("2606.00002", title="Second")]
    assert store.upsert_papers(papers) == UpsertCounts(added=2)
    assert store.upsert_papers(papers) == UpsertCounts(unchanged=2)
    assert store.count_papers() == 2
    assert store.get_paper("2606.00002") == papers[1]


def test_a_newer_version_updates_in_place(store):
    store.upsert_papers([make_paper(version=1, categories=("cs.CV", "cs.LG"))])
    counts = store.upsert_papers([make_paper(version=2, title="v2", categories=("cs.LG",))])
    assert counts == UpsertCounts(updated=1)
    assert store.get_paper("2606.00001").title == "v2"
    assert store.catalog_stats().by_category == {"cs.LG": 1}
    assert store.upsert_papers([make_paper(version=1, title="v1")]) == UpsertCounts(unchanged=1)
    assert store.get_paper("2606.00001").title == "v2"


def test_the_same_id_twice_in_one_batch_is_merged(store):
    counts = store.upsert_papers([make_paper(version=2, title="v2"), make_paper(version=1)])
    assert counts == UpsertCounts(added=1, unchanged=1)
    assert store.get_paper("2606.00001").title == "v2"


def test_text_of_any_size_and_kind_round_trips(store):
    odd = make_paper(
        "2606.00003",
        title="<script>alert(1)</script> $\\mathcal{O}(n)$ \u00e9\u4e2d\U0001f600",
        abstract="x" * 1_000_000,
        authors=("Zoë O'Brien", 'Robert "); DROP TABLE papers;--'),
        comment="",
    )
    store.upsert_papers([odd])
    assert store.get_paper("2606.00003") == odd


def test_get_paper_raises_for_unknown_ids_and_get_papers_skips_them(store):
    store.upsert_papers([make_paper("2606.00001")])
    with pytest.raises(PaperNotFound, match=r"2606\.99999"):
        store.get_paper("2606.99999")
    assert list(store.get_papers(["2606.00001", "2606.99999"])) == ["2606.00001"]


def test_writes_stamp_revisions_that_indexes_follow(store):
    store.upsert_papers([make_paper("2606.00001"), make_paper("2606.00002")])
    store.upsert_papers([make_paper("2606.00001")])  # unchanged: no new revision
    store.upsert_papers([make_paper("2606.00002", version=2, title="v2")])
    changed = [(rev, paper.id) for rev, _, paper in store.changed_papers((0, 0), 10)]
    assert [paper_id for _, paper_id in changed] == ["2606.00001", "2606.00002"]
    assert changed[0][0] < changed[1][0]  # the second paper's v2 came in a later write
    first_pk = store.pks_for_ids(["2606.00001"])["2606.00001"]
    after_first = store.changed_papers((changed[0][0], first_pk), 10)
    assert [p.id for _, _, p in after_first] == ["2606.00002"]


def test_filtered_pks_by_category_and_day(store):
    store.upsert_papers(
        [
            make_paper("2606.00001", categories=("cs.CV",), listed=date(2026, 6, 1)),
            make_paper("2606.00002", categories=("cs.CL",), listed=date(2026, 6, 5)),
            make_paper(
                "2606.00003",
                categories=("cs.CL", "cs.CV"),
                listed=None,
                published=datetime(2026, 6, 9, 12, tzinfo=UTC),
            ),
        ]
    )
    pks = store.pks_for_ids(["2606.00001", "2606.00002", "2606.00003"])

    def ids(filters):
        by_pk = {pk: i for i, pk in pks.items()}
        return [by_pk[pk] for pk in store.filtered_pks(filters)]

    assert ids(SearchFilters(categories=("cs.CV",))) == ["2606.00001", "2606.00003"]
    assert ids(SearchFilters(since=date(2026, 6, 5))) == ["2606.00002", "2606.00003"]
    assert ids(SearchFilters(categories=("cs.CL",), until=date(2026, 6, 8))) == ["2606.00002"]


def test_embeddings_are_saved_per_model_and_found_when_papers_change(store):
    store.upsert_papers([make_paper("2606.00001"), make_paper("2606.00002")])
    todo = store.papers_to_embed("m", 0, 10)
    assert [(p.id, stored_hash) for _, _, p, stored_hash in todo] == [
        ("2606.00001", None),
        ("2606.00002", None),
    ]
    store.save_embeddings("m", [(pk, rev, "h" + p.id, b"\x00\x3c") for pk, rev, p, _ in todo])
    assert store.papers_to_embed("m", 0, 10) == []
    assert store.count_embeddings("m") == 2
    assert len(store.papers_to_embed("other-model", 0, 10)) == 2
    store.upsert_papers([make_paper("2606.00002", version=2, comment="new comment")])
    ((pk, rev, paper, stored_hash),) = store.papers_to_embed("m", 0, 10)
    assert (paper.id, stored_hash) == ("2606.00002", "h2606.00002")
    store.save_embeddings("m", [(pk, rev, stored_hash, None)])  # text unchanged: no new vector
    assert store.papers_to_embed("m", 0, 10) == []
    assert [row[1] for row in store.embeddings_since("m", (0, 0), 10)] == sorted(
        store.pks_for_ids(["2606.00001", "2606.00002"]).values()
    )


def test_catalog_stats_count_by_category_and_month(store):
    store.upsert_papers(
        [
            make_paper("2606.00001", categories=("cs.CV", "cs.AI")),
            make_paper("2606.00002", categories=("cs.CV",)),
            make_paper("2607.00003", categories=("cs.CL",), listed=None, published=None),
        ]
    )
    stats = store.catalog_stats()
    assert stats.papers == 3
    assert stats.by_category == {"cs.CV": 2, "cs.AI": 1, "cs.CL": 1}
    assert stats.by_month == {"2026-06": 2}


def test_featured_days_keep_the_latest_votes(store):
    store.upsert_papers([make_paper("2606.00001")])
    day = date(2026, 6, 26)
    assert store.upsert_featured([Featured("2606.00001", day, "hf-daily", 3, 0, "ak")]) == 1
    store.upsert_featured([Featured("2606.00001", day, "hf-daily", 9, 2, None)])
    assert store.featured_for("2606.00001") == [Featured("2606.00001", day, "hf-daily", 9, 2, "ak")]
    assert store.upsert_featured([Featured("2606.99999", day, "hf-daily", 1)]) == 0
    assert store.catalog_stats().featured == 1


def test_harvest_state_round_trips(store):
    assert store.get_harvest_state("arxiv-oai:cs") is None
    state = HarvestState(
        "arxiv-oai:cs",
        {"set": "cs", "from": "2026-06-01", "until": None},
        "tok|7",
        2,
        2000,
        date(2026, 5, 31),
    )
    store.save_harvest_state(state)
    assert store.get_harvest_state("arxiv-oai:cs") == state


def test_threads_get_their_own_connections(store):
    store.upsert_papers([make_paper("2606.00001")])
    seen = []

    def read() -> None:
        seen.append(store.get_paper("2606.00001").id)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == ["2606.00001"] * 4


def test_case_variants_written_before_addresses_were_case_folded_keep_their_rows(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    open_store(url).close()
    # Roll the database back to before 007, with two case variants of one address in it.
    conn = sqlite3.connect(tmp_path / "old.db")
    conn.executescript(
        "DROP INDEX subscribers_by_address_key; ALTER TABLE subscribers DROP COLUMN email_key;"
        "DELETE FROM schema_migrations WHERE name = '007_email_key.sql';"
    )
    for address in ("Ada@example.org", "ada@example.org", "bo@example.org"):
        conn.execute(
            "INSERT INTO subscribers (email, created_at, updated_at) VALUES (?, ?, ?)",
            (address, "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00+00:00"),
        )
    conn.commit()
    conn.close()
    store = open_store(url)
    try:
        assert store.subscriber_by_email("ADA@example.org").email == "Ada@example.org"  # oldest
        assert store.subscriber_by_email("Bo@Example.org").email == "bo@example.org"
        new = store.create_subscriber("BO@example.org", Preferences(), datetime.now(UTC))
        assert new.email == "bo@example.org"  # the existing row, not a new one
    finally:
        store.close()


def test_the_database_is_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "private.db"
    store = open_store(f"sqlite:///{path}")
    try:
        store.create_subscriber("ada@example.org", Preferences(), datetime.now(UTC))
        for file in (path, tmp_path / "private.db-wal", tmp_path / "private.db-shm"):
            assert file.stat().st_mode & 0o777 == 0o600, file
    finally:
        store.close()
    path.chmod(0o644)  # made readable by someone else: tightened when next opened
    open_store(f"sqlite:///{path}").close()
    assert path.stat().st_mode & 0o777 == 0o600


def _open_files(path) -> int:
    import os

    fds = os.listdir("/proc/self/fd")
    return sum(1 for fd in fds if os.path.realpath(f"/proc/self/fd/{fd}") == str(path))


def test_a_thread_that_ends_takes_its_connection_with_it(tmp_path):
    """A web server's pool threads come and go; their connections (each with its page cache)
    must go with them, or memory climbs for as long as the server runs."""
    import gc

    path = tmp_path / "threads.db"
    store = open_store(f"sqlite:///{path}")
    try:
        store.count_papers()
        before = _open_files(path)
        for _ in range(5):
            threads = [threading.Thread(target=store.count_papers) for _ in range(20)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        gc.collect()
        # 100 threads, 20 at a time, came and went: at most one batch's files stay open
        # (SQLite reuses, or closes, a closed connection's file while others hold locks).
        assert _open_files(path) <= before + 20
        assert store.count_papers() == 0  # this thread's own connection still works
    finally:
        store.close()
    assert _open_files(path) == 0
