"""A fake Freshdesk API v2 on 127.0.0.1, answering like the documented endpoints:

- `GET /api/v2/tickets?updated_since&order_by=updated_at&order_type&per_page&page&include=...`
  (a JSON list; `Link: <...>; rel="next"` while more remain; page numbers stop at `page_cap`,
  300 on Freshdesk, and a later page is a 400 validation error);
- `GET /api/v2/tickets/{id}/conversations?per_page&page`;
- `GET /api/v2/surveys/satisfaction_ratings?created_since&per_page&page`.

Basic auth with the API key as user name and "X" as password. Data is deterministic
(`seed`), tickets sort by (updated_at, id), and `touch` updates a ticket between two runs.

    with running_fake_freshdesk(n_tickets=40, page_cap=3) as fd:
        fd.fail_next("tickets", 429, 500, "malformed")
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from tests.fakes.api_fake import FakeApi, Reply, Request, serving

API_KEY = "fd-fake-key"   # a stand-in: real keys come from FRESHDESK_API_KEY
FIRST_UPDATE = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
AGENT_ID = 9000
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 30


def iso(ts: datetime) -> str:
    return ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class FakeFreshdesk(FakeApi):
    """State: tickets by id (the full record, with requester, stats and description), their
    conversations, satisfaction ratings and companies."""

    def __init__(self, page_cap: int = 300) -> None:
        super().__init__()
        self.page_cap = page_cap
        self.tickets: dict[int, dict[str, Any]] = {}
        self.conversations: dict[int, list[dict[str, Any]]] = {}
        self.ratings: list[dict[str, Any]] = []
        self._conversation_ids = 80000

    # --- data ---------------------------------------------------------------------------------
    def seed(self, n_tickets: int) -> None:
        """Tickets 1..n: every 6 of them 2 resolved, 2 closed, 1 open, 1 pending; two tickets share
        each updated_at second (ties at page edges); each has a customer reply, an agent reply and
        a private note; every fourth has a satisfaction rating."""
        statuses = [4, 5, 2, 4, 3, 5]
        for i in range(1, n_tickets + 1):
            updated = FIRST_UPDATE + timedelta(minutes=i // 2)
            created = updated - timedelta(hours=5)
            requester = {"id": 5000 + i, "name": f"User {i}", "email": f"user{i}@customer{i % 3}.example",
                         "mobile": None, "phone": None}
            self.tickets[i] = {
                "id": i, "subject": f"Export fails #{i}",
                "description": f"<div>Export job {i} fails with <b>error E{i}</b>.</div>",
                "description_text": f"Export job {i} fails with error E{i}.",
                "status": statuses[i % 6], "priority": 1 + i % 4, "source": [1, 2, 3, 7][i % 4],
                "requester_id": requester["id"], "company_id": None if i % 7 == 0 else 100 + i % 3,
                "type": "Problem", "tags": ["export"] if i % 2 else [],
                "created_at": iso(created), "updated_at": iso(updated),
                "requester": requester,
                "stats": {"first_responded_at": iso(created + timedelta(minutes=30)),
                          "resolved_at": iso(updated - timedelta(minutes=1)) if statuses[i % 6] in (4, 5) else None,
                          "closed_at": iso(updated) if statuses[i % 6] == 5 else None,
                          "agent_responded_at": iso(created + timedelta(minutes=30))},
            }
            self.conversations[i] = [
                self.conversation(i, f"Still failing for job {i} after the retry.", incoming=True,
                                  user_id=requester["id"], at=created + timedelta(hours=1)),
                self.conversation(i, f"We fixed the worker for job {i}.", user_id=AGENT_ID,
                                  at=created + timedelta(hours=2)),
                self.conversation(i, f"INTERNAL NOTE {i}: customer is on the legacy plan.", private=True,
                                  user_id=AGENT_ID, at=created + timedelta(hours=3)),
            ]
            if i % 4 == 0:
                self.ratings.append({"id": 70000 + i, "survey_id": 1, "user_id": requester["id"],
                                     "agent_id": AGENT_ID, "ticket_id": i, "feedback": "",
                                     "ratings": {"default_question": 103 if i % 8 == 0 else -103},
                                     "created_at": iso(updated), "updated_at": iso(updated)})

    def conversation(self, ticket_id: int, text: str, *, incoming: bool = False, private: bool = False,
                     user_id: int = AGENT_ID, at: datetime = FIRST_UPDATE) -> dict[str, Any]:
        self._conversation_ids += 1
        return {"id": self._conversation_ids, "ticket_id": ticket_id, "body": f"<div>{text}</div>", "body_text": text,
                "incoming": incoming, "private": private, "user_id": user_id, "source": 0 if not private else 2,
                "created_at": iso(at), "updated_at": iso(at)}

    def touch(self, ticket_id: int, at: datetime, *, status: int | None = None,
              reply: str | None = None) -> None:
        """Update a ticket (a new customer reply, a status change) as an agent would between runs."""
        ticket = self.tickets[ticket_id]
        ticket["updated_at"] = iso(at)
        if status is not None:
            ticket["status"] = status
        if reply is not None:
            self.conversations[ticket_id].append(self.conversation(
                ticket_id, reply, incoming=True, user_id=ticket["requester_id"], at=at))

    # --- HTTP ---------------------------------------------------------------------------------
    def authorised(self, request: Request) -> bool:
        expected = "Basic " + base64.b64encode(f"{API_KEY}:X".encode()).decode()
        return request.headers.get("Authorization") == expected

    def unauthorised(self) -> Reply:
        return Reply(401, {"code": "invalid_credentials", "message": "You have to be logged in to perform this action."})

    def route(self, request: Request) -> str:
        parts = request.path.strip("/").split("/")
        if parts[:3] == ["api", "v2", "tickets"] and len(parts) == 3:
            return "tickets"
        if parts[:3] == ["api", "v2", "tickets"] and parts[-1] == "conversations":
            return "conversations"
        if parts == ["api", "v2", "surveys", "satisfaction_ratings"]:
            return "ratings"
        return "unknown"

    def answer(self, request: Request) -> Reply:
        route = self.route(request)
        error = self._paging_error(request.query)
        if error:
            return error
        if route == "tickets":
            return self._tickets(request)
        if route == "conversations":
            ticket_id = request.path.strip("/").split("/")[3]
            if not ticket_id.isdigit() or int(ticket_id) not in self.tickets:
                return Reply(404, {"code": "not_found", "message": "Record not found"})
            return self._page(request, self.conversations[int(ticket_id)])
        if route == "ratings":
            since = _parse(request.query.get("created_since") or "1970-01-01T00:00:00Z")
            return self._page(request, [r for r in self.ratings if _parse(r["created_at"]) >= since])
        return Reply(404, {"code": "not_found", "message": "Not found"})

    def _paging_error(self, query: dict[str, str]) -> Reply | None:
        per_page, page = int(query.get("per_page", DEFAULT_PER_PAGE)), int(query.get("page", 1))
        if per_page > MAX_PER_PAGE:
            return _invalid("per_page", f"It should be a Positive Integer less than or equal to {MAX_PER_PAGE}")
        if not 1 <= page <= self.page_cap:
            return _invalid("page", f"It should be a Positive Integer less than or equal to {self.page_cap}")
        return None

    def _tickets(self, request: Request) -> Reply:
        query = request.query
        since = _parse(query["updated_since"]) if "updated_since" in query else None
        key = query.get("order_by", "created_at")
        chosen = [t for t in self.tickets.values() if since is None or _parse(t["updated_at"]) >= since]
        chosen.sort(key=lambda t: (t[key], t["id"]), reverse=query.get("order_type", "desc") == "desc")
        include = set(filter(None, query.get("include", "").split(",")))
        return self._page(request, [self._shown(t, include) for t in chosen])

    @staticmethod
    def _shown(ticket: dict[str, Any], include: set[str]) -> dict[str, Any]:
        """A ticket as the list shows it: side-loads only when asked for."""
        hidden = {"requester": "requester", "stats": "stats", "description": "description",
                  "description_text": "description"}
        return {k: v for k, v in ticket.items() if k not in hidden or hidden[k] in include}

    def _page(self, request: Request, items: list[dict[str, Any]]) -> Reply:
        per_page, page = int(request.query.get("per_page", DEFAULT_PER_PAGE)), int(request.query.get("page", 1))
        chunk = items[(page - 1) * per_page: page * per_page]
        headers = {}
        if page * per_page < len(items) and page < self.page_cap:
            next_url = f"{self.base_url}{request.path}?" + urlencode({**request.query, "page": page + 1})
            headers["Link"] = f'<{next_url}>; rel="next"'
        return Reply(200, chunk, headers)


def _invalid(field: str, message: str) -> Reply:
    return Reply(400, {"description": "Validation failed",
                       "errors": [{"field": field, "message": message, "code": "invalid_value"}]})


@contextmanager
def running_fake_freshdesk(n_tickets: int = 0, page_cap: int = 300) -> Iterator[FakeFreshdesk]:
    """Serve a seeded fake Freshdesk for the block; `.base_url` is the helpdesk's root."""
    fake = FakeFreshdesk(page_cap=page_cap)
    fake.seed(n_tickets)
    with serving(fake) as api:
        yield api
