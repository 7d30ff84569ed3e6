"""Freshdesk: resolved and closed tickets, incrementally, with their conversations.

`FreshdeskSource.pages(state)` lists tickets by `updated_at` from the saved watermark (or from
`[sources.freshdesk] start`) and yields each page's closed tickets as raw rows plus the
watermark after the page. See source.py for how the 300-page cap is handled.
"""

from __future__ import annotations

import time
from typing import Callable

from csintel.config import Settings
from csintel.sources.credentials import BasicAuth, env_credential
from csintel.sources.freshdesk.source import FreshdeskSource
from csintel.sources.http import ApiClient, RetryPolicy
from csintel.sources.watermark import first_sync_start

KEY_ENV = "FRESHDESK_API_KEY"

__all__ = ["FreshdeskSource", "freshdesk_source", "KEY_ENV"]


def freshdesk_source(settings: Settings, *, retry: RetryPolicy | None = None,
                     sleep: Callable[[float], None] = time.sleep) -> FreshdeskSource:
    """The configured Freshdesk source; raises ConfigError when FRESHDESK_API_KEY is not set."""
    config = settings.sources.freshdesk
    key = env_credential(KEY_ENV, "Freshdesk is configured ([sources.freshdesk])",
                         "the API key of an agent who can see all tickets (Profile settings > API key)")
    # Freshdesk's Basic auth: the key as user name, any password ("X" by convention).
    client = ApiClient(config.url, credential_env=KEY_ENV, auth=BasicAuth(key, "X"), retry=retry, sleep=sleep)
    return FreshdeskSource(client, start=first_sync_start(config.start), per_page=config.per_page,
                           account_from_company=config.account_match == "company",
                           include_private_notes=config.include_private_notes,
                           satisfaction=config.satisfaction)
