"""Chart images for the digests: PNG bytes, the same bytes for the same data."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pandas as pd

from csintel.weeks import parse_week, week_of

REQUIRED_COLUMNS = ("theme_id", "label", "week", "tickets")
# Trends drawn with a thicker line: the ones a reader should notice first.
EMPHASISED_TRENDS = frozenset({"new", "spiking"})

FIGURE_INCHES = (9.0, 4.5)
FIGURE_DPI = 100                  # 900 x 450 px
LABEL_CHARS = 40
LINE_WIDTH = 1.5
EMPHASIS_LINE_WIDTH = 3.2
LEGEND_FONT_SIZE = 8
LEGEND_COLUMNS = 2
# The legend sits below the plot, so it never hides a line: the plot's bottom edge leaves room
# for the week ticks plus one share of the height per legend row.
TICKS_HEIGHT = 0.1
LEGEND_ROW_HEIGHT = 0.04
ELLIPSIS = "…"
NO_DATA = "no data"


@dataclass(frozen=True)
class Chart:
    """An image to post with a digest."""

    title: str                    # alt text / title, plain
    filename: str                 # e.g. "themes-2026-W47.png"
    png: bytes


def theme_trend_chart(weekly: pd.DataFrame, week_label: str, *, top: int = 6) -> Chart | None:
    """Draw weekly tickets of the themes largest in the latest week, one line each.

    The x axis runs from the frame's first week to the digest's week (or the frame's last week
    if later). Themes whose latest `trend` is "new" or "spiking" get a thicker line and say so
    in the legend. Weeks without a row for a theme count as 0 tickets.

    Args:
        weekly: One row per theme-week: theme_id, label, week (a date), tickets, and
            optionally trend (new|spiking|fading|steady).
        week_label: The digest's ISO week, e.g. "2026-W47", for the title and file name.
        top: Most themes drawn, ranked by tickets in the last week drawn.

    Returns:
        The chart, or None when the frame has no rows.

    Raises:
        ValueError: If a required column is missing, `top` is below 1 or `week_label` is not
            an ISO week.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in weekly.columns]
    if missing:
        raise ValueError(f"weekly lacks columns: {', '.join(missing)}")
    if top < 1:
        raise ValueError("top must be at least 1")
    last_week = parse_week(week_label).start
    if weekly.empty:
        return None
    counts, labels, trends = _series(weekly, pd.Timestamp(last_week), top)
    title = f"Top themes by weekly tickets, {week_label}"
    return Chart(title=title, filename=f"themes-{week_label}.png",
                 png=_draw(counts, labels, trends, title))


def _series(weekly: pd.DataFrame, last_week: pd.Timestamp,
            top: int) -> tuple[pd.DataFrame, dict[str, str], dict[str, str]]:
    """Return tickets as weeks x themes (top themes only, gaps filled), labels and trends."""
    days = pd.to_datetime(weekly["week"]).dt.normalize()
    # Any day of a week counts for its Monday, so the weekly range below meets every row.
    frame = weekly.assign(week=days - pd.to_timedelta(days.dt.dayofweek, unit="D"),
                          theme_id=weekly["theme_id"].astype(str))
    counts = frame.pivot_table(index="week", columns="theme_id", values="tickets",
                               aggfunc="sum", fill_value=0)
    weeks = pd.date_range(counts.index.min(), max(counts.index.max(), last_week), freq="7D")
    counts = counts.reindex(weeks, fill_value=0)
    latest = counts.iloc[-1]
    # The theme id breaks ties so equal counts always pick and order the same themes.
    ranked = sorted(latest.index, key=lambda theme: (-latest[theme], theme))[:top]
    latest_labels = frame.sort_values("week", kind="stable").groupby("theme_id")["label"].last()
    labels = {theme: _short_label(str(latest_labels[theme])) for theme in ranked}
    trends: dict[str, str] = {}
    if "trend" in frame.columns:
        # Only this week's trend counts: a theme new three weeks ago is no longer news.
        current = frame[frame["week"] == weeks[-1]]
        trends = {theme: str(trend) for theme, trend in zip(current["theme_id"], current["trend"])
                  if theme in labels}
    return counts[ranked], labels, trends


def weekly_chart(frame: pd.DataFrame, title: str, filename: str, *, ylabel: str = "Tickets") -> Chart | None:
    """Lines over weeks: `frame` is indexed by week Mondays, one column per series (named as shown).

    Missing values are gaps in a line, not zeros (a forecast starts where the history ends). A
    frame with no values at all (e.g. SLA compliance where no ticket has a first-response time)
    gives a chart that says "no data" rather than an empty plot.
    """
    if frame.empty or not len(frame.columns) or frame.isna().all().all():
        return Chart(title=title, filename=filename, png=_draw_no_data(title))
    frame = frame.sort_index()
    frame.index = pd.to_datetime(frame.index)
    labels = {c: _short_label(str(c)) for c in frame.columns}
    return Chart(title=title, filename=filename, png=_draw(frame, labels, {}, title, ylabel=ylabel))


def _draw(counts: pd.DataFrame, labels: dict[str, str], trends: dict[str, str],
          title: str, ylabel: str = "Tickets") -> bytes:
    # Imported here: matplotlib takes about a second to import and most runs draw nothing.
    # The Agg canvas is bound to this figure only, so no display is needed and pyplot's
    # process-wide backend and figure registry are left alone.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=FIGURE_INCHES, dpi=FIGURE_DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(counts.index)))
    handles, names = [], []
    for theme in counts.columns:
        emphasised = trends.get(theme) in EMPHASISED_TRENDS
        (line,) = axes.plot(positions, counts[theme].to_list(), marker="o", markersize=3,
                            linewidth=EMPHASIS_LINE_WIDTH if emphasised else LINE_WIDTH)
        handles.append(line)
        names.append(labels[theme] + (f" ({trends[theme]})" if emphasised else ""))
    axes.set_xticks(positions, _week_ticks(counts.index), fontsize=LEGEND_FONT_SIZE)
    axes.set_ylabel(ylabel)
    axes.set_ylim(bottom=0)
    if ylabel == "Tickets":
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis="y", alpha=0.3)
    axes.set_title(_plain(title), fontsize=11)
    # Handles and labels passed together: a label starting with "_" would otherwise be hidden.
    figure.legend(handles, names, loc="lower center", bbox_to_anchor=(0.5, 0.0),
                  ncol=LEGEND_COLUMNS, fontsize=LEGEND_FONT_SIZE, frameon=False)
    rows = -(-len(names) // LEGEND_COLUMNS)
    figure.subplots_adjust(left=0.07, right=0.97, top=0.91,
                           bottom=TICKS_HEIGHT + LEGEND_ROW_HEIGHT * rows)
    buffer = io.BytesIO()
    # No "Software" entry (it names the matplotlib version): same data, same bytes.
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _draw_no_data(title: str) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=FIGURE_INCHES, dpi=FIGURE_DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.set_axis_off()
    axes.set_title(_plain(title), fontsize=11)
    axes.text(0.5, 0.5, NO_DATA, ha="center", va="center", fontsize=16, color="#777777",
              transform=axes.transAxes)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _week_ticks(weeks: pd.DatetimeIndex) -> list[str]:
    """Label weeks "W47", with the year on the first week and where a new year starts."""
    labels = [week_of(day.date()).label for day in weeks]
    return [label if i == 0 or label[:4] != labels[i - 1][:4] else label[5:]
            for i, label in enumerate(labels)]


def _short_label(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > LABEL_CHARS:
        text = text[: LABEL_CHARS - len(ELLIPSIS)].rstrip() + ELLIPSIS
    return _plain(text or "(unlabelled)")


def _plain(text: str) -> str:
    # Mathtext reads `$...$` as a formula; customer words must print as written.
    return text.replace("$", r"\$")
