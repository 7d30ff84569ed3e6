"""End to end: the real weekly Prefect flow on a small generated sample, digests in the outbox."""

import json
from pathlib import Path

import pytest

from csintel.warehouse import connect
from tests.conftest import write_sample_config

WEEK = "2026-W47"


@pytest.fixture(scope="module")
def config(small_sample: Path, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("run")
    path = write_sample_config(root, small_sample, """
[digest]
ticket_url = "https://tidewater.zendesk.com/agent/tickets/{id}"
[slack]
outbox = "outbox"
""")
    return path


@pytest.fixture(scope="module")
def first_run(config, prefect_harness):
    from flows.weekly import weekly_flow

    return weekly_flow(week=WEEK, config=str(config))


@pytest.fixture(scope="module")
def truth(small_sample):
    return json.loads((small_sample / "ground_truth.json").read_text())


def outbox_text(config: Path) -> dict[str, str]:
    folder = config.parent / "outbox" / WEEK
    return {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir() if p.suffix in {".md", ".html", ".json"}}


def test_outbox_holds_the_four_digests_and_the_chart(first_run, config):
    files = outbox_text(config)
    assert (config.parent / "outbox" / WEEK / "product--product.png").read_bytes().startswith(b"\x89PNG")
    for audience in ("product", "cs", "sales", "support_ops"):
        assert f"{audience}.md" in files and f"{audience}.html" in files
        assert any(n.startswith(f"{audience}--") and n.endswith(".blocks.json") for n in files)
    assert all(d["status"] == "sent" for d in first_run["deliveries"])
    ops = files["support_ops.md"]
    assert "SLA compliance" in ops and "Relationship by segment" in ops
    assert "tickets forecast (80% interval" in ops and "tickets/hour →" in ops   # forecast and Erlang C staffing
    assert first_run["ingest"]["tickets"]["quarantined"] >= 5
    # Taxonomy fit: the digest's line and the run's warning follow the week's uncertain share.
    fit = first_run["digests"]["support_ops"]
    assert fit["tagged"] > 0 and 0 <= fit["uncertain_share"] <= 1
    assert ("fit no category" in ops) == (fit["uncertain"] > 0)
    assert ("taxonomy_fit" in first_run) == (fit["tagged"] >= 20 and fit["uncertain_share"] >= 0.25)


def test_emerging_issue_leads_the_product_digest(first_run, config, truth):
    emerging = set(truth["planted"]["emerging"]["tickets"])
    product = outbox_text(config)["product.md"]
    section = product.split("## Emerging")[1].split("\n## ")[0]
    assert "CAL-503" in section
    assert "_NEW_" in section
    linked = {t for t in emerging if t in section}
    assert linked, "the emerging theme's tickets should be linked from the emerging section"


def test_at_risk_accounts_are_alerted_and_controls_are_not(first_run, config, truth):
    cs = outbox_text(config)["cs.md"]
    for account in truth["planted"]["at_risk_accounts"]:
        assert account["name"] in cs
    for account in truth["planted"]["healthy_accounts"]:
        assert account["name"] not in cs


def test_sales_digest_has_threats_and_keeps_integrations_apart(first_run, config):
    sales = outbox_text(config)["sales.md"]
    assert "## Switching and evaluation threats" in sales
    threats = sales.split("## Switching and evaluation threats")[1].split("\n## ")[0]
    assert "switching" in threats or "evaluating" in threats


def test_no_live_slack_markup_and_no_pii_leaves(first_run, config, truth, small_sample):
    blocks = "".join(v for k, v in outbox_text(config).items() if k.endswith(".blocks.json"))
    for live in ("<!channel>", "<!here>", "<!everyone>", "<@U1", "<https://evil"):
        assert live not in blocks
    rows = [json.loads(line) for line in (small_sample / "tickets.jsonl").read_text().splitlines()
            if line.startswith("{") and line.endswith("}")]
    emails = {r.get("requester_email") for r in rows if r.get("requester_email")}
    everything = "".join(outbox_text(config).values())
    assert not [e for e in emails if e in everything]


def test_rerun_changes_nothing_and_posts_nothing(first_run, config):
    from flows.weekly import weekly_flow

    with connect(config.parent / "warehouse.duckdb") as con:
        before = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("tickets", "ticket_tags", "themes", "deliveries", "quarantine", "account_risk")}
        themes_before = con.execute("SELECT theme_id FROM themes ORDER BY theme_id").fetchall()
    second = weekly_flow(week=WEEK, config=str(config))
    assert {d["status"] for d in second["deliveries"]} == {"skipped"}
    assert second["enrich"]["tagged"] == 0
    with connect(config.parent / "warehouse.duckdb") as con:
        after = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in before}
        themes_after = con.execute("SELECT theme_id FROM themes ORDER BY theme_id").fetchall()
        runs = con.execute("SELECT status FROM runs WHERE flow = 'weekly'").fetchall()
    assert after == before
    assert themes_after == themes_before          # same tickets, same theme ids
    assert runs == [("completed",), ("completed",)]


def test_digest_flow_posts_four_digests_to_slack_once(first_run, config, monkeypatch):
    """The same warehouse delivered through the real slack_sdk client to a local fake Slack."""
    from flows.digest import digest_flow
    from tests.fakes.slack_server import running_fake_slack

    with running_fake_slack() as slack:
        slack_config = config.parent / "slack.toml"
        slack_config.write_text(config.read_text().replace('outbox = "outbox"', f'outbox = "outbox"\nbase_url = "{slack.base_url}"'),
                                encoding="utf-8")
        monkeypatch.setenv("SLACK_BOT_TOKEN", slack.token)
        first = digest_flow(week=WEEK, config=str(slack_config))
        assert {(d["audience"], d["transport"], d["status"]) for d in first["deliveries"]} == {
            (a, "slack", "sent") for a in ("product", "cs", "sales", "support_ops")}
        posted = len(slack.messages)
        top_level = [m for m in slack.messages if not m.get("thread_ts")]
        assert len(top_level) == 4 and posted >= 4
        again = digest_flow(week=WEEK, config=str(slack_config))
        assert {d["status"] for d in again["deliveries"]} == {"skipped"}
        assert len(slack.messages) == posted
        for message in slack.messages:
            text = json.dumps(message["blocks"])
            assert "<!channel>" not in text and "<!here>" not in text


def test_a_refused_chart_makes_the_run_partial_and_the_command_fail(first_run, config, monkeypatch, capsys):
    """A delivery that fails is not a completed run: exit 1, run 'partial' naming it; a rerun fixes it.
    With a token, Slack is used instead of the outbox: nothing new is written there."""
    from csintel.cli import main
    from tests.fakes.slack_server import running_fake_slack

    outbox = config.parent / "outbox" / WEEK
    before = {p.name: p.stat().st_mtime_ns for p in outbox.iterdir()}
    with running_fake_slack(channels=("launch", "cs", "sales", "support-ops")) as slack:
        cfg = config.parent / "launch.toml"
        cfg.write_text(config.read_text().replace('outbox = "outbox"', f'outbox = "outbox"\nbase_url = "{slack.base_url}"')
                       + '\n[routing]\nproduct = "#launch"\n', encoding="utf-8")
        monkeypatch.setenv("SLACK_BOT_TOKEN", slack.token)
        slack.script("not_allowed_token_type", method="files.getUploadURLExternal")
        assert main(["digest", "--config", str(cfg), "--week", WEEK]) == 1
        assert "product -> #launch: not_allowed_token_type" in capsys.readouterr().err
        with connect(config.parent / "warehouse.duckdb") as con:
            status, error = con.execute("SELECT status, error FROM runs WHERE flow = 'digest' "
                                        "ORDER BY started_at DESC LIMIT 1").fetchall()[0]
        assert status == "partial" and "product -> #launch" in error
        posted = len(slack.messages)
        assert main(["digest", "--config", str(cfg), "--week", WEEK]) == 0
        assert len(slack.messages) == posted and len(slack.files) == 1     # only the chart was missing
    assert {p.name: p.stat().st_mtime_ns for p in outbox.iterdir()} == before


def test_a_week_without_tickets_is_explained_not_posted(first_run, config, capsys):
    """The default week (the last complete one) is past the sample's data: say so, post nothing."""
    from flows.digest import digest_flow

    counts = digest_flow(config=str(config))                 # no week: the last complete week
    assert counts["deliveries"] == [] and counts["week_tickets"] == 0 and counts["week_default"]
    assert f"run with --week {WEEK}" in counts["not_delivered"]
    assert not (config.parent / "outbox" / counts["week"]).exists()


def test_planted_at_risk_accounts_rank_top_and_above_every_healthy_control(first_run, config, truth):
    with connect(config.parent / "warehouse.duckdb") as con:
        ranked = [r[0] for r in con.execute(
            "SELECT account_id FROM account_risk WHERE week = DATE '2026-11-16' ORDER BY score DESC, account_id"
        ).fetchall()]
    at_risk = [a["account_id"] for a in truth["planted"]["at_risk_accounts"]]
    healthy = [a["account_id"] for a in truth["planted"]["healthy_accounts"]]
    positions = {a: ranked.index(a) for a in at_risk + healthy if a in ranked}
    assert set(at_risk) <= set(positions) and all(positions[a] < 10 for a in at_risk)
    assert max(positions[a] for a in at_risk) < min(positions[a] for a in healthy if a in positions)


def test_backfill_reruns_weeks_and_keeps_theme_ids(first_run, config):
    from flows.backfill import backfill_flow

    with connect(config.parent / "warehouse.duckdb") as con:
        deliveries = con.execute("SELECT count(*) FROM deliveries").fetchone()[0]
    counts = backfill_flow(since="2026-11-09", until="2026-11-22", config=str(config))
    assert set(counts) >= {"2026-W46", "2026-W47"}
    assert counts["2026-W47"]["themes"]["born"] == 0          # the same tickets keep their themes' ids
    with connect(config.parent / "warehouse.duckdb") as con:
        assert con.execute("SELECT count(*) FROM deliveries").fetchone()[0] == deliveries   # backfills post nothing
        weeks = {r[0] for r in con.execute("SELECT DISTINCT week FROM account_risk").fetchall()}
    assert {str(w) for w in weeks} >= {"2026-11-09", "2026-11-16"}


def test_report_renders_its_charts_in_a_real_browser(first_run, config, tmp_path):
    """`csintel report`: one offline HTML file; headless Chromium loads it and every chart decodes."""
    import os
    import shutil
    import subprocess

    from csintel.config import load_settings
    from csintel.report import write_report
    from csintel.weeks import parse_week

    settings = load_settings(config)
    with connect(settings.warehouse_path) as con:
        path = write_report(con, settings, parse_week(WEEK))
    page = path.read_text(encoding="utf-8")
    assert "http://" not in page.split("<body")[0] and "<script src" not in page    # nothing to fetch
    for title in ("Product digest", "Renewal risk", "Competitor intel", "Support operations"):
        assert title in page
    browser = shutil.which("chromium")
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: scripts/setup.sh installs it (apt-get install chromium)")
        pytest.skip("chromium not installed (scripts/setup.sh installs it as root on Debian)")
    dom = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'chromium'}", "--virtual-time-budget=5000", "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=120).stdout
    assert 'data-charts="5-rendered"' in dom
