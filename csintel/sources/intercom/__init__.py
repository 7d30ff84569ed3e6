"""Intercom: closed conversations, incrementally, with their parts.

`IntercomSource.pages(state)` searches closed conversations by `updated_at` from the saved
watermark (or from `[sources.intercom] start`) and yields each page as raw rows plus the
watermark after the page.
"""

from __future__ import annotations

import time
from typing import Callable

from csintel.config import Settings
from csintel.sources.credentials import BearerAuth, env_credential
from csintel.sources.http import ApiClient, RetryPolicy
from csintel.sources.intercom.source import IntercomSource
from csintel.sources.watermark import first_sync_start

TOKEN_ENV = "INTERCOM_ACCESS_TOKEN"

__all__ = ["IntercomSource", "intercom_source", "TOKEN_ENV"]


def intercom_source(settings: Settings, *, retry: RetryPolicy | None = None,
                    sleep: Callable[[float], None] = time.sleep) -> IntercomSource:
    """The configured Intercom source; raises ConfigError when INTERCOM_ACCESS_TOKEN is not set."""
    config = settings.sources.intercom
    token = env_credential(TOKEN_ENV, "Intercom is enabled ([sources.intercom])",
                           "the access token of your Intercom app (Developer Hub > your app > Authentication)")
    client = ApiClient(config.base_url, credential_env=TOKEN_ENV, auth=BearerAuth(token),
                       headers={"Intercom-Version": config.api_version}, retry=retry, sleep=sleep)
    return IntercomSource(client, start=first_sync_start(config.start), per_page=config.per_page,
                          account_from_company=config.account_match == "company",
                          include_notes=config.include_notes)
