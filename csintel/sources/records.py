"""Raw rows to ticket and account records, or a reason to quarantine them.

Every source (file, Zendesk, ...) produces raw dicts in the input-file contract's shape, so the
checks here are the single definition of a valid ticket.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timezone
from typing import Any

from csintel.text import content_hash, customer_text, redact_pii

TICKET_FIELDS = {
    "id", "subject", "body", "text", "comments", "account_id", "requester_email", "status", "priority",
    "channel", "created_at", "solved_at", "closed_at", "updated_at", "first_response_minutes", "csat", "tags",
}
ACCOUNT_FIELDS = {
    "account_id", "name", "arr_usd", "plan", "segment", "renewal_date", "csm_email", "csm_slack_id", "domain",
}


class RowError(ValueError):
    """Why a row is quarantined."""


def ticket_record(raw: dict[str, Any], source: str, *, max_text_chars: int, ingested_at: datetime) -> dict[str, Any]:
    """Validate one raw ticket row and return the `store.tickets` record.

    Raises:
        RowError: the row cannot be loaded; the message is the quarantine reason.
    """
    ticket_id = _text(raw.get("id"), "id")
    if not ticket_id:
        raise RowError("missing id")
    subject = _text(raw.get("subject"), "subject")
    body = _text(raw.get("body"), "body") or _text(raw.get("text"), "text")
    if not (subject or body):
        # The contract's required text; comments alone are a conversation with no opening ask.
        raise RowError("no text: subject and body are both empty")
    comments = _comments(raw.get("comments"))
    size = len(subject or "") + len(body or "") + sum(len(c.get("body") or "") for c in comments)
    if size > max_text_chars:
        raise RowError(f"text too long: {size:,} characters (limit sources.max_text_chars = {max_text_chars:,})")
    cleaned = customer_text(subject, body, comments)
    if not cleaned.strip():
        raise RowError("no text: nothing of the customer's words is left after removing quotes and signatures")
    created = _timestamp(raw.get("created_at"), "created_at")
    solved = _timestamp(raw.get("solved_at"), "solved_at") or _timestamp(raw.get("closed_at"), "closed_at")
    updated = _timestamp(raw.get("updated_at"), "updated_at")
    email = _text(raw.get("requester_email"), "requester_email")
    return {
        "source": source,
        "ticket_id": ticket_id,
        "account_id": _text(raw.get("account_id"), "account_id"),
        "requester_email": email.lower() if email else None,
        "subject": subject,
        "body": body,
        "comments": json.dumps(comments, default=str) if comments else None,
        "customer_text": cleaned,
        "display_text": redact_pii(cleaned),
        "status": (_text(raw.get("status"), "status") or "").lower() or None,
        "priority": (_text(raw.get("priority"), "priority") or "").lower() or None,
        "channel": (_text(raw.get("channel"), "channel") or "").lower() or None,
        "created_at": created,
        "solved_at": solved,
        "updated_at": updated or solved or created,
        "activity_at": solved or created or updated or ingested_at,
        "first_response_minutes": _number(raw.get("first_response_minutes"), "first_response_minutes", minimum=0),
        "csat": _csat(raw.get("csat")),
        "tags": _tags(raw.get("tags")),
        "extra": _extra(raw, TICKET_FIELDS),
        "content_hash": content_hash(cleaned),
        "ingested_at": ingested_at,
    }


def account_record(raw: dict[str, Any], *, ingested_at: datetime) -> dict[str, Any]:
    """Validate one raw account row and return the `store.accounts` record."""
    account_id = _text(raw.get("account_id"), "account_id")
    if not account_id:
        raise RowError("missing account_id")
    name = _text(raw.get("name"), "name")
    if not name:
        raise RowError("missing name")
    domain = _text(raw.get("domain"), "domain")
    return {
        "account_id": account_id,
        "name": name,
        "arr_usd": _number(raw.get("arr_usd"), "arr_usd", minimum=0),
        "plan": _text(raw.get("plan"), "plan"),
        "segment": _text(raw.get("segment"), "segment"),
        "renewal_date": _date(raw.get("renewal_date"), "renewal_date"),
        "csm_email": _text(raw.get("csm_email"), "csm_email"),
        "csm_slack_id": _text(raw.get("csm_slack_id"), "csm_slack_id"),
        "domain": domain.lower().removeprefix("www.") if domain else None,
        "extra": _extra(raw, ACCOUNT_FIELDS),
        "ingested_at": ingested_at,
    }


def _text(value: Any, column: str) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise RowError(f"{column} must be text, got {type(value).__name__}")
    text = str(value).strip()
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))       # ids read from CSV/Parquet as floats ("123.0")
    return text or None


def _number(value: Any, column: str, *, minimum: float | None = None) -> float | None:
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        raise RowError(f"{column} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RowError(f"{column} must be a number, got {value!r}") from None
    if math.isinf(number) or (minimum is not None and number < minimum):
        raise RowError(f"{column} out of range: {value!r}")
    return number


def _csat(value: Any) -> int | None:
    try:
        number = _number(value, "csat")
    except RowError:
        number = math.nan
    if number is None:
        return None
    if math.isnan(number) or not number.is_integer() or not 1 <= number <= 5:
        raise RowError(f"csat must be an integer from 1 to 5, got {value!r}")
    return int(number)


def _timestamp(value: Any, column: str) -> datetime | None:
    """ISO-8601 to naive UTC; naive input means UTC."""
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, datetime):
        ts = value
    elif isinstance(value, date):
        ts = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            ts = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise RowError(f"{column} is not an ISO-8601 timestamp: {value[:60]!r}") from None
    else:
        raise RowError(f"{column} must be an ISO-8601 timestamp, got {type(value).__name__}")
    if ts.tzinfo is not None:
        ts = ts.astimezone(timezone.utc).replace(tzinfo=None)
    return ts


def _date(value: Any, column: str) -> date | None:
    ts = _timestamp(value, column)
    return ts.date() if ts else None


def _list_or_text(value: Any, column: str) -> list | str | None:
    """A list cell as it comes from CSV (JSON text or plain text), JSONL (a list) or Parquet (an array)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "tolist"):     # Parquet lists arrive as numpy arrays
        value = value.tolist()
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
        if value.startswith("["):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                raise RowError(f"{column} is not valid JSON") from None
    if not isinstance(value, (list, str)):
        raise RowError(f"{column} must be a list or a string, got {type(value).__name__}")
    return value


def _comments(value: Any) -> list[dict[str, Any]]:
    value = _list_or_text(value, "comments")
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]   # a plain string of comments: the customer's words as far as we can tell
    out = []
    for i, c in enumerate(value):
        if isinstance(c, str):
            c = {"author_role": "customer", "body": c, "public": True}
        if not isinstance(c, dict):
            raise RowError(f"comments[{i}] must be an object")
        out.append({
            "author_role": str(c.get("author_role") or "customer").lower(),
            "body": _text(c.get("body"), f"comments[{i}].body") or "",
            "public": c.get("public") is not False and str(c.get("public")).lower() != "false",
            "created_at": c.get("created_at"),
        })
    return out


def _tags(value: Any) -> list[str]:
    value = _list_or_text(value, "tags")
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else value
    return [str(t).strip() for t in items if str(t).strip()]


def _extra(raw: dict[str, Any], known: set[str]) -> str | None:
    """Unknown columns are kept, as they came, in one JSON object."""
    rest = {k: v for k, v in raw.items() if k not in known and not k.startswith("_")}
    return json.dumps(rest, default=str, ensure_ascii=False) if rest else None
