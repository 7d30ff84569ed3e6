"""The helpdesk registry: source name -> (is it configured?, how to build it).

Adding a helpdesk is one entry here plus its package under csintel/sources/.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from csintel.config import ConfigError, Settings
from csintel.sources import IncrementalSource
from csintel.sources.freshdesk import freshdesk_source
from csintel.sources.intercom import intercom_source
from csintel.sources.zendesk import zendesk_source


class Helpdesk(NamedTuple):
    enabled: Callable[[Settings], bool]          # its config section names an account
    build: Callable[[Settings], IncrementalSource]
    how_to_enable: str                           # said when asked for by name but not configured


HELPDESKS: dict[str, Helpdesk] = {
    "zendesk": Helpdesk(lambda s: s.sources.zendesk.enabled, zendesk_source,
                        "set [sources.zendesk] subdomain (or base_url)"),
    "freshdesk": Helpdesk(lambda s: s.sources.freshdesk.enabled, freshdesk_source,
                          "set [sources.freshdesk] domain (or base_url)"),
    "intercom": Helpdesk(lambda s: s.sources.intercom.enabled, intercom_source,
                         "set [sources.intercom] enabled = true"),
}


def helpdesk_sources(settings: Settings, only: list[str] | None = None) -> list[IncrementalSource]:
    """The helpdesks to sync: `only` by name (each must be configured), else every configured one.

    Raises:
        ConfigError: an unknown name, a named helpdesk that is not configured, or a missing credential.
    """
    if only is None:
        return [h.build(settings) for h in HELPDESKS.values() if h.enabled(settings)]
    sources = []
    for name in dict.fromkeys(only):
        helpdesk = HELPDESKS.get(name)
        if helpdesk is None:
            raise ConfigError(f"unknown source '{name}' (helpdesks: {', '.join(HELPDESKS)}; "
                              f"'file' for the [sources] files, 'hubspot' for CRM accounts)")
        if not helpdesk.enabled(settings):
            raise ConfigError(f"{name} is not configured: {helpdesk.how_to_enable} in the config")
        sources.append(helpdesk.build(settings))
    return sources
