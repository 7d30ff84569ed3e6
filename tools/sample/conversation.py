"""The comments on a ticket after it was opened: agent replies, internal notes, follow-ups."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from tools.sample import phrases as P
from tools.sample.plan import TicketSpec


def conversation(rng: random.Random, spec: TicketSpec) -> list[dict[str, object]]:
    """Comments between `spec.created_at` and `spec.solved_at`, oldest first."""
    first_reply = spec.created_at + timedelta(minutes=spec.first_response_minutes)
    span = max(1, int((spec.solved_at - first_reply).total_seconds()))
    values = {"first": spec.requester.first, "article": str(rng.randint(1000, 9999)),
              "plan": spec.account.plan}
    comments = [_comment("agent", rng.choice(P.AGENT_REPLIES[spec.root_cause]).format(**values), True, first_reply)]
    if rng.random() < 0.3:
        note = rng.choice(P.INTERNAL_NOTES).format(**values)
        comments.append(_comment("agent", note, False, _between(rng, first_reply, span)))
    if rng.random() < 0.4:
        waiting = spec.sentiment == "negative" or spec.role == "at_risk"
        text = rng.choice(P.FOLLOWUPS_WAITING if waiting else P.FOLLOWUPS_OK)
        comments.append(_comment("customer", text, True, _between(rng, first_reply, span)))
    if rng.random() < 0.6:
        comments.append(_comment("agent", rng.choice(P.AGENT_WRAPUPS), True,
                                 max(first_reply, spec.solved_at - timedelta(minutes=rng.randint(1, 30)))))
    comments.sort(key=lambda c: c["created_at"])
    return comments


def iso_utc(moment: datetime, naive: bool = False) -> str:
    """ISO-8601 in UTC with a `Z`, or without a zone when `naive` (the contract reads it as UTC)."""
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return text if naive else text + "Z"


def _between(rng: random.Random, start: datetime, span_seconds: int) -> datetime:
    return start + timedelta(seconds=rng.randint(1, span_seconds))


def _comment(role: str, body: str, public: bool, at: datetime) -> dict[str, object]:
    return {"author_role": role, "body": body, "public": public, "created_at": iso_utc(at)}
