"""Kill a Zendesk sync with SIGKILL at random points, rerun it, and check every closed ticket is
stored exactly once at its newest version: no gap, no duplicate, no stale copy."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from csintel.warehouse import connect
from tests.fakes.zendesk_server import FakeZendesk

REPO = Path(__file__).resolve().parent.parent
# The code `csintel ingest --source zendesk` runs, minus Prefect (whose start-up would dwarf a
# 60-ticket sync): the config file, the helpdesk registry and the incremental ingest.
ENTRY = """
import sys
from csintel.config import load_settings
from csintel.ingest import ingest_incremental
from csintel.sources.helpdesks import helpdesk_sources
from csintel.warehouse import connect
settings = load_settings(sys.argv[1])
(source,) = helpdesk_sources(settings, ["zendesk"])
with connect(settings.warehouse_path) as con:
    report = ingest_incremental(con, source, max_text_chars=settings.sources.max_text_chars)
print("done", report.loaded, report.pages)
"""
KILLS = 5


def test_sigkill_at_random_points_then_rerun_stores_each_ticket_once(tmp_path):
    rng = random.Random(20261125)
    with FakeZendesk(n_tickets=60, latency_s=0.01) as fake:
        config = tmp_path / "csintel.toml"
        config.write_text(f'[warehouse]\npath = "w.duckdb"\n\n[sources.zendesk]\nbase_url = "{fake.base_url}"\n'
                          f'email = "{fake.email}"\nstart = "2025-12-01"\npage_size = 4\ncomment_workers = 2\n')
        env = {**os.environ, "ZENDESK_API_TOKEN": fake.token, "PYTHONPATH": str(REPO)}
        env.pop("ZENDESK_OAUTH_TOKEN", None)

        def run(kill_after_requests=None):
            start = fake.requests
            proc = subprocess.Popen([sys.executable, "-c", ENTRY, str(config)], env=env, cwd=tmp_path,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if kill_after_requests is None:
                out, err = proc.communicate(timeout=60)
                assert proc.returncode == 0, err
                return out
            deadline = time.monotonic() + 30
            while fake.requests - start < kill_after_requests and proc.poll() is None:
                assert time.monotonic() < deadline, "the sync stalled"
                time.sleep(0.002)
            time.sleep(rng.uniform(0, 0.03))          # land anywhere: mid-request, mid-commit
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            return None

        def stored():
            with connect(tmp_path / "w.duckdb") as con:
                return con.execute("SELECT ticket_id, strftime(updated_at, '%Y-%m-%dT%H:%M:%SZ') FROM store.tickets "
                                   "WHERE source = 'zendesk'").fetchall()

        partial_kills = 0
        for _ in range(KILLS):
            run(kill_after_requests=rng.randint(2, 40))
            rows = stored()
            assert len(rows) == len({t for t, _ in rows})
            partial_kills += 0 < len(rows) < len(fake.closed_tickets())
            # Meanwhile agents edit tickets: some already stored, some not yet reached.
            for tid in rng.sample(range(1, 61), 2):
                fake.update_ticket(tid, status=rng.choice(["solved", "closed"]))
        assert partial_kills >= 2, "the kills should land mid-sync"

        assert run().startswith("done")
        rows = stored()
        assert len(rows) == len({t for t, _ in rows})
        assert dict(rows) == fake.closed_tickets()       # every closed ticket, each at its newest version
        with connect(tmp_path / "w.duckdb") as con:
            assert con.execute("SELECT count(*) FROM store.quarantine").fetchone()[0] == 0
            assert con.execute("SELECT state FROM store.source_state WHERE source = 'zendesk'").fetchone()
        assert run().strip() == "done 0 1"               # caught up: one empty page, nothing loaded
