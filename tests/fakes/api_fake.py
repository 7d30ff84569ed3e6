"""The plumbing shared by the helpdesk and CRM fakes: a threaded HTTP server on 127.0.0.1 that
records every call and can be scripted to fail the next calls of a route.

A fake subclasses `FakeApi` with `authorised(request)`, `route(request)` (a short name used for
scripting, e.g. "tickets") and `answer(request)`. Faults a test can queue for a route:

    429            Too Many Requests with `Retry-After: <retry_after>`
    "429-bare"     Too Many Requests without Retry-After (the client's fallback wait)
    500, 503       a server error
    401            unauthorised, whatever the credential
    "malformed"    HTTP 200 with a body that is not JSON (a proxy's error page cut short)
"""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

Fault = int | str


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]


@dataclass
class Reply:
    status: int = 200
    payload: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None          # sent as is instead of the JSON payload


@dataclass(frozen=True)
class Call:
    route: str
    request: Request
    status: int


class FakeApi(ABC):
    """Base of one fake API's state; subclasses hold the data and answer the documented routes."""

    retry_after: int = 7              # seconds announced by a scripted 429

    def __init__(self) -> None:
        self.base_url = ""
        self.calls: list[Call] = []
        self._faults: dict[str, list[Fault]] = {}
        self._lock = threading.RLock()

    def fail_next(self, route: str, *faults: Fault) -> None:
        """Queue faults for the next calls of `route`, one per call."""
        with self._lock:
            self._faults.setdefault(route, []).extend(faults)

    def calls_to(self, route: str) -> list[Call]:
        return [c for c in self.calls if c.route == route]

    @abstractmethod
    def authorised(self, request: Request) -> bool:
        """Whether the request carries the fake's credential."""

    @abstractmethod
    def route(self, request: Request) -> str:
        """The short name faults are scripted by (and calls are filed under)."""

    @abstractmethod
    def answer(self, request: Request) -> Reply:
        """The documented answer to an authorised, unscripted request."""

    def unauthorised(self) -> Reply:
        return Reply(401, {"message": "Authentication failed"})

    def handle(self, request: Request) -> tuple[str, Reply]:
        route = self.route(request)
        with self._lock:
            queue = self._faults.get(route)
            fault = queue.pop(0) if queue else None
        if fault is not None:
            return route, _fault_reply(fault, self.retry_after)
        if not self.authorised(request):
            return route, self.unauthorised()
        with self._lock:
            return route, self.answer(request)


def _fault_reply(fault: Fault, retry_after: int) -> Reply:
    if fault == 429:
        return Reply(429, {"message": "rate limited"}, {"Retry-After": str(retry_after)})
    if fault == "429-bare":
        return Reply(429, {"message": "rate limited"})
    if fault == "malformed":
        return Reply(200, raw=b'{"tickets": [{"id": 1, "subj')
    if isinstance(fault, int):
        return Reply(fault, {"message": f"scripted {fault}"})
    raise ValueError(f"unknown fault {fault!r}")


def _handler(api: FakeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # keep test output clean

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._serve()

        def do_POST(self) -> None:  # noqa: N802
            self._serve()

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw) if raw else None
            except json.JSONDecodeError:
                body = raw.decode("utf-8", "replace")
            request = Request(self.command, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)),
                              body, {k: v for k, v in self.headers.items()})
            route, reply = api.handle(request)
            with api._lock:
                api.calls.append(Call(route, request, reply.status))
            data = reply.raw if reply.raw is not None else json.dumps(reply.payload).encode("utf-8")
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


A = TypeVar("A", bound=FakeApi)


@contextmanager
def serving(api: A, path_prefix: str = "") -> Iterator[A]:
    """Serve `api` on 127.0.0.1 (a free port) for the block; sets `api.base_url`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    api.base_url = f"http://127.0.0.1:{server.server_address[1]}{path_prefix}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
