"""The seeded sample generator: determinism, planted items, input contract, honest ground truth."""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from tools.sample import generate
from tools.sample.__main__ import main
from tools.sample.phrases import CHURN_LINES, COMPETITOR_FORMS, ERROR_FORMS

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"n_tickets": 400, "n_accounts": 40}
LAST_WEEK_END = date(2026, 11, 22)
FILES = ("tickets.jsonl", "accounts.csv", "ground_truth.json")
ALLOWED_EMAIL = "support@tidewater.io"   # the helpdesk's own address in quoted replies
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"\+\d{1,2}[ \d]{8,}\d|\(?\b\d{3}\)?[-. ]\d{3}[-. ]\d{4}\b")
CARD = re.compile(r"\b(?:\d[ -]?){15}\d\b")
IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    generate(out, **SMALL)
    return out


@pytest.fixture(scope="module")
def sample(small: Path) -> dict:
    lines = (small / "tickets.jsonl").read_text(encoding="utf-8").splitlines()
    truth = json.loads((small / "ground_truth.json").read_text(encoding="utf-8"))
    n_bad = len(truth["malformed"])
    rows = [json.loads(line) for line in lines[:-n_bad]]
    accounts = (small / "accounts.csv").read_text(encoding="utf-8").splitlines()
    header = accounts[0].split(",")
    return {"rows": rows, "raw": lines, "truth": truth,
            "accounts": [dict(zip(header, line.split(","))) for line in accounts[1:]]}


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text.removesuffix("Z"))


def _week_of(text: str) -> str:
    year, week, _ = _ts(text).isocalendar()
    return f"{year}-W{week:02d}"


def _alias_patterns() -> dict[str, re.Pattern[str]]:
    spec = yaml.safe_load((ROOT / "models" / "competitors.yaml").read_text())["competitors"]
    return {c["name"]: re.compile("|".join(rf"(?<![\w.]){re.escape(a)}(?!\w)" for a in [c["name"], *c["aliases"]]),
                                  re.IGNORECASE) for c in spec}


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


# --- determinism and the bundled copy ------------------------------------------------------
def test_same_arguments_give_identical_bytes_and_another_seed_differs(small: Path, tmp_path: Path) -> None:
    again, other = tmp_path / "again", tmp_path / "other"
    generate(again, **SMALL)
    generate(other, **SMALL, seed=8)
    for name in FILES:
        assert (again / name).read_bytes() == (small / name).read_bytes(), name
    assert (other / "tickets.jsonl").read_bytes() != (small / "tickets.jsonl").read_bytes()


def test_bundled_sample_is_the_default_generation(tmp_path: Path) -> None:
    summary = generate(tmp_path)
    assert summary["tickets"] == 3600 and summary["malformed"] == 6
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (ROOT / "data" / "sample" / name).read_bytes(), name


def test_cli_writes_the_sample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--out", str(tmp_path), "--tickets", "400", "--accounts", "40", "--seed", "3"]) == 0
    assert json.loads(capsys.readouterr().out)["tickets"] == 400
    assert all((tmp_path / name).is_file() for name in FILES)


def test_too_small_a_sample_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="accounts"):
        generate(tmp_path, n_tickets=400, n_accounts=10)
    with pytest.raises(ValueError, match="tickets"):
        generate(tmp_path, n_tickets=120, n_accounts=40)


# --- the input contract --------------------------------------------------------------------
def test_rows_follow_the_input_contract(sample: dict) -> None:
    rows = sample["rows"]
    assert len(rows) == SMALL["n_tickets"]
    first_monday = LAST_WEEK_END - timedelta(days=LAST_WEEK_END.weekday(), weeks=12)
    for row in rows:
        assert re.fullmatch(r"TW-\d{5}", row["id"])
        assert row["status"] in ("solved", "closed")
        assert row["priority"] in ("low", "normal", "high", "urgent")
        assert row["channel"] in ("email", "web", "chat")
        assert row["csat"] is None or row["csat"] in range(1, 6)
        assert row["region"] in ("NA", "EMEA", "APAC", "LATAM")
        assert isinstance(row["tags"], list) and row["first_response_minutes"] >= 0
        created, solved = _ts(row["created_at"]), _ts(row["solved_at"])
        assert created <= solved <= _ts(row["updated_at"])
        assert first_monday <= solved.date() <= LAST_WEEK_END
        assert all(c["author_role"] in ("customer", "agent") and created <= _ts(c["created_at"]) <= solved
                   for c in row["comments"])
    assert len({r["id"] for r in rows}) == len(rows)
    assert 0.3 < sum(r["csat"] is not None for r in rows) / len(rows) < 0.6
    assert any(not r["created_at"].endswith("Z") for r in rows), "a few naive timestamps (UTC)"
    assert any(not c["public"] for r in rows for c in r["comments"])


def test_bodies_are_unique_and_varied(sample: dict) -> None:
    bodies = [r["body"] for r in sample["rows"]]
    assert len(set(bodies)) == len(bodies)
    assert any(b.startswith("<") for b in bodies), "some bodies are HTML"
    assert any("wrote:" in b for b in bodies), "some bodies quote a previous reply"
    lengths = sorted(len(b) for b in bodies)
    assert lengths[0] < 120 and lengths[-1] > 500


def test_unlinked_tickets_join_by_email_domain(sample: dict) -> None:
    domains = {a["domain"]: a["account_id"] for a in sample["accounts"]}
    unlinked = [r for r in sample["rows"] if r["account_id"] is None]
    assert unlinked and len(unlinked) / len(sample["rows"]) < 0.05
    expected = sample["truth"]["planted"]["unlinked_tickets"]
    for row in unlinked:
        assert domains[row["requester_email"].split("@")[1]] == expected[row["id"]]
    linked = {a["account_id"] for a in sample["accounts"]}
    assert all(r["account_id"] in linked for r in sample["rows"] if r["account_id"] is not None)


def test_malformed_rows_each_break_one_rule(sample: dict) -> None:
    malformed = sample["truth"]["malformed"]
    assert [m["fault"] for m in malformed] == ["missing_id", "empty_text", "bad_timestamp", "bad_csat",
                                               "body_too_long", "invalid_json"]
    lines = sample["raw"]
    assert [m["line"] for m in malformed] == list(range(len(lines) - 5, len(lines) + 1))
    row = {m["fault"]: lines[m["line"] - 1] for m in malformed}
    assert "id" not in json.loads(row["missing_id"])
    empty = json.loads(row["empty_text"])
    assert empty["subject"] == "" and empty["body"] == ""
    assert json.loads(row["bad_timestamp"])["created_at"] == "yesterday"
    assert json.loads(row["bad_csat"])["csat"] == "five"
    assert len(json.loads(row["body_too_long"])["body"]) > 100_000
    with pytest.raises(json.JSONDecodeError):
        json.loads(row["invalid_json"])
    valid_ids = {r["id"] for r in sample["rows"]}
    assert not valid_ids & {m["id"] for m in malformed}


# --- planted items -------------------------------------------------------------------------
def test_emerging_theme_only_in_the_last_two_weeks(sample: dict) -> None:
    truth = sample["truth"]
    emerging = truth["planted"]["emerging"]
    by_id = {r["id"]: r for r in sample["rows"]}
    weeks = Counter(_week_of(by_id[t]["solved_at"]) for t in emerging["tickets"])
    assert set(weeks) == {"2026-W46", "2026-W47"}
    assert sum(weeks.values()) >= 15 and weeks["2026-W47"] > weeks["2026-W46"]
    assert emerging["accounts"] >= 10
    themed = [t for t, v in truth["tickets"].items() if v["theme"] == emerging["theme"]]
    assert sorted(themed) == sorted(emerging["tickets"])
    citing = {r["id"] for r in sample["rows"] if emerging["error"] in r["subject"] + r["body"]}
    assert citing <= set(themed) and len(citing) >= len(themed) // 2


def test_spiking_theme_jumps_in_the_last_week(sample: dict) -> None:
    truth = sample["truth"]
    spike = truth["planted"]["spiking"]
    by_id = {r["id"]: r for r in sample["rows"]}
    weeks = Counter(_week_of(by_id[t]["solved_at"])
                    for t, v in truth["tickets"].items() if v["theme"] == spike["theme"])
    earlier = [weeks.get(w["week"], 0) for w in truth["weeks"][:-1]]
    assert min(earlier) >= 1, "the spiking theme is steady before the spike"
    assert weeks["2026-W47"] / (sum(earlier) / len(earlier)) >= 3


def test_planted_renewals_fall_in_the_window_with_clear_signals(sample: dict) -> None:
    planted = sample["truth"]["planted"]
    renewals = {a["account_id"]: date.fromisoformat(a["renewal_date"]) for a in sample["accounts"]}
    rows = sample["rows"]
    assert len(planted["at_risk_accounts"]) == 6 and len(planted["healthy_accounts"]) == 6
    for entry in planted["at_risk_accounts"] + planted["healthy_accounts"]:
        assert 0 < (renewals[entry["account_id"]] - LAST_WEEK_END).days <= 120
    tickets = sample["truth"]["tickets"]
    for entry in planted["at_risk_accounts"]:
        own = [r for r in rows if r["account_id"] == entry["account_id"]]
        assert sorted(r["id"] for r in own) == sorted(entry["tickets"])
        halves = Counter(_ts(r["solved_at"]) >= datetime(2026, 10, 5) for r in own)
        assert halves[True] > 2 * halves[False], "volume rises"
        assert any(line in r["body"] for r in own for line in CHURN_LINES)
        assert any(m["competitive"] for t in entry["tickets"] for m in tickets[t]["competitors"])
        assert all(tickets[t]["sentiment"] == "negative" for t in entry["tickets"])
    for entry in planted["healthy_accounts"]:
        assert entry["tickets"]
        assert all(tickets[t]["sentiment"] != "negative" and not tickets[t]["competitors"] for t in entry["tickets"])


def test_request_groups_come_from_many_accounts(sample: dict) -> None:
    groups = sample["truth"]["planted"]["request_groups"]
    assert len(groups) == 8
    tickets = sample["truth"]["tickets"]
    for key, group in groups.items():
        assert len(group["tickets"]) >= 4 and group["accounts"] >= 4
        assert all(tickets[t]["request_group"] == key and tickets[t]["root_cause"] == "missing_capability"
                   for t in group["tickets"])
    lookalikes = sample["truth"]["planted"]["request_lookalikes"]
    assert lookalikes and all(tickets[t]["request_group"] is None for t in lookalikes)


# --- the ground truth is honest about the text ---------------------------------------------
def test_labels_use_the_shipped_taxonomy_and_competitor_names(sample: dict) -> None:
    taxonomy = yaml.safe_load((ROOT / "models" / "taxonomy.yaml").read_text())
    names = set(_alias_patterns())
    contexts = {"switching", "evaluating", "comparison", "pricing", "past_user", "integration"}
    keys = {"theme", "category", "root_cause", "sentiment", "competitors", "false_friends", "request_group",
            "errors", "pii", "slack_markup"}
    assert set(sample["truth"]["tickets"]) == {r["id"] for r in sample["rows"]}
    for labels in sample["truth"]["tickets"].values():
        assert set(labels) == keys
        assert labels["category"] in taxonomy["category"]
        assert labels["root_cause"] in taxonomy["root_cause"]
        assert labels["sentiment"] in ("negative", "neutral", "positive")
        for m in labels["competitors"]:
            assert m["name"] in names and m["context"] in contexts
            assert m["competitive"] == (m["context"] != "integration")
    assert set(COMPETITOR_FORMS) == names
    patterns = _alias_patterns()
    for name, forms in COMPETITOR_FORMS.items():
        assert all(patterns[name].fullmatch(f) for f in forms), name


def test_competitor_mentions_are_exactly_what_the_text_says(sample: dict) -> None:
    patterns = _alias_patterns()
    tickets = sample["truth"]["tickets"]
    counts = Counter()
    for row in sample["rows"]:
        labels = tickets[row["id"]]
        text = "\n".join([row["subject"], row["body"], *(c["body"] for c in row["comments"])])
        for friend in labels["false_friends"]:
            assert friend["text"] in text and friend["word"] in friend["text"].lower()
            text = text.replace(friend["text"], "")
        named = {m["name"] for m in labels["competitors"]}
        found = {name for name, p in patterns.items() if p.search(text)}
        assert found == named, (row["id"], found, named)
        counts["mention"] += bool(named)
        counts["friend"] += bool(labels["false_friends"])
        counts["integration"] += any(not m["competitive"] for m in labels["competitors"])
    assert counts["mention"] >= 20 and counts["friend"] >= 10 and counts["integration"] >= 5


def test_errors_recorded_appear_in_the_text(sample: dict) -> None:
    tickets = sample["truth"]["tickets"]
    with_errors = 0
    for row in sample["rows"]:
        text = row["subject"] + "\n" + row["body"]
        for code in tickets[row["id"]]["errors"]:
            assert any(form in text for form in ERROR_FORMS.get(code, (code,))), (row["id"], code)
        with_errors += bool(tickets[row["id"]]["errors"])
    assert with_errors > len(sample["rows"]) // 10


def test_pii_flag_matches_the_text(sample: dict) -> None:
    tickets = sample["truth"]["tickets"]
    kinds = sample["truth"]["planted"]["pii"]
    flagged = 0
    for row in sample["rows"]:
        text = row["body"]
        emails = [e for e in EMAIL.findall(text) if e != ALLOWED_EMAIL]
        cards = CARD.findall(text)
        found = bool(emails or cards or PHONE.search(text) or IPV4.search(text))
        if tickets[row["id"]]["pii"]:
            flagged += 1
            assert found or "full_name" in kinds[row["id"]], row["id"]
            assert all(_luhn_ok(re.sub(r"\D", "", c)) for c in cards)
        else:
            assert not found, (row["id"], text)
    assert 0.03 <= flagged / len(sample["rows"]) <= 0.08
    assert set(kinds) == {t for t, v in tickets.items() if v["pii"]}


def test_slack_markup_flag_matches_the_text(sample: dict) -> None:
    markup = re.compile(r"<!(?:channel|here|everyone)>|<@U[A-Z0-9]{8}>|<https?://[^|>]+\|[^>]+>|&lt;")
    tickets = sample["truth"]["tickets"]
    # An HTML body escapes its own text; what a reader sees is the unescaped text.
    flagged = [r["id"] for r in sample["rows"]
               if markup.search(html.unescape(r["body"]) if r["body"].startswith("<") else r["body"])]
    assert sorted(flagged) == sorted(sample["truth"]["planted"]["slack_markup"])
    assert len(flagged) >= 5 and all(tickets[t]["slack_markup"] for t in flagged)


def test_every_phrase_table_is_read() -> None:
    # The tables are YAML beside the generator; a pool added there but not named in phrases.py
    # would silently never be drawn from.
    from tools.sample import phrases
    from tools.sample.tables import read_table

    assert {key.upper() for key in read_table("phrases.yaml")} <= set(vars(phrases))
    assert set(read_table("themes.yaml")) == {"sentiment_profiles", "priority_profiles", "themes", "emerging",
                                              "request_groups", "request_frames"}
