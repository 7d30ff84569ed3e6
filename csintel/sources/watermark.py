"""The resume point of an export ordered by `updated_at`: the newest timestamp passed, plus the ids
already taken at exactly that timestamp.

APIs filter on whole seconds, so a page can end in the middle of several tickets updated in the
same second. Asking again from that second (inclusive) re-reads the ones already taken; the ids
kept here drop them, so a resumed run neither skips nor doubles a ticket.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from csintel.sources.timestamps import unix

FIRST_SYNC_DAYS = 90      # a first sync's reach back when the config names no start


@dataclass
class Watermark:
    at: int                                   # unix seconds of the newest ticket passed
    ids: set[str] = field(default_factory=set)  # tickets passed at exactly `at`

    def admits(self, at: int, ticket_id: str) -> bool:
        """True for a ticket not passed yet: newer than the mark, or at it and not taken."""
        return at > self.at or (at == self.at and ticket_id not in self.ids)

    def advance(self, at: int, ticket_id: str) -> None:
        if at > self.at:
            self.at, self.ids = at, {ticket_id}
        elif at == self.at:
            self.ids.add(ticket_id)

    def state(self) -> dict[str, Any]:
        return {"updated_at": self.at, "ids_at_updated_at": sorted(self.ids)}

    @classmethod
    def from_state(cls, state: dict[str, Any] | None, start: int) -> Watermark:
        """The mark a saved state holds, or `start` (nothing taken) for a first sync."""
        if not state:
            return cls(start)
        return cls(int(state["updated_at"]), {str(i) for i in state.get("ids_at_updated_at", [])})


def first_sync_start(start: str, now: datetime | None = None) -> int:
    """Unix seconds of a first sync's start: the configured ISO date or datetime, else 90 days ago."""
    now = now or datetime.now(timezone.utc)
    if not start:
        return int((now - timedelta(days=FIRST_SYNC_DAYS)).timestamp())
    return unix(start)
