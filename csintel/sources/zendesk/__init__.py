"""Zendesk Support: solved and closed tickets, incrementally, through the cursor-based export.

`ZendeskSource.pages(state)` walks the incremental ticket export from the saved cursor (or, on
the first sync, from `[sources.zendesk] start`), and for each export page yields the page's
solved/closed tickets, with their conversations, as raw rows plus the cursor after the page.
Tickets in other states are skipped, but the cursor still moves past them; when one is solved
later its update brings it back into the export.
"""

from __future__ import annotations

from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import nullcontext
from datetime import datetime, timezone
from typing import Any, Iterator

from csintel.config import Settings, ZendeskConfig
from csintel.sources import Page, RawRow
from csintel.sources.watermark import first_sync_start
from csintel.sources.zendesk import settings as api
from csintel.sources.zendesk.client import ZendeskClient
from csintel.sources.zendesk.mapping import kept_tickets, ticket_row


class ZendeskSource:
    """An `IncrementalSource` over one Zendesk account."""

    name = "zendesk"

    def __init__(self, client: ZendeskClient, config: ZendeskConfig, *, now: datetime | None = None) -> None:
        self.client = client
        self.config = config
        self._now = now
        self._field_labels: dict[int, str] | None = None

    def pages(self, state: dict[str, Any] | None) -> Iterator[Page]:
        state = state or {}
        cursor = state.get("cursor")
        start_time = int(state.get("start_time") or self.start_time())
        # One pool for the whole sync: its threads keep their HTTP sessions (and connections) warm.
        workers = self.config.comment_workers
        with (ThreadPoolExecutor(workers, thread_name_prefix="zendesk-comments") if workers > 1
              else nullcontext()) as pool:
            for data in self.client.export_pages(cursor=cursor, start_time=start_time):
                rows = self._rows(data, pool)
                cursor = data.get("after_cursor") or cursor
                # With no cursor yet (nothing exported since start_time), resume from the same start.
                yield Page(rows, {"cursor": cursor} if cursor else {"start_time": start_time})

    def start_time(self) -> int:
        """The first sync's start (unix seconds): the configured date, else watermark.FIRST_SYNC_DAYS ago,
        and at least MIN_START_AGE_S before now (the export refuses a younger start)."""
        now = self._now or datetime.now(timezone.utc)
        return min(first_sync_start(self.config.start, now), int(now.timestamp() - api.MIN_START_AGE_S))

    def _rows(self, data: dict[str, Any], pool: Executor | None) -> list[RawRow]:
        tickets = kept_tickets(data.get("tickets") or [])
        if not tickets:
            return []
        users = {u["id"]: u for u in data.get("users") or [] if "id" in u}
        orgs = {o["id"]: o for o in data.get("organizations") or [] if "id" in o}
        metrics = {m.get("ticket_id"): m for m in data.get("metric_sets") or []}
        # Side-loads may leave people or organizations out (older accounts, proxies): look those up.
        missing_users = {t.get(k) for t in tickets for k in ("requester_id", "submitter_id")} - users.keys() - {None}
        if missing_users:
            users.update(self.client.users(missing_users))
        missing_orgs = {t.get("organization_id") for t in tickets} - orgs.keys() - {None}
        if missing_orgs:
            orgs.update(self.client.organizations(missing_orgs))
        labels = self.field_labels()
        rows = []
        for ticket, convo in zip(tickets, self.client.conversations([t["id"] for t in tickets], pool)):
            comments, authors = convo if convo is not None else (None, {})
            row = ticket_row(ticket, comments=comments, users={**authors, **users}, organizations=orgs,
                             metric_set=metrics.get(ticket["id"]), field_labels=labels,
                             include_internal_notes=self.config.include_internal_notes)
            rows.append(RawRow(api.ORIGIN, int(ticket["id"]), row))
        return rows

    def field_labels(self) -> dict[int, str]:
        if self._field_labels is None:
            self._field_labels = self.client.ticket_field_labels()
        return self._field_labels


def zendesk_source(settings: Settings) -> ZendeskSource:
    """The configured Zendesk source; raises ConfigError when its credential is missing."""
    config = settings.sources.zendesk
    return ZendeskSource(ZendeskClient.from_config(config), config)
