"""Who a CSM is in Slack: an owner's email to a Slack user id, from the config's table first,
then from Slack's `users.lookupByEmail` when a bot token is set."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

# Slack's answers that mean "no such user here", not a failed call.
_NOT_A_USER = {"users_not_found", "user_not_found"}


class SlackDirectory(Protocol):
    def user_id(self, email: str) -> str | None: ...


@dataclass
class SlackLookup:
    """`users.lookupByEmail` (scope users:read.email), one call per distinct email."""

    client: WebClient
    _cache: dict[str, str | None] = field(default_factory=dict, init=False, repr=False)

    def user_id(self, email: str) -> str | None:
        key = email.lower()
        if key not in self._cache:
            try:
                self._cache[key] = self.client.users_lookupByEmail(email=email)["user"]["id"]
            except SlackApiError as exc:
                if exc.response.get("error") not in _NOT_A_USER:
                    raise
                self._cache[key] = None
        return self._cache[key]


@dataclass
class MappedDirectory:
    """The config's email -> Slack id table, then (for emails not in it) another directory."""

    table: dict[str, str]
    fallback: SlackDirectory | None = None

    def __post_init__(self) -> None:
        self.table = {k.lower(): v for k, v in self.table.items()}

    def user_id(self, email: str) -> str | None:
        found = self.table.get(email.lower())
        if found is None and self.fallback is not None:
            return self.fallback.user_id(email)
        return found
