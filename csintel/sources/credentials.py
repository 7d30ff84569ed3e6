"""The credentials helpdesk and CRM sources read from the environment (never from the config file)."""

from __future__ import annotations

import os
from typing import Mapping

from csintel.config import ConfigError


def env_credential(name: str, configured: str, export: str, environ: Mapping[str, str] | None = None) -> str:
    """The value of environment variable `name`.

    Raises:
        ConfigError: `name` is unset or empty; the message says which config section wants it
            (`configured`, e.g. "Intercom is enabled ([sources.intercom])") and what to `export`.
    """
    value = (os.environ if environ is None else environ).get(name)
    if not value:
        raise ConfigError(f"{configured} but {name} is not set: export {export}")
    return value


def bearer(token: str) -> dict[str, str]:
    """The header that sends an access token (Intercom, HubSpot, Zendesk OAuth)."""
    return {"Authorization": f"Bearer {token}"}
