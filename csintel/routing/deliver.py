"""Deliver rendered digests exactly once: to Slack, or to a local outbox folder.

Every message part, and the digest's chart image if any, is recorded in a ledger keyed on week,
audience, channel, content hash and part number, so a rerun posts only what is missing and a
rerun of the same content posts nothing.

Exactly once under any kill: before each Slack call the part is recorded as `posting` (and
committed), and only after Slack answers as `sent` with its location. A process killed between
the two leaves a `posting` row. The next run does not post that part blindly: it first looks for
the message in Slack by the metadata every part carries (`chat.postMessage` `metadata`, read back
with `conversations.history` / `conversations.replies` and `include_all_metadata`), or for the
chart by its file name in the digest's thread, and records what it finds as `sent`. Only a part
Slack does not have is posted again.

The Slack transport is in `csintel.routing.slack`; the outbox transport and the ledger are here.
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
from typing import Callable, Protocol

import duckdb

from csintel.digests.charts import Chart
from csintel.digests.content import Digest
from csintel.routing.blocks import to_slack_messages
from csintel.routing.render import to_html, to_markdown
from csintel.warehouse import query
from csintel.weeks import parse_week

log = logging.getLogger(__name__)

# Slack's message metadata carries week, audience and part with each message: Slack keeps it
# (so a posted digest can be found again) and the outbox names its files from it.
METADATA_EVENT_TYPE = "csintel_digest"

# The ledger's part number of a digest's chart; message parts count up from 0.
CHART_PART = -1

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

    def find(self, channel: str, metadata: dict, *, thread_ts: str | None, since: datetime,
             chart: Chart | None = None) -> str | None:
        """Return the location of a message (or, with `chart`, an upload) that a killed run may
        have delivered at or after `since` (naive UTC), or None when it is not there.

        A transport whose posts overwrite the same place (the outbox) may always answer None.
        """
        ...


class Ledger(Protocol):
    """The record of delivered message parts."""

    def get(self, key: str) -> str | None:
        """Return the location recorded for a delivered part, or None."""
        ...

    def posting_since(self, key: str) -> datetime | None:
        """When a post of this part began and never recorded its end (naive UTC), or None."""
        ...

    def record(self, key: str, *, week: date, audience: str, channel: str, content_hash: str,
               transport: str, location: str | None, status: str, error: str | None,
               run_id: str | None) -> None:
        """Record one attempt to deliver a part: "posting" (before the call), then "sent" or "failed"."""
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

    def find(self, channel: str, metadata: dict, *, thread_ts: str | None, since: datetime,
             chart: Chart | None = None) -> str | None:
        """Always None: a repeated post rewrites the same file (atomically), so nothing doubles."""
        return None

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

    def posting_since(self, key: str) -> datetime | None:
        """When the post of `key` began, if a run recorded `posting` and never its outcome."""
        row = self._con.execute("SELECT delivered_at FROM store.deliveries "
                                "WHERE delivery_key = ? AND status = 'posting'", [key]).fetchall()
        return row[0][0] if row else None

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
    """Post a digest's parts that the ledger lacks, recording each part before and after its post.

    Parts after the first go into the first part's thread, and so does the chart, uploaded once
    every part is delivered. A failed post or upload is recorded and returned, not raised, so
    other audiences still go out; the next run retries only what failed. A part left `posting`
    by a killed run is first looked for in Slack (see the module's docstring) and posted again
    only if it is not there.

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
        The outcome: "sent" if any part or the chart was delivered now (or found delivered by
        an interrupted run), "skipped" if all were already recorded, "failed" with the error
        otherwise.
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

    def failed(what: str, exc: DeliveryError) -> DeliveryResult:
        log.warning("%s of the %s digest to %s failed: %s", what, digest.audience, channel, exc)
        return DeliveryResult(digest.audience, channel, transport.name, "failed",
                              tuple(locations), str(exc))

    def once(key: str, part: int, send: Callable[[], str]) -> str:
        """The part's location: recorded, found after an interrupted post, or posted now."""
        nonlocal posted
        location = ledger.get(key)
        if location is not None:
            return location
        since = ledger.posting_since(key)
        if since is not None:
            try:
                location = transport.find(channel, _metadata(digest, part, content_hash),
                                          thread_ts=thread_ts, since=since,
                                          chart=chart if part == CHART_PART else None)
            except DeliveryError as exc:
                # The `posting` row stays: posting now could double the message.
                raise DeliveryError(f"a run was cut off while posting this and Slack could not be "
                                    f"checked for it, so it is not posted again yet: {exc}") from exc
            if location is not None:
                log.info("found the %s digest's part %d in %s, posted by an interrupted run",
                         digest.audience, part, channel)
                record(key, location, "sent", None)
                posted = True
                return location
        # Committed before the call: a kill from here on leaves a trace the next run checks.
        record(key, None, "posting", None)
        try:
            location = send()
        except DeliveryError as exc:
            # Slack refused (or never got) it: nothing to look for, a rerun posts it.
            record(key, None, "failed", str(exc))
            raise
        record(key, location, "sent", None)
        posted = True
        return location

    for part, message in enumerate(to_slack_messages(digest)):
        key = delivery_key(digest.week, digest.audience, destination, content_hash, part)
        message["metadata"] = _metadata(digest, part, content_hash)
        try:
            location = once(key, part, lambda: transport.post(channel, message, thread_ts=thread_ts))
        except DeliveryError as exc:
            return failed(f"part {part + 1}" if part else "the message", exc)
        locations.append(location)
        if part == 0:
            thread_ts = location
    chart_location: str | None = None
    if chart is not None:
        key = delivery_key(digest.week, digest.audience, destination, content_hash, CHART_PART)
        upload_chart = chart
        try:
            chart_location = once(key, CHART_PART, lambda: transport.upload(
                channel, upload_chart, thread_ts=thread_ts,
                metadata=_metadata(digest, CHART_PART, content_hash)))
        except DeliveryError as exc:
            return failed(f"the chart {chart.filename}", exc)
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
