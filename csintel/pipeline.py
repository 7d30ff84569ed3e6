"""The weekly pipeline's stages as plain functions of (settings, warehouse, week).

The Prefect flows in `flows/` call exactly these, each inside a tracked run
(`csintel.runs.tracked`); a notebook or a test can too.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from csintel.classify.enricher import Enricher
from csintel.config import Settings
from csintel.digests.charts import Chart, theme_trend_chart
from csintel.digests.content import Digest
from csintel.routing.wording.cs import build_cs_digest
from csintel.routing.wording.product import build_product_digest
from csintel.routing.wording.sales import build_sales_digest
from csintel.digests.support_ops import poor_fit, suggest_command
from csintel.routing.wording.support_ops import build_support_ops_digest
from csintel.embed import configured_embedder
from csintel.enrich import enrich
from csintel.ingest import ingest_accounts, ingest_incremental, ingest_tickets
from csintel.risk import RiskModel, load_model, update_account_risk
from csintel.routing.deliver import DeliveryResult, DuckDBLedger, OutboxTransport, Transport, deliver
from csintel.routing.slack import SlackTransport
from csintel.routing.rules import routes
from csintel.sources.crm import CRM_NAMES, crm_sources
from csintel.sources.files import FileSource
from csintel.sources.helpdesks import helpdesk_sources
from csintel.tags_version import tags_version
from csintel.themes.stage import update_themes
from csintel.warehouse import fetch_df
from csintel.weeks import Week, parse_week, week_of


_ENRICHERS: dict[str, Enricher] = {}


def make_enricher(settings: Settings) -> Enricher:
    """The Enricher for these settings, built once per process (prototypes and matchers cost seconds)."""
    key = repr(settings)
    if key not in _ENRICHERS:
        _ENRICHERS[key] = Enricher(settings, configured_embedder(settings))
    return _ENRICHERS[key]


def risk_model(settings: Settings) -> RiskModel:
    """The learned risk model saved in the model folder, else the transparent default."""
    return load_model(settings.resolve(settings.models.model_dir))


FILE_SOURCE = "file"   # `--source file`: the configured [sources] tickets and accounts files


def ingest_stage(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str | None = None,
                 sources: list[str] | None = None) -> dict[str, Any]:
    """Load the configured files (accounts first, so tickets can join by domain), then sync each
    helpdesk incrementally. `sources` names what to load ("file", "zendesk", ...); None = the
    files and every configured helpdesk. Counts are keyed accounts / tickets / helpdesk name."""
    helpdesks = helpdesk_sources(settings, None if sources is None else
                                 [n for n in sources if n != FILE_SOURCE and n not in CRM_NAMES])
    crms = crm_sources(settings, sources)
    files = sources is None or FILE_SOURCE in sources
    out: dict[str, Any] = {}
    if files and settings.sources.accounts:
        out["accounts"] = asdict(ingest_accounts(con, FileSource([settings.resolve(p) for p in settings.sources.accounts],
                                                            kind="account", max_row_chars=settings.sources.max_row_chars),
                                                 run_id))
    for crm in crms:   # CRM accounts before any tickets, so tickets can join them by domain
        out[crm.name] = asdict(ingest_accounts(con, crm, run_id))
    if files and settings.sources.tickets:
        out["tickets"] = asdict(ingest_tickets(con, FileSource([settings.resolve(p) for p in settings.sources.tickets],
                                                           kind="ticket", max_row_chars=settings.sources.max_row_chars),
                                               max_text_chars=settings.sources.max_text_chars, run_id=run_id,
                                               undated=settings.sources.undated))
    for helpdesk in helpdesks:
        out[helpdesk.name] = asdict(ingest_incremental(con, helpdesk, max_text_chars=settings.sources.max_text_chars,
                                                       run_id=run_id))
    return out


def window(settings: Settings, week: Week) -> tuple[datetime, datetime]:
    """The clustering window ending with `week`: what enrich must have tagged before clustering."""
    return week.window_start(settings.themes.window_weeks).start_ts, week.end_ts


def enrich_stage(con: duckdb.DuckDBPyConnection, settings: Settings, since: datetime, until: datetime,
                 progress: bool = False) -> dict[str, Any]:
    return asdict(enrich(con, make_enricher(settings), since, until, progress=progress))


def loaded_versions(settings: Settings) -> dict[str, str]:
    """What a run records under `versions`: the tags version always (cheap), and, when this process
    loaded the tagger, what actually ran: the embedding backend (so a silent fallback from int8
    shows in `runs`), the heads, the taxonomy and competitor versions."""
    enricher = _ENRICHERS.get(repr(settings))
    return dict(enricher.versions) if enricher is not None else {"tags": tags_version(settings)}


def cluster_stage(con: duckdb.DuckDBPyConnection, settings: Settings, week: Week, refit: bool = False) -> dict[str, Any]:
    """Themes and trends for the week: refit the window when due (or `refit`), else assign new tickets."""
    enricher = make_enricher(settings)
    return asdict(update_themes(con, enricher.embedder, settings.themes, week, enricher.version, refit=refit))


def risk_stage(con: duckdb.DuckDBPyConnection, settings: Settings, week: Week) -> dict[str, Any]:
    # Scored as of the end of the week, so a rerun of an old week gives that week's answer.
    as_of = week.end + timedelta(days=1)
    scored = update_account_risk(con, settings.risk, as_of, week.start, tags_version(settings),
                                 settings.support.first_response_targets, risk_model(settings))
    return {"renewing": len(scored), "at_risk": sum(a.band != "low" for a in scored),
            "high": sum(a.band == "high" for a in scored)}


def build_digests(con: duckdb.DuckDBPyConnection, settings: Settings, week: Week) -> list[Digest]:
    version = tags_version(settings)   # from files and settings: no model loads to build digests
    return [
        build_product_digest(con, week, settings, version),
        build_cs_digest(con, week, settings, risk_model(settings).version),
        build_sales_digest(con, week, settings, version),
        build_support_ops_digest(con, week, settings, version),
    ]


def transport_for(settings: Settings) -> Transport:
    """Slack when SLACK_BOT_TOKEN is set, else the local outbox."""
    token = settings.slack_token
    if token:
        return SlackTransport(token, base_url=settings.slack.base_url)
    return OutboxTransport(outbox_dir(settings))


def outbox_dir(settings: Settings) -> Path:
    return settings.resolve(settings.slack.outbox)


def deliver_stage(con: duckdb.DuckDBPyConnection, settings: Settings, digests: list[Digest],
                  run_id: str | None = None, transport: Transport | None = None) -> list[DeliveryResult]:
    """Deliver each digest on its routes: to Slack when a token is set, else to the outbox.

    Slack *instead of* the outbox: with a token nothing is written to the outbox folder (the
    Markdown of each digest is in the run's Prefect artifacts, `csintel digest --dry-run` and
    `csintel report`); without one, the outbox gets the Block Kit JSON plus `.md` and `.html`.
    """
    transport = transport or transport_for(settings)
    ledger = DuckDBLedger(con)
    copies = outbox_dir(settings) if isinstance(transport, OutboxTransport) else None
    results = []
    for digest in digests:
        chart = theme_chart(con, settings, parse_week(digest.week)) if digest.audience == "product" else None
        for channel, message in routes(settings, digest):
            results.append(deliver(message, channel, transport, ledger, run_id=run_id,
                                   outbox=copies, chart=chart))
    return results


def week_activity(con: duckdb.DuckDBPyConnection, week: Week) -> dict[str, Any]:
    """How many tickets count in `week`, and the newest ticket of all (what a run can say about
    a week it finds empty)."""
    tickets, newest = con.execute(
        "SELECT count(*) FILTER (WHERE activity_at >= ? AND activity_at < ?), max(activity_at) FROM store.tickets",
        [week.start_ts, week.end_ts]).fetchall()[0]
    return {"tickets": int(tickets), "newest_ticket": newest.isoformat(sep=" ") if newest else None}


def empty_week_note(week: Week, activity: dict[str, Any]) -> str:
    """Why nothing was delivered for a week without tickets, and which week has data."""
    newest = activity.get("newest_ticket")
    if not newest:
        return (f"no tickets in {week.label}, nor anywhere in the warehouse: nothing delivered. "
                f"Check [sources] and run `csintel ingest`.")
    day = datetime.fromisoformat(newest)
    newest_week = week_of(day)
    if newest_week > week:
        return (f"no tickets in {week.label}: nothing delivered (the newest ticket is from {day:%Y-%m-%d}, "
                f"{newest_week.label}; `csintel status` lists the weeks with tickets)")
    return (f"no tickets in {week.label}: nothing delivered. The newest ticket is from {day:%Y-%m-%d} "
            f"({newest_week.label}): run with --week {newest_week.label}, or see `csintel status` for "
            f"every week with tickets")


def taxonomy_fit_note(digests: list[Digest], settings: Settings) -> str | None:
    """What a run says when so many of the week's tickets fit no category that the taxonomy is the
    problem (`[models] category_poor_fit_share`), and the command that drafts a better one; None
    otherwise. Read from the Support Ops digest's figures, so the run and the digest agree."""
    stats = next((d.stats for d in digests if d.audience == "support_ops"), {})
    tagged, uncertain = int(stats.get("tagged", 0)), int(stats.get("uncertain", 0))
    if not poor_fit(tagged, uncertain, settings):
        return None
    return (f"{uncertain / tagged:.0%} of this week's tickets fit no category ({uncertain} of {tagged} tagged "
            f"\"uncertain\"; warned from {settings.models.category_poor_fit_share:.0%}, [models] "
            f"category_poor_fit_share): the taxonomy fits these tickets poorly. Draft one from them with "
            f"`{suggest_command(settings)}`, edit it and set [models] taxonomy to it")


def theme_chart(con: duckdb.DuckDBPyConnection, settings: Settings, week: Week) -> Chart | None:
    """The product digest's picture: weekly tickets of the week's top themes over the window."""
    weekly = fetch_df(con, "theme_chart", {
        "week": week.start, "window_start": week.window_start(settings.themes.window_weeks).start})
    return theme_trend_chart(weekly, week.label) if not weekly.empty else None


def figures_table(counts: dict[str, Any]) -> list[dict[str, Any]]:
    """A run's nested counts as flat rows (stage, figure, value), for a table artifact or a log."""
    rows: list[dict[str, Any]] = []

    def walk(prefix: list[str], value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(prefix + [str(key)], inner)
        elif isinstance(value, list):
            # Deliveries and the like: how many, and how many of each status.
            rows.append({"stage": prefix[0], "figure": ".".join(prefix[1:] + ["count"]), "value": len(value)})
            statuses = [str(v["status"]) for v in value if isinstance(v, dict) and v.get("status")]
            for status in sorted(set(statuses)):
                rows.append({"stage": prefix[0], "figure": ".".join(prefix[1:] + [status]),
                             "value": statuses.count(status)})
        elif prefix:
            rows.append({"stage": prefix[0], "figure": ".".join(prefix[1:]) or "value", "value": value})

    walk([], counts)
    return rows
