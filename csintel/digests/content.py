"""What a digest says, as plain data: no Slack, Markdown or HTML here.

Every string in these objects may carry customer text and is treated as untrusted by every
renderer (escaped on output). The only trusted parts are `Line.mention` (a Slack user id taken
from the accounts data) and `TicketRef.url` (built from a configured template); renderers
still validate both before emitting Slack syntax.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class TicketRef:
    """A ticket a line is based on; `url` is the helpdesk link when a template is configured."""

    ticket_id: str
    url: str | None = None


@dataclass(frozen=True)
class Line:
    """One item of a section: a theme, an error, a request group, an account, a competitor."""

    title: str
    detail: str = ""
    badge: str | None = None          # e.g. "NEW", "SPIKING", "HIGH RISK"
    quote: str | None = None          # short, redacted customer quote
    tickets: tuple[TicketRef, ...] = ()
    mention: str | None = None        # Slack user id of the owner (CSM), from accounts data only
    reasons: tuple[str, ...] = ()     # bullet points under the line (e.g. risk reasons)


@dataclass(frozen=True)
class Section:
    title: str
    lines: tuple[Line, ...] = ()
    empty_text: str = "Nothing this week."


@dataclass(frozen=True)
class Digest:
    """One audience's weekly message."""

    audience: str                     # product | cs | sales | support_ops
    week: str                         # ISO week, e.g. "2026-W47"
    title: str
    summary: str                      # one or two sentences; a quiet week says so here
    sections: tuple[Section, ...] = ()
    quiet: bool = False
    stats: dict[str, float | int | str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    def content_hash(self) -> str:
        """Stable hash of the content: the deliveries ledger keys messages on it."""
        payload = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]
