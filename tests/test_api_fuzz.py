"""Fuzz the JSON API from its own OpenAPI schema (schemathesis): no 5xx, every answer documented.

A real uvicorn server on loopback over a real store (the web tests' catalog); schemathesis reads
/openapi.json from it and sends generated requests, valid (positive) and invalid (negative) for
each operation, then checks each answer: not a server error, a documented status code and
content type, documented headers, a body that conforms to the documented schema.
"""

import os
import threading
import time
from collections import Counter

import hypothesis
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# The coverage phase has no public entry point outside schemathesis' own runner (its pytest
# plugin does not work with pytest 9), hence these imports and the exact version in pyproject.
from schemathesis.generation.drivers import CoverageGenerator
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.overrides import Override

from conftest import (
    BACKENDS,
    SECRET,
    FakeEmbedder,
    build_web_app,
    drop_postgres_database,
    free_port,
    new_postgres_database,
)
from paperfeed.config import Settings
from paperfeed.storage import open_store

# Per run: schemathesis' coverage cases (303 for this schema), then EXAMPLES generated cases per
# operation and mode (positive and negative, but for one): 303 + 9 x 80 = 1,023 cases.
EXAMPLES = 80
MINIMUM_CASES = 1_000
# Any text is a possible paper id (an unknown one is a documented 404): no invalid value exists.
NOTHING_TO_NEGATE = {
    "GET /api/papers/{paper_id}",
    "GET /api/papers/{paper_id}/comments",
    "GET /api/library",
}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request) -> str:
    """conftest's backends, once per module: one server serves every fuzzing test."""
    return request.param


def _discuss(store) -> None:
    """A discussion on every paper (a reply, a deleted top comment kept for its reply), so
    the comments' answers are checked with something in them."""
    from datetime import UTC, datetime

    from paperfeed.models import Preferences

    now = datetime(2026, 6, 26, 8, 0, tzinfo=UTC)
    ada = store.create_subscriber("ada@example.org", Preferences(), now).id
    store.set_public_name(ada, "ada.l", now)
    for pk in (listed.pk for listed in store.newest_papers(None, 100)):
        top = store.add_comment(pk, ada, None, "<b>hi</b> $x$ [l](https://example.org)", now)
        store.add_comment(pk, ada, top.id, "a reply", now)
        store.delete_comment(top.id, ada, now)


@pytest.fixture(scope="module")
def fuzz_server(backend, tmp_path_factory, request):
    """A real server for the whole module: `paperfeed serve`'s uvicorn, in a thread."""
    folder = tmp_path_factory.mktemp("fuzz")
    if backend == "sqlite":
        database_url = f"sqlite:///{folder / 'paperfeed.db'}"
    else:
        database_url = new_postgres_database(request.getfixturevalue("postgres_template"))
    port = free_port()
    settings = Settings(
        database_url=database_url,
        data_dir=str(folder),
        base_url=f"http://127.0.0.1:{port}",
        secret_key=SECRET,
        # Every generated subscription is a new address: let them all through the per-IP limit
        # (the limit itself has its own tests), so most answers are 202s worth checking.
        ip_limit_per_hour=1_000_000,
    )
    store = open_store(database_url)
    app = build_web_app(store, settings, folder / "index", FakeEmbedder())
    _discuss(store)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the fuzzing server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    store.close()
    if backend != "sqlite":
        drop_postgres_database(database_url)


# The same cases every run, so a CI failure can be reproduced; PAPERFEED_FUZZ_SEED=<n> explores
# other ones (and, with it, PAPERFEED_FUZZ_EXAMPLES=<n> more of them).
SEED = os.environ.get("PAPERFEED_FUZZ_SEED")
if SEED:
    EXAMPLES = int(os.environ.get("PAPERFEED_FUZZ_EXAMPLES", EXAMPLES))


def _call(case, counts: Counter) -> None:
    response = case.call_and_validate(checks=CHECKS)
    counts["cases"] += 1
    counts[f"{response.status_code // 100}xx"] += 1


def _coverage_cases(schema, operation):
    """Schemathesis' coverage phase: each parameter and body field at its edges and with every
    wrong JSON type (a number, a list, an object, null for a string...), valid and invalid."""
    generator = CoverageGenerator(
        operation=operation,
        generation_modes=list(GenerationMode),
        generation_config=schema.config.generation_for(operation=operation, phase="coverage"),
        auth_storage=None,
        override=Override(),
        feedback=FeedbackSources(),
    )
    return list(generator)


def _fuzz(operation, mode: GenerationMode, counts: Counter) -> None:
    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=not SEED,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        _call(case, counts)

    if SEED:
        run = hypothesis.seed(int(SEED))(run)
    run()


def test_the_api_answers_every_generated_request_as_documented(fuzz_server, capsys):
    schema = schemathesis.openapi.from_url(f"{fuzz_server}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} == {
        "GET /api/papers/search",
        "GET /api/daily_papers",
        "GET /api/papers",
        "GET /api/papers/{paper_id}",
        "GET /api/papers/{paper_id}/comments",
        "POST /api/subscribe",
        "GET /api/library",  # signed-in readers' (the fuzzer, not signed in, gets 401s)
        "GET /api/library/{collection_id}",
        "GET /api/for-you",
    }
    counts: Counter = Counter()
    started = time.monotonic()
    for operation in operations:
        for case in _coverage_cases(schema, operation):
            _call(case, counts)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if mode == GenerationMode.NEGATIVE and operation.label in NOTHING_TO_NEGATE:
                continue
            _fuzz(operation, mode, counts)
    elapsed = time.monotonic() - started
    with capsys.disabled():
        print(
            f"\nAPI fuzzing: {counts['cases']} cases in {elapsed:.1f} s "
            f"({counts['2xx']} 2xx, {counts['4xx']} 4xx): no server error, no schema violation"
        )
    assert counts["cases"] >= MINIMUM_CASES
    assert counts["2xx"] + counts["4xx"] == counts["cases"]


def test_the_schema_documents_typed_parameters_bodies_and_errors(fuzz_server):
    import httpx

    schema = httpx.get(f"{fuzz_server}/openapi.json", timeout=10).json()
    daily = schema["paths"]["/api/daily_papers"]["get"]
    types = {p["name"]: p["schema"].get("type") for p in daily["parameters"]}
    assert types == {
        "date": "string",
        "week": "string",
        "month": "string",
        "submitter": "string",
        "sort": "string",
        "p": "integer",
        "limit": "integer",
        "has_code": "boolean",
    }
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "422" not in responses, (method, path)  # bad input is a 400 here
            error = responses["400"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Error"}, (method, path)
    assert schema["components"]["schemas"]["Error"]["required"] == ["error"]
    body = schema["paths"]["/api/subscribe"]["post"]["requestBody"]["content"]
    assert body["application/json"]["schema"]["required"] == ["email"]
    success = schema["paths"]["/api/subscribe"]["post"]["responses"]["202"]
    assert success["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SubscribeAccepted"
    }


def test_answers_conform_and_an_undocumented_field_would_not(fuzz_server):
    """The documented objects are closed: a field added in hf_format.py but not in
    api_schema.py fails the fuzz test's schema check."""
    import httpx
    import jsonschema_rs

    components = httpx.get(f"{fuzz_server}/openapi.json", timeout=10).json()["components"]

    def conforms(name, instance):
        document = {"$ref": f"#/components/schemas/{name}", "components": components}
        return jsonschema_rs.Draft202012Validator(document).is_valid(instance)

    item = httpx.get(f"{fuzz_server}/api/daily_papers", params={"date": "2026-06-24"}).json()[0]
    assert conforms("DailyItem", item)
    assert not conforms("DailyItem", {**item, "newField": 1})
    assert not conforms("DailyItem", {**item, "paper": {**item["paper"], "newField": 1}})
    paper = httpx.get(f"{fuzz_server}/api/papers/2606.10002").json()
    assert conforms("PaperObject", paper) and not conforms("PaperObject", {**paper, "x": 1})
    hits = httpx.get(f"{fuzz_server}/api/papers/search", params={"q": "dynamics"}).json()
    assert hits and all(conforms("SearchItem", hit) for hit in hits)
    trending = httpx.get(f"{fuzz_server}/api/daily_papers", params={"sort": "trending"}).json()
    assert "trending" in trending[0] and conforms("DailyItem", trending[0])
