"""A fake HubSpot CRM API v3 on 127.0.0.1, answering like the documented endpoints:

- `GET /crm/v3/objects/companies?limit<=100&after&properties=a,b&archived=false`: `results[]` of
  {id, properties (only those asked for, plus hs_object_id, createdate, hs_lastmodifieddate),
  createdAt, updatedAt, archived}; `paging.next.after` while more remain, no `paging` on the last;
- `GET /crm/v3/owners/{id}`: {id, email, firstName, lastName, userId, ...}, 404 for an unknown id.

Bearer auth (a private app's token). Data is deterministic (`seed`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.fakes.api_fake import FakeApi, Reply, Request, serving

TOKEN = "hs-fake-token"   # a stand-in: real tokens come from HUBSPOT_ACCESS_TOKEN
MAX_LIMIT = 100
DEFAULT_LIMIT = 10
OWNERS = {"501": "ana.csm@vendor.example", "502": "ben.csm@vendor.example"}
GONE_OWNER = "599"        # assigned to a company but deactivated since: the API answers 404
STAMP = "2025-06-01T10:00:00.000Z"


class FakeHubSpot(FakeApi):
    """State: companies (id -> properties, in creation order) and owners."""

    def __init__(self) -> None:
        super().__init__()
        self.companies: dict[str, dict[str, Any]] = {}
        self.owners: dict[str, dict[str, Any]] = {
            oid: {"id": oid, "email": email, "firstName": email.split(".")[0].title(), "lastName": "Csm",
                  "userId": int(oid) * 10, "createdAt": STAMP, "updatedAt": STAMP, "archived": False}
            for oid, email in OWNERS.items()}

    def seed(self, n: int) -> None:
        """Companies 1..n: owners cycle 501, 502, none, a deactivated one; ARR and renewal dates
        vary; a custom `helpdesk_company_id` property holds the helpdesk's id for even ones."""
        owners = ["501", "502", "", GONE_OWNER]
        for i in range(1, n + 1):
            self.companies[str(9000 + i)] = {
                "name": f"Customer {i}", "domain": f"www.customer{i}.example",
                "annualrevenue": str(10000 * i), "arr": str(12000 * i),
                "renewal_date": f"2026-{1 + i % 12:02d}-15", "hubspot_owner_id": owners[i % 4],
                "helpdesk_company_id": str(100 + i) if i % 2 == 0 else "",
                "plan": "enterprise" if i % 3 == 0 else "growth", "industry": "SOFTWARE",
            }

    def authorised(self, request: Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {TOKEN}"

    def unauthorised(self) -> Reply:
        return Reply(401, {"status": "error", "category": "INVALID_AUTHENTICATION", "correlationId": "c-1",
                           "message": "Authentication credentials not found."})

    def route(self, request: Request) -> str:
        parts = request.path.strip("/").split("/")
        if parts == ["crm", "v3", "objects", "companies"]:
            return "companies"
        if parts[:3] == ["crm", "v3", "owners"] and len(parts) == 4:
            return "owner"
        return "unknown"

    def answer(self, request: Request) -> Reply:
        route = self.route(request)
        if route == "companies":
            return self._companies(request.query)
        if route == "owner":
            owner = self.owners.get(request.path.strip("/").split("/")[3])
            if owner is None:
                return Reply(404, {"status": "error", "category": "OBJECT_NOT_FOUND", "message": "Owner not found"})
            return Reply(200, owner)
        return Reply(404, {"status": "error", "category": "OBJECT_NOT_FOUND", "message": "Not found"})

    def _companies(self, query: dict[str, str]) -> Reply:
        limit = int(query.get("limit", DEFAULT_LIMIT))
        if not 1 <= limit <= MAX_LIMIT:
            return Reply(400, {"status": "error", "category": "VALIDATION_ERROR",
                               "message": f"limit must be between 1 and {MAX_LIMIT}"})
        asked = [p for p in query.get("properties", "").split(",") if p]
        items = list(self.companies.items())
        start = int(query.get("after") or 0)
        results = []
        for company_id, props in items[start: start + limit]:
            shown = {p: props.get(p) for p in asked if p in props}
            shown.update({"hs_object_id": company_id, "createdate": STAMP, "hs_lastmodifieddate": STAMP})
            results.append({"id": company_id, "properties": shown, "createdAt": STAMP, "updatedAt": STAMP,
                            "archived": False})
        payload: dict[str, Any] = {"results": results}
        if start + limit < len(items):
            after = str(start + limit)
            payload["paging"] = {"next": {"after": after,
                                          "link": f"{self.base_url}/crm/v3/objects/companies?after={after}"}}
        return Reply(200, payload)


@contextmanager
def running_fake_hubspot(n_companies: int = 0) -> Iterator[FakeHubSpot]:
    """Serve a seeded fake HubSpot for the block; `.base_url` is the API root."""
    fake = FakeHubSpot()
    fake.seed(n_companies)
    with serving(fake) as api:
        yield api
