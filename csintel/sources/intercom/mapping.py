"""Intercom conversations to raw ticket rows in the input-file contract's shape (pure functions)."""

from __future__ import annotations

from typing import Any

from csintel.sources.intercom.settings import (CHANNELS, CUSTOMER_AUTHORS, INTERNAL_PARTS, MESSAGE_PARTS,
                                               PRIORITIES)
from csintel.sources.timestamps import iso_unix


def conversation_row(conv: dict[str, Any], *, account_id: str | None = None, requester_email: str | None = None,
                     include_notes: bool = False) -> dict[str, Any]:
    """One closed conversation, as `GET /conversations/{id}` returns it.

    The first message (`source`) is the body when a customer wrote it; when a teammate started
    the conversation (an outbound message) it is an agent comment and the customer's first reply
    becomes the body.
    """
    source = conv.get("source") or {}
    comments = [c for c in (part_comment(p, include_notes) for p in parts(conv)) if c is not None]
    if is_customer(source.get("author")):
        body = source.get("body")
    else:
        opening = {"author_role": "agent", "body": source.get("body") or "", "public": True,
                   "created_at": timestamp(conv.get("created_at"))}
        first_reply = next((c for c in comments if c["author_role"] == "customer"), None)
        body = first_reply["body"] if first_reply else None
        comments = [opening] + [c for c in comments if c is not first_reply]
    stats = conv.get("statistics") or {}
    asked_at = stats.get("first_contact_reply_at") or conv.get("created_at")
    replied_at = stats.get("first_admin_reply_at")
    rating = (conv.get("conversation_rating") or {}).get("rating")
    return {
        "id": str(conv["id"]),
        "subject": conv.get("title") or source.get("subject") or None,
        "body": body,
        "comments": [c for c in comments if c["body"]],
        "account_id": account_id,
        "requester_email": requester_email,
        "status": "closed",
        "priority": PRIORITIES.get(conv.get("priority") or ""),
        "channel": CHANNELS.get(source.get("type") or "", source.get("type")),
        "created_at": timestamp(conv.get("created_at")),
        "updated_at": timestamp(conv.get("updated_at")),
        "solved_at": timestamp(stats.get("last_close_at") or stats.get("first_close_at") or conv.get("updated_at")),
        "first_response_minutes": (round((replied_at - asked_at) / 60, 2)
                                   if replied_at and asked_at and replied_at >= asked_at else None),
        "csat": rating if isinstance(rating, int) and 1 <= rating <= 5 else None,
        "tags": [t.get("name") for t in (conv.get("tags") or {}).get("tags", []) if t.get("name")],
    }


def parts(conv: dict[str, Any]) -> list[dict[str, Any]]:
    return (conv.get("conversation_parts") or {}).get("conversation_parts") or []


def part_comment(part: dict[str, Any], include_notes: bool) -> dict[str, Any] | None:
    """A message part as {author_role, body, public, created_at}; events and (by default) notes are None."""
    kind = part.get("part_type")
    if kind not in MESSAGE_PARTS or not part.get("body"):
        return None
    internal = kind in INTERNAL_PARTS
    if internal and not include_notes:
        return None
    customer = is_customer(part.get("author")) and not internal
    return {"author_role": "customer" if customer else "agent", "body": part["body"], "public": not internal,
            "created_at": timestamp(part.get("created_at"))}


def is_customer(author: dict[str, Any] | None) -> bool:
    return (author or {}).get("type") in CUSTOMER_AUTHORS


def customer_email(conv: dict[str, Any]) -> str | None:
    """The email on the first message when a customer wrote it."""
    author = (conv.get("source") or {}).get("author") or {}
    return (author.get("email") or None) if is_customer(author) else None


def first_contact_id(conv: dict[str, Any]) -> str | None:
    contacts = (conv.get("contacts") or {}).get("contacts") or []
    return str(contacts[0]["id"]) if contacts and contacts[0].get("id") else None


def company_account_id(company: dict[str, Any]) -> str | None:
    """Your own id for the company (`company_id`, set when you create it), else Intercom's id."""
    value = company.get("company_id") or company.get("id")
    return str(value) if value else None


def timestamp(unix: int | None) -> str | None:
    if unix is None:
        return None
    return iso_unix(int(unix))
