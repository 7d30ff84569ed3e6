"""Deliver rendered digests exactly once: to Slack, or to a local outbox folder.

Every message part, and the digest's chart image if any, is recorded in a ledger as soon as it
is posted, keyed on week, audience, channel, content hash and part number, so a rerun posts only
what is missing and a rerun of the same content posts nothing.
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

from csintel.digests.charts import Chart
from csintel.digests.content import Digest
from csintel.routing.render import to_html, to_markdown, to_slack_messages
from csintel.warehouse import query
from csintel.weeks import parse_week

log = logging.getLogger(__name__)

# Slack's message metadata carries week, audience and part with each message: Slack keeps it
# (so a posted digest can be found again) and the outbox names its files from it.
METADATA_EVENT_TYPE = "csintel_digest"

# The ledger's part number of a digest's chart; message parts count up from 0.
CHART_PART = -1

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
# Where uploading a file or listing channels needs other advice than posting.
UPLOAD_ERROR_HINTS = {
    **SLACK_ERROR_HINTS,
    "missing_scope": "the bot token needs the files:write scope to upload the chart",
}
CHANNEL_LIST_HINTS = {
    **SLACK_ERROR_HINTS,
    "missing_scope": ("resolving channel names needs the channels:read and groups:read scopes: "
                      "add them, or give channel IDs (C...) in [routing]"),
}

# Slack channel names are lowercase, so an uppercase C/G/D-prefixed word is always an ID.
SLACK_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,}")
# Private channels are listed too (only those the bot is in, which it must be to post).
CHANNEL_TYPES = "public_channel,private_channel"
CHANNEL_PAGE_SIZE = 200

UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")


class DeliveryError(Exception):
    """A message could not be delivered; the text says why and what to check."""


class Transport(Protocol):
    """Where messages go: Slack, or files."""

    name: str

    def post(self, channel: str, message: dict, *, thread_ts: str | None = None) -> str:
        """Post one message and return its location (a Slack ts or a file path)."""
        ...

    def upload(self, channel: str, chart: Chart, *, thread_ts: str | None = None,
               metadata: dict | None = None) -> str:
        """Upload an image and return its location (a Slack file id or a file path).

        `metadata` has the shape of a message's metadata (week and audience in its
        event_payload): the outbox names its file from it.
        """
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
    locations: tuple[str, ...]        # of the message parts
    error: str | None = None
    chart_location: str | None = None  # the chart's Slack file id or outbox path, once delivered


class SlackTransport:
    """Posts with a bot token through slack_sdk's WebClient, retrying 429s and 5xx.

    Uploads need a channel ID where posts take a name too: a configured ID (C..., G...) is
    used as it is, and a name ("#product" or "product") is looked up once per transport in
    conversations.list, which needs the channels:read and groups:read scopes.
    """

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
        self._channel_ids: dict[str, str] | None = None   # name -> id, filled on first need

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
            raise _api_error(exc, SLACK_ERROR_HINTS) from exc
        except (SlackClientError, OSError) as exc:
            raise DeliveryError(f"could not reach Slack: {exc}") from exc
        return str(response["ts"])

    def upload(self, channel: str, chart: Chart, *, thread_ts: str | None = None,
               metadata: dict | None = None) -> str:
        """Upload a PNG with files_upload_v2 and return its file id; `metadata` is unused.

        Raises:
            DeliveryError: If the channel cannot be resolved to an ID, or with Slack's error
                code and a hint once retries are spent. The upload of the bytes themselves
                (to Slack's upload URL) is not retried by slack_sdk.
        """
        channel_id = self._channel_id(channel)
        try:
            response = self._client.files_upload_v2(
                channel=channel_id, file=chart.png, filename=chart.filename, title=chart.title,
                alt_txt=chart.title, thread_ts=thread_ts)
        except SlackApiError as exc:
            raise _api_error(exc, UPLOAD_ERROR_HINTS) from exc
        except (SlackClientError, OSError) as exc:
            raise DeliveryError(f"could not upload {chart.filename} to Slack: {exc}") from exc
        return str(response["files"][0]["id"])

    def _channel_id(self, channel: str) -> str:
        name = channel.lstrip("#")
        if SLACK_CHANNEL_ID.fullmatch(name):
            return name
        if self._channel_ids is None:
            self._channel_ids = self._list_channels()
        channel_id = self._channel_ids.get(name.lower())
        if channel_id is None:
            raise DeliveryError(
                f"channel_not_found: the bot sees no channel named #{name}: check the channel "
                "name in [routing], invite the bot to it, or give its channel ID (C...)")
        return channel_id

    def _list_channels(self) -> dict[str, str]:
        ids: dict[str, str] = {}
        cursor: str | None = None
        try:
            while True:
                response = self._client.conversations_list(
                    types=CHANNEL_TYPES, exclude_archived=True, limit=CHANNEL_PAGE_SIZE,
                    cursor=cursor)
                ids.update((c["name"], c["id"]) for c in response.get("channels") or [])
                cursor = (response.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    return ids
        except SlackApiError as exc:
            raise _api_error(exc, CHANNEL_LIST_HINTS) from exc
        except (SlackClientError, OSError) as exc:
            raise DeliveryError(f"could not reach Slack: {exc}") from exc


class OutboxTransport:
    """Writes each message as pretty JSON, and each chart as a PNG, when no Slack token is set."""

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
        week, audience, part = _outbox_fields(message.get("metadata"))
        suffix = f"--part-{part + 1}" if part else ""
        path = self._path(week, audience, channel, f"{suffix}.blocks.json")
        _write_outbox(path, (json.dumps(message, indent=2, ensure_ascii=False) + "\n").encode())
        return str(path)

    def upload(self, channel: str, chart: Chart, *, thread_ts: str | None = None,
               metadata: dict | None = None) -> str:
        """Write the PNG to `<folder>/<week>/<audience>--<channel>.png`.

        Week and audience come from `metadata`, shaped like a message's metadata.

        Raises:
            DeliveryError: If the metadata is missing or the file cannot be written.
        """
        week, audience, _ = _outbox_fields(metadata)
        path = self._path(week, audience, channel, ".png")
        _write_outbox(path, chart.png)
        return str(path)

    def _path(self, week: str, audience: str, channel: str, suffix: str) -> Path:
        return (self.folder / _safe_name(week)
                / f"{_safe_name(audience)}--{_safe_name(channel)}{suffix}")


class DuckDBLedger:
    """The ledger in `store.deliveries` (sql/migrations/001_init.sql)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def get(self, key: str) -> str | None:
        """Return the location of a part delivered under `key`; failed rows do not count."""
        row = self._con.execute(query("ledger_get"), [key]).fetchone()
        return None if row is None else str(row[0])

    def record(self, key: str, *, week: date, audience: str, channel: str, content_hash: str,
               transport: str, location: str | None, status: str, error: str | None,
               run_id: str | None) -> None:
        """Insert or replace the row for `key`."""
        delivered_at = datetime.now(timezone.utc).replace(tzinfo=None)
        self._con.execute(query("ledger_record"), [key, week, audience, channel, content_hash, transport,
                                       location, status, error, delivered_at, run_id])


def delivery_key(week: str, audience: str, channel: str, content_hash: str, part: int = 0) -> str:
    """Return the ledger key of one message part.

    Args:
        week: ISO week, e.g. "2026-W47".
        audience: The digest's audience.
        channel: The destination channel.
        content_hash: `Digest.content_hash()`.
        part: 0 for the top-level post, then 1, 2, ... for thread replies; CHART_PART for
            the chart image.

    Returns:
        A 32-character hex digest.
    """
    # JSON keeps the fields apart, so ("a-b", "c") and ("a", "b-c") cannot collide.
    payload = json.dumps([week, audience, channel, content_hash, part])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def deliver(digest: Digest, channel: str, transport: Transport, ledger: Ledger, *,
            run_id: str | None = None, outbox: Path | None = None,
            chart: Chart | None = None) -> DeliveryResult:
    """Post a digest's parts that the ledger lacks, recording each part as soon as it is posted.

    Parts after the first go into the first part's thread, and so does the chart, uploaded once
    every part is delivered. A failed post or upload is recorded and returned, not raised, so
    other audiences still go out; the next run retries only what failed.

    Args:
        digest: The digest to deliver.
        channel: Slack channel (name or id), also used in outbox file names.
        transport: Where to post.
        ledger: The record of delivered parts.
        run_id: The pipeline run, recorded with each part.
        outbox: If given, also write `<outbox>/<week>/<audience>.md` and `.html` copies.
        chart: An image to upload into the digest's thread, keyed in the ledger on the
            digest's content (a different chart for the same digest is not uploaded again).

    Returns:
        The outcome: "sent" if any part or the chart was delivered now, "skipped" if all were
        already delivered, "failed" with the error otherwise.
    """
    week = parse_week(digest.week).start
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
            message["metadata"] = _metadata(digest, part, content_hash)
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
    chart_location: str | None = None
    if chart is not None:
        key = delivery_key(digest.week, digest.audience, destination, content_hash, CHART_PART)
        chart_location = ledger.get(key)
        if chart_location is None:
            try:
                chart_location = transport.upload(
                    channel, chart, thread_ts=thread_ts,
                    metadata=_metadata(digest, CHART_PART, content_hash))
            except DeliveryError as exc:
                record(key, None, "failed", str(exc))
                log.warning("upload of %s's chart to %s failed: %s", digest.audience, channel, exc)
                return DeliveryResult(digest.audience, channel, transport.name, "failed",
                                      tuple(locations), str(exc))
            record(key, chart_location, "sent", None)
            posted = True
    return DeliveryResult(digest.audience, channel, transport.name,
                          "sent" if posted else "skipped", tuple(locations),
                          chart_location=chart_location)


def _metadata(digest: Digest, part: int, content_hash: str) -> dict:
    return {
        "event_type": METADATA_EVENT_TYPE,
        "event_payload": {"week": digest.week, "audience": digest.audience,
                          "part": part, "content_hash": content_hash},
    }


def _outbox_fields(metadata: dict | None) -> tuple[str, str, int]:
    """Return week, audience and part from a message's metadata, for outbox file names."""
    try:
        payload = metadata["event_payload"]  # type: ignore[index]
        return str(payload["week"]), str(payload["audience"]), int(payload["part"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DeliveryError("outbox message lacks week/audience/part metadata") from exc


def _write_outbox(path: Path, data: bytes) -> None:
    try:
        _write_bytes(path, data)
    except OSError as exc:
        raise DeliveryError(f"could not write the outbox file {path}: {exc}") from exc


def _api_error(exc: SlackApiError, hints: dict[str, str]) -> DeliveryError:
    code = _slack_error_code(exc)
    hint = hints.get(code)
    return DeliveryError(f"{code}: {hint}" if hint else code)


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
    _write_bytes(path, text.encode("utf-8"))


def _write_bytes(path: Path, data: bytes) -> None:
    # Write then rename, so a crash never leaves a half-written file behind.
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _safe_name(text: str) -> str:
    return UNSAFE_NAME_CHARS.sub("-", text.lstrip("#")).strip("-.") or "unnamed"
