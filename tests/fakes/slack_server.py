"""A fake Slack Web API on 127.0.0.1 for tests that drive the real slack_sdk client.

It answers `chat.postMessage` (keeping each message's `metadata`), `auth.test`,
`conversations.list` (paged with cursors), `conversations.history` and `conversations.replies`
(newest first / thread parent then replies, `oldest`/`latest` exclusive unless `inclusive`,
`limit` and cursors, each message's metadata only with `include_all_metadata`),
`users.lookupByEmail` (from `.users`) and the file upload flow of `files_upload_v2`
(`files.getUploadURLExternal`, the POST of the bytes to the returned upload URL,
`files.completeUploadExternal`, which shares the file as a message in the given thread) the way
Slack documents them (errors as HTTP 200 with `{"ok": false, "error": ...}`; message `ts` values
are the Unix time of acceptance, unique and increasing), enforces the Block Kit limits the
renderer must respect, and can be scripted to answer the next calls of a method with a 429, a
5xx or a Slack error code.

    with running_fake_slack() as slack:
        client = WebClient(token=slack.token, base_url=slack.base_url)
        slack.script(429, None, "fatal_error")   # next posts: rate-limited, normal, refused
        slack.script(500, method=UPLOAD)         # the next POST of file bytes fails
        slack.on_accept = lambda m: ...          # runs after a post is stored, before Slack answers
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

VALID_TOKEN = "xoxb-fake"  # a stand-in: real tokens come from the environment only
DEFAULT_CHANNELS = ("product", "cs", "sales", "support-ops")
MAX_BLOCKS = 50
MAX_MESSAGE_CHARS = 13000
MAX_SECTION_CHARS = 3000
MAX_HEADER_CHARS = 150
HISTORY_LIMIT = 100       # conversations.history's default page (Slack's maximum is 999)
# The name `script()` and `calls` use for the POST of file bytes to an upload URL.
UPLOAD = "upload"
UPLOAD_PATH = "/upload/"
# Slack may return fewer channels than asked for: a small page makes clients follow cursors.
CHANNEL_PAGE_SIZE = 2


@dataclass
class FakeSlack:
    """State of one fake server: accepted messages and files, scripted answers, all calls."""

    base_url: str = ""
    token: str = VALID_TOKEN
    channels: dict[str, str] = field(default_factory=dict)   # name -> id
    messages: list[dict] = field(default_factory=list)       # accepted chat.postMessage calls
    files: list[dict] = field(default_factory=list)          # completed uploads, in order
    calls: list[str] = field(default_factory=list)           # every API method called, UPLOAD
    users: dict[str, str] = field(default_factory=dict)      # email -> user id, for users.lookupByEmail
    page_size: int = CHANNEL_PAGE_SIZE                       # most channels a list page holds
    # Called with each accepted message (and file share, which has "files") after it is stored
    # and before Slack answers: a test can kill the poster at the instant Slack has the message
    # and the poster does not know it.
    on_accept: Callable[[dict], None] | None = None
    _script: dict[str, list[int | str | None]] = field(default_factory=dict)
    _pending: dict[str, dict] = field(default_factory=dict)  # file id -> upload in progress
    _uploads_started: int = 0
    _shares: list[dict] = field(default_factory=list)        # file-share messages (in threads)
    _last_ts: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, *answers: int | str | None, method: str = "chat.postMessage") -> None:
        """Queue answers for the next calls of `method`, one per call.

        Args:
            answers: 429 (with `Retry-After: 1`), 500 or 503 for an HTTP error, a string for a
                Slack error code (HTTP 200, ok false; not for UPLOAD), or None to answer
                normally.
            method: An API method, or UPLOAD for the POST of file bytes to an upload URL.
        """
        with self._lock:
            self._script.setdefault(method, []).extend(answers)

    def _next_scripted(self, method: str) -> int | str | None:
        with self._lock:
            queue = self._script.get(method)
            return queue.pop(0) if queue else None

    def _channel_id(self, channel: str) -> str | None:
        if channel in self.channels.values():
            return channel
        return self.channels.get(channel.lstrip("#"))

    def _new_ts(self) -> str:
        """Slack's ts: the Unix time with microseconds, never repeated (call holding the lock)."""
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    def _accept(self, channel_id: str, body: dict) -> dict:
        metadata = body.get("metadata")
        if isinstance(metadata, str):   # form-encoded posts carry it as JSON text
            metadata = json.loads(metadata)
        with self._lock:
            ts = self._new_ts()
            message = {
                "channel": channel_id, "ts": ts, "text": body.get("text"),
                "blocks": body.get("blocks"), "thread_ts": body.get("thread_ts"),
                "metadata": metadata, "payload": body,
            }
            self.messages.append(message)
        return message

    def _conversation(self, channel_id: str) -> list[dict]:
        """Every message and file share in a channel, oldest first, as Slack would list them."""
        with self._lock:
            found = [m for m in self.messages + self._shares if m["channel"] == channel_id]
        return sorted(found, key=lambda m: float(m["ts"]))

    def _history(self, params: dict, replies: bool) -> dict:
        channel_id = str(params.get("channel", ""))
        if channel_id not in self.channels.values():
            return {"ok": False, "error": "channel_not_found"}   # an ID is required here
        messages = self._conversation(channel_id)
        if replies:
            parent = params.get("ts")
            if not any(m["ts"] == parent for m in messages):
                return {"ok": False, "error": "thread_not_found"}
            head = [m for m in messages if m["ts"] == parent]
            chosen = [m for m in messages if m.get("thread_ts") == parent and m["ts"] != parent]
        else:
            head = []
            chosen = [m for m in messages if not m.get("thread_ts") or m["thread_ts"] == m["ts"]]
            chosen.reverse()   # newest first
        inclusive = _flag(params.get("inclusive"))
        oldest, latest = float(params.get("oldest") or 0), float(params.get("latest") or time.time() + 1)
        chosen = [m for m in chosen
                  if (oldest <= float(m["ts"]) if inclusive else oldest < float(m["ts"]))
                  and (float(m["ts"]) <= latest if inclusive else float(m["ts"]) < latest)]
        cursor = params.get("cursor") or "0"
        if not cursor.isdigit():
            return {"ok": False, "error": "invalid_cursor"}
        start, limit = int(cursor), int(params.get("limit") or HISTORY_LIMIT)
        page = (head if start == 0 else []) + chosen[start:start + limit]
        more = start + limit < len(chosen)
        metadata = _flag(params.get("include_all_metadata"))
        return {"ok": True, "messages": [_public(m, metadata) for m in page], "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _new_upload(self, params: dict) -> dict:
        with self._lock:
            self._uploads_started += 1
            file_id = f"F{self._uploads_started:08d}"
            self._pending[file_id] = {"filename": params.get("filename"),
                                      "alt_txt": params.get("alt_txt"), "data": None}
        upload_url = self.base_url.removesuffix("api/").rstrip("/") + UPLOAD_PATH + file_id
        return {"ok": True, "file_id": file_id, "upload_url": upload_url}

    def _receive(self, file_id: str, data: bytes) -> bool:
        with self._lock:
            if file_id not in self._pending:
                return False
            self._pending[file_id]["data"] = data
            return True

    def _complete(self, params: dict) -> dict:
        try:
            wanted = json.loads(params.get("files") or "")
        except json.JSONDecodeError:
            return {"ok": False, "error": "invalid_arguments"}
        channel = params.get("channel_id")
        # Only an ID is accepted here, unlike chat.postMessage.
        if channel is not None and channel not in self.channels.values():
            return {"ok": False, "error": "channel_not_found"}
        with self._lock:
            uploads = [(f.get("id"), self._pending.get(f.get("id"))) for f in wanted]
            if not uploads or any(u is None or u["data"] is None for _, u in uploads):
                return {"ok": False, "error": "file_not_found"}
            done = []
            for (file_id, upload), item in zip(uploads, wanted):
                done.append({"id": file_id, "name": upload["filename"],
                             "title": item.get("title"), "alt_txt": upload["alt_txt"],
                             "channel": channel, "thread_ts": params.get("thread_ts"),
                             "data": upload["data"]})
                del self._pending[file_id]
            self.files.extend(done)
            share = None
            if channel is not None:
                # Sharing a file posts a message carrying it (in the thread, if one is given).
                share = {"channel": channel, "ts": self._new_ts(), "text": "",
                         "thread_ts": params.get("thread_ts"), "metadata": None,
                         "files": [{"id": f["id"], "name": f["name"], "title": f["title"]}
                                   for f in done]}
                self._shares.append(share)
        if share is not None and self.on_accept is not None:
            self.on_accept(share)
        return {"ok": True, "files": [{"id": f["id"], "title": f["title"]} for f in done]}

    def _list_channels(self, params: dict) -> dict:
        channels = [{"id": cid, "name": name, "is_archived": False}
                    for name, cid in self.channels.items()]
        cursor = params.get("cursor") or "0"
        if not cursor.isdigit():
            return {"ok": False, "error": "invalid_cursor"}
        start = int(cursor)
        end = start + min(int(params.get("limit") or 100), self.page_size)
        next_cursor = str(end) if end < len(channels) else ""
        return {"ok": True, "channels": channels[start:end],
                "response_metadata": {"next_cursor": next_cursor}}


def _handler(state: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # keep test output clean

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._api(urlsplit(self.path).path.rsplit("/", 1)[-1], {})

        def do_POST(self) -> None:  # noqa: N802
            path = urlsplit(self.path).path
            if path.startswith(UPLOAD_PATH):
                return self._upload(path.removeprefix(UPLOAD_PATH))
            self._api(path.rsplit("/", 1)[-1], self._body())

        def _api(self, method: str, body: dict) -> None:
            state.calls.append(method)
            # slack_sdk sends some methods' arguments in the query string.
            body = {**dict(parse_qsl(urlsplit(self.path).query)), **body}
            if self.headers.get("Authorization", "") != f"Bearer {state.token}":
                error = "not_authed" if not self.headers.get("Authorization") else "invalid_auth"
                return self._reply({"ok": False, "error": error})
            if method == "auth.test":
                return self._reply({"ok": True, "team": "Fake", "user": "csintel", "bot_id": "B1"})
            answer = API_METHODS.get(method)
            if answer is None:
                return self._reply({"ok": False, "error": "unknown_method"})
            scripted = state._next_scripted(method)
            if isinstance(scripted, int):
                headers = {"Retry-After": "1"} if scripted == 429 else {}
                error = "ratelimited" if scripted == 429 else "internal_error"
                return self._reply({"ok": False, "error": error}, status=scripted, headers=headers)
            if isinstance(scripted, str):
                return self._reply({"ok": False, "error": scripted})
            self._reply(answer(state, body))

        def _upload(self, file_id: str) -> None:
            # Upload URLs are pre-signed: no token, and a plain-text answer.
            state.calls.append(UPLOAD)
            data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            scripted = state._next_scripted(UPLOAD)
            if isinstance(scripted, int):
                return self._reply_text(f"error {scripted}", status=scripted)
            if not state._receive(file_id, data):
                return self._reply_text("not found", status=404)
            self._reply_text(f"OK - {len(data)}")

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

        def _reply_text(self, text: str, *, status: int = 200) -> None:
            data = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _post_message(state: FakeSlack, body: dict) -> dict:
    channel_id = state._channel_id(str(body.get("channel", "")))
    if channel_id is None:
        return {"ok": False, "error": "channel_not_found"}
    error = _block_error(body)
    if error:
        return {"ok": False, "error": error}
    message = state._accept(channel_id, body)
    if state.on_accept is not None:
        state.on_accept(message)
    return {"ok": True, "channel": channel_id, "ts": message["ts"],
            "message": {"text": body.get("text"), "ts": message["ts"]}}


def _public(message: dict, metadata: bool) -> dict:
    """A stored message as the history methods list it."""
    out = {"type": "message", "ts": message["ts"], "text": message.get("text") or ""}
    if message.get("thread_ts"):
        out["thread_ts"] = message["thread_ts"]
    if message.get("files"):
        out["files"] = message["files"]
    if metadata and message.get("metadata"):
        out["metadata"] = message["metadata"]
    return out


def _flag(value: object) -> bool:
    """Slack's boolean arguments: true/1 (slack_sdk sends 1 and 0)."""
    return str(value).lower() in {"1", "true"}


def _lookup_by_email(state: FakeSlack, body: dict) -> dict:
    user_id = {k.lower(): v for k, v in state.users.items()}.get(str(body.get("email", "")).lower())
    if user_id is None:
        return {"ok": False, "error": "users_not_found"}
    return {"ok": True, "user": {"id": user_id, "profile": {"email": body["email"]}}}


# The scriptable methods and how each answers a normal call.
API_METHODS: dict[str, Callable[[FakeSlack, dict], dict]] = {
    "chat.postMessage": _post_message,
    "conversations.list": FakeSlack._list_channels,
    "conversations.history": lambda state, body: state._history(body, replies=False),
    "conversations.replies": lambda state, body: state._history(body, replies=True),
    "files.getUploadURLExternal": FakeSlack._new_upload,
    "files.completeUploadExternal": FakeSlack._complete,
    "users.lookupByEmail": _lookup_by_email,
}


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
        `.files`, `.calls`, `.page_size` and `.script(...)`.
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
