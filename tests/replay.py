"""A local HTTP server that replays recorded responses, so network code runs against real HTTP."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Reply:
    """One response: `body` with `status` and `headers`; `drop` closes the socket instead;
    `hold` makes the server wait for that event first (to kill a client mid-request);
    `cut_at` sends only that many bytes of the body (after announcing all of it) and hangs up;
    `drip_s` sends the body 1 KB at a time, waiting that long before each (a slow server)."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    hold: threading.Event | None = None
    cut_at: int | None = None
    drip_s: float | None = None


@dataclass(frozen=True)
class Seen:
    at: float  # time.monotonic() when the request arrived
    path: str
    params: dict[str, str]


class ReplayServer:
    """Routes (path, required query params) to queues of replies; the last reply repeats."""

    def __init__(self) -> None:
        self._rules: list[tuple[str, dict[str, str], list[Reply]]] = []
        self.requests: list[Seen] = []
        self.arrived = threading.Event()  # set on every request, for tests that wait for one
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                params = dict(parse_qsl(parts.query, keep_blank_values=True))
                reply = server._take(parts.path, params)
                if reply.hold is not None:
                    reply.hold.wait(30)
                if reply.drop:
                    self.close_connection = True
                    self.connection.close()
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if reply.cut_at is not None:
                    self.wfile.write(reply.body[: reply.cut_at])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if reply.drip_s is not None:
                    for start in range(0, len(reply.body), 1024):
                        time.sleep(reply.drip_s)
                        self.wfile.write(reply.body[start : start + 1024])
                        self.wfile.flush()
                    return
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: object) -> None:
                return None

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, path: str, *replies: Reply, **match: str) -> None:
        """Answer GET `path` (when its query has every `match` item) with `replies` in turn."""
        self._rules.append((path, match, list(replies)))

    def _take(self, path: str, params: dict[str, str]) -> Reply:
        with self._lock:
            self.requests.append(Seen(time.monotonic(), path, params))
            self.arrived.set()
            for rule_path, match, replies in self._rules:
                if rule_path == path and all(params.get(k) == v for k, v in match.items()):
                    return replies.pop(0) if len(replies) > 1 else replies[0]
        return Reply(b"no route", status=404)

    def start(self) -> ReplayServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
