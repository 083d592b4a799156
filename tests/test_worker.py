"""`paperfeed worker --once`: ingest the configured sources, then send the digests that are due
at the configured hour (here hour 0, so today's is due everywhere)."""

import dataclasses
import json
import os
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default

import pytest

from conftest import MODEL_DIR, SECRET, worker_once
from paperfeed.models import Preferences


def test_one_worker_cycle_ingests_and_sends_the_days_digest(tmp_path, store):
    today = datetime.now(UTC).date()
    source = tmp_path / "today.jsonl"
    with source.open("w") as handle:
        for n in range(3):
            record = {
                "id": f"2611.{n:05d}",
                "title": f"A paper listed today, number {n}",
                "abstract": "About $\\alpha$-stable dynamical systems.",
                "authors": ["A. Author"],
                "categories": ["math.DS"],
                "published": today.isoformat(),
            }
            handle.write(json.dumps(record) + "\n")
    now = datetime.now(UTC)
    for email, preferences in (
        ("daily@example.org", Preferences(timezone="Pacific/Kiritimati")),  # UTC+14
        ("paused@example.org", Preferences(frequency="paused")),
    ):
        subscriber = store.create_subscriber(email, preferences, now)
        store.save_subscriber(
            dataclasses.replace(subscriber, status="active", confirmed_at=now), now
        )
    env = {
        **os.environ,
        "PAPERFEED_DATABASE_URL": store.url,
        "PAPERFEED_DATA_DIR": str(tmp_path),
        "PAPERFEED_SECRET_KEY": SECRET,
        "PAPERFEED_MODEL_DIR": str(tmp_path / "no-model"),
        "PAPERFEED_WORKER_SOURCES": str(source),
        "PAPERFEED_DIGEST_HOUR": "0",
    }
    done = worker_once(env)
    assert "added 3, updated 0, unchanged 0, skipped 0" in done.stdout
    outbox = sorted((tmp_path / "outbox").glob("*.eml"))
    messages = [message_from_bytes(p.read_bytes(), policy=default) for p in outbox]
    if today == datetime.now(UTC).date():  # not run across midnight
        assert [m["To"] for m in messages] == ["daily@example.org"]
        text = messages[0].get_body(("plain",)).get_content()
        assert "A paper listed today, number" in text and "α-stable" in text
    worker_once(env)
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == len(outbox)  # nothing twice


def test_a_worker_cycle_gives_the_new_papers_keyphrases(tmp_path, store):
    if not (MODEL_DIR / "manifest.json").exists():
        pytest.skip(f"no exported model at {MODEL_DIR}: run `make model`")
    source = tmp_path / "new.jsonl"
    source.write_text(
        json.dumps(
            {
                "id": "2611.00001",
                "title": "Koopman operators for chaotic dynamical systems",
                "abstract": "We learn Koopman eigenfunctions of turbulent channel flows.",
                "published": datetime.now(UTC).date().isoformat(),
            }
        )
        + "\n"
    )
    env = {
        **os.environ,
        "PAPERFEED_DATABASE_URL": store.url,
        "PAPERFEED_DATA_DIR": str(tmp_path),
        "PAPERFEED_SECRET_KEY": SECRET,
        "PAPERFEED_MODEL_DIR": str(MODEL_DIR),
        "PAPERFEED_WORKER_SOURCES": str(source),
    }
    done = worker_once(env)
    assert "keyphrases for 1 papers" in done.stdout
    phrases = store.keywords_for_ids(["2611.00001"])["2611.00001"]
    assert len(phrases) == 5 and all(p.lower() in source.read_text().lower() for p in phrases)
