"""Freshdesk payloads to raw ticket rows in the input-file contract's shape (pure functions)."""

from __future__ import annotations

from typing import Any

from csintel.sources.freshdesk.settings import CHANNELS, CLOSED_STATUSES, PRIORITIES, RATING_TO_CSAT
from csintel.sources.timestamps import parse_time


def is_closed(ticket: dict[str, Any]) -> bool:
    return ticket.get("status") in CLOSED_STATUSES


def ticket_row(ticket: dict[str, Any], conversations: list[dict[str, Any]], *, csat: int | None = None,
               account_from_company: bool = True, include_private_notes: bool = False) -> dict[str, Any]:
    """One closed ticket (listed with include=requester,stats,description) and its conversations.

    Args:
        account_from_company: the ticket's company id becomes its account_id; when False the
            account is left to the requester's email domain.
        include_private_notes: keep agents' private notes (as non-public comments).
    """
    stats = ticket.get("stats") or {}
    requester = ticket.get("requester") or {}
    company_id = ticket.get("company_id")
    created = ticket.get("created_at")
    return {
        "id": str(ticket["id"]),
        "subject": ticket.get("subject"),
        "body": ticket.get("description_text") or ticket.get("description"),
        "comments": comments(conversations, ticket.get("requester_id"), include_private_notes),
        "account_id": str(company_id) if account_from_company and company_id is not None else None,
        "requester_email": requester.get("email"),
        "status": CLOSED_STATUSES.get(ticket.get("status")),
        "priority": PRIORITIES.get(ticket.get("priority")),
        "channel": CHANNELS.get(ticket.get("source"), None if ticket.get("source") is None else str(ticket["source"])),
        "created_at": created,
        "updated_at": ticket.get("updated_at"),
        "solved_at": stats.get("resolved_at") or stats.get("closed_at"),
        "first_response_minutes": minutes_between(created, stats.get("first_responded_at")),
        "csat": csat,
        "tags": ticket.get("tags") or [],
        # Kept for joins and audits beyond the contract (unknown columns go to `extra`).
        "freshdesk_company_id": company_id,
        "type": ticket.get("type"),
    }


def comments(conversations: list[dict[str, Any]], requester_id: Any,
             include_private_notes: bool) -> list[dict[str, Any]]:
    """Conversations as {author_role, body, public, created_at}; the customer wrote the incoming ones."""
    out = []
    for c in conversations:
        private = bool(c.get("private"))
        if private and not include_private_notes:
            continue
        customer = bool(c.get("incoming")) or (requester_id is not None and c.get("user_id") == requester_id)
        body = c.get("body_text") or c.get("body")
        if not body:
            continue
        out.append({"author_role": "customer" if customer and not private else "agent", "body": body,
                    "public": not private, "created_at": c.get("created_at")})
    return out


def rating_csat(rating: dict[str, Any]) -> int | None:
    """A satisfaction rating's default question on the 1-5 scale."""
    value = (rating.get("ratings") or {}).get("default_question")
    return RATING_TO_CSAT.get(value) if isinstance(value, int) else None


def minutes_between(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    minutes = (parse_time(end) - parse_time(start)).total_seconds() / 60
    return round(minutes, 2) if minutes >= 0 else None
