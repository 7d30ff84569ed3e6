"""Accounts from a CRM (HubSpot companies), in the accounts-file contract's shape, so the
account ingest and everything after it (renewal risk, CSM alerts) are shared with the file source.
"""

from __future__ import annotations

import time
from typing import Callable

from csintel.config import ConfigError, Settings
from csintel.routing.slack import slack_client
from csintel.sources.credentials import BearerAuth, env_credential
from csintel.sources.crm.directory import MappedDirectory, SlackDirectory, SlackLookup
from csintel.sources.crm.hubspot import HubSpotAccounts
from csintel.sources.crm.mapping import CompanyProperties
from csintel.sources.http import ApiClient, RetryPolicy

TOKEN_ENV = "HUBSPOT_ACCESS_TOKEN"

__all__ = ["CRM_NAMES", "HubSpotAccounts", "crm_sources", "hubspot_accounts", "TOKEN_ENV"]


def hubspot_accounts(settings: Settings, *, directory: SlackDirectory | None = None,
                     retry: RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep) -> HubSpotAccounts:
    """The configured HubSpot account source; raises ConfigError when HUBSPOT_ACCESS_TOKEN is not set.

    CSM Slack ids come from `[sources.hubspot] slack_ids`, then (with SLACK_BOT_TOKEN set) from
    Slack's users.lookupByEmail at `[slack] base_url`; `directory` replaces that lookup.
    """
    config = settings.sources.hubspot
    token = env_credential(TOKEN_ENV, "HubSpot is enabled ([sources.hubspot])", "a private app's token with the "
                           "crm.objects.companies.read and crm.objects.owners.read scopes")
    slack_token = settings.slack_token
    if directory is None and slack_token:
        directory = SlackLookup(slack_client(slack_token, settings.slack.base_url))
    props = CompanyProperties(arr=config.arr_property, renewal_date=config.renewal_property,
                              owner=config.owner_property, account_id=config.account_id_property,
                              plan=config.plan_property, segment=config.segment_property)
    client = ApiClient(config.base_url, credential_env=TOKEN_ENV, auth=BearerAuth(token),
                       retry=retry, sleep=sleep)
    return HubSpotAccounts(client, props, MappedDirectory(config.slack_ids, directory), per_page=config.per_page)


CRM_NAMES = ("hubspot", "crm")   # `--source hubspot` (or `crm`): accounts from the CRM alone


def crm_sources(settings: Settings, only: list[str] | None = None) -> list[HubSpotAccounts]:
    """The CRM account sources to load: with `only` None, HubSpot when enabled; else when named.

    Raises:
        ConfigError: HubSpot named but not enabled, or its token missing.
    """
    if only is None:
        return [hubspot_accounts(settings)] if settings.sources.hubspot.enabled else []
    if not any(name in CRM_NAMES for name in only):
        return []
    if not settings.sources.hubspot.enabled:
        raise ConfigError("hubspot is not configured: set [sources.hubspot] enabled = true in the config")
    return [hubspot_accounts(settings)]
