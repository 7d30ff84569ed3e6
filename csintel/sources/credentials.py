"""The credentials helpdesk and CRM sources read from the environment (never from the config file).

A credential is a `SecretStr` from the moment it is read: its repr and str are masked, so a client,
a source, a log line, an exception or a Prefect parameter that holds one cannot show it. Only the
`requests` auth objects below unwrap it, as each request is sent.
"""

from __future__ import annotations

import os
from typing import Mapping

from pydantic import SecretStr
from requests import PreparedRequest
from requests.auth import AuthBase, HTTPBasicAuth

from csintel.config import ConfigError


def env_credential(name: str, configured: str, export: str,
                   environ: Mapping[str, str] | None = None) -> SecretStr:
    """The value of environment variable `name`, masked.

    Raises:
        ConfigError: `name` is unset or empty; the message says which config section wants it
            (`configured`, e.g. "Intercom is enabled ([sources.intercom])") and what to `export`.
    """
    value = (os.environ if environ is None else environ).get(name)
    if not value:
        raise ConfigError(f"{configured} but {name} is not set: export {export}")
    return SecretStr(value)


class BearerAuth(AuthBase):
    """An access token sent as `Authorization: Bearer ...` (Intercom, HubSpot, Zendesk OAuth).

    An auth object rather than a session header so the plain token exists only in the request
    being sent, not in the session's headers for the client's lifetime.
    """

    def __init__(self, token: SecretStr) -> None:
        self.token = token

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token.get_secret_value()}"
        return request

    def __repr__(self) -> str:
        return f"BearerAuth({self.token!r})"


class BasicAuth(AuthBase):
    """HTTP Basic auth whose secret part stays masked until sent (Freshdesk's key is the user
    name, Zendesk's API token the password)."""

    def __init__(self, user: str | SecretStr, password: str | SecretStr) -> None:
        self.user = user
        self.password = password

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        return HTTPBasicAuth(_reveal(self.user), _reveal(self.password))(request)

    def __repr__(self) -> str:
        return f"BasicAuth({self.user!r}, {self.password!r})"


def _reveal(value: str | SecretStr) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else value
