"""Benchmark: requests/s, p50 and p95 of the web server on all 74,728 papers, SQLite against
PostgreSQL with 1, 2 and 4 server processes, bounded in time.

Run with `make bench-web` (or `.venv/bin/python bench/web_load.py [--seconds 10] [--clients 8]
[--backend sqlite postgres] [--workers 1 2 4] [--postgres-url URL]`). It serves a fresh copy
(bench/catalog_copy.py) of the store that bench/search_latency.py builds with `paperfeed serve
--workers N` (SQLite: 1; PostgreSQL: each of --workers), then keeps `--clients` connections busy
for `--seconds` per endpoint from an asyncio httpx client on loopback: the latest day as HTML
(/) and JSON, a hybrid search rotating over 100 queries, and an upvote (POST, a real write).

Votes come from `--voters` accounts made by the real sign-in flow (a signed sign-in link, as
the mail carries, then the Sign in button), each with its session cookie and CSRF token. Each
voter belongs to one client and flips its vote on a paper of the day each time (on, then off),
so every vote changes the table. Client, server and PostgreSQL share the machine's two cores,
so the figures are a floor for a server with a machine to itself.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO
from urllib.parse import quote_plus

import httpx

from catalog_copy import SCALE, add_backend_options, chosen_backends, copy_catalog, versions
from machine import describe
from paperfeed.config import Settings, settings_environment
from paperfeed.models import Preferences
from paperfeed.people.tokens import sign_token
from paperfeed.storage import open_store
from paperfeed.storage.urls import is_postgres
from search_latency import DUMP, WORK, queries

SECRET_KEY = "bench-web-3f9a1c7e5b2d4f6a8c0e1b3d5f7a9c2e"
# method, path, form fields, headers
Call = tuple[str, str, dict[str, str] | None, dict[str, str]]


@dataclass
class Voter:
    """A signed-in account: the cookies its browser holds, the form token, its votes."""

    email: str
    cookie: str
    csrf: str
    voted: set[str] = field(default_factory=set)


def start_server(
    settings: Settings, port: int, workers: int, log: IO[str]
) -> subprocess.Popen[str]:
    # Info level: uvicorn says "Application startup complete." once per process, which is
    # how we know every process is serving before the clock starts.
    env = {**os.environ, **settings_environment(settings)}
    command = [sys.executable, "-m", "paperfeed", "serve", "--port", str(port)]
    command += ["--log-level", "info", "--workers", str(workers)]
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)


def wait_until_up(
    url: str, server: subprocess.Popen[str], workers: int, log: IO[str], timeout_s: float = 300
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        log.flush()
        with open(log.name) as output:
            started = output.read().count("Application startup complete.")
        if started >= workers and _answers(url):
            return
        if server.poll() is not None:
            with open(log.name) as output:
                raise SystemExit(f"the server stopped:\n{output.read()[-4000:]}")
        time.sleep(0.5)
    raise SystemExit(f"the server did not come up in {timeout_s:.0f} s")


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/papers?limit=1", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def stop_server(server: subprocess.Popen[str]) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def sign_in_voters(url: str, database_url: str, count: int) -> list[Voter]:
    """`count` accounts, signed in the way a reader does it: open the mailed link (signed for
    the row a sign-in request makes), press the button with the page's form token; the
    preferences page they land on holds the form token of their session."""
    voters = []
    store = open_store(database_url)
    try:
        rows = [
            store.create_subscriber(
                f"voter{n:03d}@example.org", Preferences(frequency="paused"), datetime.now(UTC)
            )
            for n in range(count)
        ]
    finally:
        store.close()
    for row in rows:
        link = sign_token(SECRET_KEY, "signin", str(row.id), datetime.now(UTC), 3600)
        with httpx.Client(base_url=url, timeout=30) as browser:
            button = browser.get(f"/signin/{link}")
            button.raise_for_status()
            token = re.search(r'name="csrf" value="([^"]+)"', button.text)
            if token is None:
                raise SystemExit(f"no sign-in button for {row.email}")
            page = browser.post(
                f"/signin/{link}", data={"csrf": token.group(1)}, follow_redirects=True
            )
            page.raise_for_status()
            found = re.search(r'name="csrf" value="([^"]+)"', page.text)
            if found is None or "pf_session" not in browser.cookies:
                raise SystemExit(f"signing in {row.email} failed: {page.url}")
            cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
            voters.append(Voter(row.email, cookie, found.group(1)))
    return voters


def reads(paths: list[str]) -> Callable[[int, int], Iterator[Call]]:
    """GETs of `paths`, in random order."""

    def calls(client: int, clients: int) -> Iterator[Call]:
        rng = random.Random(client)
        while True:
            yield ("GET", rng.choice(paths), None, {})

    return calls


def votes(voters: list[Voter], paper_ids: list[str]) -> Callable[[int, int], Iterator[Call]]:
    """Upvotes by `voters`, each flipping its vote on a random paper of `paper_ids`; a voter
    belongs to one client, so its flips never race each other."""

    def calls(client: int, clients: int) -> Iterator[Call]:
        rng = random.Random(1000 + client)
        mine = voters[client::clients]
        headers = {"accept": "application/json"}
        while True:
            voter = rng.choice(mine)
            paper = rng.choice(paper_ids)
            on = paper not in voter.voted
            voter.voted ^= {paper}
            form = {"on": "1" if on else "0", "csrf": voter.csrf}
            yield ("POST", f"/papers/{paper}/vote", form, {**headers, "cookie": voter.cookie})

    return calls


async def hammer(
    url: str, calls: Callable[[int, int], Iterator[Call]], clients: int, seconds: float
) -> dict[str, float]:
    """Keep `clients` requests in flight for `seconds`; latencies of the successful ones."""
    latencies: list[float] = []
    failures = 0
    stop = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def worker(number: int) -> None:
            nonlocal failures
            for method, path, form, headers in calls(number, clients):
                if time.monotonic() >= stop:
                    return
                client.cookies.clear()  # each call carries its own cookies, if any
                started = time.perf_counter()
                response = await client.request(method, path, data=form, headers=headers)
                if response.status_code == 200:
                    latencies.append(time.perf_counter() - started)
                else:
                    failures += 1

        began = time.monotonic()
        await asyncio.gather(*(worker(n) for n in range(clients)))
        elapsed = time.monotonic() - began
    latencies.sort()
    return {
        "requests_s": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000 if latencies else 0.0,
        "p95_ms": latencies[int(len(latencies) * 0.95)] * 1000 if latencies else 0.0,
        "failures": failures,
        "requests": len(latencies),
    }


def measure(
    settings: Settings, workers: int, voters: list[Voter] | None, args: argparse.Namespace
) -> tuple[dict[str, dict[str, float]], list[Voter]]:
    """Serve `settings` with `workers` processes and load each endpoint in turn; signs the
    voters in first when none are given."""
    url = f"http://127.0.0.1:{args.port}"
    settings = dataclasses.replace(settings, base_url=url)
    backend = "postgres" if is_postgres(settings.database_url) else "sqlite"
    results: dict[str, dict[str, float]] = {}
    with tempfile.NamedTemporaryFile("w", prefix="web-load-", suffix=".log", dir=WORK) as log:
        server = start_server(settings, args.port, workers, log)
        try:
            wait_until_up(url, server, workers, log)
            if voters is None:
                voters = sign_in_voters(url, settings.database_url, args.voters)
            day = httpx.get(f"{url}/api/daily_papers?limit=100", timeout=30).json()
            search = [f"/api/papers/search?q={quote_plus(q)}&limit=20" for q in queries(100)]
            scenarios = {
                "/": reads(["/"]),
                "/api/daily_papers": reads(["/api/daily_papers"]),
                "/api/papers/search": reads(search),
                "POST vote": votes(voters, [item["paper"]["id"] for item in day]),
            }
            for label, calls in scenarios.items():
                asyncio.run(hammer(url, calls, 2, 2.0))  # warm up
                result = asyncio.run(hammer(url, calls, args.clients, args.seconds))
                results[label] = result
                print(
                    f"  {label:<20} {result['requests_s']:7.1f} req/s  "
                    f"p50 {result['p50_ms']:6.1f} ms  p95 {result['p95_ms']:6.1f} ms  "
                    f"({result['requests']} ok, {result['failures']} failed)"
                )
                line = {"backend": backend, "workers": workers, "endpoint": label, **result}
                print(json.dumps(line), file=sys.stderr)
        finally:
            stop_server(server)
    return results, voters


def print_table(table: dict[str, dict[str, dict[str, float]]]) -> None:
    """One row per endpoint, one column per configuration: req/s, p50 / p95 ms."""
    columns = list(table)
    endpoints = list(next(iter(table.values()))) if table else []
    print("\nreq/s, p50 / p95 ms:")
    print(f"  {'endpoint':<20}" + "".join(f"{name:>26}" for name in columns))
    for endpoint in endpoints:
        cells = []
        for name in columns:
            r = table[name][endpoint]
            cell = f"{r['requests_s']:.0f}, {r['p50_ms']:.1f} / {r['p95_ms']:.1f}"
            cells.append(f"{cell + ('' if not r['failures'] else ' !'):>26}")
        print(f"  {endpoint:<20}" + "".join(cells))
    if any(r["failures"] for runs in table.values() for r in runs.values()):
        print("  (!: some requests failed; see the lines above)")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="per endpoint")
    parser.add_argument("--clients", type=int, default=8, help="requests in flight")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2, 4], help="PostgreSQL server processes"
    )
    parser.add_argument("--voters", type=int, default=32, help="signed-in accounts that vote")
    parser.add_argument("--port", type=int, default=8931)
    add_backend_options(parser)
    args = parser.parse_args()
    if args.voters < args.clients:
        parser.error("--voters must be at least --clients (each voter belongs to one client)")
    if not DUMP.exists():
        print(f"skipped: {DUMP} not found (the shared data set is not on this machine)")
        return 0
    WORK.mkdir(parents=True, exist_ok=True)
    backends = chosen_backends(args)
    postgres = args.postgres_url if "postgres" in backends else None
    print(f"machine: {describe(*versions(postgres))}")
    if not backends:
        return 0
    table: dict[str, dict[str, dict[str, float]]] = {}
    for backend in backends:
        server_url = args.postgres_url if backend == "postgres" else None
        settings = dataclasses.replace(
            copy_catalog("web-load", server_url), secret_key=SECRET_KEY, refresh_interval_s=0
        )
        voters = None
        for workers in args.workers if backend == "postgres" else [1]:
            print(
                f"{backend}: paperfeed serve, {workers} process(es); {args.clients} clients, "
                f"{args.seconds:.0f} s per endpoint, {SCALE:,} papers, {args.voters} voters"
                + (f", pool {settings.database_pool_size}" if server_url else "")
            )
            results, voters = measure(settings, workers, voters, args)
            table[f"{backend}, {workers} process{'es' if workers > 1 else ''}"] = results
    print_table(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
