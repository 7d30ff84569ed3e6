"""Where tickets and accounts come from.

A source yields raw rows (plain dicts, as the system gave them); `records.py` turns each raw row
into a ticket or account record, or a reason to quarantine it. The file source is here; helpdesk
and CRM sources (Zendesk, Freshdesk, Intercom, HubSpot) map their payloads to the same raw-row
shape so everything downstream is shared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Protocol


@dataclass(frozen=True)
class RawRow:
    origin: str              # file path or API name, for the quarantine
    row_number: int          # 1-based position in the origin
    data: dict | None        # None when the row could not even be decoded
    error: str | None = None # why it could not be decoded


class RowSource(Protocol):
    """Anything that yields raw ticket or account rows."""

    name: str                # the ticket key's `source` part, e.g. "file", "zendesk"

    def rows(self) -> Iterator[RawRow]: ...


@dataclass(frozen=True)
class Page:
    """One page of an incremental export: its rows and where to resume after them."""

    rows: list[RawRow]       # tickets of this page, already mapped to the file-source raw-row shape
    state: dict[str, Any]    # JSON-serialisable resume point AFTER these rows (cursor / watermark)


class IncrementalSource(Protocol):
    """A helpdesk export read page by page; each page's state is saved with its rows.

    `pages(None)` starts the first sync; `pages(state)` resumes after the page that state came
    with, so a run killed at any point loses and duplicates nothing when rerun.
    """

    name: str                # "zendesk" | "freshdesk" | "intercom": the ticket key's `source`

    def pages(self, state: dict[str, Any] | None) -> Iterator[Page]: ...
