"""Shared fixtures: a real store on every backend (SQLite on tmp_path, and PostgreSQL when
PAPERFEED_TEST_POSTGRES_URL names a server), test settings, paper factories."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from paperfeed.config import Settings
from paperfeed.models import Paper
from paperfeed.storage import open_store

FIXTURES = Path(__file__).parent / "fixtures"


def pytest_addoption(parser):
    parser.addoption(
        "--playwright", action="store_true", help="also run the browser tests (tests/browser)"
    )


# The exported embedding model (`make model` writes it; `make test` runs after it).
MODEL_DIR = Path(
    os.environ.get("PAPERFEED_TEST_MODEL_DIR")
    or Path(__file__).resolve().parents[1] / "data/models/all-minilm-l6-v2"
)


# A server to test the PostgreSQL backend on (scripts/with-postgres.sh starts one for
# `make test`); each test gets a database of its own, made from a migrated template.
POSTGRES_URL = os.environ.get("PAPERFEED_TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]


def _server_url(database: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(POSTGRES_URL)._replace(path=f"/{database}").geturl()


@pytest.fixture(scope="session")
def postgres_template(tmp_path_factory) -> str:
    """The name of a migrated database that each test's database is copied from."""
    import psycopg

    name = f"paperfeed_template_{os.getpid()}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    open_store(_server_url(name), pool_size=1).close()
    yield name
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_databases = iter(range(1, 1_000_000))


def new_postgres_database(template: str | None) -> str:
    """A fresh database on the test server, migrated when copied from `template`; its URL."""
    import psycopg

    name = f"paperfeed_test_{os.getpid()}_{next(_databases)}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        copy = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
    return _server_url(name)


def drop_postgres_database(url: str) -> None:
    from urllib.parse import urlsplit

    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """Which backend this test runs on: every test that opens a store runs on each."""
    return request.param


@pytest.fixture
def database_url(backend, tmp_path, request) -> str:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'paperfeed.db'}"
        return
    # @pytest.mark.blank_database: an empty database, not yet migrated.
    blank = request.node.get_closest_marker("blank_database") is not None
    url = new_postgres_database(None if blank else request.getfixturevalue("postgres_template"))
    yield url
    drop_postgres_database(url)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings for tests: a fresh database (files derived from it in tmp_path), short (but
    real) waits between requests, and the test client's host name among the allowed ones."""
    return Settings(
        database_url=database_url,
        data_dir=str(tmp_path),
        request_delay_s=0.05,
        max_retries=3,
        ingest_batch_size=50,
        allowed_hosts="testserver",
    )


def query_one(store, sql: str, *params: object) -> object:
    """The first value `sql` (with ? placeholders) reads, straight from the store's database:
    for tests that look at what no store method shows."""
    if store.url.startswith("sqlite:"):
        return store.conn.execute(sql, params).fetchone()[0]
    import psycopg

    with psycopg.connect(store.url) as conn:
        return conn.execute(sql.replace("?", "%s"), params).fetchone()[0]


@pytest.fixture
def store(settings: Settings):
    store = open_store(settings.database_url)
    yield store
    store.close()


def make_paper(paper_id: str = "2606.00001", **changes: object) -> Paper:
    """A plausible paper; pass fields to change."""
    paper = Paper(
        id=paper_id,
        title="Denoising Attention for Visual Tasks",
        abstract="We propose denoising attention.",
        authors=("Ron Campos", "Xin Li"),
        categories=("cs.CV", "cs.LG"),
        version=1,
        published=datetime(2026, 6, 25, 17, 59, tzinfo=UTC),
        listed=date(2026, 6, 26),
        source="jsonl",
    )
    return dataclasses.replace(paper, **changes)  # type: ignore[arg-type]


@pytest.fixture
def replay():
    """A running ReplayServer; add routes with `replay.route(path, Reply(...), **query)`."""
    from replay import ReplayServer

    server = ReplayServer().start()
    yield server
    server.stop()


class FakeEmbedder:
    """A deterministic bag-of-words embedder that implements the Embedder protocol.

    Texts sharing words get similar vectors, which is all the search tests need of meaning.
    """

    model_id = "fake/bag-of-words-64"
    dimensions = 64

    def __init__(self) -> None:
        self.texts_embedded = 0

    def embed(self, texts):
        import zlib

        import numpy as np

        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, zlib.crc32(word.encode()) % self.dimensions] += 1.0
            norm = np.linalg.norm(out[row])
            if norm == 0:
                out[row, 0], norm = 1.0, 1.0
            out[row] /= norm
        self.texts_embedded += len(texts)
        return out


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


# A small catalog for the web tests: real-looking papers on three days, one hostile.
WEB_PAPERS = [
    (
        "2606.10001",
        "Koopman operators for dynamical systems",
        date(2026, 6, 24),
        ("math.DS", "cs.LG"),
    ),
    ("2606.10002", "Learning nonlinear dynamics from data", date(2026, 6, 24), ("cs.LG",)),
    (
        "2606.10003",
        "LLaMA-3 fine-tuning recipes with $\\mathcal{O}(n)$ memory",
        date(2026, 6, 25),
        ("cs.CL",),
    ),
    (
        "2606.10004",
        "<script>alert(1)</script> \\emph{Chaotic} systems",
        date(2026, 6, 25),
        ("math.DS",),
    ),
    ("2606.10005", "Vision transformers at scale", date(2026, 6, 29), ("cs.CV",)),
    ("hep-th/9901001", "An old-style identifier paper", date(2026, 6, 29), ("hep-th",)),
]


def fake_searcher(store, folder, fake_embedder):
    """A real Searcher over `store` (keyword index in `folder`, vectors in memory) with the
    fake embedder, caught up with the store."""
    from paperfeed.search.keyword import KeywordIndex
    from paperfeed.search.searcher import Searcher
    from paperfeed.search.update import update_search
    from paperfeed.search.vector import VectorIndex

    searcher = Searcher(
        store,
        KeywordIndex(folder),
        VectorIndex(fake_embedder.model_id, fake_embedder.dimensions),
        fake_embedder,
    )
    update_search(searcher)
    return searcher


def build_web_app(store, settings, tmp_path, fake_embedder):
    """The real app over `store` (with the WEB_PAPERS catalog) and the fake embedder."""
    from paperfeed.models import Featured
    from paperfeed.web.app import create_app

    store.upsert_papers(
        [
            make_paper(
                paper_id,
                title=title,
                abstract=f"{title}. We study <b>bold</b> claims & 'quotes' on {day}.",
                listed=day,
                categories=categories,
                authors=("Ada Lovelace", 'Robert "Bobby" Tables'),
            )
            for paper_id, title, day, categories in WEB_PAPERS
        ]
    )
    store.upsert_featured(
        [
            Featured("2606.10002", date(2026, 6, 24), "hf-daily", 12, 3, "akhaliq"),
            Featured("2606.10005", date(2026, 6, 29), "hf-daily", 4, 0, None),
        ]
    )
    return create_app(settings, store, fake_searcher(store, tmp_path / "keyword", fake_embedder))


@pytest.fixture
def web_client(store, settings, tmp_path, fake_embedder):
    """The real ASGI app (lifespan included) over the test store, with the fake embedder."""
    from fastapi.testclient import TestClient

    settings = dataclasses.replace(
        settings, base_url="https://papers.example.org", secret_key=SECRET
    )
    with TestClient(build_web_app(store, settings, tmp_path, fake_embedder)) as client:
        yield client


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(folder: Path, *args: str, sample: bool = False, **environ: str):
    """A `paperfeed serve` process of its own (real model, a SQLite catalog in `folder`: empty,
    or the bundled sample), for tests of what only a real server shows; returns (process,
    URL). Prints the server's output if it does not come up. Terminate it."""
    import subprocess
    import sys
    import time

    import httpx

    if not (MODEL_DIR / "manifest.json").exists():
        pytest.skip(f"no exported model at {MODEL_DIR}: run `make model`")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PAPERFEED_DATABASE_URL": f"sqlite:///{folder / 'paperfeed.db'}",
        "PAPERFEED_MODEL_DIR": str(MODEL_DIR),
        "PAPERFEED_BASE_URL": url,
        **environ,
    }
    if sample:
        ingest = [sys.executable, "-m", "paperfeed", "ingest", "--sample"]
        subprocess.run(ingest, env=env, check=True, capture_output=True)
    command = [sys.executable, "-m", "paperfeed", "serve", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--log-level", "warning", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/api/papers?limit=1", timeout=2).status_code == 200:
                return server, url
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"the server did not start:\n{server.communicate()[0]}")
        time.sleep(0.2)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """A real `paperfeed serve` over the bundled sample, for the browser tests; --dev: mail goes
    to the outbox, shown at /outbox (the browser tests sign in there). operator@example.org
    is an operator."""
    server, url = start_server(
        tmp_path_factory.mktemp("live"),
        "--dev",
        sample=True,
        PAPERFEED_OPERATORS="operator@example.org",
    )
    yield url
    server.terminate()
    server.wait(timeout=10)


# -- browser tests (tests/browser): Debian's Chromium driven by Playwright, opt-in with
# --playwright (`make test` passes it); a failing test leaves a screenshot in test-artifacts/.

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium keeps calling Google's servers, which this network refuses.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(config, items):
    if config.getoption("--playwright"):
        return
    skip = pytest.mark.skip(reason="browser tests run with --playwright")
    for item in items:
        if "browser" in str(item.fspath):
            item.add_marker(skip)


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail("--playwright needs Chromium: apt-get install chromium (make test does it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _page(request, chromium, live_server, viewport):
    context = chromium.new_context(base_url=live_server, viewport=viewport)
    page = context.new_page()
    # Every page must run without console errors (a script or style the CSP refused, say).
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    # Refused requests on purpose (a 4xx the test asked for) show as console errors too.
    unexpected = [e for e in errors if "Failed to load resource" not in e]
    assert not unexpected, f"console errors: {unexpected}"


@pytest.fixture
def page(request, chromium, live_server):
    yield from _page(request, chromium, live_server, {"width": 1200, "height": 900})


@pytest.fixture
def phone(request, chromium, live_server):
    yield from _page(request, chromium, live_server, {"width": 390, "height": 844})


# -- mail: a real SMTP server (aiosmtpd) on a free port ------------------------------------


@pytest.fixture
def smtp_server():
    """(controller, inbox): aiosmtpd on 127.0.0.1; with aiosmtpd 1.4.6 port=0 fails, so a
    free port is bound first."""
    from aiosmtpd.controller import Controller

    from smtp_sink import Inbox

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


SECRET = "test-secret-3f9a1c7e5b2d8046a9e1f3c5b7d9e0a2"


@pytest.fixture
def mail_settings(settings, smtp_server):
    """Settings that send to the test SMTP server, with a fixed secret."""
    controller, _ = smtp_server
    return dataclasses.replace(
        settings,
        secret_key=SECRET,
        smtp_url=f"smtp://{controller.hostname}:{controller.port}",
        mail_from="Paper Féed <digest@papers.example.org>",
        base_url="https://papers.example.org",
        site_name="Paper Féed",
    )


def csrf_token(client, url: str = "/") -> str:
    """The CSRF token a page of `client`'s (a TestClient) carries in its forms."""
    return re.search(r'name="csrf" value="([0-9a-f]+)"', client.get(url).text)[1]


def sign_in(client, inbox, address: str) -> None:
    """Sign `client` in as `address` the way a reader does: ask for a link, open it, press."""
    client.post("/signin", data={"email": address, "csrf": csrf_token(client, "/signin")})
    text = inbox.to(address)[-1].get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"https://papers\.example\.org(/signin/\S+)", text).group(1)
    pressed = client.post(link, data={"csrf": csrf_token(client, link)}, follow_redirects=False)
    assert pressed.status_code == 303


def worker_once(env: dict[str, str]):
    """`paperfeed worker --once` in a process of its own with `env`; its CompletedProcess
    (output as text), after checking it exited 0."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "paperfeed", "worker", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done
