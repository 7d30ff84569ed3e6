"""Exactly once under aimed kills: a poster SIGKILLed at the instant Slack has accepted a message
(or shared the chart) and before the poster heard back doubles nothing on the next run.

Each delivery is a real child process with its own DuckDB warehouse file and the real slack_sdk
client; the fake Slack kills it from inside `chat.postMessage` (or `files.completeUploadExternal`)
after storing the message and before answering, which is the widest form of the gap: the ledger
can only hold `posting` for that part.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from csintel.digests.charts import Chart
from csintel.digests.content import Digest, Line, Section
from csintel.routing.blocks import to_slack_messages
from csintel.routing.deliver import DuckDBLedger, deliver
from csintel.routing.slack import SlackTransport
from csintel.warehouse import connect
from tests.fakes.slack_server import FakeSlack, running_fake_slack

ROOT = Path(__file__).resolve().parents[1]
KILLS = 5

# The child: deliver a 5-part digest and its chart to #product, then print the outcome.
CHILD = """
import sys
from csintel.routing.deliver import DuckDBLedger, deliver
from csintel.routing.slack import SlackTransport
from csintel.warehouse import connect
from tests.test_exactly_once import chart, long_digest
with connect(sys.argv[1]) as con:
    result = deliver(long_digest(), "#product", SlackTransport(sys.argv[2], base_url=sys.argv[3]),
                     DuckDBLedger(con), chart=chart())
print(result.status)
"""


def long_digest() -> Digest:
    lines = tuple(Line(f"theme-{i:03d}", detail="x" * 600, quote="q" * 200) for i in range(60))
    return Digest("product", "2026-W47", "Product digest", "Busy week.", (Section("Themes", lines),))


def chart() -> Chart:
    return Chart("Top themes by weekly tickets, 2026-W47", "themes-2026-W47.png", b"\x89PNG fake")


def _child(db: Path, slack: FakeSlack) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", CHILD, str(db), slack.token, slack.base_url],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _payload_key(message: dict) -> tuple:
    if message.get("files"):
        return ("chart", message["files"][0]["name"])
    p = message["metadata"]["event_payload"]
    return (p["week"], p["audience"], p["part"], p["content_hash"])


def test_kills_at_the_posting_instant_double_nothing(tmp_path: Path) -> None:
    parts = len(to_slack_messages(long_digest()))
    assert parts >= KILLS, "the digest must have a part for each aimed kill"
    db = tmp_path / "warehouse.duckdb"
    connect(db).close()
    with running_fake_slack() as slack:
        killed = []
        for k in range(KILLS + 1):           # 5 kills at a message part, then one at the chart
            proc = _child(db, slack)

            def kill(message: dict, proc: subprocess.Popen = proc) -> None:
                # Slack has stored it; the poster is still waiting for the answer.
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                killed.append(_payload_key(message))
                slack.on_accept = None

            slack.on_accept = kill
            proc.wait(timeout=60)
            assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
        assert len(killed) == KILLS + 1 and killed[-1] == ("chart", "themes-2026-W47.png")
        final = _child(db, slack)
        out, err = final.communicate(timeout=60)
        assert final.returncode == 0, err.decode()[-2000:]

        posted = Counter(_payload_key(m) for m in slack.messages)
        assert len(posted) == parts and max(posted.values()) == 1, posted
        assert len(slack.files) == 1
        threads = {m["thread_ts"] for m in slack.messages[1:]}
        assert threads == {slack.messages[0]["ts"]} and slack.files[0]["thread_ts"] == slack.messages[0]["ts"]
        # The interrupted parts were found by their metadata, not posted again.
        assert slack.calls.count("conversations.history") >= 1
        assert slack.calls.count("conversations.replies") >= KILLS
    with duckdb.connect(str(db), read_only=True) as con:
        statuses = Counter(s for (s,) in con.execute("SELECT status FROM store.deliveries").fetchall())
    assert statuses == {"sent": parts + 1}


def test_a_post_slack_never_got_is_posted_on_resume(tmp_path: Path) -> None:
    """`posting` with nothing in Slack (killed before the request left): the next run posts it."""
    digest = long_digest()
    with running_fake_slack() as slack, connect(None) as con:
        ledger = DuckDBLedger(con)
        transport = SlackTransport(slack.token, base_url=slack.base_url)

        class DiesBeforeSending(SlackTransport):
            def post(self, channel: str, message: dict, *, thread_ts: str | None = None) -> str:
                raise KeyboardInterrupt("killed before the request left")

        with pytest.raises(KeyboardInterrupt):
            deliver(digest, "#product", DiesBeforeSending(slack.token, base_url=slack.base_url), ledger)
        assert con.execute("SELECT status FROM store.deliveries").fetchall() == [("posting",)]
        result = deliver(digest, "#product", transport, ledger)
    assert result.status == "sent" and len(slack.messages) == len(to_slack_messages(digest))


def test_without_history_scope_an_interrupted_part_is_not_posted_again() -> None:
    """If Slack cannot be searched, doubling is the worse outcome: the part waits, with the fix named."""
    digest = Digest("product", "2026-W47", "Product digest", "One theme grew.",
                    (Section("Themes", (Line("Login loop on SSO", detail="12 tickets"),)),))
    with running_fake_slack() as slack, connect(None) as con:
        ledger = DuckDBLedger(con)

        class DiesAfterPosting(SlackTransport):
            def post(self, channel: str, message: dict, *, thread_ts: str | None = None) -> str:
                super().post(channel, message, thread_ts=thread_ts)
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            deliver(digest, "#product", DiesAfterPosting(slack.token, base_url=slack.base_url), ledger)
        slack.script("missing_scope", method="conversations.history")
        result = deliver(digest, "#product", SlackTransport(slack.token, base_url=slack.base_url), ledger)
        assert result.status == "failed" and "channels:history" in (result.error or "")
        assert len(slack.messages) == 1
        assert con.execute("SELECT status FROM store.deliveries").fetchall() == [("posting",)]
        # Once Slack can be searched, the part is found and recorded, still posted once.
        again = deliver(digest, "#product", SlackTransport(slack.token, base_url=slack.base_url), ledger)
    assert again.status == "sent" and len(slack.messages) == 1


def test_the_fake_lists_history_like_slack() -> None:
    """The fake's history: newest first, metadata only on request, `oldest` exclusive, pages."""
    from slack_sdk import WebClient

    with running_fake_slack() as slack:
        client = WebClient(token=slack.token, base_url=slack.base_url)
        ts = [client.chat_postMessage(channel="#product", text=f"m{i}",
                                      metadata={"event_type": "t", "event_payload": {"i": i}})["ts"]
              for i in range(3)]
        reply = client.chat_postMessage(channel="#product", text="r", thread_ts=ts[0])["ts"]
        plain = client.conversations_history(channel="CPRODUCT")
        assert [m["ts"] for m in plain["messages"]] == ts[::-1]
        assert all("metadata" not in m for m in plain["messages"])
        with_meta = client.conversations_history(channel="CPRODUCT", include_all_metadata=True,
                                                 oldest=ts[0], limit=1)
        assert [m["metadata"]["event_payload"]["i"] for m in with_meta["messages"]] == [2]
        assert with_meta["has_more"] and with_meta["response_metadata"]["next_cursor"]
        thread = client.conversations_replies(channel="CPRODUCT", ts=ts[0])
        assert [m["ts"] for m in thread["messages"]] == [ts[0], reply]
        with pytest.raises(Exception, match="channel_not_found"):
            client.conversations_history(channel="#product")   # an ID is required
