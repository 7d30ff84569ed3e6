"""A fake Intercom REST API on 127.0.0.1, answering like the documented endpoints:

- `POST /conversations/search` with a query (one filter or an AND/OR group of them on
  `updated_at`, `created_at`, `state`, `id`), `pagination {per_page <= 150, starting_after}` and
  `sort {field, order}`; the next page's cursor is `pages.next.starting_after`, absent on the last;
- `GET /conversations/{id}` (with `conversation_parts`), `GET /contacts/{id}`, `GET /companies/{id}`.

Bearer auth; the `Intercom-Version` header is recorded. Data is deterministic (`seed`).

    with running_fake_intercom(n_conversations=20) as ic:
        ic.fail_next("search", 429)
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from tests.fakes.api_fake import FakeApi, Reply, Request, serving

TOKEN = "ic-fake-token"   # a stand-in: real tokens come from INTERCOM_ACCESS_TOKEN
FIRST_UPDATE = int(datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc).timestamp())
MAX_PER_PAGE = 150
ADMIN = {"type": "admin", "id": "814860", "name": "Mark Agent", "email": "mark@vendor.example"}
# Companies: Intercom's id -> your company_id ("" = never set, so the connector falls back).
COMPANIES = {"6571a1": "acct-1", "6571a2": "acct-2", "6571a3": ""}
OUTBOUND = 3    # conversation number started by a teammate (an outbound message)


class FakeIntercom(FakeApi):
    """State: conversations by id (full, with parts), contacts and companies."""

    def __init__(self) -> None:
        super().__init__()
        self.conversations: dict[str, dict[str, Any]] = {}
        self.contacts: dict[str, dict[str, Any]] = {}
        self.companies: dict[str, dict[str, Any]] = {
            cid: {"type": "company", "id": cid, "company_id": ext or None, "name": f"Company {cid}",
                  "website": f"https://{cid}.example"} for cid, ext in COMPANIES.items()}
        self._part_ids = 0

    # --- data ---------------------------------------------------------------------------------
    def seed(self, n: int) -> None:
        """Conversations 1..n: every fifth open, the rest closed; two share each updated_at second;
        each has a customer reply, a teammate reply, an internal note and events without text."""
        company_ids = list(COMPANIES)
        for i in range(1, n + 1):
            contact_id = f"c{i:04d}"
            company = company_ids[i % len(company_ids)]
            self.contacts[contact_id] = {
                "type": "contact", "id": contact_id, "role": "user", "email": f"person{i}@{company}.example",
                "companies": {"type": "list", "data": [] if i % 6 == 0 else
                              [{"type": "company", "id": company, "url": f"/companies/{company}"}],
                              "total_count": 0 if i % 6 == 0 else 1, "has_more": False}}
            updated = FIRST_UPDATE + (i // 2) * 60
            created = updated - 4 * 3600
            customer = {"type": "user", "id": contact_id, "name": f"Person {i}",
                        "email": f"person{i}@{company}.example"}
            outbound = i == OUTBOUND
            self.conversations[str(1000 + i)] = {
                "type": "conversation", "id": str(1000 + i), "title": None if i % 2 else f"Invoice question {i}",
                "created_at": created, "updated_at": updated, "waiting_since": None,
                "state": "open" if i % 5 == 0 else "closed", "open": i % 5 == 0, "read": True,
                "priority": "priority" if i % 4 == 0 else "not_priority",
                "source": {"type": "email" if i % 3 == 0 else "conversation", "id": f"s{i}",
                           "delivered_as": "admin_initiated" if outbound else "customer_initiated",
                           "subject": "", "author": ADMIN if outbound else customer,
                           "body": "<p>Hi, how is the rollout going?</p>" if outbound else
                                   f"<p>Invoice {i} was <b>charged twice</b> this month.</p>",
                           "attachments": [], "url": None, "redacted": False},
                "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": contact_id,
                                                                   "external_id": None}]},
                "teammates": {"type": "admin.list", "admins": [{"type": "admin", "id": ADMIN["id"]}]},
                "tags": {"type": "tag.list", "tags": [{"type": "tag", "id": "1", "name": "billing"}]},
                "conversation_rating": {"rating": 1 + i % 5, "remark": "", "created_at": updated,
                                        "contact": {"type": "contact", "id": contact_id},
                                        "teammate": {"type": "admin", "id": ADMIN["id"]}} if i % 2 == 0 else None,
                "statistics": {"type": "conversation_statistics", "first_contact_reply_at": created,
                               "first_admin_reply_at": created + 600, "first_close_at": updated - 120,
                               "last_close_at": updated - 60, "time_to_admin_reply": 600},
                "conversation_parts": {"type": "conversation_part.list", "conversation_parts": [
                    self.part("assignment", None, ADMIN, created + 60),
                    self.part("comment", f"<p>Here is the invoice number INV-{i}.</p>" if not outbound else
                              "<p>Rollout is stuck on SSO, we get error 403.</p>", customer, created + 300),
                    self.part("comment", "<p>Thanks, we refunded the duplicate.</p>", ADMIN, created + 600),
                    self.part("note", f"<p>INTERNAL NOTE {i}: refund approved by finance.</p>", ADMIN, created + 700),
                    self.part("close", None, ADMIN, updated - 60),
                ], "total_count": 5},
            }

    def part(self, kind: str, body: str | None, author: dict[str, Any], at: int) -> dict[str, Any]:
        self._part_ids += 1
        return {"type": "conversation_part", "id": str(self._part_ids), "part_type": kind, "body": body,
                "created_at": at, "updated_at": at, "notified_at": at, "assigned_to": None,
                "author": author, "attachments": [], "external_id": None, "redacted": False}

    def touch(self, conv_id: str, at: int, *, reply: str | None = None, state: str | None = None) -> None:
        """A new customer reply or a state change between two runs."""
        conv = self.conversations[conv_id]
        conv["updated_at"] = at
        if state is not None:
            conv["state"], conv["open"] = state, state == "open"
        if reply is not None:
            customer = conv["source"]["author"]
            parts = conv["conversation_parts"]
            parts["conversation_parts"].append(self.part("comment", reply, customer, at))
            parts["total_count"] += 1

    # --- HTTP ---------------------------------------------------------------------------------
    def authorised(self, request: Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {TOKEN}"

    def unauthorised(self) -> Reply:
        return Reply(401, {"type": "error.list", "request_id": "r-1",
                           "errors": [{"code": "unauthorized", "message": "Access Token Invalid"}]})

    def route(self, request: Request) -> str:
        parts = request.path.strip("/").split("/")
        if request.method == "POST" and parts == ["conversations", "search"]:
            return "search"
        if request.method == "GET" and len(parts) == 2 and parts[0] in ("conversations", "contacts", "companies"):
            return {"conversations": "conversation", "contacts": "contact", "companies": "company"}[parts[0]]
        return "unknown"

    def answer(self, request: Request) -> Reply:
        route = self.route(request)
        if route == "search":
            return self._search(request.body or {})
        key = request.path.strip("/").split("/")[1]
        found = {"conversation": self.conversations, "contact": self.contacts,
                 "company": self.companies}.get(route, {}).get(key)
        if found is None:
            return Reply(404, {"type": "error.list", "errors": [{"code": "not_found", "message": "Resource Not Found"}]})
        return Reply(200, found)

    def _search(self, body: dict[str, Any]) -> Reply:
        pagination = body.get("pagination") or {}
        per_page = int(pagination.get("per_page", 20))
        if per_page > MAX_PER_PAGE:
            return Reply(400, {"type": "error.list", "errors": [
                {"code": "parameter_invalid", "message": f"per_page must be at most {MAX_PER_PAGE}"}]})
        try:
            chosen = [c for c in self.conversations.values() if _matches(c, body["query"])]
        except (KeyError, ValueError) as exc:
            return Reply(400, {"type": "error.list", "errors": [{"code": "query_invalid", "message": str(exc)}]})
        sort = body.get("sort") or {"field": "updated_at", "order": "descending"}
        chosen.sort(key=lambda c: (c[sort["field"]], c["id"]), reverse=sort.get("order") == "descending")
        cursor = pagination.get("starting_after")
        offset = int(base64.b64decode(cursor).decode().split(":")[1]) if cursor else 0
        chunk = chosen[offset: offset + per_page]
        total_pages = max(1, -(-len(chosen) // per_page))
        pages: dict[str, Any] = {"type": "pages", "page": offset // per_page + 1, "per_page": per_page,
                                 "total_pages": total_pages}
        if offset + per_page < len(chosen):
            pages["next"] = {"page": pages["page"] + 1,
                             "starting_after": base64.b64encode(f"offset:{offset + per_page}".encode()).decode()}
        listed = [{k: v for k, v in c.items() if k != "conversation_parts"} for c in chunk]
        return Reply(200, {"type": "conversation.list", "conversations": listed, "total_count": len(chosen),
                           "pages": pages})


def _matches(conv: dict[str, Any], query: dict[str, Any]) -> bool:
    if "field" not in query:
        results = [_matches(conv, q) for q in query["value"]]
        return all(results) if query["operator"] == "AND" else any(results)
    value, wanted = conv[query["field"]], query["value"]
    ops = {"=": value == wanted, "!=": value != wanted}
    if query["operator"] in ops:
        return ops[query["operator"]]
    if query["operator"] in (">", "<"):
        if not isinstance(wanted, int):
            raise ValueError(f"{query['field']} {query['operator']} needs a number")
        return value > wanted if query["operator"] == ">" else value < wanted
    raise ValueError(f"unsupported operator {query['operator']!r}")


@contextmanager
def running_fake_intercom(n_conversations: int = 0) -> Iterator[FakeIntercom]:
    """Serve a seeded fake Intercom for the block; `.base_url` is the API root."""
    fake = FakeIntercom()
    fake.seed(n_conversations)
    with serving(fake) as api:
        yield api
