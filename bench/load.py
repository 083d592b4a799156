"""Benchmark: hold a load of concurrent readers (search, daily lists, paper pages) and watch the
server: errors, p50/p95/p99 per kind of page, and its memory over the run (a leak shows as a
rise that does not level off).

Run with `make bench-load` (or `.venv/bin/python bench/load.py [--clients 50] [--seconds 60]
[--workers 1] [--catalog sample|dump]`); `--seconds 600` is the soak run. The catalog is the
bundled sample (3,292 papers, the default) or the 74,728 papers of arxiv-cs-daily
(`--catalog dump`, loaded once into data/bench/). Each client loops over a mix: a hybrid search
(distinct queries made from real titles, as HTML and as JSON), the latest day (/ and
/api/daily_papers), a day page, and a paper page, on its own keep-alive connection. Client and
server share the machine's cores: the figures are a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote_plus

import httpx

from machine import describe
from web_load import wait_until_up

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "data" / "bench"


def prepare(catalog: str, folder: Path) -> str:
    """A SQLite catalog to serve: the bundled sample in `folder`, or the dump (kept)."""
    if catalog == "sample":
        url = f"sqlite:///{folder / 'load.db'}"
        ingest = [sys.executable, "-m", "paperfeed", "ingest", "--sample"]
        subprocess.run(ingest, env={**os.environ, "PAPERFEED_DATABASE_URL": url}, check=True)
        return url
    from catalog_copy import copy_catalog  # a copy of the latency bench's 74,728-paper store

    return copy_catalog("load").database_url


def process_tree(pid: int) -> list[int]:
    """`pid` and its children (uvicorn's worker processes)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [pid, *(int(p) for p in children.read_text().split())] if children.exists() else [pid]


def rss_kb(pid: int) -> int:
    """Resident memory of `pid` and its children."""
    total = 0
    for one in process_tree(pid):
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def paths(url: str, count: int) -> dict[str, list[str]]:
    """What the readers ask for, by kind, from what the server lists."""
    day = httpx.get(f"{url}/api/daily_papers?limit=100", timeout=30).json()
    ids = [item["paper"]["id"] for item in day]
    titles = [item["paper"]["title"] for item in day]
    rng = random.Random(7)
    words = [w for t in titles for w in t.split() if len(w) > 4 and w.isalpha()]
    queries = {" ".join(rng.sample(words, 3)) for _ in range(count)}
    date = day[0]["publishedAt"][:10] if day else "2026-06-24"
    return {
        "search (HTML)": [f"/search?q={quote_plus(q)}" for q in queries],
        "search (API)": [f"/api/papers/search?q={quote_plus(q)}&limit=20" for q in queries],
        "latest day (/)": ["/"],
        "daily (API)": ["/api/daily_papers"],
        "day page": [f"/papers/date/{date}"],
        "paper page": [f"/papers/{i}" for i in ids],
    }


async def client(
    url: str,
    mix: dict[str, list[str]],
    until: float,
    seed: int,
    times: dict[str, list[float]],
    errors: dict[str, int],
) -> None:
    rng = random.Random(seed)
    kinds = list(mix)
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        while time.monotonic() < until:
            kind = rng.choice(kinds)
            path = rng.choice(mix[kind])
            started = time.perf_counter()
            try:
                response = await http.get(path)
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            times[kind].append(time.perf_counter() - started)
            if not ok:
                errors[kind] += 1


async def hold(
    url: str, mix: dict[str, list[str]], clients: int, seconds: float, pid: int
) -> tuple[dict[str, list[float]], dict[str, int], list[tuple[float, int]]]:
    times: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    memory: list[tuple[float, int]] = []
    start = time.monotonic()
    until = start + seconds

    async def watch() -> None:
        while time.monotonic() < until:
            memory.append((time.monotonic() - start, rss_kb(pid)))
            await asyncio.sleep(min(10.0, max(1.0, seconds / 60)))

    await asyncio.gather(
        watch(), *(client(url, mix, until, n, times, errors) for n in range(clients))
    )
    memory.append((time.monotonic() - start, rss_kb(pid)))
    return times, errors, memory


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of `pid` and its children so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for one in process_tree(pid):
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except FileNotFoundError:
            pass
    return total


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(
    times: dict[str, list[float]],
    errors: dict[str, int],
    memory: list[tuple[float, int]],
    seconds: float,
) -> None:
    print(
        f"{'what':<16} {'requests':>9} {'errors':>7} {'req/s':>7} {'p50':>8} {'p95':>8} {'p99':>8}"
    )
    every = [t for values in times.values() for t in values]
    for kind, values in [*sorted(times.items()), ("all", every)]:
        failed = sum(errors.values()) if kind == "all" else errors.get(kind, 0)
        print(
            f"{kind:<16} {len(values):>9} {failed:>7} {len(values) / seconds:>7.1f} "
            f"{percentile(values, 0.5) * 1000:>6.1f}ms {percentile(values, 0.95) * 1000:>6.1f}ms "
            f"{percentile(values, 0.99) * 1000:>6.1f}ms"
        )
    first = [kb for at, kb in memory if at <= max(60.0, seconds / 10)]
    last = [kb for at, kb in memory if at >= seconds * 0.9]
    mb = [round(kb / 1024) for kb in (memory[0][1], statistics.median(first))]
    mb += [round(kb / 1024) for kb in (statistics.median(last), max(kb for _, kb in memory))]
    print(
        "server memory (MB): at start {}, first minute (median) {}, last tenth (median) {}, "
        "peak {}".format(*mb)
    )
    if seconds >= 120:  # the curve, a minute at a time: a leak keeps climbing
        minutes = defaultdict(list)
        for at, kb in memory:
            minutes[int(at // 60)].append(kb)
        curve = [f"{m + 1}: {max(v) / 1024:.0f}" for m, v in sorted(minutes.items())]
        print("server memory by minute (MB, max):", ", ".join(curve))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--catalog", choices=["sample", "dump"], default="sample")
    parser.add_argument("--port", type=int, default=8770)
    args = parser.parse_args()
    print(describe(f"{args.clients} clients", f"{args.seconds:.0f} s", f"{args.workers} worker(s)"))
    WORK.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=WORK) as folder:
        database_url = prepare(args.catalog, Path(folder))
        catalog_is_sample = args.catalog == "sample"
        url = f"http://127.0.0.1:{args.port}"
        env = {
            **os.environ,
            "PAPERFEED_DATABASE_URL": database_url,
            "PAPERFEED_DATA_DIR": folder if catalog_is_sample else str(WORK),
            "PAPERFEED_BASE_URL": url,
            "PAPERFEED_SECRET_KEY": "bench-load-3f9a1c7e5b2d4f6a8c0e1b3d5f7a9c2e",
        }
        command = [sys.executable, "-m", "paperfeed", "serve", "--port", str(args.port)]
        command += ["--workers", str(args.workers), "--log-level", "info"]
        with open(Path(folder) / "serve.log", "w+") as log:
            server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                wait_until_up(url, server, args.workers, log)  # type: ignore[arg-type]
                mix = paths(url, 2000)
                cpu_before, wall_before = cpu_seconds(server.pid), time.monotonic()
                times, errors, memory = asyncio.run(
                    hold(url, mix, args.clients, args.seconds, server.pid)
                )
                server_cpu = cpu_seconds(server.pid) - cpu_before
                wall = time.monotonic() - wall_before
            finally:
                server.terminate()
                server.wait(timeout=30)
    report(times, errors, memory, args.seconds)
    print(f"server CPU: {server_cpu / wall * 100:.0f}% of one core over the run")


if __name__ == "__main__":
    main()
