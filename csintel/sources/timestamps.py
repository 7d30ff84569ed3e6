"""The timestamps helpdesk APIs speak: ISO 8601 strings (UTC where no offset is given) and unix seconds."""

from __future__ import annotations

from datetime import datetime, timezone


def parse_time(value: str) -> datetime:
    """An ISO date or datetime ("Z" or an offset; none means UTC) as an aware datetime."""
    ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)


def iso(ts: datetime) -> str:
    """`2026-01-05T09:00:00Z`: whole seconds in UTC, as the input-file contract and the APIs write them."""
    return ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def unix(value: str) -> int:
    return int(parse_time(value).timestamp())


def iso_unix(seconds: int) -> str:
    return iso(datetime.fromtimestamp(seconds, timezone.utc))
