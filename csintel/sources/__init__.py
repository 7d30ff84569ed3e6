"""Where tickets and accounts come from.

A source yields raw rows (plain dicts, as the system gave them); `records.py` turns each raw row
into a ticket or account record, or a reason to quarantine it. The file source is here; helpdesk
and CRM sources (Zendesk, Freshdesk, Intercom, HubSpot) map their payloads to the same raw-row
shape so everything downstream is shared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Protocol


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
