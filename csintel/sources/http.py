"""One small HTTP client for every helpdesk and CRM API: timeouts, bounded retries, no secrets.

Retries cover what a later attempt can fix: connection errors, timeouts, 5xx, 429 (honouring
`Retry-After`) and a body that is not JSON (a proxy or load balancer answering for the API).
Everything else is an `ApiError` at once. Messages carry the method, the URL without its query
string's secrets, the status and a body excerpt, never the credential.
"""

from __future__ import annotations

import email.utils
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests

log = logging.getLogger(__name__)

# Query parameters whose values are never shown (some APIs accept a key in the URL).
_SECRET_PARAMS = {"api_key", "apikey", "key", "token", "access_token", "hapikey", "password", "secret"}
_EXCERPT_CHARS = 300


class ApiError(RuntimeError):
    """A non-retryable HTTP failure, or one whose retries ran out."""

    def __init__(self, message: str, *, status: int | None = None, url: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.url = url


class ApiAuthError(ApiError):
    """401 or 403: the credential is missing, wrong, or lacks a permission."""


@dataclass
class RetryPolicy:
    max_retries: int = 5           # attempts after the first; then ApiError
    backoff_s: float = 1.0         # first wait; doubles each retry
    max_backoff_s: float = 60.0    # cap for the doubling and for a server's Retry-After
    fallback_wait_s: float = 10.0  # a 429 without Retry-After (Zendesk sends some)
    timeout_s: float = 30.0        # connect and read timeout of each request


class _Retry(Exception):
    """Internal: this attempt failed in a way a later one may not."""

    def __init__(self, reason: str, wait_s: float | None = None, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait_s = wait_s
        self.status = status


class ApiClient:
    """JSON over HTTP against one API's base address.

    Args:
        base_url: the API root; relative paths are joined to it (EU domains, proxies and local
            fakes are just another base_url).
        credential_env: the environment variable the credential came from, named in auth errors.
        auth: anything `requests` accepts as `auth`; the sources pass the `BearerAuth` or
            `BasicAuth` of sources/credentials.py, which keep the credential masked until sent.
        headers: extra headers on every request (never a credential: they are kept in plain text).
        retry: retry and timeout settings.
        session: an existing session (connection pooling, tests).
        sleep: how to wait between retries; tests pass a recorder.
    """

    def __init__(self, base_url: str, *, credential_env: str, auth: Any = None,
                 headers: dict[str, str] | None = None, retry: RetryPolicy | None = None,
                 session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.credential_env = credential_env
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._session = session or requests.Session()
        if auth is not None:
            self._session.auth = auth
        self._session.headers.update({"Accept": "application/json", **(headers or {})})

    def __repr__(self) -> str:
        # The auth's kind only: a (user, password) tuple or a third-party auth may show its secret.
        auth = type(self._session.auth).__name__ if self._session.auth is not None else None
        return f"ApiClient({self.base_url!r}, credential_env={self.credential_env!r}, auth={auth})"

    def url(self, path_or_url: str) -> str:
        """An absolute next-page URL as given; a relative path joined to base_url."""
        if urlsplit(path_or_url).scheme:
            return path_or_url
        return urljoin(self.base_url, path_or_url.lstrip("/"))

    def get_json(self, path_or_url: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._request("GET", self.url(path_or_url), params=params)

    def get_json_or_none(self, path_or_url: str, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """GET a record that may have been deleted since something named it: None on 404."""
        try:
            return self.get_json(path_or_url, params)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def get_list(self, path_or_url: str, params: dict[str, Any] | None = None) -> list[Any]:
        """GET an endpoint whose body is a JSON array (Freshdesk's lists)."""
        return self._request("GET", self.url(path_or_url), expect=list, params=params)

    def post_json(self, path_or_url: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._request("POST", self.url(path_or_url), json=body)

    def _request(self, method: str, url: str, expect: type = dict, **kwargs: Any) -> Any:
        policy = self.retry
        shown = safe_url(url, kwargs.get("params"))
        for attempt in range(policy.max_retries + 1):
            try:
                return self._attempt(method, url, shown, expect, **kwargs)
            except _Retry as exc:
                if attempt == policy.max_retries:
                    raise ApiError(f"{method} {shown} failed after {attempt + 1} attempts: {exc.reason}",
                                   status=exc.status, url=shown) from None
                wait = exc.wait_s if exc.wait_s is not None else policy.backoff_s * (2 ** attempt)
                wait = min(max(wait, 0.0), policy.max_backoff_s)
                log.warning("%s %s: %s; retry %d/%d in %.1f s", method, shown, exc.reason,
                            attempt + 1, policy.max_retries, wait)
                self._sleep(wait)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _attempt(self, method: str, url: str, shown: str, expect: type, **kwargs: Any) -> Any:
        try:
            resp = self._session.request(method, url, timeout=self.retry.timeout_s, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _Retry(f"{type(exc).__name__}") from None
        status = resp.status_code
        if status == 429:
            raise _Retry("429 rate limited", retry_after(resp.headers.get("Retry-After"),
                                                         self.retry.fallback_wait_s), status)
        if status >= 500:
            raise _Retry(f"HTTP {status}: {excerpt(resp.text)}", status=status)
        if status in (401, 403):
            raise ApiAuthError(
                f"{method} {shown}: HTTP {status} ({'unauthorised' if status == 401 else 'forbidden'}): "
                f"check {self.credential_env} (is it set, current, and allowed to read this?) and "
                f"the account/email settings in the config. Response: {excerpt(resp.text)}",
                status=status, url=shown)
        if status >= 400:
            raise ApiError(f"{method} {shown}: HTTP {status}: {excerpt(resp.text)}", status=status, url=shown)
        try:
            data = resp.json()
        except ValueError:
            raise _Retry(f"HTTP {status} but the body is not valid JSON: {excerpt(resp.text)}",
                         status=status) from None
        if not isinstance(data, expect):
            raise ApiError(f"{method} {shown}: expected a JSON {'array' if expect is list else 'object'}, "
                           f"got {type(data).__name__}",
                           status=status, url=shown)
        return data


def retry_after(value: str | None, fallback_s: float) -> float:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if value is None or not value.strip():
        return fallback_s
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return fallback_s
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max((when - datetime.now(timezone.utc)).total_seconds(), 0.0)


def safe_url(url: str, params: dict[str, Any] | None = None) -> str:
    """The URL for messages: credentials in userinfo or secret-looking parameters masked."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, str(v)) for k, v in (params or {}).items()]
    masked = [(k, "***" if k.lower() in _SECRET_PARAMS else v) for k, v in query]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(masked, safe="[]:,*"), ""))


def excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text[:_EXCERPT_CHARS] + ("..." if len(text) > _EXCERPT_CHARS else "")
