"""Several server processes on one port, each listening on a socket of its own.

uvicorn's own `--workers` shares one listening socket between the processes: the first one to
wake accepts a whole burst of connections and keeps them, so under a load of long-lived
connections (browsers, proxies, wrk) one process did all the work while the other idled
(measured: 16 connections on one worker, none on the other). Here every worker binds the port
with SO_REUSEPORT and the kernel spreads new connections evenly over their sockets.

The parent holds the port (bound, not listening: it receives no connections), starts the
workers, starts a worker again if one dies, and stops them all on SIGINT or SIGTERM.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import threading
import time
from typing import Any

log = logging.getLogger("paperfeed.web")
APP = "paperfeed.web.app:create_app_from_environment"  # a factory
STARTUP_GRACE_S = 20.0  # a worker that fails sooner than this after its start stops the server
STOP_WAIT_S = 15.0


class WorkerFailed(RuntimeError):
    """A worker exited with an error while starting (its own output says why)."""


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port) with SO_REUSEPORT, not yet listening."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    sock.set_inheritable(True)
    return sock


def _run_worker(app: str, host: str, port: int, options: dict[str, Any]) -> None:
    import uvicorn

    sock = listening_socket(host, port)
    config = uvicorn.Config(app, host=host, port=port, **options)
    uvicorn.Server(config).run(sockets=[sock])


def serve_workers(
    host: str, port: int, workers: int, options: dict[str, Any], app: str = APP
) -> None:
    """Run `workers` server processes of `app` (an import string; paperfeed's by default,
    built from the environment, PAPERFEED_*) on (host, port) until SIGINT or SIGTERM;
    `options` are uvicorn.Config's (log level, proxies)."""
    holder = listening_socket(host, port)  # fails at once, clearly, when the port is taken
    port = holder.getsockname()[1]  # port 0: the one the system picked, for every worker
    context = multiprocessing.get_context("spawn")
    stop = threading.Event()

    def start() -> tuple[multiprocessing.process.BaseProcess, float]:
        process = context.Process(target=_run_worker, args=(app, host, port, options), daemon=False)
        process.start()
        return process, time.monotonic()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    running = [start() for _ in range(workers)]
    try:
        while not stop.wait(0.5):
            for index, (process, started) in enumerate(running):
                if process.is_alive():
                    continue
                if process.exitcode and time.monotonic() - started < STARTUP_GRACE_S:
                    raise WorkerFailed(
                        f"a server process exited with code {process.exitcode} while starting"
                    )
                log.warning(
                    "server process %s exited (%s); starting another", process.pid, process.exitcode
                )
                running[index] = start()
    finally:
        for process, _ in running:
            if process.is_alive():
                process.terminate()  # uvicorn finishes the requests under way, then exits
        deadline = time.monotonic() + STOP_WAIT_S
        for process, _ in running:
            process.join(max(0.1, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        holder.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
