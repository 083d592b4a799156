"""`paperfeed migrate-store`: a whole store copied to another backend, equal through the public
store methods, resumable after SIGKILL, refusing targets that hold other data."""

import dataclasses
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta, timezone

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import (
    POSTGRES_URL,
    drop_postgres_database,
    make_paper,
    new_postgres_database,
    query_one,
)
from paperfeed.cli import cli
from paperfeed.models import (
    DigestRecord,
    Featured,
    HarvestState,
    OutgoingMail,
    Preferences,
    Thumbnail,
)
from paperfeed.storage import open_store
from paperfeed.storage.portable import TABLE_NAMES, Checksum, ImportProgress, row_digest, table

# Microseconds on purpose: PostgreSQL keeps them, SQLite keeps its own precision.
NOW = datetime(2026, 6, 26, 7, 30, 15, 123456, tzinfo=UTC)
DIRECTIONS = [
    ("sqlite", "sqlite"),
    ("sqlite", "postgres"),
    ("postgres", "sqlite"),
    ("postgres", "postgres"),
]
MODELS = ("fake/bag-of-words-64", "other/model-8")
PERIOD = "2026-06-26"


@pytest.fixture
def make_url(tmp_path):
    """make_url(backend, name): the URL of a new, empty database on that backend."""
    made = []

    def make(backend: str, name: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path / name}.db"
        if not POSTGRES_URL:
            pytest.skip("PostgreSQL tests need PAPERFEED_TEST_POSTGRES_URL")
        url = new_postgres_database(None)
        made.append(url)
        return url

    yield make
    for url in made:
        drop_postgres_database(url)


@pytest.fixture
def migrate(tmp_path):
    """migrate(source, target, *options): the CLI's result, run in-process."""

    def invoke(source_url: str, target_url: str, *options: str):
        env = {"PAPERFEED_DATA_DIR": str(tmp_path)}
        args = ["migrate-store", "--from", source_url, "--to", target_url, *options]
        return CliRunner().invoke(cli, args, env=env)

    return invoke


def _vector(pk: int, model: str, dimensions: int) -> bytes:
    rng = np.random.default_rng([pk, len(model)])
    return rng.standard_normal(dimensions).astype("<f2").tobytes()


def _embed(store, model: str, dimensions: int) -> None:
    todo = store.papers_to_embed(model, 0, 1000)
    store.save_embeddings(
        model,
        [
            (pk, rev, f"hash-{pk}-{paper.title}", _vector(pk, model, dimensions))
            for pk, rev, paper, _ in todo
        ],
    )


def _fill(store) -> None:
    """A small but complete catalog, community and mail queue, through the store's methods."""
    papers = [
        make_paper(
            f"2606.{n:05d}",
            title=f"Paper {n}: Ünïcode ∑ and 'quotes'",
            listed=date(2026, 6, 20 + n % 5),
            categories=(("cs.LG", "cs.CV", "stat.ML")[n % 3], "cs.AI"),
            authors=("Ada Lovelace", f"Author {n}"),
            doi=f"10.1/{n}" if n % 2 else None,
        )
        for n in range(1, 31)
    ]
    # No listed day: the day comes from the published time (late in the UTC day).
    papers.append(
        make_paper(
            "hep-th/9901001",
            listed=None,
            published=datetime(2026, 6, 23, 23, 59, 59, tzinfo=UTC),
            categories=(),
            authors=(),
        )
    )
    store.upsert_papers(papers)
    _embed(store, MODELS[0], 16)
    # Revised twice: a new version, then a new abstract; its first model's vector is stale now.
    store.upsert_papers([make_paper("2606.00001", title="Revised once", version=2)])
    store.upsert_papers(
        [make_paper("2606.00001", title="Revised twice", version=3, abstract="New abstract.")]
    )
    _embed(store, MODELS[1], 8)
    store.upsert_papers([make_paper("2606.00002", title="Changed after both", version=2)])
    keyworded = store.pks_for_ids(["2606.00003", "2606.00004"])
    store.save_keywords(
        f"{MODELS[0]}+keyphrases-1",
        [
            (keyworded["2606.00003"], "hash-3", ["Koopman operators", "Ünïcode ∑ 'quotes'"]),
            (keyworded["2606.00004"], "hash-4", []),
        ],
    )
    store.upsert_featured(
        [
            Featured("2606.00003", date(2026, 6, 23), "hf-daily", 12, 3, "akhaliq"),
            Featured("2606.00003", date(2026, 6, 24), "hf-daily", 15, 4, None),
            Featured("2606.00007", date(2026, 6, 24), "hf-daily", 4, 0, None),
        ]
    )
    store.set_trend_half_life(36.0)
    store.shared_secret("the-source-signing-key")
    store.save_harvest_state(
        HarvestState(
            "arxiv-oai:cs", {"set": "cs", "until": None}, "token|42", 7, 6123, date(2026, 6, 1)
        )
    )

    active = store.create_subscriber("ada@example.org", Preferences(), NOW)
    active = store.save_subscriber(
        dataclasses.replace(
            active,
            status="active",
            confirmed_at=NOW,
            preferences=Preferences(
                frequency="weekly",
                weekdays_only=True,
                topics=("graph neural networks", "koopman"),
                categories=("cs.LG", "cs.CV"),
                max_papers=5,
                timezone="Europe/Berlin",
            ),
        ),
        NOW,
    )
    pending = store.create_subscriber("bob@example.org", Preferences(), NOW)
    store.save_subscriber(
        dataclasses.replace(pending, requested=Preferences(topics=("diffusion",), max_papers=3)),
        NOW,
    )
    gone = store.create_subscriber("carol@example.org", Preferences(), NOW)
    store.save_subscriber(
        dataclasses.replace(gone, status="unsubscribed", confirmed_at=NOW, session_version=2), NOW
    )
    bounced = store.create_subscriber("dan@example.org", Preferences(), NOW)
    store.record_bounce(bounced.id, NOW, threshold=1)
    store.log_consent(active.id, NOW, "203.0.113.9", "requested", "daily digest of cs.LG")
    store.log_consent(active.id, NOW + timedelta(minutes=5), None, "confirmed", "clicked the link")
    store.log_consent(gone.id, NOW, "2001:db8::1", "unsubscribed", "one-click")
    store.spend_token("token-spent-once", NOW)
    store.take_rate("subscribe:ip:203.0.113.9", NOW, 3600, 2)
    store.take_rate("subscribe:ip:203.0.113.9", NOW, 3600, 2)

    pks = store.pks_for_ids(["2606.00003", "2606.00007", "2606.00010"])
    store.set_vote(active.id, pks["2606.00003"], True, NOW)
    store.set_vote(active.id, pks["2606.00010"], True, NOW)
    store.set_vote(gone.id, pks["2606.00010"], True, NOW)

    for n, kind in enumerate(("confirm", "signin", "notice")):
        data = f"Subject: {kind}\r\n\r\nbody {n}\r\n".encode() + bytes(range(256))
        mail = OutgoingMail(kind, f"r{n}@example.org", f"<{kind}@x>", data, active.id, f"{kind}:1")
        store.enqueue_mail(mail, NOW)
    first, second = store.claim_mail(NOW + timedelta(seconds=1), 2, 60)
    store.mail_sent(first.id, NOW + timedelta(seconds=2))
    store.mail_deferred(second.id, "451 try again later", NOW + timedelta(hours=1))
    digest = OutgoingMail("digest", "ada@example.org", "<digest@x>", b"\x00digest\xff", active.id)
    store.save_digests(
        [DigestRecord(active.id, PERIOD, (pks["2606.00003"], pks["2606.00007"]), digest)], NOW
    )
    store.claim_mail(NOW + timedelta(seconds=3), 5, 30)  # the notice and digest: leased, sending

    # Libraries: collections (one deleted, so ids have a gap), papers in them, notes, marks,
    # follows and a feed token.
    reading = store.reading_list(active.id, NOW)
    koopman = store.create_collection(
        active.id, "Koopman ∑ 'operators'", NOW + timedelta(minutes=1)
    )
    store.delete_collection(store.create_collection(active.id, "Gone", NOW).id)
    store.share_collection(koopman.id, "share-koopman")
    store.save_papers(reading.id, [pks["2606.00003"], pks["2606.00007"]], NOW)
    store.save_papers(koopman.id, [pks["2606.00007"]], NOW + timedelta(milliseconds=1))
    store.save_papers(store.reading_list(gone.id, NOW).id, [pks["2606.00010"]], NOW)
    store.set_note(active.id, pks["2606.00007"], "Ünïcode note\nover two lines", NOW)
    store.mark_read(active.id, pks["2606.00003"], True, NOW)
    store.dismiss(active.id, pks["2606.00010"], True, NOW)
    store.follow(active.id, "author", "Ada Lovelace", NOW)
    store.follow(active.id, "category", "cs.LG", NOW + timedelta(milliseconds=5))
    store.follow(gone.id, "search", "koopman operators", NOW)
    store.set_feed_token(active.id, "ada-feed-token")
    store.set_public_name(active.id, "Ada.L", NOW)
    store.hide("paper", "2606.00009", active.id, "off topic", NOW)
    store.hide("reader", str(gone.id), None, "", NOW + timedelta(seconds=1))
    top = store.add_comment(pks["2606.00003"], active.id, None, "Ünïcode *comment* $x$", NOW)
    store.add_comment(pks["2606.00003"], gone.id, top.id, "a reply", NOW)
    store.edit_comment(top.id, active.id, "edited ∑", NOW + timedelta(seconds=2))
    store.delete_comment(top.id, active.id, NOW + timedelta(seconds=3))  # kept: it has a reply
    store.set_discussion_mail(active.id, pks["2606.00003"], True, NOW)
    store.set_discussion_mail(gone.id, pks["2606.00003"], True, NOW)
    store.set_discussion_mail(gone.id, pks["2606.00003"], False, NOW)
    store.add_comment(pks["2606.00003"], gone.id, None, "after", NOW + timedelta(seconds=4))

    # Thumbnails: one made (bytes of every value), one failed and due again, one given up.
    image = Thumbnail("2606.00003", "image/webp", 300, 389, "d1g35t", bytes(range(256)) * 4)
    store.save_thumbnail(pks["2606.00003"], image, 96_377, NOW)
    store.thumbnail_failed(pks["2606.00007"], "HTTP 503", 2, NOW + timedelta(hours=4), NOW)
    store.thumbnail_failed(pks["2606.00010"], "not an arXiv paper: no PDF", 1, None, NOW)
    # A paper submitted (and featured on its day with it).
    store.submit_paper("2606.00007", active.id, NOW, 5)


def _everything(store) -> dict:
    """What the public store methods show, revisions aside (each database has its own)."""
    ids = sorted(store.pks_for_ids([f"2606.{n:05d}" for n in range(1, 31)] + ["hep-th/9901001"]))
    pks = store.pks_for_ids(ids)
    since, until = date(2026, 6, 1), date(2026, 6, 30)
    subscribers = {
        email: store.subscriber_by_email(email)
        for email in ("ada@example.org", "bob@example.org", "carol@example.org", "dan@example.org")
    }
    ada = subscribers["ada@example.org"].id
    carol = subscribers["carol@example.org"].id
    collections = store.collections_of(ada) + store.collections_of(carol)
    return {
        "collections": collections,
        "entries": {c.id: store.collection_entries(c.id, 100, 0) for c in collections},
        "shared": store.collection_by_share_token("share-koopman"),
        "saved in": store.saved_in(ada, pks.values()),
        "saved": (store.saved_pks(ada), store.saved_pks(carol)),
        "notes": store.notes_for(ada, pks.values()),
        "read": store.read_pks(ada),
        "dismissed": store.dismissed_pks(ada),
        "follows": (store.follows_of(ada), store.follows_of(carol)),
        "hidden": store.hidden_items(),
        "comments": [store.comments_of(pk) for pk in sorted(pks.values())],
        "discussion mail": store.discussion_mail_due(NOW + timedelta(days=1), 3600),
        "followers": store.followers_of("category", "cs.LG"),
        "feed token": (store.feed_token(ada), store.owner_of_feed_token("ada-feed-token")),
        "thumbnails": (
            store.thumbnails_for(ids),
            store.get_thumbnail("2606.00003"),
            store.papers_needing_thumbnails(NOW + timedelta(hours=5), 100),
            store.thumbnail_counts(),
        ),
        "papers": store.get_papers(ids),
        "keywords": store.keywords_for_ids(ids),
        "keywords stored": store.stored_keywords(f"{MODELS[0]}+keyphrases-1", 0, 100),
        "pks": pks,
        "stats": store.catalog_stats(),
        "by upvotes": store.listed_papers(since, until, "upvotes", 100),
        "by date": store.listed_papers(since, until, "date", 100),
        "trending": store.trending_papers(since, until, 100),
        "newest": store.newest_papers(None, 100),
        "days": (store.latest_day(), store.day_before(date(2026, 6, 23))),
        "featured": store.featured_for("2606.00003"),
        "submission": (store.submission_of("2606.00007"), store.submitted_papers("ada.l")),
        "upvotes": store.upvotes_for(pks.values()),
        "half-life": store.trend_half_life(),
        # Links in mail already sent (unsubscribe, sign-in) still verify on the target.
        "secret": store.shared_secret("a-key-of-its-own"),
        "harvest": store.get_harvest_state("arxiv-oai:cs"),
        "subscribers": subscribers,
        "active": store.active_subscribers(),
        "consent": store.consent_history(ada),
        "voted": store.voted(ada, ids),
        "mail": store.mail_status(),
        "digested": store.digested(PERIOD),
        "sent": store.papers_sent(list(pks.values())),
        "embeddings": {model: store.count_embeddings(model) for model in MODELS},
        "to embed": {
            model: [
                (pk, paper, digest) for pk, _, paper, digest in store.papers_to_embed(model, 0, 99)
            ]
            for model in MODELS
        },
    }


def _feed(store) -> tuple[dict, dict]:
    """Everything the change feed hands an index that starts from (0, 0), page by page."""
    papers, after = {}, (0, 0)
    while page := store.changed_papers(after, 5000):
        papers.update((pk, paper) for _, pk, paper in page)
        after = page[-1][:2]
    vectors = {}
    for model in MODELS:
        vectors[model], after = {}, (0, 0)
        while page := store.embeddings_since(model, after, 5000):
            vectors[model].update((pk, vector) for _, pk, vector in page)
            after = page[-1][:2]
    return papers, vectors


def _checks(output: str) -> dict[str, tuple[str, ...]]:
    """The table migrate-store prints: name -> (source rows, target rows, checksums, verdict)."""
    rows = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 6 and parts[5] in ("ok", "DIFFERENT"):
            rows[parts[0]] = tuple(parts[1:])
    return rows


def test_a_checksum_ignores_row_order_and_backend_types_but_not_content():
    spec = table("subscribers")
    row = (7, "A@b.org", "a@b.org", "active", "daily", True, ["x"], [], 10, "UTC")
    row += ({"b": 1, "a": [2]}, 0, 1, NOW, None, NOW.astimezone(timezone(timedelta(hours=2))))
    row += ("Ada", "ada")
    other = (8, *row[1:5], 1, *row[6:])  # weekdays_only as SQLite's 1

    def checksum(*rows):
        total = Checksum(spec)
        total.add(list(rows))
        return total.rows, total.hexdigest()

    assert checksum(row, other) == checksum(other, row)
    assert row_digest(spec, row) == row_digest(spec, (*row[:5], 1, *row[6:]))
    assert row_digest(spec, row) == row_digest(spec, (*row[:10], {"a": [2], "b": 1}, *row[11:]))
    later = (*row[:13], NOW + timedelta(microseconds=1), *row[14:])
    assert checksum(row, other) != checksum(later, other)
    assert checksum(row) != checksum(row, row)


@pytest.mark.parametrize(("source_backend", "target_backend"), DIRECTIONS)
def test_everything_arrives_equal(make_url, migrate, source_backend, target_backend):
    source_url = make_url(source_backend, "source")
    target_url = make_url(target_backend, "target")
    source = open_store(source_url)
    _fill(source)

    result = migrate(source_url, target_url, "--batch", "7")

    assert result.exit_code == 0, result.output
    checks = _checks(result.output)
    assert len(checks) == len(TABLE_NAMES)
    for name, (source_rows, target_rows, ours, theirs, verdict) in checks.items():
        assert (source_rows, ours, verdict) == (target_rows, theirs, "ok"), name
    assert checks["papers"][0] == "31" and checks["embeddings"][0] == "62"
    assert checks["outgoing_mail_data"][0] == "4" and checks["digest_papers"][0] == "2"
    assert checks["collections"][0] == "3" and checks["collection_entries"][0] == "4"
    assert checks["follows"][0] == "3" and checks["feed_tokens"][0] == "1"
    assert checks["submissions"][0] == "1"
    assert checks["paper_keywords"][0] == "2"
    assert "copied " in result.output and f"all {len(TABLE_NAMES)} tables match" in result.output
    target = open_store(target_url)
    try:
        assert _everything(target) == _everything(source)
        assert target.instance_id() != source.instance_id()
        # A fresh index on the target sees every paper and every vector, byte for byte.
        assert _feed(target) == _feed(source)
        assert len(_feed(target)[0]) == 31
        if target_backend == "postgres":  # the shared vector index's copy of each vector
            assert query_one(target, "SELECT count(*) FROM embeddings WHERE embedding IS NULL") == 0
            assert len(target.nearest_vectors("other/model-8", 8, np.ones(8), 3)) == 3
        # The target's state carries on: the spent token, the full rate bucket, the queue.
        assert not target.spend_token("token-spent-once", NOW)
        assert not target.take_rate("subscribe:ip:203.0.113.9", NOW, 3600, 2)
        later = NOW + timedelta(hours=2)
        assert target.claim_mail(later, 10, 60) == source.claim_mail(later, 10, 60)
        _writes_after_the_copy_come_after_it(target)
    finally:
        target.close()
        source.close()


def _writes_after_the_copy_come_after_it(target) -> None:
    last = max((rev, pk) for rev, pk, _ in target.changed_papers((0, 0), 10_000))
    target.upsert_papers([make_paper("2607.00001"), make_paper("2606.00005", title="New title")])
    changed = {paper.id for _, _, paper in target.changed_papers(last, 100)}
    assert changed == {"2607.00001", "2606.00005"}
    new_pk = target.pks_for_ids(["2607.00001"])["2607.00001"]
    assert new_pk > max(target.pks_for_ids([f"2606.{n:05d}" for n in range(1, 31)]).values())
    newcomer = target.create_subscriber("eve@example.org", Preferences(), NOW)
    assert newcomer.id == 5
    mail = OutgoingMail("notice", "eve@example.org", "<new@x>", b"hi", newcomer.id, "new:1")
    assert target.enqueue_mail(mail, NOW) == 5  # after the four copied
    assert target.set_vote(newcomer.id, new_pk, True, NOW) == 1
    # Collection ids carry on after the copied ones (and the deleted one's).
    assert target.reading_list(newcomer.id, NOW).id == 5


def test_a_second_run_checks_again_and_copies_nothing(make_url, migrate):
    source_url, target_url = make_url("sqlite", "source"), make_url("sqlite", "target")
    _fill(open_store(source_url))
    assert migrate(source_url, target_url).exit_code == 0

    again = migrate(source_url, target_url)

    assert again.exit_code == 0, again.output
    assert f"was copied already; all {len(TABLE_NAMES)} tables match" in again.output
    assert open_store(target_url).count_papers() == 31


def test_a_source_changed_since_the_copy_fails_the_check(make_url, migrate):
    source_url, target_url = make_url("sqlite", "source"), make_url("sqlite", "target")
    source = open_store(source_url)
    _fill(source)
    assert migrate(source_url, target_url).exit_code == 0
    source.upsert_papers([make_paper("2606.00004", title="Edited in the source afterwards")])

    result = migrate(source_url, target_url)

    assert result.exit_code == 1
    papers = _checks(result.output)["papers"]
    assert papers[0] == papers[1] == "31" and papers[2] != papers[3] and papers[4] == "DIFFERENT"
    # The edit gave it other categories, and made its vectors stale.
    assert "3 tables differ (papers, paper_categories, embeddings)" in result.output


def test_a_target_with_other_data_is_refused(make_url, migrate):
    source_url, target_url = make_url("sqlite", "source"), make_url("sqlite", "target")
    _fill(open_store(source_url))
    open_store(target_url).upsert_papers([make_paper("2601.00001")])

    result = migrate(source_url, target_url)

    assert result.exit_code == 1
    assert "the target already holds data: papers has 1 rows" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert open_store(target_url).count_papers() == 1


def test_a_target_copied_from_another_source_is_refused(make_url, migrate):
    first, second = make_url("sqlite", "first"), make_url("sqlite", "second")
    target_url = make_url("sqlite", "target")
    _fill(open_store(first))
    open_store(second).upsert_papers([make_paper("2601.00001")])
    assert migrate(first, target_url).exit_code == 0

    result = migrate(second, target_url)

    assert result.exit_code == 1
    assert "the target holds a copy of another database" in result.output


def test_a_stopped_copy_whose_target_was_written_to_is_refused(make_url, migrate):
    source_url, target_url = make_url("sqlite", "source"), make_url("sqlite", "target")
    source = open_store(source_url)
    _fill(source)
    target = open_store(target_url)
    # A copy stopped after its first batch of papers (what the command commits first)...
    rows = source.export_rows("papers", None, 10)
    progress = ImportProgress(source.instance_id(), table("papers").key_of(rows[-1]), 10)
    target.import_rows("papers", rows, progress)
    assert target.import_progress() == {"papers": progress}
    # ...and then someone wrote to the target.
    target.upsert_papers([make_paper("2601.00001")])

    result = migrate(source_url, target_url)

    assert result.exit_code == 1
    assert "has changed since the copy stopped: papers has 11 rows where the copy wrote 10" in (
        result.output
    )


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        ("{tmp}/missing.db", "{tmp}/t.db", "--from: no database at"),
        ("{tmp}/other.db", "{tmp}/t.db", "is not a paperfeed database"),
        ("{tmp}/s.db", "mysql://u@host/db", "--to: not a SQLite or PostgreSQL URL"),
        ("{tmp}/s.db", "sqlite:///:memory:", "an in-memory database cannot be copied"),
        ("{tmp}/s.db", "{tmp}/s.db", "--from and --to name the same database"),
    ],
)
def test_bad_arguments_are_clear_errors(tmp_path, migrate, source, target, message):
    open_store(f"sqlite:///{tmp_path}/s.db").close()
    sqlite3.connect(tmp_path / "other.db").execute("CREATE TABLE notes (x)").connection.close()

    def url(text: str) -> str:
        text = text.format(tmp=tmp_path)
        return text if ":" in text else f"sqlite:///{text}"

    result = migrate(url(source), url(target))

    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


# -- SIGKILL ---------------------------------------------------------------------------------

TOTAL = 20_000


def _copied(target_url: str) -> int:
    """Rows the copy has committed to the target so far (its progress record)."""
    sql = "SELECT coalesce(sum(rows), 0) FROM migrate_progress"
    if target_url.startswith("sqlite:"):
        with sqlite3.connect(target_url[len("sqlite:///") :], timeout=5) as conn:
            found = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'migrate_progress'")
            return int(conn.execute(sql).fetchone()[0]) if found.fetchone() else 0
    import psycopg

    with psycopg.connect(target_url) as conn:
        if conn.execute("SELECT to_regclass('migrate_progress')").fetchone()[0] is None:
            return 0
        return int(conn.execute(sql).fetchone()[0])


def _start(source_url: str, target_url: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "paperfeed", "migrate-store"),
            *("--from", source_url, "--to", target_url, "--batch", "500"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_killed_copy_resumes_without_loss_or_duplicates(make_url):
    source_url = make_url("sqlite", "source")
    target_url = make_url("postgres" if POSTGRES_URL else "sqlite", "target")
    source = open_store(source_url)
    for start in range(0, TOTAL, 2000):
        source.upsert_papers(
            [
                make_paper(f"2605.{n:05d}", title=f"Paper {n}", listed=date(2026, 5, 1))
                for n in range(start, start + 2000)
            ]
        )
    _fill(source)  # and everything else, a little of each
    total_rows = TOTAL * 3 + 200  # papers and their two categories each, and the rest
    killed_at = []
    for _ in range(2):
        before = _copied(target_url)
        process = _start(source_url, target_url)
        deadline = time.monotonic() + 60
        while _copied(target_url) <= before + 2000 and time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the copy ended before it was killed: {process.stderr.read()}")
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        killed_at.append(_copied(target_url))
    assert 0 < killed_at[0] < killed_at[1] < total_rows, killed_at

    final = _start(source_url, target_url)
    out, err = final.communicate(timeout=120)

    assert final.returncode == 0, out + err
    assert "resumed: copied" in out
    checks = _checks(out)
    assert checks["papers"][:2] == (f"{TOTAL + 31:,}", f"{TOTAL + 31:,}")
    for name, (source_rows, target_rows, ours, theirs, verdict) in checks.items():
        assert (source_rows, ours, verdict) == (target_rows, theirs, "ok"), name
    target = open_store(target_url)
    try:
        assert target.count_papers() == TOTAL + 31
        assert len(_feed(target)[0]) == TOTAL + 31
        assert _everything(target) == _everything(source)
    finally:
        target.close()
        source.close()
