"""Deliver rendered digests exactly once: to Slack, or to a local outbox folder.

Every message part is recorded in a ledger as soon as it is posted, keyed on week, audience,
channel, content hash and part number, so a rerun posts only what is missing and a rerun of the
same content posts nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Protocol

import duckdb
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from csintel.digests.content import Digest
from csintel.routing.render import to_html, to_markdown, to_slack_messages

log = logging.getLogger(__name__)

# Slack's message metadata carries week, audience and part with each message: Slack keeps it
# (so a posted digest can be found again) and the outbox names its files from it.
METADATA_EVENT_TYPE = "csintel_digest"

# What an operator should do about Slack's most common refusals.
SLACK_ERROR_HINTS = {
    "invalid_auth": "check SLACK_BOT_TOKEN",
    "not_authed": "set SLACK_BOT_TOKEN",
    "token_revoked": "SLACK_BOT_TOKEN was revoked: issue a new bot token",
    "account_inactive": "the bot's workspace or token is inactive: check SLACK_BOT_TOKEN",
    "missing_scope": "the bot token needs the chat:write scope",
    "channel_not_found": "check the channel name in [routing]",
    "not_in_channel": "invite the bot to the channel",
    "is_archived": "the channel is archived: change it in [routing]",
    "ratelimited": "Slack kept rate-limiting the bot: rerun later",
    "internal_error": "Slack kept failing with server errors: rerun later",
    "msg_blocks_too_long": "the message is too long for Slack",
    "invalid_blocks": "Slack refused the message layout",
}

SQL_GET = """
SELECT location FROM store.deliveries
WHERE delivery_key = ? AND status = 'sent' AND location IS NOT NULL
"""
SQL_RECORD = """
INSERT INTO store.deliveries (delivery_key, week, audience, channel, content_hash, transport,
                              location, status, error, delivered_at, run_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (delivery_key) DO UPDATE SET
    week = excluded.week, audience = excluded.audience, channel = excluded.channel,
    content_hash = excluded.content_hash, transport = excluded.transport,
    location = excluded.location, status = excluded.status, error = excluded.error,
    delivered_at = excluded.delivered_at, run_id = excluded.run_id
"""

UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")


class DeliveryError(Exception):
    """A message could not be delivered; the text says why and what to check."""


class Transport(Protocol):
    """Where messages go: Slack, or files."""

    name: str

    def post(self, channel: str, message: dict, *, thread_ts: str | None = None) -> str:
        """Post one message and return its location (a Slack ts or a file path)."""
        ...


class Ledger(Protocol):
    """The record of delivered message parts."""

    def get(self, key: str) -> str | None:
        """Return the location recorded for a delivered part, or None."""
        ...

    def record(self, key: str, *, week: date, audience: str, channel: str, content_hash: str,
               transport: str, location: str | None, status: str, error: str | None,
               run_id: str | None) -> None:
        """Record one attempt to deliver a part (status "sent" or "failed")."""
        ...


@dataclass(frozen=True)
class DeliveryResult:
    """What happened to one audience's digest in one channel."""

    audience: str
    channel: str
    transport: str
    status: str                       # "sent" | "skipped" (already delivered) | "failed"
    locations: tuple[str, ...]
    error: str | None = None


class SlackTransport:
    """Posts with a bot token through slack_sdk's WebClient, retrying 429s and 5xx."""

    name = "slack"

    def __init__(self, token: str, *, base_url: str = "https://slack.com/api/",
                 max_retries: int = 3, timeout: int = 30) -> None:
        # The default handlers retry connection errors only (API_FACTS.md).
        self._client = WebClient(
            token=token,
            base_url=base_url,
            timeout=timeout,
            retry_handlers=[
                ConnectionErrorRetryHandler(max_retry_count=max_retries),
                RateLimitErrorRetryHandler(max_retry_count=max_retries),
                ServerErrorRetryHandler(max_retry_count=max_retries),
            ],
        )

    def post(self, channel: str, message: dict, *, thread_ts: str | None = None) -> str:
        """Post with chat.postMessage; link_names is never set and unfurling is off.

        Raises:
            DeliveryError: With Slack's error code and a hint, once retries are spent.
        """
        try:
            response = self._client.chat_postMessage(
                channel=channel,
                text=message["text"],
                blocks=message["blocks"],
                metadata=message.get("metadata"),
                thread_ts=thread_ts,
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            code = _slack_error_code(exc)
            hint = SLACK_ERROR_HINTS.get(code)
            raise DeliveryError(f"{code}: {hint}" if hint else code) from exc
        except (SlackClientError, OSError) as exc:
            raise DeliveryError(f"could not reach Slack: {exc}") from exc
        return str(response["ts"])


class OutboxTransport:
    """Writes each message as pretty JSON when no Slack token is set."""

    name = "outbox"

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def post(self, channel: str, message: dict, *, thread_ts: str | None = None) -> str:
        """Write `<folder>/<week>/<audience>--<channel>[--part-N].blocks.json`.

        Week, audience and part come from the message's metadata payload; thread_ts is not
        needed since parts are numbered.

        Raises:
            DeliveryError: If the metadata is missing or the file cannot be written.
        """
        try:
            payload = message["metadata"]["event_payload"]
            week, audience, part = payload["week"], payload["audience"], int(payload["part"])
        except (KeyError, TypeError, ValueError) as exc:
            raise DeliveryError("outbox message lacks week/audience/part metadata") from exc
        suffix = f"--part-{part + 1}" if part else ""
        path = (self.folder / _safe_name(week)
                / f"{_safe_name(audience)}--{_safe_name(channel)}{suffix}.blocks.json")
        try:
            _write_text(path, json.dumps(message, indent=2, ensure_ascii=False) + "\n")
        except OSError as exc:
            raise DeliveryError(f"could not write the outbox file {path}: {exc}") from exc
        return str(path)


class DuckDBLedger:
    """The ledger in `store.deliveries` (sql/migrations/001_init.sql)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def get(self, key: str) -> str | None:
        """Return the location of a part delivered under `key`; failed rows do not count."""
        row = self._con.execute(SQL_GET, [key]).fetchone()
        return None if row is None else str(row[0])

    def record(self, key: str, *, week: date, audience: str, channel: str, content_hash: str,
               transport: str, location: str | None, status: str, error: str | None,
               run_id: str | None) -> None:
        """Insert or replace the row for `key`."""
        delivered_at = datetime.now(timezone.utc).replace(tzinfo=None)
        self._con.execute(SQL_RECORD, [key, week, audience, channel, content_hash, transport,
                                       location, status, error, delivered_at, run_id])


def delivery_key(week: str, audience: str, channel: str, content_hash: str, part: int = 0) -> str:
    """Return the ledger key of one message part.

    Args:
        week: ISO week, e.g. "2026-W47".
        audience: The digest's audience.
        channel: The destination channel.
        content_hash: `Digest.content_hash()`.
        part: 0 for the top-level post, then 1, 2, ... for thread replies.

    Returns:
        A 32-character hex digest.
    """
    # JSON keeps the fields apart, so ("a-b", "c") and ("a", "b-c") cannot collide.
    payload = json.dumps([week, audience, channel, content_hash, part])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def deliver(digest: Digest, channel: str, transport: Transport, ledger: Ledger, *,
            run_id: str | None = None, outbox: Path | None = None) -> DeliveryResult:
    """Post a digest's parts that the ledger lacks, recording each part as soon as it is posted.

    Parts after the first go into the first part's thread. A failed post is recorded and
    returned, not raised, so other audiences still go out; the next run retries it.

    Args:
        digest: The digest to deliver.
        channel: Slack channel (name or id), also used in outbox file names.
        transport: Where to post.
        ledger: The record of delivered parts.
        run_id: The pipeline run, recorded with each part.
        outbox: If given, also write `<outbox>/<week>/<audience>.md` and `.html` copies.

    Returns:
        The outcome: "sent" if any part was posted now, "skipped" if all were already
        delivered, "failed" with the error otherwise.
    """
    week = iso_week_monday(digest.week)
    content_hash = digest.content_hash()
    if outbox is not None:
        _write_copies(digest, Path(outbox))
    # An outbox file is not a post: without this, setting a token after a token-less run of
    # the same week would post nothing.
    destination = channel if transport.name == "slack" else f"{transport.name}:{channel}"
    locations: list[str] = []
    thread_ts: str | None = None
    posted = False

    def record(key: str, location: str | None, status: str, error: str | None) -> None:
        ledger.record(key, week=week, audience=digest.audience, channel=channel,
                      content_hash=content_hash, transport=transport.name,
                      location=location, status=status, error=error, run_id=run_id)

    for part, message in enumerate(to_slack_messages(digest)):
        key = delivery_key(digest.week, digest.audience, destination, content_hash, part)
        location = ledger.get(key)
        if location is None:
            message["metadata"] = {
                "event_type": METADATA_EVENT_TYPE,
                "event_payload": {"week": digest.week, "audience": digest.audience,
                                  "part": part, "content_hash": content_hash},
            }
            try:
                location = transport.post(channel, message, thread_ts=thread_ts)
            except DeliveryError as exc:
                record(key, None, "failed", str(exc))
                log.warning("delivery of %s part %d to %s failed: %s",
                            digest.audience, part, channel, exc)
                return DeliveryResult(digest.audience, channel, transport.name, "failed",
                                      tuple(locations), str(exc))
            record(key, location, "sent", None)
            posted = True
        locations.append(location)
        if part == 0:
            thread_ts = location
    return DeliveryResult(digest.audience, channel, transport.name,
                          "sent" if posted else "skipped", tuple(locations))


def iso_week_monday(week: str) -> date:
    """Return the Monday of an ISO week written like "2026-W47".

    Raises:
        ValueError: If `week` is not an ISO week.
    """
    return datetime.strptime(f"{week}-1", "%G-W%V-%u").date()


def _slack_error_code(exc: SlackApiError) -> str:
    data = getattr(exc.response, "data", None)
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"http_{getattr(exc.response, 'status_code', 'error')}"


def _write_copies(digest: Digest, outbox: Path) -> None:
    folder = outbox / _safe_name(digest.week)
    audience = _safe_name(digest.audience)
    try:
        _write_text(folder / f"{audience}.md", to_markdown(digest))
        _write_text(folder / f"{audience}.html", to_html(digest))
    except OSError as exc:
        # The copies are a convenience: they must not stop the messages going out.
        log.warning("could not write the outbox copies of %s: %s", digest.audience, exc)


def _write_text(path: Path, text: str) -> None:
    # Write then rename, so a crash never leaves a half-written file behind.
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _safe_name(text: str) -> str:
    return UNSAFE_NAME_CHARS.sub("-", text.lstrip("#")).strip("-.") or "unnamed"
