"""Delivery against a local fake Slack with the real slack_sdk client, and to the outbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

from csintel.config import settings_from_dict
from csintel.digests.charts import Chart
from csintel.digests.content import Digest, Line, Section, TicketRef
from csintel.routing.blocks import to_slack_messages
from csintel.routing.deliver import (
    CHART_PART,
    DeliveryError,
    DuckDBLedger,
    OutboxTransport,
    deliver,
    delivery_key,
)
import csintel.routing.slack as slack_module
from csintel.routing.slack import SlackTransport, slack_client
from tests.fakes.slack_server import UPLOAD, FakeSlack, running_fake_slack

MIGRATION = Path(__file__).resolve().parents[1] / "sql" / "migrations" / "001_init.sql"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with running_fake_slack() as fake:
        yield fake


@pytest.fixture
def slack_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits slack_sdk's retry handlers ask for, recorded instead of slept: a 429 waits its
    Retry-After (the fake says 1 s) plus up to 1 s, a 5xx 0.5 s doubling per try plus up to 1 s."""
    from slack_sdk.http_retry import builtin_handlers, handler

    waits: list[float] = []
    clock = SimpleNamespace(sleep=waits.append)
    monkeypatch.setattr(handler, "time", clock)            # the backoff of connection and server errors
    monkeypatch.setattr(builtin_handlers, "time", clock)   # the rate-limit handler's Retry-After
    return waits


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(":memory:")
    connection.execute(MIGRATION.read_text())
    yield connection
    connection.close()


@pytest.fixture
def ledger(con: duckdb.DuckDBPyConnection) -> DuckDBLedger:
    return DuckDBLedger(con)


def small_digest(summary: str = "Two themes grew.") -> Digest:
    line = Line("Login loop on SSO", detail="12 tickets, 5 accounts", badge="NEW",
                tickets=(TicketRef("101", "https://help.example.com/t/101"),))
    return Digest("product", "2026-W47", "Product digest", summary,
                  (Section("Themes", (line,)),))


def big_digest() -> Digest:
    lines = tuple(Line(f"theme-{i:03d}", detail="x" * 600, quote="q" * 200) for i in range(60))
    return Digest("product", "2026-W47", "Product digest", "Busy week.",
                  (Section("Themes", lines),))


def rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "SELECT week, audience, channel, transport, location, status, error, run_id "
        "FROM store.deliveries ORDER BY delivered_at").fetchall()


def test_posts_a_digest_and_records_it(slack: FakeSlack, ledger: DuckDBLedger,
                                       con: duckdb.DuckDBPyConnection) -> None:
    digest = small_digest()
    result = deliver(digest, "#product", SlackTransport(slack.token, base_url=slack.base_url),
                     ledger, run_id="run-1")
    assert result.status == "sent" and result.error is None
    assert result.locations == (slack.messages[0]["ts"],)
    [posted] = slack.messages
    expected = to_slack_messages(digest)[0]
    assert posted["channel"] == "CPRODUCT"
    assert posted["text"] == expected["text"] and posted["blocks"] == expected["blocks"]
    assert posted["payload"]["unfurl_links"] is False and posted["payload"]["unfurl_media"] is False
    assert "link_names" not in posted["payload"]
    assert posted["metadata"]["event_payload"]["week"] == "2026-W47"
    assert rows(con) == [(date(2026, 11, 16), "product", "#product", "slack", posted["ts"],
                          "sent", None, "run-1")]


def test_later_parts_go_into_the_first_parts_thread(slack: FakeSlack,
                                                    ledger: DuckDBLedger) -> None:
    digest = big_digest()
    parts = len(to_slack_messages(digest))
    assert parts > 1
    transport = SlackTransport(slack.token, base_url=slack.base_url)
    result = deliver(digest, "product", transport, ledger)
    assert result.status == "sent"
    assert len(slack.messages) == parts
    first_ts = slack.messages[0]["ts"]
    assert slack.messages[0]["thread_ts"] is None
    assert all(m["thread_ts"] == first_ts for m in slack.messages[1:])
    assert result.locations == tuple(m["ts"] for m in slack.messages)


@pytest.mark.parametrize("answer", [429, 500, 503])
def test_rate_limits_and_server_errors_are_retried(slack: FakeSlack, ledger: DuckDBLedger,
                                                   answer: int, slack_waits: list[float]) -> None:
    slack.script(answer)
    result = deliver(small_digest(), "product",
                     SlackTransport(slack.token, base_url=slack.base_url), ledger)
    assert result.status == "sent"
    assert len(slack.messages) == 1
    assert slack.calls == ["chat.postMessage", "chat.postMessage"]
    [wait] = slack_waits                                       # one wait before the one retry
    assert (1.0 <= wait <= 2.0) if answer == 429 else (0.5 <= wait <= 1.5)   # Retry-After honoured


def test_the_one_slack_client_takes_the_secret_token_and_retries(slack: FakeSlack, monkeypatch: pytest.MonkeyPatch,
                                                                  slack_waits: list[float]) -> None:
    # The CSM lookup (csintel.sources.crm) builds its client here too.
    monkeypatch.setenv("SLACK_BOT_TOKEN", slack.token)
    settings = settings_from_dict({"slack": {"base_url": slack.base_url}})
    assert settings.slack_token is not None
    client = slack_client(settings.slack_token, settings.slack.base_url)
    slack.users["ana@acme.com"] = "UANA"
    slack.script(429, method="users.lookupByEmail")
    assert client.users_lookupByEmail(email="ana@acme.com")["user"]["id"] == "UANA"
    assert slack.calls == ["users.lookupByEmail", "users.lookupByEmail"]
    assert len(slack_waits) == 1 and slack_waits[0] >= 1.0     # the 429's Retry-After


def test_a_token_in_the_environment_picks_slack_with_the_real_token(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    from csintel.pipeline import transport_for

    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    settings = settings_from_dict({}, base_dir=tmp_path)
    assert isinstance(transport_for(settings), OutboxTransport)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    transport = transport_for(settings)
    assert isinstance(transport, SlackTransport)
    assert transport._client.token == "xoxb-1"     # unwrapped from the SecretStr, not its mask


def test_retries_are_bounded(slack: FakeSlack, ledger: DuckDBLedger, slack_waits: list[float]) -> None:
    slack.script(500, 500, 500)
    result = deliver(small_digest(), "product",
                     SlackTransport(slack.token, base_url=slack.base_url, max_retries=1), ledger)
    assert result.status == "failed" and result.error is not None
    assert result.error.startswith("internal_error")
    assert len(slack.calls) == 2 and slack.messages == [] and len(slack_waits) == 1


def test_invalid_token_fails_without_raising_and_names_the_variable(
        slack: FakeSlack, ledger: DuckDBLedger, con: duckdb.DuckDBPyConnection) -> None:
    result = deliver(small_digest(), "product",
                     SlackTransport("xoxb-wrong", base_url=slack.base_url), ledger)
    assert result.status == "failed" and result.locations == ()
    assert result.error == "invalid_auth: check SLACK_BOT_TOKEN"
    assert [(r[5], r[6]) for r in rows(con)] == [("failed", result.error)]
    # A failed row is not a delivery: the next run, with the right token, posts.
    retry = deliver(small_digest(), "product",
                    SlackTransport(slack.token, base_url=slack.base_url), ledger)
    assert retry.status == "sent" and len(slack.messages) == 1
    assert [r[5] for r in rows(con)] == ["sent"]


def test_unknown_channel_fails_but_other_audiences_still_go_out(
        slack: FakeSlack, ledger: DuckDBLedger) -> None:
    transport = SlackTransport(slack.token, base_url=slack.base_url)
    cs = Digest("cs", "2026-W47", "CS digest", "Two accounts at risk.")
    results = [deliver(small_digest(), "#no-such-channel", transport, ledger),
               deliver(cs, "#cs", transport, ledger)]
    assert [r.status for r in results] == ["failed", "sent"]
    assert results[0].error == "channel_not_found: check the channel name in [routing]"
    assert [m["channel"] for m in slack.messages] == ["CCS"]


def test_transport_raises_delivery_error_with_slacks_code(slack: FakeSlack) -> None:
    slack.script("msg_blocks_too_long")
    with pytest.raises(DeliveryError, match="^msg_blocks_too_long"):
        SlackTransport(slack.token, base_url=slack.base_url).post(
            "product", {"text": "t", "blocks": []})


def test_rerun_posts_nothing_twice(slack: FakeSlack, ledger: DuckDBLedger) -> None:
    transport = SlackTransport(slack.token, base_url=slack.base_url)
    first = deliver(big_digest(), "product", transport, ledger)
    again = deliver(big_digest(), "product", transport, ledger)
    assert again.status == "skipped" and again.locations == first.locations
    assert len(slack.messages) == len(first.locations)
    # New content for the same week is a new message.
    changed = deliver(small_digest("Corrected summary."), "product", transport, ledger)
    assert changed.status == "sent" and len(slack.messages) == len(first.locations) + 1


def test_a_rejected_part_is_posted_alone_into_the_same_thread_on_rerun(
        slack: FakeSlack, ledger: DuckDBLedger) -> None:
    transport = SlackTransport(slack.token, base_url=slack.base_url)
    parts = len(to_slack_messages(big_digest()))
    slack.script(None, "fatal_error")             # the first part goes, the second is refused
    broken = deliver(big_digest(), "product", transport, ledger)
    assert broken.status == "failed" and broken.error == "fatal_error"
    assert len(slack.messages) == 1 and broken.locations == (slack.messages[0]["ts"],)
    rerun = deliver(big_digest(), "product", transport, ledger)
    assert rerun.status == "sent" and len(slack.messages) == parts
    first_ts = slack.messages[0]["ts"]
    assert all(m["thread_ts"] == first_ts for m in slack.messages[1:])
    assert rerun.locations == tuple(m["ts"] for m in slack.messages)


class CrashAfterFirstPost:
    """A transport whose process dies (any exception) right after its first post."""

    name = "slack"

    def __init__(self, inner: SlackTransport) -> None:
        self.inner, self.posts = inner, 0

    def post(self, channel: str, message: dict, *, thread_ts: str | None = None) -> str:
        self.posts += 1
        if self.posts == 2:
            raise KeyboardInterrupt
        return self.inner.post(channel, message, thread_ts=thread_ts)


def test_a_crash_between_parts_leaves_only_the_missing_parts_to_post(
        slack: FakeSlack, ledger: DuckDBLedger) -> None:
    transport = SlackTransport(slack.token, base_url=slack.base_url)
    with pytest.raises(KeyboardInterrupt):
        deliver(big_digest(), "product", CrashAfterFirstPost(transport), ledger)
    assert len(slack.messages) == 1
    result = deliver(big_digest(), "product", transport, ledger)
    assert result.status == "sent"
    assert len(slack.messages) == len(to_slack_messages(big_digest()))
    assert {m["thread_ts"] for m in slack.messages[1:]} == {slack.messages[0]["ts"]}


def test_outbox_writes_files_and_is_idempotent(tmp_path: Path, ledger: DuckDBLedger) -> None:
    transport = OutboxTransport(tmp_path)
    digest = big_digest()
    parts = len(to_slack_messages(digest))
    result = deliver(digest, "#product", transport, ledger, outbox=tmp_path)
    week = tmp_path / "2026-W47"
    expected = ["product--product.blocks.json"]
    expected += [f"product--product--part-{n}.blocks.json" for n in range(2, parts + 1)]
    assert result.status == "sent" and result.transport == "outbox"
    written = sorted(p.name for p in week.iterdir())
    assert written == sorted(expected + ["product.html", "product.md"])
    assert result.locations == tuple(str(week / name) for name in expected)
    first = json.loads((week / expected[0]).read_text())
    assert first["blocks"] == to_slack_messages(digest)[0]["blocks"]
    assert (week / "product.md").read_text().startswith("# Product digest")
    assert (week / "product.html").read_text().startswith("<!doctype html>")
    before = {p.name: p.read_text() for p in week.iterdir()}
    again = deliver(digest, "#product", transport, ledger, outbox=tmp_path)
    assert again.status == "skipped" and again.locations == result.locations
    assert {p.name: p.read_text() for p in week.iterdir()} == before


def test_an_outbox_run_does_not_stop_a_later_slack_post(
        tmp_path: Path, slack: FakeSlack, ledger: DuckDBLedger) -> None:
    deliver(small_digest(), "product", OutboxTransport(tmp_path), ledger)
    result = deliver(small_digest(), "product",
                     SlackTransport(slack.token, base_url=slack.base_url), ledger)
    assert result.status == "sent" and len(slack.messages) == 1


def test_outbox_file_names_cannot_escape_the_folder(tmp_path: Path) -> None:
    message = {"text": "t", "blocks": [], "metadata": {"event_type": "csintel_digest",
               "event_payload": {"week": "../..", "audience": "../x", "part": 0}}}
    path = Path(OutboxTransport(tmp_path / "out").post("../../etc/passwd", message))
    assert path.resolve().is_relative_to((tmp_path / "out").resolve())
    with pytest.raises(DeliveryError):
        OutboxTransport(tmp_path).post("product", {"text": "t", "blocks": []})


def test_delivery_key_separates_every_field() -> None:
    base = delivery_key("2026-W47", "product", "product", "abc", 0)
    assert base == delivery_key("2026-W47", "product", "product", "abc")
    others = {delivery_key("2026-W48", "product", "product", "abc", 0),
              delivery_key("2026-W47", "cs", "product", "abc", 0),
              delivery_key("2026-W47", "product", "cs", "abc", 0),
              delivery_key("2026-W47", "product", "product", "abd", 0),
              delivery_key("2026-W47", "product", "product", "abc", 1)}
    assert base not in others and len(others) == 5


CHART = Chart(title="Top themes by weekly tickets, 2026-W47", filename="themes-2026-W47.png",
              png=b"\x89PNG\r\n\x1a\n fake image bytes")


def chart_rows(con: duckdb.DuckDBPyConnection, channel: str = "product") -> list[tuple]:
    key = delivery_key("2026-W47", "product", channel, big_digest().content_hash(), CHART_PART)
    return con.execute("SELECT location, status, error FROM store.deliveries "
                       "WHERE delivery_key = ?", [key]).fetchall()


def test_the_chart_is_uploaded_into_the_digests_thread_by_channel_id(
        slack: FakeSlack, ledger: DuckDBLedger, con: duckdb.DuckDBPyConnection) -> None:
    transport = SlackTransport(slack.token, base_url=slack.base_url)
    result = deliver(big_digest(), "#product", transport, ledger, chart=CHART)
    assert result.status == "sent" and result.error is None
    [uploaded] = slack.files
    assert uploaded["channel"] == "CPRODUCT"
    assert uploaded["thread_ts"] == slack.messages[0]["ts"] == result.locations[0]
    assert uploaded["data"] == CHART.png
    assert (uploaded["name"], uploaded["title"]) == (CHART.filename, CHART.title)
    assert result.chart_location == uploaded["id"]
    assert result.locations == tuple(m["ts"] for m in slack.messages)
    # Four channels, two a page: the name lookup followed the cursor.
    assert slack.calls[-5:] == ["conversations.list", "conversations.list",
                                "files.getUploadURLExternal", UPLOAD,
                                "files.completeUploadExternal"]
    assert chart_rows(con, "#product") == [(uploaded["id"], "sent", None)]


def test_a_rerun_uploads_nothing_and_a_channel_id_needs_no_lookup(
        slack: FakeSlack, ledger: DuckDBLedger) -> None:
    transport = SlackTransport(slack.token, base_url=slack.base_url)
    first = deliver(small_digest(), "CPRODUCT", transport, ledger, chart=CHART)
    calls = len(slack.calls)
    again = deliver(small_digest(), "CPRODUCT", transport, ledger, chart=CHART)
    assert first.status == "sent" and again.status == "skipped"
    assert again.chart_location == first.chart_location == slack.files[0]["id"]
    assert len(slack.files) == 1 and len(slack.messages) == 1
    assert len(slack.calls) == calls
    assert "conversations.list" not in slack.calls


def test_channel_names_are_listed_once_per_transport(slack: FakeSlack,
                                                     ledger: DuckDBLedger) -> None:
    transport = SlackTransport(slack.token, base_url=slack.base_url)
    deliver(small_digest(), "product", transport, ledger, chart=CHART)
    deliver(Digest("cs", "2026-W47", "CS digest", "Calm."), "#cs", transport, ledger,
            chart=CHART)
    assert [f["channel"] for f in slack.files] == ["CPRODUCT", "CCS"]
    assert slack.calls.count("conversations.list") == 2      # one listing, two pages


@pytest.mark.parametrize("failure", [
    ("fatal_error", "files.completeUploadExternal"),
    (500, UPLOAD),
])
def test_a_failed_upload_is_retried_next_run_without_reposting(
        slack: FakeSlack, ledger: DuckDBLedger, con: duckdb.DuckDBPyConnection,
        failure: tuple[int | str, str]) -> None:
    answer, method = failure
    slack.script(answer, method=method)
    transport = SlackTransport(slack.token, base_url=slack.base_url)
    broken = deliver(big_digest(), "product", transport, ledger, chart=CHART)
    parts = len(to_slack_messages(big_digest()))
    assert broken.status == "failed" and broken.error
    assert broken.chart_location is None and slack.files == []
    assert len(slack.messages) == parts and len(broken.locations) == parts
    assert [row[1] for row in chart_rows(con)] == ["failed"]
    rerun = deliver(big_digest(), "product", transport, ledger, chart=CHART)
    assert rerun.status == "sent" and rerun.locations == broken.locations
    assert len(slack.messages) == parts
    [uploaded] = slack.files
    assert uploaded["thread_ts"] == slack.messages[0]["ts"]
    assert chart_rows(con) == [(uploaded["id"], "sent", None)]


def test_upload_server_errors_are_retried_within_the_call(slack: FakeSlack, ledger: DuckDBLedger,
                                                          slack_waits: list[float]) -> None:
    slack.script(503, method="files.completeUploadExternal")
    result = deliver(small_digest(), "CPRODUCT",
                     SlackTransport(slack.token, base_url=slack.base_url), ledger, chart=CHART)
    assert result.status == "sent" and len(slack.files) == 1
    assert slack.calls.count("files.completeUploadExternal") == 2 and len(slack_waits) == 1


def test_an_unknown_channel_name_names_the_channel_and_the_fix(slack: FakeSlack) -> None:
    transport = SlackTransport(slack.token, base_url=slack.base_url)
    with pytest.raises(DeliveryError, match="#no-such-channel.*channel ID"):
        transport.upload("#no-such-channel", CHART)
    slack.script("missing_scope", method="conversations.list")
    fresh = SlackTransport(slack.token, base_url=slack.base_url)
    with pytest.raises(DeliveryError, match="channels:read"):
        fresh.upload("product", CHART)
    assert slack.files == []


def test_the_chart_waits_for_the_messages(slack: FakeSlack, ledger: DuckDBLedger) -> None:
    slack.script("fatal_error")
    result = deliver(small_digest(), "product",
                     SlackTransport(slack.token, base_url=slack.base_url), ledger, chart=CHART)
    assert result.status == "failed" and result.error == "fatal_error"
    assert UPLOAD not in slack.calls and slack.files == []


def test_outbox_writes_the_chart_png_once(tmp_path: Path, ledger: DuckDBLedger) -> None:
    transport = OutboxTransport(tmp_path)
    result = deliver(small_digest(), "#product", transport, ledger, chart=CHART)
    png = tmp_path / "2026-W47" / "product--product.png"
    assert result.status == "sent" and result.chart_location == str(png)
    assert png.read_bytes() == CHART.png
    png.unlink()
    again = deliver(small_digest(), "#product", transport, ledger, chart=CHART)
    assert again.status == "skipped" and not png.exists()


def test_outbox_chart_needs_week_and_audience(tmp_path: Path) -> None:
    with pytest.raises(DeliveryError):
        OutboxTransport(tmp_path).upload("product", CHART)


def test_looking_for_an_interrupted_post_follows_history_pages_up_to_a_bound(
        slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    transport = SlackTransport(slack.token, base_url=slack.base_url)
    since = datetime.now(timezone.utc).replace(tzinfo=None)

    def part(n: int) -> dict:
        return {"event_type": "csintel_digest", "event_payload": {"week": "2026-W47", "part": n}}
    posted = [transport.post("CPRODUCT", {"text": f"part {n}", "blocks": [], "metadata": part(n)})
              for n in range(4)]
    monkeypatch.setattr(slack_module, "LOOKUP_PAGE_SIZE", 1)
    # History lists newest first, one message a page: part 0 sits on the fourth page.
    assert transport.find("CPRODUCT", part(0), thread_ts=None, since=since) == posted[0]
    assert transport.find("CPRODUCT", part(9), thread_ts=None, since=since) is None
    assert slack.calls.count("conversations.history") == 8
    monkeypatch.setattr(slack_module, "LOOKUP_MAX_PAGES", 3)
    with pytest.raises(DeliveryError, match="cannot tell whether it reached Slack"):
        transport.find("CPRODUCT", part(0), thread_ts=None, since=since)
    assert slack.calls.count("conversations.history") == 11   # never a page past the bound
