"""A fake Zendesk Support API on 127.0.0.1, answering like the documented endpoints.

Tickets are generated on demand from (seed, id), so a 50,000-ticket account costs no memory;
only tickets changed with `update_ticket` are stored. What it serves:

- GET /api/v2/incremental/tickets/cursor.json: `start_time` or `cursor`, `per_page`, `include`
  (metric_sets, users, organizations); `after_cursor`, `after_url`, `end_of_stream`.
  Order is (updated_at, id); an updated ticket moves to the end of the stream, as in Zendesk.
- GET /api/v2/tickets/{id}/comments.json: `page[size]`, `page[after]`, `include=users`;
  `meta.has_more`, `meta.after_cursor`, `links.next` (absolute).
- GET /api/v2/users/show_many.json?ids=, /api/v2/organizations/show_many.json?ids=
- GET /api/v2/ticket_fields.json (cursor paged)

Auth: Basic `{email}/token:{token}` or `Bearer {oauth_token}`; anything else is a 401.
Faults (`add_fault`) hit the next matching requests: 429 with/without Retry-After (seconds or an
HTTP date), 500, 401, a malformed JSON body, a dropped connection. `latency_s` slows every answer.
"""

from __future__ import annotations

import base64
import bisect
import email.utils
import json
import random
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

T0 = int(datetime(2026, 1, 5, tzinfo=timezone.utc).timestamp())   # the first ticket's updated_at
STEP_S = 60                                                          # between base tickets' updates
AGENTS = [900 + i for i in range(5)]
USER_BASE = 10_000
ORG_BASE = 500
FIELDS = [{"id": 360001, "title": "Plan", "type": "tagger"}, {"id": 360002, "title": "Region", "type": "text"},
          {"id": 360003, "title": "Affected module", "type": "text"}]
STATUSES = ["solved"] * 45 + ["closed"] * 30 + ["open"] * 10 + ["pending"] * 8 + ["new"] * 4 + ["hold"] * 3
ISSUES = [
    ("CSV export fails", "The CSV export fails with HTTP 500 every time I pick more than a month."),
    ("Cannot add a user", "I try to invite a colleague but the invite button does nothing."),
    ("Invoice is wrong", "We were charged twice for November, please refund the duplicate."),
    ("Sync stuck", "The Salesforce sync has been stuck since Monday with error SYNC-409."),
    ("Dark mode please", "It would be great to have a dark mode, our team works late."),
    ("Slow dashboard", "The dashboard takes over a minute to load for our account."),
]
INTERNAL_NOTE = "INTERNAL-NOTE: customer is on the legacy plan, do not offer the discount."
AGENT_REPLY = "AGENT-REPLY: thanks for reaching out, I have escalated this to engineering."
AGENT_OPENED = "AGENT-OPENED: customer called about their account; logging the call here."


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Fault:
    path: str          # substring of the request path
    kind: str          # 429 | 429-no-retry-after | 429-date | 500 | 401 | malformed | drop
    times: int = 1


class _QuietServer(ThreadingHTTPServer):
    """Clients that time out or get killed hang up mid-answer; that is expected here, not news."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class FakeZendesk:
    """The fake account and its HTTP server. Use as a context manager or start()/stop()."""

    def __init__(self, n_tickets: int = 40, seed: int = 7, *, email: str = "bot@acme.test",
                 token: str = "zd-token", oauth_token: str = "zd-oauth", latency_s: float = 0.0,
                 sideload_users: bool = True, sideload_organizations: bool = True, record: bool = True,
                 max_comments: int = 6) -> None:
        self.n = n_tickets
        self.seed = seed
        self.email = email
        self.token = token
        self.oauth_token = oauth_token
        self.latency_s = latency_s
        self.sideload_users = sideload_users
        self.sideload_organizations = sideload_organizations
        self.record = record
        self.max_comments = max_comments
        self.n_users = max(10, n_tickets // 3)
        self.n_orgs = max(4, self.n_users // 4)
        self.requests = 0
        self.paths: list[str] = []
        self.faults: list[Fault] = []
        self._updates: dict[int, dict[str, Any]] = {}     # id -> {version, ts, status}
        self._last_ts = T0 + (n_tickets - 1) * STEP_S
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- the dataset -----------------------------------------------------------------------

    def _rng(self, ticket_id: int) -> random.Random:
        return random.Random(self.seed * 1_000_003 + ticket_id)

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        """The ticket as the export returns it, at its current version."""
        rng = self._rng(ticket_id)
        upd = self._updates.get(ticket_id)
        ts = upd["ts"] if upd else T0 + (ticket_id - 1) * STEP_S
        created = T0 + (ticket_id - 1) * STEP_S - rng.randint(3_600, 5 * 86_400)
        requester = USER_BASE + rng.randrange(self.n_users)
        agent_opened = rng.random() < 0.1
        subject, description = ISSUES[rng.randrange(len(ISSUES))]
        status = STATUSES[rng.randrange(len(STATUSES))]
        score = rng.choice(["good", "bad", "offered", "unoffered", None])
        version = upd["version"] if upd else 1
        if upd:
            status = upd["status"]
            subject = f"{subject} (v{version})"
        user = self.user(requester)
        return {
            "id": ticket_id,
            "url": f"{self.base_url}/api/v2/tickets/{ticket_id}.json",
            "subject": subject,
            "raw_subject": subject,
            "description": AGENT_OPENED if agent_opened else description,
            "status": status,
            "priority": rng.choice(["low", "normal", "high", "urgent", None]),
            "type": rng.choice(["question", "incident", "problem", None]),
            "via": {"channel": rng.choice(["email", "web", "api", "chat"]), "source": {}},
            "requester_id": requester,
            "submitter_id": AGENTS[0] if agent_opened else requester,
            "assignee_id": AGENTS[ticket_id % len(AGENTS)],
            "organization_id": user["organization_id"],
            "group_id": 77,
            "tags": rng.sample(["export", "billing", "sync", "ui", "vip"], k=rng.randint(0, 3)),
            "custom_fields": [{"id": 360001, "value": rng.choice(["pro", "enterprise"])},
                              {"id": 360002, "value": rng.choice(["emea", "amer", None])},
                              {"id": 360004, "value": "unlabelled"}],
            "satisfaction_rating": {"score": score, "comment": "ok"} if score else None,
            "created_at": iso(created),
            "updated_at": iso(ts),
            "generated_timestamp": ts,
        }

    def user(self, user_id: int) -> dict[str, Any]:
        if user_id in AGENTS:
            return {"id": user_id, "name": f"Agent {user_id}", "email": f"agent{user_id}@support.example",
                    "role": "agent", "organization_id": None}
        n = user_id - USER_BASE
        org = None if n % 7 == 0 else ORG_BASE + n % self.n_orgs
        domain = f"org{org}.example" if org else "gmail.com"
        return {"id": user_id, "name": f"User {n}", "email": f"User{n}@{domain}", "role": "end-user",
                "organization_id": org}

    def organization(self, org_id: int) -> dict[str, Any]:
        return {"id": org_id, "name": f"Org {org_id}",
                "external_id": f"ACC-{org_id}" if org_id % 2 == 0 else None}

    def metric_set(self, ticket: dict[str, Any]) -> dict[str, Any]:
        rng = self._rng(ticket["id"] + 7_777_777)
        solved = ticket["status"] in ("solved", "closed")
        reply = rng.randint(3, 900)
        return {"ticket_id": ticket["id"], "reply_time_in_minutes": {"calendar": reply, "business": reply // 2},
                "full_resolution_time_in_minutes": {"calendar": reply * 3, "business": reply},
                "solved_at": ticket["updated_at"] if solved else None}

    def comments(self, ticket_id: int) -> list[dict[str, Any]]:
        """The conversation, oldest first: the description, then replies, notes and follow-ups."""
        t = self.ticket(ticket_id)
        rng = self._rng(ticket_id + 3_333_333)
        created = int(datetime.fromisoformat(t["created_at"].replace("Z", "+00:00")).timestamp())
        out = [{"id": ticket_id * 100, "author_id": t["submitter_id"], "body": t["description"],
                "plain_body": t["description"], "public": True, "created_at": iso(created)}]
        agent = t["assignee_id"]
        extra = [(agent, AGENT_REPLY, True)]
        if rng.random() < 0.4:
            extra.append((agent, INTERNAL_NOTE, False))
        if rng.random() < 0.3:   # a colleague of the requester, copied in
            colleague = USER_BASE + (t["requester_id"] - USER_BASE + 1) % self.n_users
            extra.append((colleague, f"CC-CUSTOMER: same problem here for ticket {ticket_id}.", True))
        extra.append((t["requester_id"], f"CUSTOMER-FOLLOWUP: still happening on ticket {ticket_id}.", True))
        for i, (author, body, public) in enumerate(extra[: self.max_comments - 1], start=1):
            out.append({"id": ticket_id * 100 + i, "author_id": author, "body": body, "plain_body": body,
                        "public": public, "created_at": iso(created + i * 600)})
        version = self._updates.get(ticket_id, {}).get("version", 1)
        for v in range(2, version + 1):
            body = f"CUSTOMER-UPDATE-{v}: one more thing about ticket {ticket_id}."
            out.append({"id": ticket_id * 100 + 50 + v, "author_id": t["requester_id"], "body": body,
                        "plain_body": body, "public": True, "created_at": iso(created + 86_400 * v)})
        return out

    def update_ticket(self, ticket_id: int, status: str | None = None) -> dict[str, Any]:
        """A new version of the ticket (subject suffixed, one more customer comment), moved to the
        end of the export stream, as when someone edits it in Zendesk."""
        with self._lock:
            current = self.ticket(ticket_id)
            self._last_ts += STEP_S
            self._updates[ticket_id] = {"version": self._updates.get(ticket_id, {}).get("version", 1) + 1,
                                        "ts": self._last_ts, "status": status or current["status"]}
        return self.ticket(ticket_id)

    def closed_tickets(self) -> dict[str, str]:
        """id -> updated_at of every solved or closed ticket now: what a complete sync holds."""
        return {str(i): t["updated_at"] for i in range(1, self.n + 1)
                if (t := self.ticket(i))["status"] in ("solved", "closed")}

    # --- the export stream -----------------------------------------------------------------

    def _key(self, ticket_id: int) -> tuple[int, int]:
        upd = self._updates.get(ticket_id)
        return (upd["ts"] if upd else T0 + (ticket_id - 1) * STEP_S, ticket_id)

    def _after(self, pos: tuple[int, int], limit: int) -> list[int]:
        """Up to `limit` ticket ids whose (updated ts, id) comes after `pos`, in stream order."""
        out: list[int] = []
        k = bisect.bisect_right(range(1, self.n + 1), pos, key=lambda i: (T0 + (i - 1) * STEP_S, i)) + 1
        while k <= self.n and len(out) < limit:
            if k not in self._updates:
                out.append(k)
            k += 1
        if len(out) < limit:
            moved = sorted((self._key(i), i) for i in self._updates)
            out.extend(i for key, i in moved if key > pos)
            del out[limit:]
        return out

    @staticmethod
    def _encode(pos: tuple[int, int]) -> str:
        return base64.urlsafe_b64encode(f"{pos[0]}:{pos[1]}".encode()).decode()

    @staticmethod
    def _decode(cursor: str) -> tuple[int, int]:
        ts, tid = base64.urlsafe_b64decode(cursor.encode()).decode().split(":")
        return int(ts), int(tid)

    def _export(self, q: dict[str, str]) -> tuple[int, dict[str, Any]]:
        per_page = min(int(q.get("per_page", 1000)), 1000)
        if "cursor" in q:
            try:
                pos = self._decode(q["cursor"])
            except ValueError:
                return 400, {"error": "InvalidCursor"}
        elif "start_time" in q:
            pos = (int(q["start_time"]) - 1, 1 << 62)
        else:
            return 400, {"error": "InvalidPaginationParameter", "description": "start_time or cursor required"}
        with self._lock:
            ids = self._after(pos, per_page + 1)
            more = len(ids) > per_page
            ids = ids[:per_page]
            tickets = [self.ticket(i) for i in ids]
            last = self._key(ids[-1]) if ids else pos
        include = set(filter(None, q.get("include", "").split(",")))
        body: dict[str, Any] = {"tickets": tickets}
        if "metric_sets" in include:
            body["metric_sets"] = [self.metric_set(t) for t in tickets]
        if "users" in include and self.sideload_users:
            ids_ = {t[k] for t in tickets for k in ("requester_id", "submitter_id", "assignee_id")}
            body["users"] = [self.user(u) for u in sorted(ids_)]
        if "organizations" in include and self.sideload_organizations:
            orgs = {t["organization_id"] for t in tickets} - {None}
            body["organizations"] = [self.organization(o) for o in sorted(orgs)]
        after = self._encode(last)
        body.update({
            "after_cursor": after,
            "after_url": f"{self.base_url}/api/v2/incremental/tickets/cursor.json?cursor={after}",
            "before_cursor": None, "before_url": None, "end_of_stream": not more,
        })
        return 200, body

    def _comments(self, ticket_id: int, q: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if not 1 <= ticket_id <= self.n:
            return 404, {"error": "RecordNotFound", "description": "Not found"}
        size = min(int(q.get("page[size]", 100)), 100)
        start = int(q.get("page[after]", 0))
        all_comments = self.comments(ticket_id)
        page = all_comments[start:start + size]
        more = start + size < len(all_comments)
        body: dict[str, Any] = {"comments": page}
        if q.get("include") == "users":
            body["users"] = [self.user(u) for u in sorted({c["author_id"] for c in page})]
        params = {"page[size]": size, "page[after]": start + size}
        if "include" in q:
            params["include"] = q["include"]
        body["meta"] = {"has_more": more, "after_cursor": str(start + size) if more else None,
                        "before_cursor": None}
        body["links"] = {"next": f"{self.base_url}/api/v2/tickets/{ticket_id}/comments.json?{urlencode(params)}"
                         if more else None, "prev": None}
        return 200, body

    def _fields(self, q: dict[str, str]) -> tuple[int, dict[str, Any]]:
        size = int(q.get("page[size]", 100))
        start = int(q.get("page[after]", 0))
        more = start + size < len(FIELDS)
        nxt = f"{self.base_url}/api/v2/ticket_fields.json?{urlencode({'page[size]': size, 'page[after]': start + size})}"
        return 200, {"ticket_fields": FIELDS[start:start + size], "meta": {"has_more": more},
                     "links": {"next": nxt if more else None}}

    def route(self, path: str, q: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if path == "/api/v2/incremental/tickets/cursor.json":
            return self._export(q)
        if path.startswith("/api/v2/tickets/") and path.endswith("/comments.json"):
            return self._comments(int(path.split("/")[4]), q)
        if path == "/api/v2/users/show_many.json":
            return 200, {"users": [self.user(int(i)) for i in q.get("ids", "").split(",") if i]}
        if path == "/api/v2/organizations/show_many.json":
            return 200, {"organizations": [self.organization(int(i)) for i in q.get("ids", "").split(",") if i]}
        if path == "/api/v2/ticket_fields.json":
            return self._fields(q)
        return 404, {"error": "InvalidEndpoint"}

    # --- faults, auth, server --------------------------------------------------------------

    def add_fault(self, path: str, kind: str, times: int = 1) -> None:
        with self._lock:
            self.faults.append(Fault(path, kind, times))

    def _take_fault(self, path: str) -> str | None:
        with self._lock:
            for f in self.faults:
                if f.times > 0 and f.path in path:
                    f.times -= 1
                    return f.kind
        return None

    def authorised(self, header: str | None) -> bool:
        basic = base64.b64encode(f"{self.email}/token:{self.token}".encode()).decode()
        return header in (f"Basic {basic}", f"Bearer {self.oauth_token}")

    @property
    def base_url(self) -> str:
        if self._server is None:
            return "http://127.0.0.1:0"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"     # keep-alive, like the real API
            disable_nagle_algorithm = True    # headers and body go out as two writes: no 40 ms stall

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                with fake._lock:
                    fake.requests += 1
                    if fake.record:
                        fake.paths.append(self.path)
                if fake.latency_s:
                    time.sleep(fake.latency_s)
                fault = fake._take_fault(parts.path)
                if fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if fault == "401" or not fake.authorised(self.headers.get("Authorization")):
                    return self._send(401, b'{"error": "Couldn\'t authenticate you"}')
                if fault and fault.startswith("429"):
                    headers = {"429": {"Retry-After": "7"},
                               "429-date": {"Retry-After": email.utils.formatdate(time.time() + 30, usegmt=True)},
                               }.get(fault, {})
                    return self._send(429, b'{"error": "APIRateLimitExceeded"}', headers)
                if fault == "500":
                    return self._send(500, b"<html><body>Internal Server Error</body></html>", ctype="text/html")
                q = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                status, body = fake.route(parts.path, q)
                data = json.dumps(body).encode()
                if fault == "malformed":
                    data = data[: len(data) // 2]
                self._send(status, data)

            def _send(self, status: int, data: bytes, headers: dict[str, str] | None = None,
                      ctype: str = "application/json; charset=utf-8") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="fake-zendesk", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeZendesk:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
