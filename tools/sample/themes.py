"""What Tidewater's customers write about: recurring themes and feature-request groups, read from themes.yaml.

Templates use `{slot}` fields that `compose.py` fills (see `compose.SLOT_NAMES`). Error codes,
integration partners and anything else the ground truth records enter only through slots
(`{err}`, `{err2}`, `{salesforce}`, `{hubspot}`), never as literal text, so what a ticket says
and what the ground truth claims cannot drift apart. Templates avoid the words that collide
with competitor names (close, front, copper, monday, notion): those appear only where the
generator plants them on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tools.sample.tables import read_table


@dataclass(frozen=True)
class Theme:
    """A recurring reason customers write in, with its true labels and its phrasings."""

    key: str
    label: str
    category: str
    root_cause: str
    weight: float                              # relative share of the background volume
    sentiment: tuple[float, float, float]      # P(negative), P(neutral), P(positive)
    priority: tuple[float, float, float, float]  # P(low), P(normal), P(high), P(urgent)
    subjects: tuple[str, ...]
    openers: tuple[str, ...]                   # the main problem statement: one per ticket
    details: tuple[str, ...]                   # supporting sentences: zero or more per ticket
    errors: tuple[str, ...] = ()               # canonical codes behind {err} and {err2}
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class RequestGroup:
    """A feature customers ask for; `nouns` fit "please add ...", `clauses` fit "it would be great if ..."."""

    key: str
    label: str
    category: str
    weight: float
    subjects: tuple[str, ...]
    nouns: tuple[str, ...]
    clauses: tuple[str, ...]
    reasons: tuple[str, ...]


def _theme(row: dict[str, Any], tables: dict[str, Any]) -> Theme:
    """A theme row; its sentiment and priority name a profile or give the probabilities inline."""
    def profile(value: Any, kind: str) -> Any:
        return tables[f"{kind}_profiles"][value] if isinstance(value, str) else value

    return Theme(**{**row, "sentiment": profile(row["sentiment"], "sentiment"),
                    "priority": profile(row["priority"], "priority")})


_T = read_table("themes.yaml")
THEMES: tuple[Theme, ...] = tuple(_theme(row, _T) for row in _T["themes"])
# Planted: appears only in the last two weeks (a partner API change breaks calendar sync).
EMERGING: Theme = _theme(_T["emerging"], _T)
THEMES_BY_KEY: dict[str, Theme] = {t.key: t for t in (*THEMES, EMERGING)}
SPIKE_THEME = THEMES_BY_KEY["csv_export_timeout"]
OUTAGE_THEME = THEMES_BY_KEY["inbox_outage"]

REQUEST_GROUPS: tuple[RequestGroup, ...] = tuple(RequestGroup(**row) for row in _T["request_groups"])
# How customers phrase a request; `{noun}` and `{clause}` come from the group.
REQUEST_FRAMES: dict[str, tuple[str, ...]] = _T["request_frames"]
