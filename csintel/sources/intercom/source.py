"""Closed Intercom conversations, read incrementally by `updated_at` with their parts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from csintel.sources import Page
from csintel.sources.http import ApiClient
from csintel.sources.intercom.mapping import (company_account_id, conversation_row, customer_email,
                                              first_contact_id)
from csintel.sources.intercom.settings import COMPANY, CONTACT, CONVERSATION, MAX_PER_PAGE, SEARCH
from csintel.sources.paging import cursor_pages, watermark_page
from csintel.sources.watermark import Watermark


@dataclass
class IntercomSource:
    """An `IncrementalSource` over `POST /conversations/search` (closed, oldest update first).

    The search filters `updated_at > mark - 1` (so conversations updated in the mark's own second
    are asked again; the watermark's ids drop those taken) and follows `pages.next.starting_after`.
    Each page's state is the watermark, so a run killed mid-way resumes where it stopped.
    """

    client: ApiClient
    start: int                           # unix seconds where a first sync begins
    per_page: int = MAX_PER_PAGE
    account_from_company: bool = True
    include_notes: bool = False
    name: str = "intercom"
    _contacts: dict[str, dict[str, Any] | None] = field(default_factory=dict, init=False, repr=False)
    _companies: dict[str, dict[str, Any] | None] = field(default_factory=dict, init=False, repr=False)

    def pages(self, state: dict[str, Any] | None) -> Iterator[Page]:
        mark = Watermark.from_state(state, self.start)
        query = {"operator": "AND", "value": [
            {"field": "updated_at", "operator": ">", "value": mark.at - 1},
            {"field": "state", "operator": "=", "value": "closed"},
        ]}

        def search(cursor: str | None) -> dict[str, Any]:
            pagination: dict[str, Any] = {"per_page": self.per_page}
            if cursor:
                pagination["starting_after"] = cursor
            return self.client.post_json(SEARCH, {"query": query, "pagination": pagination,
                                                  "sort": {"field": "updated_at", "order": "ascending"}})

        def next_cursor(data: dict[str, Any]) -> str | None:
            if not data.get("conversations"):
                return None
            return ((data.get("pages") or {}).get("next") or {}).get("starting_after")

        for page, data in enumerate(cursor_pages(search, next_cursor), start=1):
            stored = watermark_page(mark, f"intercom:{SEARCH}?updated_at>{mark.at - 1}#page={page}",
                                    data.get("conversations") or [], lambda c: int(c["updated_at"]), self._closed_row)
            if stored is not None:
                yield stored

    def _closed_row(self, listed: dict[str, Any]) -> dict[str, Any] | None:
        full = self.client.get_json(CONVERSATION.format(id=listed["id"]))
        # Reopened since it was listed: it comes back when it closes again.
        return self._row(full) if full.get("state", "closed") == "closed" else None

    def _row(self, conv: dict[str, Any]) -> dict[str, Any]:
        email = customer_email(conv)
        contact_id = first_contact_id(conv)
        contact = self._contact(contact_id) if contact_id and (self.account_from_company or not email) else None
        return conversation_row(conv, account_id=self._account_id(conv, contact) if self.account_from_company else None,
                                requester_email=email or (contact or {}).get("email"),
                                include_notes=self.include_notes)

    def _account_id(self, conv: dict[str, Any], contact: dict[str, Any] | None) -> str | None:
        # Newer API versions name the conversation's company; else the contact's first company.
        company_ref = conv.get("company") or next(iter(((contact or {}).get("companies") or {}).get("data") or []), None)
        if not company_ref or not company_ref.get("id"):
            return None
        if company_ref.get("company_id"):
            return company_account_id(company_ref)
        company = self._company(str(company_ref["id"]))
        return company_account_id(company) if company else None

    def _contact(self, contact_id: str) -> dict[str, Any] | None:
        if contact_id not in self._contacts:
            self._contacts[contact_id] = self.client.get_json_or_none(CONTACT.format(id=contact_id))
        return self._contacts[contact_id]

    def _company(self, company_id: str) -> dict[str, Any] | None:
        if company_id not in self._companies:
            self._companies[company_id] = self.client.get_json_or_none(COMPANY.format(id=company_id))
        return self._companies[company_id]
