"""The weekly HTML report: one self-contained file (charts inlined as PNG) with the four digests.

It works offline and can be mailed or archived as is. A tiny inline script marks the page once
every chart image has decoded, which is what the browser test checks.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import duckdb
import pandas as pd

from csintel import pipeline
from csintel.config import Settings
from csintel.digests.charts import Chart, weekly_chart
from csintel.digests.content import Digest
from csintel.routing.render import HTML_CSS, to_html_body
from csintel.digests.support_ops import volume_forecast
from csintel.tags_version import tags_version
from csintel.warehouse import fetch_df
from csintel.weeks import Week

CHART_CHECK = """
<script>
// Marks <body data-charts="N-rendered"> once every chart has decoded (read by the browser test).
window.addEventListener("load", () => {
  const imgs = Array.from(document.querySelectorAll("img.chart"));
  const ok = imgs.filter(i => i.complete && i.naturalWidth > 0).length;
  document.body.dataset.charts = ok === imgs.length ? `${ok}-rendered` : `${ok}-of-${imgs.length}`;
});
</script>
"""


def build_report(con: duckdb.DuckDBPyConnection, settings: Settings, week: Week) -> str:
    """The report for `week` from what the warehouse holds (run the pipeline for that week first)."""
    version = tags_version(settings)   # from files and settings: the report loads no model
    window_start = week.window_start(settings.themes.window_weeks)
    bounds = {"window_start": window_start.start_ts, "end": week.end_ts, "model_version": version}
    weekly = fetch_df(con, "report_weekly", {**bounds, "targets": json.dumps(settings.support.first_response_targets)}).set_index("week")
    competitors = fetch_df(con, "competitor_weekly", bounds)
    charts = [
        pipeline.theme_chart(con, settings, week),
        weekly_chart(weekly[["negative_share"]].rename(columns={"negative_share": "negative share of tickets"}),
                     f"Negative sentiment by week, {week.label}", "sentiment.png", ylabel="Share"),
        weekly_chart(_top_competitors(competitors), f"Competitive mentions by week, {week.label}",
                     "competitors.png", ylabel="Mentions"),
        weekly_chart(weekly[["sla_compliance"]].rename(columns={"sla_compliance": "first-response SLA met"}),
                     f"SLA compliance by week, {week.label}", "sla.png", ylabel="Share"),
        _forecast_chart(con, settings, week),
    ]
    digests = pipeline.build_digests(con, settings, week)
    return _page(week, [c for c in charts if c is not None], digests)


def _top_competitors(frame: pd.DataFrame, top: int = 5) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame()
    wide = frame.pivot_table(index="week", columns="competitor", values="mentions", aggfunc="sum", fill_value=0)
    keep = wide.sum().sort_values(ascending=False).index[:top]
    return wide[keep]


def forecast_frame(con: duckdb.DuckDBPyConnection, settings: Settings, week: Week) -> pd.DataFrame:
    """Weekly tickets and the forecast with its interval, as the forecast chart draws them.

    The same history and forecast as the Support Ops digest's lines (26 weeks, not the report's
    12-week window), so the chart shows the numbers the text under it states.
    """
    history, forecast = volume_forecast(con, week, settings)
    frame = pd.DataFrame({"tickets": history})
    for f in forecast:
        frame.loc[f.week, ["forecast", "low (80%)", "high (80%)"]] = [f.tickets, f.low, f.high]
    if len(history):
        # The forecast line starts from the last actual week so the two lines join.
        frame.loc[history.index[-1], ["forecast", "low (80%)", "high (80%)"]] = history.iloc[-1]
    return frame


def _forecast_chart(con: duckdb.DuckDBPyConnection, settings: Settings, week: Week) -> Chart | None:
    frame = forecast_frame(con, settings, week)
    horizon = max(0, len(frame) - int(frame["tickets"].notna().sum())) if len(frame) else 0
    title = (f"Ticket volume and {horizon}-week forecast, {week.label}" if horizon
             else f"Ticket volume and forecast, {week.label}")
    return weekly_chart(frame, title, "forecast.png")


def _page(week: Week, charts: list[Chart], digests: list[Digest]) -> str:
    e = html.escape
    figures = "\n".join(
        f'<figure><img class="chart" alt="{e(c.title)}" src="data:image/png;base64,'
        f'{base64.b64encode(c.png).decode("ascii")}"><figcaption>{e(c.title)}</figcaption></figure>'
        for c in charts)
    sections = "\n".join(f'<article id="{e(d.audience)}">{to_html_body(d)}</article>' for d in digests)
    toc = " · ".join(f'<a href="#{e(d.audience)}">{e(d.title)}</a>' for d in digests)
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>csintel weekly report · {e(week.label)}</title>\n<style>\n{HTML_CSS}\n"
        "figure{margin:1.5em 0} img.chart{max-width:100%;height:auto}\n</style>\n</head>\n<body>\n<main>\n"
        f"<h1>csintel weekly report · {e(week.label)}</h1>\n<p>{toc}</p>\n"
        f"<section><h2>Charts</h2>\n{figures}\n</section>\n{sections}\n</main>\n{CHART_CHECK}</body>\n</html>\n"
    )


def write_report(con: duckdb.DuckDBPyConnection, settings: Settings, week: Week, path: Path | None = None) -> Path:
    """Write the report (default: <outbox>/<week>/report.html) and return its path."""
    path = path or pipeline.outbox_dir(settings) / week.label / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(build_report(con, settings, week), encoding="utf-8")
    return path
