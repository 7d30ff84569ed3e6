"""A fake Slack Web API on 127.0.0.1 for tests that drive the real slack_sdk client.

It answers `chat.postMessage` and `auth.test` the way Slack does (errors as HTTP 200 with
`{"ok": false, "error": ...}`), enforces the Block Kit limits the renderer must respect, and
can be scripted to answer the next calls with a 429, a 5xx or a Slack error code.

    with running_fake_slack() as slack:
        client = WebClient(token=slack.token, base_url=slack.base_url)
        slack.script(429, None, "fatal_error")   # next calls: rate-limited, normal, refused
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

VALID_TOKEN = "xoxb-test-token"
DEFAULT_CHANNELS = ("product", "cs", "sales", "support-ops")
MAX_BLOCKS = 50
MAX_MESSAGE_CHARS = 13000
MAX_SECTION_CHARS = 3000
MAX_HEADER_CHARS = 150
FIRST_TS = 1700000000


@dataclass
class FakeSlack:
    """State of one fake server: accepted messages, the script of canned answers, all calls."""

    base_url: str = ""
    token: str = VALID_TOKEN
    channels: dict[str, str] = field(default_factory=dict)   # name -> id
    messages: list[dict] = field(default_factory=list)       # accepted chat.postMessage calls
    calls: list[str] = field(default_factory=list)           # every API method called
    _script: list[int | str | None] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, *answers: int | str | None) -> None:
        """Queue answers for the next chat.postMessage calls, one per call.

        Args:
            answers: 429 (with `Retry-After: 1`), 500 or 503 for an HTTP error, a string for a
                Slack error code (HTTP 200, ok false), or None to answer normally.
        """
        with self._lock:
            self._script.extend(answers)

    def _next_scripted(self) -> int | str | None:
        with self._lock:
            return self._script.pop(0) if self._script else None

    def _accept(self, channel_id: str, body: dict) -> str:
        with self._lock:
            count = len(self.messages) + 1
            ts = f"{FIRST_TS}.{count * 100:06d}"
            self.messages.append({
                "channel": channel_id, "ts": ts, "text": body.get("text"),
                "blocks": body.get("blocks"), "thread_ts": body.get("thread_ts"),
                "metadata": body.get("metadata"), "payload": body,
            })
        return ts


def _handler(state: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # keep test output clean

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            method = self.path.rsplit("/", 1)[-1]
            state.calls.append(method)
            body = self._body()
            if self.headers.get("Authorization", "") != f"Bearer {state.token}":
                error = "not_authed" if not self.headers.get("Authorization") else "invalid_auth"
                return self._reply({"ok": False, "error": error})
            if method == "auth.test":
                return self._reply({"ok": True, "team": "Fake", "user": "csintel", "bot_id": "B1"})
            if method != "chat.postMessage":
                return self._reply({"ok": False, "error": "unknown_method"})
            scripted = state._next_scripted()
            if isinstance(scripted, int):
                headers = {"Retry-After": "1"} if scripted == 429 else {}
                error = "ratelimited" if scripted == 429 else "internal_error"
                return self._reply({"ok": False, "error": error}, status=scripted, headers=headers)
            if isinstance(scripted, str):
                return self._reply({"ok": False, "error": scripted})
            channel = str(body.get("channel", ""))
            known_ids = set(state.channels.values())
            channel_id = (channel if channel in known_ids
                          else state.channels.get(channel.lstrip("#")))
            if channel_id is None:
                return self._reply({"ok": False, "error": "channel_not_found"})
            error = _block_error(body)
            if error:
                return self._reply({"ok": False, "error": error})
            ts = state._accept(channel_id, body)
            self._reply({"ok": True, "channel": channel_id, "ts": ts,
                         "message": {"text": body.get("text"), "ts": ts}})

        def _body(self) -> dict:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
            if self.headers.get("Content-Type", "").startswith("application/json"):
                return json.loads(raw or "{}")
            form = dict(parse_qsl(raw))
            if isinstance(form.get("blocks"), str):
                form["blocks"] = json.loads(form["blocks"])
            return form

        def _reply(self, payload: dict, *, status: int = 200,
                   headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _block_error(body: dict) -> str | None:
    """Slack's refusal of a message's blocks, or None when they are within limits."""
    blocks = body.get("blocks") or []
    if len(blocks) > MAX_BLOCKS:
        return "invalid_blocks"
    size = len(json.dumps({"text": body.get("text"), "blocks": blocks}, ensure_ascii=False))
    if size > MAX_MESSAGE_CHARS:
        return "msg_blocks_too_long"
    for block in blocks:
        text = (block.get("text") or {}).get("text", "")
        limit = MAX_HEADER_CHARS if block.get("type") == "header" else MAX_SECTION_CHARS
        if len(text) > limit:
            return "invalid_blocks"
    return None


@contextmanager
def running_fake_slack(channels: tuple[str, ...] = DEFAULT_CHANNELS) -> Iterator[FakeSlack]:
    """Run a fake Slack on 127.0.0.1 (a free port) for the duration of the block.

    Args:
        channels: Channel names the fake knows; others answer `channel_not_found`.

    Yields:
        The server's state: `.base_url` for `WebClient(base_url=...)`, `.token`, `.messages`,
        `.calls` and `.script(...)`.
    """
    state = FakeSlack(channels={name: "C" + name.upper().replace("-", "") for name in channels})
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/api/"
    # A short poll interval keeps shutdown (and so each test) fast.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
