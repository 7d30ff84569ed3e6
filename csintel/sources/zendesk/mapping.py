"""Zendesk payloads to the input-file contract's raw-row shape: pure functions, no I/O."""

from __future__ import annotations

from typing import Any

from csintel.sources.zendesk.settings import CSAT_SCORES, CUSTOMER_USER_ROLES, KEPT_STATUSES


def kept_tickets(tickets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The page's solved and closed tickets, one per id (the newest `updated_at` wins), in page order.

    The time-based export can return a ticket twice and a page may too; ISO-8601 UTC strings
    from one API compare correctly as text.
    """
    newest: dict[Any, dict[str, Any]] = {}
    for t in tickets:
        if t.get("status") not in KEPT_STATUSES or t.get("id") is None:
            continue
        seen = newest.get(t["id"])
        if seen is None or str(t.get("updated_at") or "") >= str(seen.get("updated_at") or ""):
            newest[t["id"]] = t
    return list(newest.values())


def account_id(organization_id: Any, organizations: dict[int, dict[str, Any]]) -> str | None:
    """The organization's external_id (what CRMs sync into Zendesk) when set, else its Zendesk id."""
    if organization_id is None:
        return None
    external = (organizations.get(organization_id) or {}).get("external_id")
    return str(external).strip() if external not in (None, "") and str(external).strip() else str(organization_id)


def author_role(comment: dict[str, Any], requester_id: Any, users: dict[int, dict[str, Any]]) -> str:
    """"customer" for the requester and other end-users (a colleague in CC), else "agent".

    An author we know nothing about counts as an agent: agent words read as the customer's would
    skew sentiment and requests more than a lost customer line does.
    """
    author = comment.get("author_id")
    if author is not None and author == requester_id:
        return "customer"
    return "customer" if (users.get(author) or {}).get("role") in CUSTOMER_USER_ROLES else "agent"


def conversation(comments: list[dict[str, Any]], requester_id: Any, users: dict[int, dict[str, Any]],
                 include_internal_notes: bool) -> list[dict[str, Any]]:
    """Comments in the contract's `{author_role, body, public, created_at}` shape, oldest first.

    Internal notes (public=false) are dropped unless asked for; kept ones stay public=false, which
    the NLP text (`csintel.text.customer_text`) never reads.
    """
    out = []
    for c in comments:
        public = c.get("public") is not False
        if not public and not include_internal_notes:
            continue
        out.append({
            "author_role": author_role(c, requester_id, users),
            "body": c.get("plain_body") or c.get("body") or "",
            "public": public,
            "created_at": c.get("created_at"),
        })
    return out


def ticket_row(ticket: dict[str, Any], *, comments: list[dict[str, Any]] | None,
               users: dict[int, dict[str, Any]], organizations: dict[int, dict[str, Any]],
               metric_set: dict[str, Any] | None, field_labels: dict[int, str],
               include_internal_notes: bool) -> dict[str, Any]:
    """One export ticket (with its conversation and side-loads) as a raw ticket row.

    `comments` None means the conversation could not be read (the ticket was deleted meanwhile):
    the description stands alone. Fields outside the contract land in `extra`.
    """
    requester = ticket.get("requester_id")
    metrics = metric_set or {}
    satisfaction = ticket.get("satisfaction_rating") or {}
    convo = conversation(comments or [], requester, users, include_internal_notes)
    return {
        "id": str(ticket["id"]),
        "subject": ticket.get("subject") or ticket.get("raw_subject"),
        "body": _opening_ask(ticket, comments, requester, users),
        "comments": convo or None,
        "account_id": account_id(ticket.get("organization_id"), organizations),
        "requester_email": (users.get(requester) or {}).get("email"),
        "status": ticket.get("status"),
        "priority": ticket.get("priority"),
        "channel": (ticket.get("via") or {}).get("channel"),
        "created_at": ticket.get("created_at"),
        "updated_at": ticket.get("updated_at"),
        "solved_at": metrics.get("solved_at"),
        "first_response_minutes": _calendar_minutes(metrics.get("reply_time_in_minutes")),
        "csat": CSAT_SCORES.get(str(satisfaction.get("score") or "").lower()),
        "tags": list(ticket.get("tags") or []),
        # extra: kept as they came, for the data team
        "resolution_minutes": _calendar_minutes(metrics.get("full_resolution_time_in_minutes")),
        "organization_id": ticket.get("organization_id"),
        "requester_id": requester,
        "assignee_id": ticket.get("assignee_id"),
        "group_id": ticket.get("group_id"),
        "type": ticket.get("type"),
        "custom_fields": _custom_fields(ticket.get("custom_fields"), field_labels) or None,
    }


def _opening_ask(ticket: dict[str, Any], comments: list[dict[str, Any]] | None, requester: Any,
                 users: dict[int, dict[str, Any]]) -> str | None:
    """The body NLP reads as the customer's: the description when the customer wrote it, else
    (an agent opened the ticket, e.g. from a call) the customer's first public comment."""
    submitter = ticket.get("submitter_id")
    if submitter is None or submitter == requester or comments is None:
        return ticket.get("description")
    if (users.get(submitter) or {}).get("role") in CUSTOMER_USER_ROLES:
        return ticket.get("description")
    for c in comments:
        if c.get("public") is not False and author_role(c, requester, users) == "customer":
            return c.get("plain_body") or c.get("body")
    return None


def _calendar_minutes(value: Any) -> Any:
    return value.get("calendar") if isinstance(value, dict) else None


def _custom_fields(values: Any, labels: dict[int, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in values or []:
        if isinstance(f, dict) and f.get("value") not in (None, "", []):
            out[labels.get(f.get("id"), str(f.get("id")))] = f["value"]
    return out
