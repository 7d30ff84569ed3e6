"""The shared API client against a real local HTTP server (the fake Zendesk): retries, waits,
errors and what they say."""

import logging

import pytest

from csintel.sources.http import ApiAuthError, ApiClient, ApiError, RetryPolicy, retry_after, safe_url
from tests.fakes.zendesk_server import FakeZendesk

FIELDS = "api/v2/ticket_fields.json"


@pytest.fixture()
def fake():
    with FakeZendesk(n_tickets=5) as f:
        yield f


def client(fake, waits, *, token=None, **retry):
    return ApiClient(fake.base_url, credential_env="ZENDESK_API_TOKEN",
                     auth=(f"{fake.email}/token", token or fake.token),
                     retry=RetryPolicy(**{"backoff_s": 1.0, "fallback_wait_s": 10.0, **retry}), sleep=waits.append)


def test_relative_paths_join_the_base_and_absolute_urls_are_followed(fake):
    api = client(fake, [])
    assert api.get_json(FIELDS)["ticket_fields"][0]["title"] == "Plan"
    assert api.get_json("/" + FIELDS)["ticket_fields"]
    assert api.get_json(f"{fake.base_url}/api/v2/users/show_many.json?ids=10001")["users"][0]["id"] == 10001
    assert fake.paths == ["/" + FIELDS, "/" + FIELDS, "/api/v2/users/show_many.json?ids=10001"]


@pytest.mark.parametrize("kind, wait", [("429", 7.0), ("429-no-retry-after", 10.0)])
def test_429_waits_for_retry_after_or_the_fallback(fake, kind, wait):
    waits: list[float] = []
    fake.add_fault("ticket_fields", kind)
    assert client(fake, waits).get_json(FIELDS)["ticket_fields"]
    assert waits == [wait]


def test_429_with_an_http_date_waits_until_then():
    assert 25 <= retry_after("Wed, 21 Oct 2099 07:28:00 GMT", 10.0) and retry_after("garbage", 3.0) == 3.0
    with FakeZendesk(n_tickets=2) as fake:
        waits: list[float] = []
        fake.add_fault("ticket_fields", "429-date")   # Retry-After 30 s from now
        assert client(fake, waits, max_backoff_s=60).get_json(FIELDS)
        assert 25 <= waits[0] <= 31


def test_5xx_backs_off_exponentially_then_succeeds(fake):
    waits: list[float] = []
    fake.add_fault("ticket_fields", "500", times=3)
    assert client(fake, waits).get_json(FIELDS)["ticket_fields"]
    assert waits == [1.0, 2.0, 4.0]


def test_retries_are_bounded_and_the_error_names_the_request(fake):
    waits: list[float] = []
    fake.add_fault("ticket_fields", "500", times=10)
    with pytest.raises(ApiError) as err:
        client(fake, waits, max_retries=2, max_backoff_s=1.5).get_json(FIELDS, {"page[size]": 5})
    assert waits == [1.0, 1.5]                       # capped
    assert err.value.status == 500
    message = str(err.value)
    assert "GET" in message and f"{fake.base_url}/{FIELDS}?page[size]=5" in message and "after 3 attempts" in message
    assert "Internal Server Error" in message


def test_malformed_json_is_retried_once_then_raises_naming_the_url(fake):
    waits: list[float] = []
    fake.add_fault("ticket_fields", "malformed")
    assert client(fake, waits).get_json(FIELDS)["ticket_fields"]
    assert waits == [1.0]
    fake.add_fault("ticket_fields", "malformed", times=5)
    with pytest.raises(ApiError, match=r"not valid JSON") as err:
        client(fake, [], max_retries=1).get_json(FIELDS)
    assert fake.base_url + "/" + FIELDS in str(err.value)


def test_dropped_connections_and_timeouts_are_retried():
    with FakeZendesk(n_tickets=2, latency_s=0.3) as fake:
        waits: list[float] = []
        with pytest.raises(ApiError, match="ReadTimeout"):
            client(fake, waits, max_retries=1, timeout_s=0.05).get_json(FIELDS)
        assert waits == [1.0]
    with FakeZendesk(n_tickets=2) as fake:
        fake.add_fault("ticket_fields", "drop")
        waits = []
        assert client(fake, waits).get_json(FIELDS)
        assert waits == [1.0]


def test_401_is_an_auth_error_naming_the_variable_never_the_secret(fake, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ApiAuthError) as err:
        client(fake, [], token="s3cret-wrong-token").get_json(FIELDS)
    assert err.value.status == 401 and "ZENDESK_API_TOKEN" in str(err.value)
    assert "s3cret" not in str(err.value) and "s3cret" not in caplog.text
    assert len(fake.paths) == 1                      # not retried


def test_other_4xx_fail_at_once(fake):
    waits: list[float] = []
    with pytest.raises(ApiError, match="HTTP 404") as err:
        client(fake, waits).get_json("api/v2/tickets/999/comments.json")
    assert err.value.status == 404 and waits == []


def test_secret_query_parameters_never_reach_messages():
    shown = safe_url("https://user:pw@x.example/api?api_key=abc&page=2", {"token": "t0k"})
    assert shown == "https://x.example/api?api_key=***&page=2&token=***"


def test_get_json_or_none_is_none_on_404_only(fake):
    waits: list[float] = []
    api = client(fake, waits)
    assert api.get_json_or_none("api/v2/tickets/999/comments.json") is None and waits == []
    fake.add_fault("ticket_fields", "500")
    assert api.get_json_or_none(FIELDS)["ticket_fields"] and waits == [1.0]   # retried like get_json
    with pytest.raises(ApiAuthError):
        client(fake, [], token="wrong").get_json_or_none(FIELDS)
