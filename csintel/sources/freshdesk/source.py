"""Closed Freshdesk tickets, read incrementally by `updated_at` with their conversations."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Iterator

from csintel.sources import Page
from csintel.sources.freshdesk.mapping import is_closed, rating_csat, ticket_row
from csintel.sources.freshdesk.settings import CONVERSATIONS, SATISFACTION_RATINGS, TICKET_INCLUDE, TICKETS
from csintel.sources.http import ApiClient, ApiError
from csintel.sources.paging import watermark_page
from csintel.sources.timestamps import iso_unix, unix
from csintel.sources.watermark import Watermark

log = logging.getLogger(__name__)

# `updated_since` is asked one second early: whether Freshdesk compares with > or >=, tickets
# updated in the mark's own second are listed again, and the watermark's ids drop the ones taken.
OVERLAP_S = 1


@dataclass
class FreshdeskSource:
    """An `IncrementalSource` over `GET /api/v2/tickets`, oldest update first.

    The list stops at page 300 and pages shift when a listed ticket changes mid-read, so after
    each full page the next request starts a new window at that page's last `updated_at`
    (page 1 again) instead of asking for page N+1; page numbers only advance while a whole page
    shares one second. Each page's state is the watermark, so a killed run resumes exactly.
    """

    client: ApiClient
    start: int                          # unix seconds where a first sync begins
    per_page: int = TICKETS[1]
    page_cap: int = TICKETS[2]
    account_from_company: bool = True
    include_private_notes: bool = False
    satisfaction: bool = True
    satisfaction_lookback_s: int = 30 * 86400
    name: str = "freshdesk"
    _ratings: dict[str, int] | None = field(default=None, init=False, repr=False)
    _ratings_since: int = field(default=0, init=False, repr=False)

    def pages(self, state: dict[str, Any] | None) -> Iterator[Page]:
        mark = Watermark.from_state(state, self.start)
        self._ratings = None
        self._ratings_since = max(self.start, mark.at - self.satisfaction_lookback_s)
        since, page = mark.at - OVERLAP_S, 1
        while True:
            params = {"updated_since": iso_unix(since), "order_by": "updated_at", "order_type": "asc",
                      "per_page": self.per_page, "page": page, "include": TICKET_INCLUDE}
            tickets = self._list(TICKETS[0], params)
            origin = f"freshdesk:{TICKETS[0]}?updated_since={params['updated_since']}&page={page}"
            stored = watermark_page(mark, origin, tickets, lambda t: unix(t["updated_at"]),
                                    lambda t: self._row(t) if is_closed(t) else None)
            if stored is not None:
                yield stored
            if len(tickets) < self.per_page:
                return
            window = unix(tickets[-1]["updated_at"]) - OVERLAP_S
            if window > since:
                since, page = window, 1
            elif page < self.page_cap:
                page += 1
            else:
                raise ApiError(f"Freshdesk: more than {self.page_cap * self.per_page:,} tickets were updated "
                               f"within one second at {iso_unix(since + OVERLAP_S)}; the list API cannot page "
                               f"past page {self.page_cap} of one window")

    def _row(self, ticket: dict[str, Any]) -> dict[str, Any]:
        conversations = self._all(CONVERSATIONS[0].format(id=ticket["id"]), {}, CONVERSATIONS[1], CONVERSATIONS[2])
        return ticket_row(ticket, conversations, csat=self._csat(str(ticket["id"])),
                          account_from_company=self.account_from_company,
                          include_private_notes=self.include_private_notes)

    def _csat(self, ticket_id: str) -> int | None:
        if not self.satisfaction:
            return None
        if self._ratings is None:
            # One listing per run, on the first closed ticket: ratings arrive after the ticket is
            # resolved, so look back from the watermark rather than from the ticket.
            self._ratings = {}
            since = iso_unix(self._ratings_since)
            for rating in sorted(self._all(SATISFACTION_RATINGS[0], {"created_since": since},
                                           SATISFACTION_RATINGS[1], SATISFACTION_RATINGS[2]),
                                 key=lambda r: r.get("created_at") or ""):
                csat = rating_csat(rating)
                if csat is not None and rating.get("ticket_id") is not None:
                    self._ratings[str(rating["ticket_id"])] = csat    # the latest rating wins
        return self._ratings.get(ticket_id)

    def _all(self, path: str, params: dict[str, Any], per_page: int, cap: int) -> list[dict[str, Any]]:
        """Every item of a page-numbered list (a short page is the last)."""
        items: list[dict[str, Any]] = []
        for page in range(1, cap + 1):
            batch = self._list(path, {**params, "per_page": per_page, "page": page})
            items.extend(batch)
            if len(batch) < per_page:
                return items
        log.warning("Freshdesk %s: stopped at the API's last page (%d); later items are left out", path, cap)
        return items

    def _list(self, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self.client.get_list(path, params)
