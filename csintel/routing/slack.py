"""Slack: the one way csintel builds a Slack client, and the transport that posts digests with it.

`slack_client` is used by every caller (the digest transport here, the CSM lookup in
`csintel.sources.crm`), so retries, timeout and base address are set in one place.
"""

from __future__ import annotations

import re
from typing import Any
from datetime import datetime, timedelta, timezone
from itertools import islice

from pydantic import SecretStr
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from csintel.digests.charts import Chart
from csintel.routing.deliver import DeliveryError
from csintel.sources.paging import cursor_pages

SLACK_RETRIES = 3
SLACK_TIMEOUT_S = 30


def slack_client(token: str | SecretStr, base_url: str = "https://slack.com/api/", *,
                 max_retries: int = SLACK_RETRIES, timeout: int = SLACK_TIMEOUT_S) -> WebClient:
    """A WebClient that retries connection errors, 429s (after Retry-After) and 5xx.

    Args:
        token: The bot token (`Settings.slack_token`, or a plain string in tests).
        base_url: `[slack] base_url`: Slack, GovSlack, a proxy or a local fake.
        max_retries: Retries of each kind per call.
        timeout: Seconds per HTTP request.
    """
    secret = token.get_secret_value() if isinstance(token, SecretStr) else token
    # The default handlers retry connection errors only (API_FACTS.md).
    return WebClient(
        token=secret,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=max_retries),
            RateLimitErrorRetryHandler(max_retry_count=max_retries),
            ServerErrorRetryHandler(max_retry_count=max_retries),
        ],
    )


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

# Looking for an interrupted post: Slack's clock and ours may differ, so the search starts this
# long before the `posting` row was written; and it reads at most this many pages of messages.
LOOKUP_SKEW = timedelta(minutes=10)
LOOKUP_PAGE_SIZE = 100
LOOKUP_MAX_PAGES = 50
LOOKUP_HINTS = {
    **SLACK_ERROR_HINTS,
    "missing_scope": ("checking whether an interrupted post reached Slack needs the channels:history "
                      "and groups:history scopes: add them and rerun (nothing is posted twice meanwhile)"),
}


class SlackTransport:
    """Posts with a bot token through slack_sdk's WebClient, retrying 429s and 5xx.

    Uploads need a channel ID where posts take a name too: a configured ID (C..., G...) is
    used as it is, and a name ("#product" or "product") is looked up once per transport in
    conversations.list, which needs the channels:read and groups:read scopes.
    """

    name = "slack"

    def __init__(self, token: str | SecretStr, *, base_url: str = "https://slack.com/api/",
                 max_retries: int = SLACK_RETRIES, timeout: int = SLACK_TIMEOUT_S) -> None:
        self._client = slack_client(token, base_url, max_retries=max_retries, timeout=timeout)
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

    def find(self, channel: str, metadata: dict, *, thread_ts: str | None, since: datetime,
             chart: Chart | None = None) -> str | None:
        """Look for a part posted at or after `since`: its ts, or the chart's file id, or None.

        A top-level part is searched in `conversations.history`, a thread reply (and the chart)
        in `conversations.replies` of its thread, with `include_all_metadata` so each message's
        metadata comes back; a message matches when its event type and payload equal ours.

        Raises:
            DeliveryError: When Slack cannot be searched (e.g. the token lacks channels:history);
                the caller then posts nothing, so nothing is doubled.
        """
        channel_id = self._channel_id(channel)
        oldest = f"{(since.replace(tzinfo=timezone.utc) - LOOKUP_SKEW).timestamp():.6f}"

        def fetch(cursor: str | None) -> Any:
            if thread_ts is None:
                return self._client.conversations_history(
                    channel=channel_id, oldest=oldest, include_all_metadata=True,
                    limit=LOOKUP_PAGE_SIZE, cursor=cursor)
            return self._client.conversations_replies(
                channel=channel_id, ts=thread_ts, oldest=oldest, include_all_metadata=True,
                limit=LOOKUP_PAGE_SIZE, cursor=cursor)

        try:
            for response in islice(cursor_pages(fetch, _next_cursor), LOOKUP_MAX_PAGES):
                for message in response.get("messages") or []:
                    found = _match(message, metadata, chart, thread_ts)
                    if found is not None:
                        return found
                if not _next_cursor(response):
                    return None
        except SlackApiError as exc:
            raise _api_error(exc, LOOKUP_HINTS) from exc
        except (SlackClientError, OSError) as exc:
            raise DeliveryError(f"could not reach Slack: {exc}") from exc
        raise DeliveryError(f"more than {LOOKUP_MAX_PAGES * LOOKUP_PAGE_SIZE} messages since the "
                            f"interrupted post in {channel}: cannot tell whether it reached Slack")

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
        def fetch(cursor: str | None) -> Any:
            return self._client.conversations_list(
                types=CHANNEL_TYPES, exclude_archived=True, limit=CHANNEL_PAGE_SIZE, cursor=cursor)

        try:
            return {c["name"]: c["id"] for response in cursor_pages(fetch, _next_cursor)
                    for c in response.get("channels") or []}
        except SlackApiError as exc:
            raise _api_error(exc, CHANNEL_LIST_HINTS) from exc
        except (SlackClientError, OSError) as exc:
            raise DeliveryError(f"could not reach Slack: {exc}") from exc


def _next_cursor(response: Any) -> str | None:
    return (response.get("response_metadata") or {}).get("next_cursor")


def _match(message: dict, metadata: dict, chart: Chart | None, thread_ts: str | None) -> str | None:
    """The message's ts (or its chart file's id) when it is the part we look for, else None."""
    if chart is not None:
        for file in message.get("files") or []:
            if file.get("name") == chart.filename and file.get("title") == chart.title:
                return str(file["id"])
        return None
    if thread_ts is not None and message.get("ts") == thread_ts:
        return None   # conversations.replies lists the thread's parent first
    found = message.get("metadata") or {}
    if found.get("event_type") != metadata["event_type"]:
        return None
    # Slack may hand payload values back with other JSON types ("0" for 0): compare as text.
    def text(payload: dict) -> dict[str, str]:
        return {str(k): str(v) for k, v in (payload or {}).items()}
    if text(found.get("event_payload") or {}) != text(metadata["event_payload"]):
        return None
    return str(message["ts"])


def _api_error(exc: SlackApiError, hints: dict[str, str]) -> DeliveryError:
    code = _slack_error_code(exc)
    hint = hints.get(code)
    return DeliveryError(f"{code}: {hint}" if hint else code)


def _slack_error_code(exc: SlackApiError) -> str:
    data = getattr(exc.response, "data", None)
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"http_{getattr(exc.response, 'status_code', 'error')}"
