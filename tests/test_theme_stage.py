"""The cluster stage on a warehouse of synthetic tickets: lifecycle events, the refit policy,
incremental assignment, determinism and the trend family.

Embeddings are planted in the warehouse's cache under a fake model name, so the stage never
encodes: each theme is a tight blob around a random direction, and the tests move the blobs.
"""

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from csintel.config import ThemesConfig
from csintel.themes import stage
from csintel.themes.cluster import normalize_rows
from csintel.themes.novelty import doubtful, novel_excess
from csintel.themes.policy import FitState, refit_reason
from csintel.themes.stage import update_themes
from csintel.warehouse import connect, upsert
from csintel.weeks import Week

DIM = 48
TAGS = "tags-test"
MONDAY = date(2026, 6, 1)


class PlantedEmbedder:
    """Every vector the stage needs is already in the warehouse cache under this name."""

    name = "planted-test"
    dim = DIM

    def encode(self, texts):
        raise AssertionError(f"the stage encoded {len(texts)} texts: every vector should come from the cache")


def week(n: int) -> Week:
    return Week(MONDAY + timedelta(weeks=n))


def day(n: int) -> pd.Timestamp:
    """A week's Monday as DuckDB's DataFrames give dates."""
    return pd.Timestamp(week(n).start)


def centre(rng, near=None, cosine=None):
    """A random unit direction; with `near`, one at about `cosine` to it."""
    v = normalize_rows(rng.standard_normal((1, DIM)))[0]
    if near is None:
        return v
    v = normalize_rows((v - (v @ near) * near)[None])[0]  # orthogonal to `near`
    return normalize_rows((cosine * near + np.sqrt(1 - cosine**2) * v)[None])[0]


class World:
    """A warehouse plus a writer of tickets (with tags, mentions and cached embeddings)."""

    def __init__(self):
        self.con = connect(None)
        self.rng = np.random.default_rng(11)
        self.n = 0
        upsert(self.con, "store.accounts", pd.DataFrame({
            "account_id": [f"A{i}" for i in range(20)], "name": [f"Acct {i}" for i in range(20)],
            "arr_usd": [1000.0 * (i + 1) for i in range(20)], "ingested_at": datetime(2026, 1, 1)}))
        upsert(self.con, "store.request_groups", pd.DataFrame({
            "group_id": ["bulk-export"], "model_version": [TAGS], "label": ["Bulk export to CSV"],
            "centroid": [[0.0] * 4], "created_at": [datetime(2026, 1, 1)]}))

    def add(self, wk: int, where: np.ndarray, count: int, words: str, category: str = "general",
            request_group: str | None = None, competitor: str | None = None) -> list[str]:
        vectors = normalize_rows(where + 0.35 * self.rng.standard_normal((count, DIM)) / DIM**0.5)
        ids = [f"T{self.n + i}" for i in range(count)]
        self.n += count
        at = [datetime.combine(week(wk).start, datetime.min.time()) + timedelta(hours=1 + 3 * i) for i in range(count)]
        hashes = [f"h-{i}" for i in ids]
        texts = [f"{words} case {i}" for i in ids]
        upsert(self.con, "store.tickets", pd.DataFrame({
            "source": "test", "ticket_id": ids, "account_id": [f"A{int(i[1:]) % 20}" for i in ids],
            "customer_text": texts, "display_text": texts, "activity_at": at, "solved_at": at, "content_hash": hashes,
            "ingested_at": datetime(2026, 1, 1)}))
        upsert(self.con, "store.ticket_tags", pd.DataFrame({
            "source": "test", "ticket_id": ids, "model_version": TAGS, "content_hash": hashes, "category": category,
            "sentiment": "negative", "is_feature_request": request_group is not None, "request_group": request_group,
            "errors": [[] for _ in ids], "tagged_at": datetime(2026, 1, 1)}))
        upsert(self.con, "store.embeddings", pd.DataFrame({
            "content_hash": hashes, "model": PlantedEmbedder.name, "vector": [v.tolist() for v in vectors]}))
        if competitor:
            upsert(self.con, "store.competitor_mentions", pd.DataFrame({
                "source": "test", "ticket_id": ids, "model_version": TAGS, "mention_no": 0, "competitor": competitor,
                "context": "switching", "competitive": True, "sentence": "moving away"}))
        return ids

    def run(self, cfg: ThemesConfig, wk: int, refit: bool = False) -> stage.ThemeReport:
        return update_themes(self.con, PlantedEmbedder(), cfg, week(wk), TAGS, refit=refit)

    def df(self, sql: str, params=None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()


# --- births, splits, merges, retirements --------------------------------------------------------

LIFECYCLE_CFG = ThemesConfig(window_weeks=2, min_cluster_size=10)


@pytest.fixture(scope="module")
def lifecycle():
    """Window of two weeks. Weeks 0-1: themes A, B, C, D. Weeks 2-3: A comes as two blobs (A1
    beside A, A2 at cosine 0.7 from it), B and C as one blob between them, E is new, D is gone."""
    rng = np.random.default_rng(3)
    a, d, e = centre(rng), centre(rng), centre(rng)
    b = centre(rng)
    c = centre(rng, near=b, cosine=0.75)
    a1, a2 = centre(rng, near=a, cosine=0.97), centre(rng, near=a, cosine=0.70)
    bc = normalize_rows((b + c)[None])[0]
    world = World()
    first = {}
    for wk in (0, 1):
        for name, where in (("a", a), ("b", b), ("c", c), ("d", d)):
            first.setdefault(name, []).extend(world.add(wk, where, 15, f"{name}topic"))
    second = {}
    for wk in (2, 3):
        for name, where in (("a1", a1), ("a2", a2), ("bc", bc), ("e", e)):
            second.setdefault(name, []).extend(world.add(wk, where, 15, f"{name}topic"))
    reports = [world.run(LIFECYCLE_CFG, 1), world.run(LIFECYCLE_CFG, 3)]
    return world, first, second, reports


def theme_of(world, ticket_ids):
    got = world.df("SELECT DISTINCT theme_id FROM ticket_themes WHERE ticket_id IN (SELECT unnest(?))",
                   [ticket_ids])["theme_id"].tolist()
    assert len(got) == 1, f"tickets spread over {got}"
    return got[0]


def test_split_merge_birth_and_death_are_recorded_with_their_ids(lifecycle):
    world, first, second, reports = lifecycle
    before = {k: theme_of(world, v) for k, v in first.items()}
    after = {k: theme_of(world, v) for k, v in second.items()}
    events = world.df("SELECT theme_id, event, related_ids FROM theme_events WHERE run_week = ?",
                      [week(3).start])
    by_theme = {r.theme_id: (r.event, list(r.related_ids)) for r in events.itertuples()}

    assert after["a1"] == before["a"]                                  # the part still like A keeps its id
    assert by_theme[after["a2"]] == ("split", [before["a"]])          # the other part points to its parent
    survivor = after["bc"]
    assert survivor in (before["b"], before["c"])
    absorbed = ({before["b"], before["c"]} - {survivor}).pop()
    assert by_theme[absorbed] == ("merged", [survivor])               # the merged theme points to its survivor
    assert by_theme[survivor] == ("continued", [absorbed])
    assert by_theme[before["a"]] == ("continued", [after["a2"]])
    assert by_theme[after["e"]] == ("born", [])
    assert by_theme[before["d"]] == ("retired", [])
    assert len(by_theme) == 6
    assert (reports[1].mode, reports[1].reason) == ("refit", "changed")
    assert (reports[1].born, reports[1].split, reports[1].merged, reports[1].retired) == (2, 1, 1, 1)


def test_themes_view_carries_the_lifecycle(lifecycle):
    world, first, second, _ = lifecycle
    themes = world.df("SELECT * FROM themes").set_index("theme_id")
    a, d, a2, e = (theme_of(world, first["a"]), theme_of(world, first["d"]), theme_of(world, second["a2"]),
                   theme_of(world, second["e"]))
    survivor = theme_of(world, second["bc"])
    absorbed = ({theme_of(world, first["b"]), theme_of(world, first["c"])} - {survivor}).pop()
    assert themes.loc[a, "status"] == "active" and themes.loc[a, "born_week"] == day(1)
    assert themes.loc[a2, "parent_theme_id"] == a and themes.loc[a2, "born_week"] == day(3)
    assert themes.loc[e, "status"] == "active" and pd.isna(themes.loc[e, "parent_theme_id"])
    assert (themes.loc[absorbed, "status"], themes.loc[absorbed, "merged_into"]) == ("merged", survivor)
    assert (themes.loc[d, "status"], themes.loc[d, "retired_week"]) == ("retired", day(3))
    assert themes.loc[d, "last_run_week"] == day(1)           # what the last fit that saw it said
    assert set(themes.index[themes["status"] == "active"]) == {a, a2, survivor, e}
    fits = world.df("SELECT run_week, reason FROM theme_fits ORDER BY run_week")
    assert list(fits["reason"]) == ["first", "changed"]


def test_forced_refit_of_a_fitted_week_is_idempotent(lifecycle):
    world, *_ = lifecycle
    tables = ("SELECT theme_id, event, related_ids, similarity FROM theme_events ORDER BY ALL",
              "SELECT theme_id, status, merged_into, parent_theme_id, born_week FROM themes ORDER BY ALL",
              "SELECT ticket_id, theme_id FROM ticket_themes ORDER BY ALL")
    before = [world.df(q) for q in tables]
    report = world.run(LIFECYCLE_CFG, 3, refit=True)
    assert (report.mode, report.reason) == ("refit", "forced")
    for q, old in zip(tables, before):
        pd.testing.assert_frame_equal(world.df(q), old)


# --- the refit policy ----------------------------------------------------------------------------

CFG = ThemesConfig(window_weeks=8, min_cluster_size=16, refit_share=0.3, refit_weeks=4)


@pytest.mark.parametrize(("wk", "fit", "key", "changed", "forced", "expected"), [
    (5, FitState(week(4).start, "k", 0.1), "k", 0.1, True, "forced"),
    (5, None, "k", 0.1, False, "first"),
    (5, FitState(week(4).start, "old", 0.1), "k", 0.1, False, "config"),
    (5, FitState(week(4).start, "k", 0.1), "k", 0.1, False, None),       # within policy: assign
    (5, FitState(week(4).start, "k", 0.1), "k", 0.31, False, "changed"),
    (5, FitState(week(4).start, "k", 0.1), "k", 0.30, False, None),      # "more than" the share
    (8, FitState(week(4).start, "k", 0.1), "k", 0.1, False, "age"),
    (7, FitState(week(4).start, "k", 0.1), "k", 0.1, False, None),
    (4, FitState(week(4).start, "k", 0.1), "k", 0.9, False, None),       # a rerun never refits unasked
    (2, FitState(week(4).start, "k", 0.1), "k", 0.9, False, None),       # nor does a backfill
])
def test_refit_reason(wk, fit, key, changed, forced, expected):
    assert refit_reason(week(wk).start, fit, key, changed, CFG, forced=forced) == expected


def test_doubtful_placements_and_their_excess():
    radii = np.array([0.8, 0.6])
    flags = doubtful(np.array([0, 0, 1, -1]), np.array([0.9, 0.7, 0.7, 0.2]), radii)
    assert flags.tolist() == [False, True, False, True]
    assert doubtful(np.array([-1, -1]), np.zeros(2), np.zeros(0)).all()       # no themes: nothing vouched for
    assert novel_excess(25, 100, 0.1) == pytest.approx(15.0)


# Everything but timestamps, in a stable order.
DETERMINISM_QUERIES = {
    "themes": "SELECT * EXCLUDE (updated_at) FROM themes ORDER BY theme_id",
    "ticket_themes": "SELECT * FROM ticket_themes ORDER BY ticket_id",
    "theme_events": "SELECT * EXCLUDE (recorded_at) FROM theme_events ORDER BY ALL",
    "theme_weekly": "SELECT * FROM theme_weekly ORDER BY theme_id, week",
    "trend_weekly": "SELECT * FROM trend_weekly ORDER BY dimension, key, week",
}


def steady_world(seed: int):
    """Eight weeks of four steady themes (12 tickets a week each), with categories, a competitor
    mentioned once a week and one ticket a week in a request group."""
    world = World()
    rng = np.random.default_rng(seed)
    themes = [(centre(rng), f"topic{i}", cat) for i, cat in enumerate(("billing", "integrations", "access", "reports"))]
    for wk in range(8):
        for where, words, cat in themes:
            world.add(wk, where, 12, words, category=cat)
        world.add(wk, themes[0][0], 1, "topic0", category="billing", competitor="HubSpot")
    return world, rng, themes


@pytest.fixture(scope="module")
def incremental():
    """Fit at week 7; week 8 brings an unheard-of issue; week 9 a spike of a known theme, a
    small rise of a competitor (1 -> 3) and a new request group."""
    world, rng, themes = steady_world(5)
    steps = {"fit": world.run(CFG, 7)}
    for where, words, cat in themes:
        world.add(8, where, 12, words, category=cat)
    with pytest.MonkeyPatch.context() as mp:
        def no_clustering(*args, **kwargs):
            raise AssertionError("placing new tickets must not cluster")

        mp.setattr(stage, "cluster_embeddings", no_clustering)
        steps["assign"] = world.run(CFG, 8)
        steps["rerun"] = world.run(CFG, 8)
    steps["tables_after_week_8"] = {name: world.df(q) for name, q in DETERMINISM_QUERIES.items()}
    novel = centre(rng)
    steps["novel_ids"] = world.add(9, novel, 24, "calendar outage", category="integrations")
    for where, words, cat in themes:
        world.add(9, where, 12, words, category=cat)
    steps["novel"] = world.run(CFG, 9)
    steps["spike_ids"] = world.add(10, themes[1][0], 36, "topic1", category="integrations")
    for where, words, cat in themes:
        world.add(10, where, 12, words, category=cat)
    world.add(10, themes[0][0], 3, "topic0", category="billing", competitor="HubSpot")
    world.add(10, themes[2][0], 3, "topic2", category="access", request_group="bulk-export")
    world.add(9, themes[2][0], 3, "topic2", category="access", request_group="bulk-export")
    steps["news"] = world.run(CFG, 10)
    return world, steps, themes


def test_new_tickets_join_the_current_themes_without_clustering(incremental):
    world, steps, _ = incremental
    fit, assign, rerun = steps["fit"], steps["assign"], steps["rerun"]
    assert (fit.mode, fit.reason, fit.themes) == ("refit", "first", 4)
    assert (assign.mode, assign.reason, assign.fit_week) == ("assign", "within_policy", week(7).label)
    assert assign.assigned == 48 and assign.themes == 4 and assign.born == 0
    assert assign.changed_share == pytest.approx(48 / (7 * 49 + 48))
    assert (rerun.mode, rerun.reason, rerun.assigned) == ("assign", "within_policy", 0)   # nothing left to place
    placed = world.df("SELECT method, fit_week, count(*) AS n, count(theme_id) AS themed FROM ticket_themes t "
                      "JOIN store.tickets k USING (source, ticket_id) WHERE k.activity_at >= ? AND k.activity_at < ? "
                      "GROUP BY ALL", [week(8).start_ts, week(8).end_ts])
    assert len(placed) == 1 and placed.loc[0, "n"] == 48 and placed.loc[0, "themed"] == 48


def test_an_issue_no_theme_covers_triggers_a_refit_that_gives_it_a_theme(incremental):
    world, steps, _ = incremental
    novel = steps["novel"]
    assert (novel.mode, novel.reason) == ("refit", "novel")
    theme = theme_of(world, steps["novel_ids"])
    events = world.df("SELECT run_week, event FROM theme_events WHERE theme_id = ? ORDER BY run_week", [theme])
    assert events.values.tolist() == [[day(9), "born"], [day(10), "continued"]]
    mark = world.df("SELECT trend FROM theme_weekly WHERE theme_id = ? AND week = ?", [theme, week(9).start])
    assert mark["trend"].tolist() == ["new"]


def test_a_spike_on_placed_tickets_is_confirmed_by_a_refit(incremental):
    world, steps, themes = incremental
    news = steps["news"]
    assert (news.mode, news.reason, news.born) == ("refit", "news", 0)
    spiking = theme_of(world, steps["spike_ids"])
    row = world.df("SELECT * FROM theme_weekly WHERE theme_id = ? AND week = ?", [spiking, week(10).start]).iloc[0]
    assert (row["trend"], row["tickets"], row["baseline"]) == ("spiking", 48, 12.0)


def test_trends_per_dimension_with_the_numbers_behind_each_mark(incremental):
    world, *_ = incremental
    rows = world.df("SELECT * FROM trend_weekly WHERE week = ?", [week(10).start])
    marks = {(r.dimension, r.key): r for r in rows.itertuples()}
    integrations = marks[("category", "integrations")]
    assert (integrations.mark, integrations.tickets, integrations.min_volume) == ("spiking", 48, 5)
    # weeks 3-9 of the window, one of them with the week-9 outage's 24 tickets
    assert integrations.baseline == pytest.approx((12 * 7 + 24) / 7)
    assert integrations.ratio == pytest.approx(48 / integrations.baseline)
    assert integrations.z_score == pytest.approx((48 - integrations.baseline) / integrations.baseline**0.5)
    hubspot = marks[("competitor", "HubSpot")]
    assert (hubspot.mark, hubspot.tickets) == ("steady", 3)       # 1 a week, then 3: no spike (nor volume)
    assert hubspot.baseline == pytest.approx(5 / 7) and hubspot.z_score == pytest.approx(3 - 5 / 7)
    group = marks[("request_group", "bulk-export")]
    assert (group.mark, group.label, group.recent_tickets, group.earlier_tickets) == ("new", "Bulk export to CSV", 6, 0)
    assert marks[("category", "billing")].mark == "steady"
    assert group.accounts > 0 and group.arr_usd > 0
    themes = world.df("SELECT theme_id, trend, tickets FROM theme_weekly WHERE week = ?", [week(10).start])
    theme_marks = {r.key: (r.mark, r.tickets) for r in rows.itertuples() if r.dimension == "theme"}
    assert theme_marks == {r.theme_id: (r.trend, r.tickets) for r in themes.itertuples()}


def test_the_trend_refresh_spikes_on_the_configured_z():
    """Trend marks use [themes] spike_z: a category going from 4 to 11 tickets a week (z = 3.5,
    more than double, above the volume floor) spikes at z 3 but not at the default 4."""
    from csintel.themes.trend_refresh import refresh_trends

    world = World()
    rng = np.random.default_rng(2)
    where = centre(rng)
    for wk in range(8):
        world.add(wk, where, 4, "invoices", category="billing")
    world.add(8, where, 11, "invoices", category="billing")
    marks = {}
    for z in (3.0, 4.0):
        cfg = ThemesConfig(window_weeks=12, spike_z=z, min_trend_tickets=5)
        refresh_trends(world.con, cfg, 43, week(8).window_start(12), week(8), TAGS)
        marks[z] = world.df("SELECT mark, z_score FROM trend_weekly WHERE dimension = 'category' AND week = ?",
                            [week(8).start]).iloc[0]
    assert marks[3.0]["z_score"] == pytest.approx(3.5)
    assert (marks[3.0]["mark"], marks[4.0]["mark"]) == ("spiking", "steady")
    assert ThemesConfig().spike_z == 4.0


def test_same_tickets_and_config_give_the_same_themes_and_ids(incremental):
    _, steps, _ = incremental
    again, _, themes = steady_world(5)
    again.run(CFG, 7)
    for where, words, cat in themes:
        again.add(8, where, 12, words, category=cat)
    again.run(CFG, 8)
    for name, old in steps["tables_after_week_8"].items():
        pd.testing.assert_frame_equal(again.df(DETERMINISM_QUERIES[name]), old, obj=name)


def test_themes_clustered_before_the_lifecycle_migration_carry_over():
    import duckdb

    from csintel.warehouse import SQL_DIR

    con = duckdb.connect(":memory:")
    for name in ("001_init.sql", "002_views.sql"):
        con.execute((SQL_DIR / "migrations" / name).read_text())
    centroid = [1.0] + [0.0] * (DIM - 1)
    for theme_id, last_run in (("th-old", date(2026, 5, 4)), ("th-kept", date(2026, 5, 25))):
        con.execute("INSERT INTO store.themes VALUES (?, 'x', [], NULL, ?, 9, [], DATE '2026-04-06', ?, 'themes-1', "
                    "TIMESTAMP '2026-05-25 08:00:00')", [theme_id, centroid, last_run])
    con.execute((SQL_DIR / "migrations" / "005_theme_lifecycle.sql").read_text())
    themes = dict(con.execute("SELECT theme_id, status FROM themes").fetchall())
    assert themes == {"th-old": "retired", "th-kept": "active"}
    latest = con.execute("SELECT run_week, config_key FROM theme_fits JOIN store.theme_fits USING (run_week) "
                         "ORDER BY run_week DESC LIMIT 1").fetchall()[0]
    assert latest == (date(2026, 5, 25), None)
    fit = FitState(latest[0], latest[1], 0.0)
    assert refit_reason(date(2026, 6, 1), fit, "any-key", 0.0, CFG) == "config"   # the first run refits once
    snapshot = con.execute("SELECT theme_id FROM store.theme_snapshots WHERE run_week = ?", [latest[0]]).fetchall()
    assert snapshot == [("th-kept",)]                                              # ... matching these themes


# --- novelty in a week that only places tickets ---------------------------------------------------

def test_novel_rows_finds_a_tight_new_group_inside_an_old_one():
    from csintel.themes.novelty import novel_rows

    rng = np.random.default_rng(4)
    old = centre(rng)
    inner = centre(rng, near=old, cosine=0.85)
    spread = lambda where, n: normalize_rows(where + 0.35 * rng.standard_normal((n, DIM)) / DIM**0.5)  # noqa: E731
    vectors = np.vstack([spread(old, 120), spread(old, 30), spread(inner, 20)])
    is_new = np.r_[np.zeros(120, bool), np.ones(50, bool)]
    found = novel_rows(vectors, is_new)
    assert found[150:].mean() >= 0.9          # the new group's tickets
    assert found[120:150].mean() <= 0.1       # new tickets of the old subject are not novel
    assert not found[:120].any()


def test_a_tight_new_group_in_a_placement_only_week_gets_its_own_new_theme(monkeypatch):
    """Placement vouches for every ticket here (doubt is switched off), so only the neighbour test
    can see the new issue: the week refits and the group is born as a new theme, marked new."""
    world, rng, themes = steady_world(7)
    world.run(CFG, 7)
    for where, words, cat in themes:
        world.add(8, where, 12, words, category=cat)
    inner = centre(rng, near=themes[0][0], cosine=0.7)  # close, yet below the 0.80 merge bar
    ids = world.add(8, inner, 20, "calendar duplicates", category="integrations")
    monkeypatch.setattr(stage, "doubtful", lambda nearest, *args: np.zeros(len(nearest), dtype=bool))
    report = world.run(CFG, 8)
    assert (report.mode, report.reason) == ("refit", "novel")
    theme = theme_of(world, ids)
    # A new id split off the old theme it sits next to, not absorbed by it.
    assert world.df("SELECT event FROM theme_events WHERE theme_id = ?", [theme])["event"].tolist() == ["split"]
    mark = world.df("SELECT trend FROM theme_weekly WHERE theme_id = ? AND week = ?", [theme, week(8).start])
    assert mark["trend"].tolist() == ["new"]
