"""The Zendesk Support API calls csintel needs, over the shared bounded-retry `ApiClient`."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import Executor
from typing import Any, Callable, Iterable, Iterator, Mapping

from pydantic import SecretStr
from requests.auth import AuthBase

from csintel.config import ConfigError, ZendeskConfig
from csintel.sources.credentials import BasicAuth, BearerAuth
from csintel.sources.http import ApiClient, ApiError, RetryPolicy
from csintel.sources.paging import cursor_pages
from csintel.sources.zendesk import settings as api

TOKEN_ENV = "ZENDESK_API_TOKEN"
Conversation = tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]   # comments, their authors by id
OAUTH_ENV = "ZENDESK_OAUTH_TOKEN"


def base_url(config: ZendeskConfig) -> str:
    return config.base_url or f"https://{config.subdomain}.zendesk.com"


def credentials(config: ZendeskConfig, environ: Mapping[str, str] | None = None) -> tuple[AuthBase, str]:
    """(auth, variable name) from the environment; OAuth wins when both are set. The token stays
    a SecretStr inside the auth until a request is sent.

    Raises:
        ConfigError: no credential, or an API token without the agent's email.
    """
    env = os.environ if environ is None else environ
    if env.get(OAUTH_ENV):
        return BearerAuth(SecretStr(env[OAUTH_ENV])), OAUTH_ENV
    if env.get(TOKEN_ENV):
        if not config.email:
            raise ConfigError(f"{TOKEN_ENV} is set but sources.zendesk.email is not: an API token signs in "
                              f"as '<agent email>/token', so set the agent's email in [sources.zendesk]")
        return BasicAuth(f"{config.email}/token", SecretStr(env[TOKEN_ENV])), TOKEN_ENV
    raise ConfigError(f"Zendesk is configured ([sources.zendesk] {'base_url' if config.base_url else 'subdomain'}) "
                      f"but no credential is set: export {TOKEN_ENV} (with sources.zendesk.email) or {OAUTH_ENV}")


class ZendeskClient:
    """Export pages, conversations and look-ups. Safe to use from several threads: each thread
    gets its own HTTP session (connection pool), built by `make_api`."""

    def __init__(self, make_api: Callable[[], ApiClient], config: ZendeskConfig) -> None:
        self._make_api = make_api
        self._local = threading.local()
        self.config = config

    @classmethod
    def from_config(cls, config: ZendeskConfig, *, retry: RetryPolicy | None = None,
                    sleep: Callable[[float], None] = time.sleep) -> ZendeskClient:
        auth, env = credentials(config)
        url = base_url(config)
        return cls(lambda: ApiClient(url, credential_env=env, auth=auth, retry=retry, sleep=sleep), config)

    @property
    def api(self) -> ApiClient:
        api = getattr(self._local, "api", None)
        if api is None:
            api = self._local.api = self._make_api()
        return api

    def export_pages(self, *, cursor: str | None, start_time: int) -> Iterator[dict[str, Any]]:
        """Incremental export payloads from `cursor` (or from `start_time` when None) to the end
        of the stream. The next request is built from `after_cursor` against our base address
        (not `after_url`), so a proxy or EU base_url stays in the path."""
        def export(after: str | None) -> dict[str, Any]:
            params: dict[str, Any] = {"per_page": self.config.page_size, "include": api.EXPORT_INCLUDE}
            params.update({"cursor": after} if after else {"start_time": start_time})
            return self.api.get_json(api.EXPORT_PATH, params)

        return cursor_pages(export, lambda d: None if d.get("end_of_stream") else d.get("after_cursor"), first=cursor)

    def conversation(self, ticket_id: int) -> Conversation | None:
        """A ticket's comments (oldest first) and their authors; None when the ticket is gone."""
        comments: list[dict[str, Any]] = []
        users: dict[int, dict[str, Any]] = {}
        pages = self._linked_pages(api.COMMENTS_PATH.format(ticket_id=ticket_id),
                                   {"page[size]": self.config.comments_page_size, "include": api.COMMENTS_INCLUDE})
        try:
            for data in pages:
                comments.extend(data.get("comments") or [])
                users.update((u["id"], u) for u in data.get("users") or [] if "id" in u)
        except ApiError as exc:
            if exc.status == 404:   # deleted between the export and now
                return None
            raise
        return comments, users

    def conversations(self, ticket_ids: list[int], pool: Executor | None = None) -> list[Conversation | None]:
        """`conversation` for each id, in order; on `pool`'s threads when given."""
        if pool is None or len(ticket_ids) <= 1:
            return [self.conversation(t) for t in ticket_ids]
        return list(pool.map(self.conversation, ticket_ids))

    def users(self, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        return self._show_many(api.USERS_PATH, "users", ids)

    def organizations(self, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        return self._show_many(api.ORGANIZATIONS_PATH, "organizations", ids)

    def ticket_field_labels(self) -> dict[int, str]:
        """Custom field id -> its title, for naming `custom_fields` values."""
        labels: dict[int, str] = {}
        for data in self._linked_pages(api.TICKET_FIELDS_PATH, {"page[size]": api.TICKET_FIELDS_PAGE}):
            labels.update((f["id"], str(f.get("title") or f["id"])) for f in data.get("ticket_fields") or []
                          if "id" in f)
        return labels

    def _linked_pages(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """A list's pages: `path` with `params`, then each page's next link as it is given."""
        return cursor_pages(lambda link: self.api.get_json(link, None) if link else self.api.get_json(path, params),
                            _next_link)

    def _show_many(self, path: str, key: str, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        wanted = sorted(set(ids))
        found: dict[int, dict[str, Any]] = {}
        for i in range(0, len(wanted), api.SHOW_MANY_IDS):
            chunk = wanted[i:i + api.SHOW_MANY_IDS]
            data = self.api.get_json(path, {"ids": ",".join(map(str, chunk))})
            found.update((item["id"], item) for item in data.get(key) or [] if "id" in item)
        return found


def _next_link(data: dict[str, Any]) -> str | None:
    """The next page's absolute URL: cursor paging (`meta.has_more` + `links.next`) or the older
    offset paging (`next_page`)."""
    meta, links = data.get("meta") or {}, data.get("links") or {}
    if meta.get("has_more") and links.get("next"):
        return str(links["next"])
    if "meta" not in data and data.get("next_page"):
        return str(data["next_page"])
    return None
