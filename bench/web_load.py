"""Benchmark: requests/s and p95 of the web server on all 74,728 papers, bounded in time.

Run with `make bench-web` (or `.venv/bin/python bench/web_load.py [--seconds 10] [--clients 8]`).
It serves the store that bench/search_latency.py builds (data/bench/latency-74728.db, built here
if missing) with `paperfeed serve`, then keeps `--clients` connections busy for `--seconds` per
endpoint from an asyncio httpx client. Client and server share the machine's two cores, so the
figures are a floor for a server with a machine to itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote_plus

import httpx

from machine import describe
from search_latency import DUMP, MODEL_DIR, WORK, build, queries, ready_searcher

REPO = Path(__file__).resolve().parents[1]
SCALE = 74_728


def start_server(port: int, workers: int) -> subprocess.Popen[str]:
    db = WORK / f"latency-{SCALE}.db"
    env = {
        **os.environ,
        "PAPERFEED_DATABASE_URL": f"sqlite:///{db}",
        "PAPERFEED_MODEL_DIR": str(MODEL_DIR),
        "PAPERFEED_REFRESH_INTERVAL_S": "0",
    }
    command = [sys.executable, "-m", "paperfeed", "serve", "--port", str(port)]
    command += ["--log-level", "warning", "--workers", str(workers)]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def wait_until_up(url: str, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/papers?limit=1", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.3)
        if server.poll() is not None:
            raise SystemExit(f"the server stopped:\n{server.communicate()[0]}")
    raise SystemExit("the server did not come up in 120 s")


async def hammer(url: str, paths: list[str], clients: int, seconds: float) -> dict[str, float]:
    """Keep `clients` requests in flight for `seconds`; latencies of the successful ones."""
    latencies: list[float] = []
    failures = 0
    stop = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def worker(seed: int) -> None:
            nonlocal failures
            rng = random.Random(seed)
            while time.monotonic() < stop:
                path = rng.choice(paths)
                started = time.perf_counter()
                response = await client.get(path)
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--port", type=int, default=8931)
    args = parser.parse_args()
    if not DUMP.exists():
        print(f"skipped: {DUMP} not found (the shared data set is not on this machine)")
        return 0
    if not (WORK / f"latency-{SCALE}.db").exists():
        store, settings, embedder, _ = build(SCALE)
        ready_searcher(settings, store, embedder, "local")
        store.close()
    print(f"machine: {describe()}")
    print(
        f"server: paperfeed serve, {args.workers} worker(s); {args.clients} clients, "
        f"{args.seconds:.0f} s per endpoint, {SCALE:,} papers"
    )
    url = f"http://127.0.0.1:{args.port}"
    server = start_server(args.port, args.workers)
    try:
        wait_until_up(url, server)
        search_paths = [f"/api/papers/search?q={quote_plus(q)}&limit=20" for q in queries(100)]
        scenarios = {
            "/": ["/"],
            "/api/daily_papers": ["/api/daily_papers"],
            "/api/papers/search": search_paths,
        }
        for label, paths in scenarios.items():
            asyncio.run(hammer(url, paths[:5], 2, 2.0))  # warm up
            result = asyncio.run(hammer(url, paths, args.clients, args.seconds))
            print(
                f"  {label:<20} {result['requests_s']:7.1f} req/s  p50 {result['p50_ms']:6.1f} ms  "
                f"p95 {result['p95_ms']:6.1f} ms  ({result['requests']} ok, "
                f"{result['failures']} failed)"
            )
            print(json.dumps({"endpoint": label, **result}), file=sys.stderr)
    finally:
        server.terminate()
        server.wait(timeout=20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
