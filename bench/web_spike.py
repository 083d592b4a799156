"""Benchmark: how many front-page requests paperfeed answers in a spike, next to the most a
minimal app answers on the same uvicorn, measured with wrk.

Run with `make bench-spike` (or `.venv/bin/python bench/web_spike.py [--seconds 8]
[--connections 16] [--workers 2] [--json FILE]`). Needs wrk on the PATH.

Four servers, one after the other, each with `--workers` processes on loopback:

- the reference: a Starlette app with one route answering a fixed 32 KB HTML page, without
  access log, served by `python -m uvicorn --workers` and by the workers `paperfeed serve` runs
  (below). Nothing paperfeed does per request can be faster than this, so each paperfeed row
  also says what share of the faster rate it reaches ("x of minimal");
- `paperfeed serve` on the bundled sample (3,292 papers, a fresh SQLite database made with
  `paperfeed ingest --sample`): the home page, the page of its day, /api/daily_papers;
- `paperfeed serve` on a fresh copy of the 74,728-paper store (bench/catalog_copy.py, built the
  first time): search with 2,000 distinct queries in turn (a wrk Lua script), one query
  repeated, and the home page.

Each URL gets a 2 s warm-up run, then `wrk -t1 -c<connections> -d<seconds>s --latency`. Reported
per URL: the status and size of one answer (fetched without compression, as wrk asks), requests/s,
latency p50/p90/p99 from wrk's distribution, errors (non-2xx/3xx answers plus socket errors),
and the CPU wrk, the server and everything else ("other": other processes, the kernel's
loopback work) used during the run as a share of the whole machine (CPU seconds over wall
seconds times cores; a large other share means the figures were taken on a busy machine). Then
the resident memory of each paperfeed worker process after its runs. wrk and the server share
the machine's cores, so the rates are a floor for a server with a machine to itself.

wrk opens its connections at once and keeps them. uvicorn's workers share one listening socket,
and the worker that wakes first usually accepts all of them, leaving the others idle for the
run (the per-worker CPU shows it). `paperfeed serve --workers N` gives each worker a listening
socket of its own (SO_REUSEPORT: the kernel spreads connections over them), so the minimal app
is measured both ways, and "x of minimal" is against the faster of the two.

A server counts as up once each of its worker processes listens (its event loop watches the
listening socket: every worker has loaded the model and the vectors), not when the first one
answers. Every server started is stopped again, on Ctrl-C and on errors too.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO
from urllib.parse import quote_plus

import httpx

import paperfeed
from catalog_copy import SCALE, copy_catalog, versions
from machine import describe
from paperfeed.config import Settings, settings_environment
from search_latency import DUMP, MODEL_DIR, WORK, queries

SECRET_KEY = "bench-spike-7c1e9a3f5b8d2e4a6c0f1b3d5e7a9c2f"
PAGE_BYTES = 32 * 1024
DISTINCT_QUERIES = 2000
REPEATED_QUERY = "graph neural networks"
WARM_UP_S = 2
START_TIMEOUT_S = 120.0
CORES = os.cpu_count() or 1
TICKS = os.sysconf("SC_CLK_TCK")

# The reference app: one route, one fixed page of PAGE_BYTES bytes.
MINIMAL_APP = textwrap.dedent(
    f'''
    """The smallest app uvicorn can serve a page from: one route, one fixed page."""

    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    _HEAD = "<!doctype html><html><head><title>minimal</title></head><body>"
    _TAIL = "</body></html>"
    _ROW = "<p>" + "x" * 91 + "</p>\\n"  # 100 bytes a row
    _BODY = _ROW * (({PAGE_BYTES} - len(_HEAD) - len(_TAIL)) // len(_ROW))
    PAGE = (_HEAD + _BODY).ljust({PAGE_BYTES} - len(_TAIL), " ") + _TAIL


    async def home(request):
        return HTMLResponse(PAGE)


    app = Starlette(routes=[Route("/", home)])
    '''
)

# wrk's script for the distinct queries: each request takes the next path, round and round.
WRK_SCRIPT = """\
local paths = {{
{paths}
}}
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
"""


@dataclass
class Run:
    """One URL's measured wrk run."""

    server: str
    what: str
    url: str
    status: int
    answer_kb: float
    requests_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    errors: int
    requests: int
    wrk_cpu: float
    server_cpu: float
    worker_cpu: list[float]
    other_cpu: float


@dataclass
class Server:
    """A server process (its own session, so its workers can be stopped as a group)."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: IO[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers(self) -> list[int]:
        """The processes that serve: the master's spawned children (not multiprocessing's
        resource tracker), or the master itself when it serves alone."""
        children = [pid for pid in child_pids(self.process.pid) if _spawned(pid)]
        return children or [self.process.pid]

    def tail(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-4000:]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def child_pids(parent: int) -> list[int]:
    """Processes whose parent is `parent` (from /proc/<pid>/stat)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == parent:
                found.append(int(entry.name))
    return sorted(found)


def _spawned(pid: int) -> bool:
    """Whether `pid` is a multiprocessing worker (uvicorn's are spawned)."""
    with contextlib.suppress(OSError):
        return b"multiprocessing.spawn" in Path(f"/proc/{pid}/cmdline").read_bytes()
    return False


def cpu_seconds(pids: list[int]) -> list[float]:
    """utime + stime of each of `pids` (a process that is gone counts 0)."""
    seconds = []
    for pid in pids:
        ticks = 0
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks = int(fields[11]) + int(fields[12])  # fields 14 and 15 of stat(5)
        seconds.append(ticks / TICKS)
    return seconds


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all but idle and iowait; /proc/stat)."""
    fields = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICKS  # up to steal; guest is in user


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def listening_inodes(port: int) -> set[str]:
    """The socket inodes of the TCP listeners on 127.0.0.1:`port` (from /proc/net/tcp): one
    shared by uvicorn's workers, or one per worker (SO_REUSEPORT, as `paperfeed serve`)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == f"0100007F:{port:04X}" and fields[3] == "0A":  # 0A: LISTEN
            found.add(fields[9])
    return found


def accepting(pid: int, inodes: set[str]) -> bool:
    """Whether process `pid` has one of the listening sockets `inodes` in an epoll set: its
    event loop accepts connections (a uvicorn worker adds it once its app's start-up is
    complete)."""
    fds = Path(f"/proc/{pid}/fd")
    listener: set[str] = set()
    polls: list[str] = []
    with contextlib.suppress(OSError):
        for fd in fds.iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.removeprefix("socket:[").removesuffix("]") in inodes:
                    listener.add(fd.name)
                elif target == "anon_inode:[eventpoll]":
                    polls.append(fd.name)
    for poll in polls:
        with contextlib.suppress(OSError):
            info = Path(f"/proc/{pid}/fdinfo/{poll}").read_text()
            if {m.group(1) for m in re.finditer(r"^tfd:\s+(\d+)", info, re.M)} & listener:
                return True
    return False


def start(name: str, command: list[str], env: dict[str, str], port: int) -> Server:
    log = tempfile.NamedTemporaryFile(prefix=f"web-spike-{name}-", suffix=".log")  # noqa: SIM115
    process = subprocess.Popen(
        command,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return Server(name, process, port, log)


def wait_until_up(server: Server, workers: int, probe: str) -> None:
    """Until `probe` answers 200 and each of the `workers` processes accepts connections."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"{server.name}: the server stopped:\n{server.tail()}")
        inodes = listening_inodes(server.port)
        pids = server.workers()
        if (
            inodes
            and len(pids) == workers
            and all(accepting(pid, inodes) for pid in pids)
            and _answers(server.url + probe)
        ):
            return
        time.sleep(0.5)
    raise SystemExit(f"{server.name}: not up in {START_TIMEOUT_S:.0f} s:\n{server.tail()}")


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=10).status_code == 200
    except httpx.TransportError:
        return False


def stop(server: Server) -> None:
    """SIGTERM to the server's process group, SIGKILL after 30 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.process.pid, signal.SIGTERM)
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()
    with contextlib.suppress(ProcessLookupError):  # workers that outlived their master
        os.killpg(server.process.pid, signal.SIGKILL)
    server.log.close()


@contextlib.contextmanager
def serving(name: str, command: list[str], env: dict[str, str], port: int) -> Iterator[Server]:
    server = start(name, command, env, port)
    try:
        yield server
    finally:
        stop(server)


def _milliseconds(text: str) -> float:
    """wrk's time ("812.00us", "3.21ms", "1.02s", "1.50m") in milliseconds."""
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if found is None:
        raise ValueError(f"not a wrk time: {text!r}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
    return float(found.group(1)) * scale[found.group(2)]


def parse_wrk(output: str) -> dict[str, float]:
    """Requests/s, p50/p90/p99 in ms, non-2xx/3xx answers, socket errors, requests."""
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    count = re.search(r"^\s*(\d+) requests in", output, re.M)
    if rate is None or count is None:
        raise SystemExit(f"cannot read wrk's output:\n{output}")
    result = {"requests_s": float(rate.group(1)), "requests": float(count.group(1))}
    for percent in (50, 90, 99):
        found = re.search(rf"^\s+{percent}%\s+(\S+)", output, re.M)
        result[f"p{percent}_ms"] = _milliseconds(found.group(1)) if found else float("nan")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    result["non_2xx"] = float(non_2xx.group(1)) if non_2xx else 0.0
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    result["socket_errors"] = float(sum(map(int, sockets.groups()))) if sockets else 0.0
    return result


def wrk(url: str, seconds: float, connections: int, script: Path | None) -> tuple[str, float]:
    """Run wrk; its output and the CPU seconds it used (its rusage, from wait4)."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    command += ["-s", str(script)] if script else []
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen([*command, url], stdout=output, stderr=subprocess.STDOUT)
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:
            process.kill()
            process.wait()
            raise
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().decode(errors="replace")
    if process.returncode != 0:
        raise SystemExit(f"wrk failed ({process.returncode}) on {url}:\n{text}")
    return text, usage.ru_utime + usage.ru_stime


def measure(
    server: Server, what: str, path: str, args: argparse.Namespace, script: Path | None = None
) -> Run:
    """A warm-up run and the measured one against `path` (the script's paths, if given)."""
    url = server.url + path
    probe = httpx.get(url, headers={"accept-encoding": "identity"}, timeout=30)
    wrk(url, WARM_UP_S, args.connections, script)
    workers = server.workers()
    pids = list(dict.fromkeys([*workers, server.process.pid]))
    server_before, busy_before = cpu_seconds(pids), machine_busy_seconds()
    began = time.monotonic()
    output, wrk_cpu = wrk(url, args.seconds, args.connections, script)
    wall = time.monotonic() - began
    used = [after - before for after, before in zip(cpu_seconds(pids), server_before, strict=True)]
    server_cpu = sum(used)
    other_cpu = max(0.0, machine_busy_seconds() - busy_before - server_cpu - wrk_cpu)
    figures = parse_wrk(output)
    run = Run(
        server=server.name,
        what=what,
        url=path,
        status=probe.status_code,
        answer_kb=len(probe.content) / 1024,
        requests_s=figures["requests_s"],
        p50_ms=figures["p50_ms"],
        p90_ms=figures["p90_ms"],
        p99_ms=figures["p99_ms"],
        non_2xx=int(figures["non_2xx"]),
        socket_errors=int(figures["socket_errors"]),
        errors=int(figures["non_2xx"] + figures["socket_errors"]),
        requests=int(figures["requests"]),
        wrk_cpu=wrk_cpu / (wall * CORES),
        server_cpu=server_cpu / (wall * CORES),
        worker_cpu=[seconds / (wall * CORES) for seconds in used[: len(workers)]],
        other_cpu=other_cpu / (wall * CORES),
    )
    print(
        f"  {what:<34} {run.requests_s:8.1f} req/s  p50 {run.p50_ms:7.1f} ms  "
        f"p99 {run.p99_ms:7.1f} ms  {run.errors} errors  (status {run.status}, "
        f"{run.answer_kb:.1f} KB)",
        flush=True,
    )
    return run


def paperfeed_serve(port: int, workers: int) -> list[str]:
    command = [sys.executable, "-m", "paperfeed", "serve", "--port", str(port)]
    return [*command, "--workers", str(workers), "--log-level", "warning"]


def worker_memory(server: Server) -> list[float]:
    return [rss_mb(pid) for pid in server.workers()]


def run_minimal(args: argparse.Namespace, scratch: Path) -> list[Run]:
    (scratch / "spike_minimal.py").write_text(MINIMAL_APP)
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "spike_minimal:app", "--app-dir", str(scratch)]
    command += ["--workers", str(args.workers), "--port", str(port)]
    command += ["--no-access-log", "--log-level", "warning"]
    print(f"minimal Starlette app, {args.workers} worker(s)", flush=True)
    runs = []
    with serving("minimal", command, {}, port) as server:
        wait_until_up(server, args.workers, "/")
        runs.append(measure(server, "minimal app: 32 KB page (uvicorn --workers)", "/", args))
    # The same app with the workers `paperfeed serve` runs: a listening socket each.
    port = free_port()
    options = {"log_level": "warning", "access_log": False}
    script = (
        f"import sys; sys.path.insert(0, {str(scratch)!r}); "
        "from paperfeed.web.workers import serve_workers; "
        f"serve_workers('127.0.0.1', {port}, {args.workers}, {options!r}, 'spike_minimal:app')"
    )
    print(f"minimal Starlette app, {args.workers} SO_REUSEPORT worker(s)", flush=True)
    with serving("minimal-reuseport", [sys.executable, "-c", script], {}, port) as server:
        wait_until_up(server, args.workers, "/")
        runs.append(measure(server, "minimal app: 32 KB page (as paperfeed serve)", "/", args))
    return runs


def run_sample(args: argparse.Namespace, scratch: Path) -> tuple[list[Run], list[float]]:
    settings = Settings(
        database_url=f"sqlite:///{scratch / 'sample.db'}",
        data_dir=str(scratch / "sample-data"),
        model_dir=str(MODEL_DIR),
        secret_key=SECRET_KEY,
    )
    env = {**os.environ, **settings_environment(settings)}
    print("sample: paperfeed ingest --sample", flush=True)
    ingest = subprocess.run(
        [sys.executable, "-m", "paperfeed", "ingest", "--sample"],
        env=env,
        capture_output=True,
        text=True,
    )
    if ingest.returncode != 0:
        raise SystemExit(f"paperfeed ingest --sample failed:\n{ingest.stderr[-4000:]}")
    port = free_port()
    print(f"sample: paperfeed serve, {args.workers} worker(s)", flush=True)
    command = paperfeed_serve(port, args.workers)
    with serving("sample", command, settings_environment(settings), port) as server:
        wait_until_up(server, args.workers, "/api/daily_papers?limit=1")
        first = httpx.get(f"{server.url}/api/daily_papers?limit=1", timeout=30).json()
        if not first:
            raise SystemExit("sample: /api/daily_papers lists no papers")
        day = str(first[0]["publishedAt"])[:10]
        runs = [
            measure(server, "sample: /", "/", args),
            measure(server, f"sample: /papers/date/{day}", f"/papers/date/{day}", args),
            measure(server, "sample: /api/daily_papers", "/api/daily_papers", args),
        ]
        return runs, worker_memory(server)


def run_catalog(args: argparse.Namespace, scratch: Path) -> tuple[list[Run], list[float]]:
    print(f"catalog: a fresh copy of the {SCALE:,}-paper store", flush=True)
    settings = dataclasses.replace(copy_catalog("web-spike"), secret_key=SECRET_KEY)
    paths = [f"/api/papers/search?q={quote_plus(q)}" for q in queries(DISTINCT_QUERIES)]
    script = scratch / "distinct.lua"
    script.write_text(WRK_SCRIPT.format(paths=",\n".join(f'  "{p}"' for p in paths)))
    port = free_port()
    print(f"catalog: paperfeed serve, {args.workers} worker(s)", flush=True)
    command = paperfeed_serve(port, args.workers)
    with serving("catalog", command, settings_environment(settings), port) as server:
        wait_until_up(server, args.workers, "/api/papers?limit=1")
        repeated = f"/api/papers/search?q={quote_plus(REPEATED_QUERY)}"
        runs = [
            measure(server, f"{SCALE:,}: search, distinct queries", paths[0], args, script),
            measure(server, f"{SCALE:,}: search, one query", repeated, args),
            measure(server, f"{SCALE:,}: /", "/", args),
        ]
        runs[0].url = f"/api/papers/search?q=... ({len(paths):,} queries in turn)"
        return runs, worker_memory(server)


def print_report(runs: list[Run], memory: dict[str, list[float]], args: argparse.Namespace) -> None:
    minimal = [run for run in runs if run.what.startswith("minimal")]
    reference = max(run.requests_s for run in minimal)  # the stricter of the two
    print(
        f"\nwrk -t1 -c{args.connections} -d{args.seconds:g}s, {args.workers} worker(s) a server; "
        "CPU as a share of the whole machine (other: processes\n"
        "besides wrk and the server, and the kernel's own work such as loopback networking)\n"
    )
    print(
        "| what | status | KB | requests/s | x of minimal | p50 ms | p90 ms | p99 ms | errors "
        "| wrk CPU | server CPU (per worker) | other CPU |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for run in runs:
        workers = " + ".join(f"{share:.0%}" for share in run.worker_cpu)
        ratio = f"{run.requests_s / reference:.3f}"
        print(
            f"| {run.what} | {run.status} | {run.answer_kb:.1f} | {run.requests_s:,.1f} | {ratio} "
            f"| {run.p50_ms:.1f} | {run.p90_ms:.1f} | {run.p99_ms:.1f} | {run.errors} "
            f"| {run.wrk_cpu:.0%} | {run.server_cpu:.0%} ({workers}) | {run.other_cpu:.0%} |"
        )
    print("\nmemory per worker (RSS after its runs):")
    for name, sizes in memory.items():
        print(f"  {name}: " + ", ".join(f"{size:.0f} MB" for size in sizes))


def commit() -> str:
    """The commit of the paperfeed the servers run (the one this process imports), marked when
    its src/ has changes not committed yet."""
    where = Path(paperfeed.__file__).resolve().parent

    def git(*words: str) -> str:
        found = subprocess.run(["git", *words], cwd=where, capture_output=True, text=True)
        return found.stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + (
        " + uncommitted changes"
        if git("status", "--porcelain", "--untracked-files=no", "--", ".")
        else ""
    )


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks that stop servers


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=8.0, help="per URL (after a warm-up)")
    parser.add_argument("--connections", type=int, default=16, help="wrk's open connections")
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--json", type=Path, help="also save the figures to this file")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("skipped: wrk is not installed")
        return 0
    if not DUMP.exists():
        print(f"skipped: {DUMP} not found (the shared data set is not on this machine)")
        return 0
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    WORK.mkdir(parents=True, exist_ok=True)
    machine = describe(*versions(None))
    version = f"paperfeed {paperfeed.__version__} ({commit()})"
    print(f"machine: {machine}\n{version}", flush=True)
    try:
        with tempfile.TemporaryDirectory(prefix="web-spike-") as scratch:
            runs = run_minimal(args, Path(scratch))
            sample_runs, sample_memory = run_sample(args, Path(scratch))
            catalog_runs, catalog_memory = run_catalog(args, Path(scratch))
    except KeyboardInterrupt:
        print("interrupted (every server started is stopped)")
        return 130
    runs += sample_runs + catalog_runs
    memory = {"sample": sample_memory, f"{SCALE:,} papers": catalog_memory}
    print_report(runs, memory, args)
    print(f"\nmachine: {machine}\n{version}")
    if args.json:
        figures = {
            "machine": machine,
            "version": version,
            "options": {k: v for k, v in vars(args).items() if k != "json"},
            "runs": [dataclasses.asdict(run) for run in runs],
            "memory_mb": memory,
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
