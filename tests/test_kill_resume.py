"""A weekly run SIGKILLed in each stage resumes on the next run: nothing lost, nothing doubled,
no Slack message posted twice, and the killed runs visible as such in `runs`.

Each run is a real `csintel run` process posting to a fake Slack served by this test. Kills land
at seeded random delays after events seen from outside the process (the run lock taken, the
tagging progress bar, Prefect's task-finished log lines, a Slack post); after each kill the
warehouse is opened to check which stage the run was in and that its row is left 'running'.
"""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Callable

import pytest

from csintel.config import load_settings
from csintel.pipeline import window
from csintel.digests.content import Digest, Line, Section
from csintel.routing.deliver import DuckDBLedger, deliver, delivery_key
from csintel.routing.slack import SlackTransport
from csintel.runs.lock import lock_path, read_holder
from csintel.warehouse import connect
from csintel.weeks import parse_week
from tests.fakes.slack_server import FakeSlack, running_fake_slack
from tests.conftest import write_sample_config

WEEK = "2026-W47"
SEED = 8
CSINTEL = str(Path(sys.executable).with_name("csintel"))
RUN_TIMEOUT_S = 240


class WatchedRun:
    """A `csintel run` process whose combined output is collected as it comes (tqdm uses \\r)."""

    def __init__(self, config: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([CSINTEL, "run", "--config", str(config), "--week", WEEK],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=config.parent)
        self.out = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while chunk := os.read(self.proc.stdout.fileno(), 4096):
            self.out += chunk.decode("utf-8", "replace")

    def wait_for(self, event: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while not event():
            if self.proc.poll() is not None:
                pytest.fail(f"the run ended (rc {self.proc.returncode}) before {what}:\n{self.out[-3000:]}")
            if time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"no {what} within {RUN_TIMEOUT_S} s:\n{self.out[-3000:]}")
            time.sleep(0.02)

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self._reader.join(timeout=5)

    def finish(self) -> int:
        rc = self.proc.wait(timeout=RUN_TIMEOUT_S)
        self._reader.join(timeout=5)
        return rc

    def tagged(self) -> int:
        done = re.findall(r"tagging:[^\r\n]*?\| *(\d+)/\d+", self.out)
        return int(done[-1]) if done else 0

    def finished_task(self, name: str) -> bool:
        return re.search(rf"Task run '{name}-\w+' - Finished in state Completed", self.out) is not None


def state(settings) -> dict:
    """What the warehouse holds now: how far the week got, and the runs."""
    with connect(settings.warehouse_path) as con:
        one = lambda sql, *p: con.execute(sql, list(p)).fetchone()[0]  # noqa: E731
        return {
            "tickets": one("SELECT count(*) FROM tickets"),
            "tags": one("SELECT count(*) FROM ticket_tags"),
            "tagged_at": dict(con.execute("SELECT ticket_id, tagged_at FROM ticket_tags").fetchall()),
            "themes": one("SELECT count(*) FROM ticket_themes WHERE run_week = DATE '2026-11-16'"),
            "risk": one("SELECT count(*) FROM account_risk WHERE week = DATE '2026-11-16'"),
            "sent": one("SELECT count(*) FROM deliveries WHERE status = 'sent'"),
            "runs": con.execute("SELECT run_id, status, pid, host, finished_at FROM runs WHERE flow = 'weekly' "
                                "ORDER BY started_at").fetchall(),
        }


@pytest.fixture(scope="module")
def slack():
    with running_fake_slack() as fake:
        yield fake


@pytest.fixture(scope="module")
def setup(small_sample: Path, tmp_path_factory, slack: FakeSlack, prefect_harness):
    from prefect.settings import PREFECT_API_URL

    root = tmp_path_factory.mktemp("killed")
    config = write_sample_config(root, small_sample, f"""
[slack]
base_url = "{slack.base_url}"
outbox = "outbox"
""")
    # The runs report to this session's Prefect server rather than each starting a temporary one.
    env = {**os.environ, "SLACK_BOT_TOKEN": slack.token, "PREFECT_API_URL": str(PREFECT_API_URL.value()),
           "PREFECT_LOGGING_LEVEL": "INFO", "PREFECT_HOME": str(root / "prefect")}
    return config, env


def test_killed_in_every_stage_then_resumed(setup, slack: FakeSlack) -> None:
    config, env = setup
    settings = load_settings(config)
    rng = random.Random(SEED)
    killed: list[int] = []
    seen: dict[str, dict] = {}

    def kill_when(stage: str, event: Callable[[WatchedRun], bool], delay: tuple[float, float]) -> None:
        run = WatchedRun(config, env)
        run.wait_for(lambda: event(run), f"the {stage} stage")
        time.sleep(rng.uniform(*delay))
        run.kill()
        killed.append(run.proc.pid)
        now = state(settings)
        # A killed run cannot mark itself: its row stays 'running', with its process.
        mine = [r for r in now["runs"] if r[2] == run.proc.pid]
        assert all(r[1] == "running" and r[3] == socket.gethostname() and r[4] is None for r in mine)
        assert stage == "ingest" or mine, f"the run killed in {stage} left no row"
        seen[stage] = now

    kill_when("ingest", lambda r: (read_holder(lock_path(settings.warehouse_path)) or {}).get("pid") == r.proc.pid,
              (0.0, 0.5))
    kill_when("enrich", lambda r: r.tagged() >= 256, (0.0, 1.0))
    kill_when("cluster", lambda r: r.finished_task("enrich"), (0.5, 2.5))
    kill_when("risk", lambda r: r.finished_task("cluster"), (0.0, 0.3))
    # Slack answers 503 to the post after the k-th: the run is killed while it waits to retry.
    k = rng.randint(1, 3)
    slack.script(*[None] * k, 503, 503)
    kill_when("deliver", lambda r: slack.calls.count("chat.postMessage") > k, (0.0, 0.0))

    # Where each kill landed, from what the warehouse held right after it.
    assert seen["ingest"]["tags"] == 0
    assert 0 < seen["enrich"]["tags"] < seen["cluster"]["tags"]
    assert seen["cluster"]["themes"] == 0
    assert seen["risk"]["themes"] > 0 and seen["risk"]["sent"] == 0
    assert len(slack.messages) == k and seen["deliver"]["sent"] == k + len(slack.files)   # + the product chart
    # Batches written before the enrich kill were not tagged again by the next run.
    before = seen["enrich"]["tagged_at"]
    assert {t: seen["cluster"]["tagged_at"][t] for t in before} == before

    final = WatchedRun(config, env)
    assert final.finish() == 0, final.out[-3000:]
    end = state(settings)

    with connect(settings.warehouse_path) as con:
        assert con.execute("SELECT count(*) = count(DISTINCT (source, ticket_id)) FROM tickets").fetchone()[0]
        assert end["tickets"] == seen["risk"]["tickets"] > 500
        untagged = con.execute(
            "SELECT count(*) FROM store.tickets t LEFT JOIN store.ticket_tags g USING (source, ticket_id) "
            "WHERE t.activity_at >= ? AND t.activity_at < ? AND g.ticket_id IS NULL",
            list(window(settings, parse_week(WEEK)))).fetchone()[0]
        assert untagged == 0
        assert con.execute("SELECT count(*) = count(DISTINCT row_hash) FROM store.quarantine").fetchone()[0]
        assert con.execute("SELECT count(*) FROM themes").fetchone()[0] > 0
        ledger = con.execute("SELECT audience, status FROM deliveries").fetchall()
    assert end["themes"] == seen["risk"]["themes"] and end["risk"] > 0
    assert {a for a, _ in ledger} == {"product", "cs", "sales", "support_ops"}
    assert {s for _, s in ledger} == {"sent"}

    # Every digest part reached Slack exactly once, and the chart too.
    posted = Counter(_ledger_key(m) for m in slack.messages)
    assert posted and max(posted.values()) == 1, posted
    assert len(posted) == end["sent"] - len(slack.files)
    assert len(slack.files) == 1

    # The killed runs are marked, by the run after each, and never finished.
    status = {pid: (s, finished) for _, s, pid, _, finished in end["runs"]}
    assert all(status[pid] == ("killed", None) for pid in killed if pid in status)
    assert sum(pid in status for pid in killed) >= len(killed) - 1       # only the ingest kill may precede its row
    assert status[final.proc.pid][0] == "completed"


def _ledger_key(message: dict) -> str:
    payload = message["metadata"]["event_payload"]
    channel = {"CPRODUCT": "#product", "CCS": "#cs", "CSALES": "#sales", "CSUPPORTOPS": "#support-ops"}[message["channel"]]
    return delivery_key(payload["week"], payload["audience"], channel, payload["content_hash"], payload["part"])


class DiesAfterPosting(SlackTransport):
    """Slack accepts the post, then the process dies before the ledger records it."""

    def post(self, channel: str, message: dict, *, thread_ts: str | None = None) -> str:
        super().post(channel, message, thread_ts=thread_ts)
        raise KeyboardInterrupt("killed between Slack's answer and the ledger write")


def test_a_kill_between_post_and_ledger_write_posts_nothing_twice() -> None:
    digest = Digest("product", WEEK, "Product digest", "One theme grew.",
                    (Section("Themes", (Line("Login loop on SSO", detail="12 tickets"),)),))
    with running_fake_slack() as slack, connect(None) as con:
        ledger = DuckDBLedger(con)
        before = len(slack.messages)
        with pytest.raises(KeyboardInterrupt):
            deliver(digest, "#product", DiesAfterPosting(slack.token, base_url=slack.base_url), ledger)
        deliver(digest, "#product", SlackTransport(slack.token, base_url=slack.base_url), ledger)
    assert len(slack.messages) - before == 1
