"""Taxonomy fit: the Support Ops digest shows the share of the week's tickets that fit no category,
and when it reaches `[models] category_poor_fit_share` the run says the taxonomy fits poorly and
names `csintel taxonomy suggest`. Small inline warehouses; no embedding model."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from csintel.cli.orchestrated import _print_summary
from csintel.config import ConfigError, settings_from_dict
from csintel.pipeline import taxonomy_fit_note
from csintel.routing.blocks import to_slack_messages
from csintel.routing.render import to_markdown
from csintel.tags_version import tags_version
from csintel.warehouse import connect, upsert
from csintel.weeks import parse_week

WEEK = parse_week("2026-W47")


def _fill(path: Path, version: str, categories: list[str | None]) -> None:
    """One ticket this week per entry; None leaves the ticket untagged."""
    when = WEEK.start_ts + pd.Timedelta(hours=10)
    tickets = pd.DataFrame([
        {"source": "file", "ticket_id": str(i), "subject": "s", "body": "b", "customer_text": "b",
         "display_text": "b", "activity_at": when, "content_hash": f"h{i}", "ingested_at": when}
        for i in range(len(categories))])
    tags = pd.DataFrame([
        {"source": "file", "ticket_id": str(i), "model_version": version, "content_hash": f"h{i}",
         "category": c, "tagged_at": when}
        for i, c in enumerate(categories) if c is not None])
    with connect(path) as con:
        upsert(con, "store.tickets", tickets)
        if len(tags):
            upsert(con, "store.ticket_tags", tags)


def _digest(tmp_path: Path, categories: list[str | None], **models):
    from csintel.routing.wording.support_ops import build_support_ops_digest

    settings = settings_from_dict({"models": models, "sources": {"tickets": ["exports/tickets.csv"]}})
    _fill(tmp_path / "w.duckdb", "tags-x", categories)
    with connect(tmp_path / "w.duckdb") as con:
        return build_support_ops_digest(con, WEEK, settings, "tags-x"), settings


def _fit_line(digest):
    return next((ln for s in digest.sections for ln in s.lines if ln.title == "Taxonomy fit"), None)


def test_a_poor_fit_is_shown_with_its_share_and_the_command_that_drafts_a_better_taxonomy(tmp_path) -> None:
    # 30 tagged this week, 9 uncertain (30%), 2 not tagged with this version (counted in neither).
    digest, settings = _digest(tmp_path, ["uncertain"] * 9 + ["billing"] * 21 + [None] * 2)
    line = _fit_line(digest)
    assert line is not None and line.badge == "POOR FIT"
    assert line.detail.startswith("30% of this week's tickets fit no category (9 of 30 tagged tickets")
    assert "csintel taxonomy suggest --input exports/tickets.csv" in " ".join(line.reasons)
    assert digest.stats["uncertain"] == 9 and digest.stats["tagged"] == 30 and digest.stats["uncertain_share"] == 0.3
    md = to_markdown(digest)
    assert "30% of this week's tickets fit no category" in md and "POOR FIT" in md
    assert "30% of this week" in str(to_slack_messages(digest))
    note = taxonomy_fit_note([digest], settings)
    assert note is not None and note.startswith("30% of this week's tickets fit no category (9 of 30 tagged")
    assert "`csintel taxonomy suggest --input exports/tickets.csv`" in note


def test_below_the_threshold_the_share_is_shown_without_a_warning(tmp_path) -> None:
    digest, settings = _digest(tmp_path, ["uncertain"] * 9 + ["billing"] * 21, category_poor_fit_share=0.5)
    line = _fit_line(digest)
    assert line is not None and line.badge is None and not line.reasons
    assert line.detail.startswith("30% of this week's tickets fit no category")
    assert taxonomy_fit_note([digest], settings) is None


def test_a_tiny_share_reads_under_one_percent_and_a_small_week_is_not_called_poor(tmp_path) -> None:
    digest, _ = _digest(tmp_path / "a", ["uncertain"] + ["billing"] * 299)
    assert _fit_line(digest).detail.startswith("under 1% of this week's tickets fit no category (1 of 300")
    # 3 of 5 is 60%, but five tickets say little about a taxonomy: shown, not flagged.
    small, settings = _digest(tmp_path / "b", ["uncertain"] * 3 + ["billing"] * 2)
    assert _fit_line(small).badge is None and taxonomy_fit_note([small], settings) is None
    one, _ = _digest(tmp_path / "c", ["uncertain"])
    assert "(1 of 1 tagged ticket," in _fit_line(one).detail


def test_no_line_when_every_ticket_has_a_category(tmp_path) -> None:
    digest, settings = _digest(tmp_path, ["billing"] * 25 + [None] * 25)
    assert _fit_line(digest) is None
    assert "fit no category" not in to_markdown(digest) and "Taxonomy fit" not in to_markdown(digest)
    assert digest.stats["uncertain_share"] == 0.0 and taxonomy_fit_note([digest], settings) is None


@pytest.mark.parametrize("share", [0, -0.1, 1.5])
def test_the_threshold_is_validated(share) -> None:
    with pytest.raises(ConfigError, match="category_poor_fit_share must be in"):
        settings_from_dict({"models": {"category_poor_fit_share": share}})
    assert settings_from_dict({}).models.category_poor_fit_share == 0.25


def test_the_flow_records_the_note_and_the_run_summary_prints_it(tmp_path, prefect_harness, capsys) -> None:
    from flows.digest import digest_flow

    config = tmp_path / "csintel.toml"
    config.write_text('[warehouse]\npath = "w.duckdb"\n[sources]\ntickets = ["tickets.csv"]\n', encoding="utf-8")
    from csintel.config import load_settings

    _fill(tmp_path / "w.duckdb", tags_version(load_settings(config)), ["uncertain"] * 12 + ["billing"] * 12)
    counts = digest_flow(week=WEEK.label, config=str(config), dry_run=True)
    assert counts["digests"]["support_ops"]["uncertain_share"] == 0.5
    assert counts["taxonomy_fit"].startswith("50% of this week's tickets fit no category (12 of 24 tagged")
    assert "POOR FIT" in counts["previews"]["support_ops"]
    _print_summary(counts, load_settings(config))
    out = capsys.readouterr().out
    assert "  taxonomy  50% of this week's tickets fit no category" in out
    assert "`csintel taxonomy suggest --input tickets.csv`" in out
