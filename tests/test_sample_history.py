"""The renewal-history generator: determinism, the renewal calendar, outcomes, the input contract,
and support history that foreshadows churn noisily."""

from __future__ import annotations

import csv
import json
import lzma
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from csintel.config import SourcesConfig
from csintel.ingest import ingest_accounts, ingest_tickets
from csintel.risk.backtest import unpack_sample_history
from csintel.sources.files import FileSource
from csintel.warehouse import connect
from tools.sample import history
from tools.sample.__main__ import main
from tools.sample.accounts import ACCOUNT_COLUMNS
from tools.sample.history import generate_history
from tools.sample.phrases import CHURN_LINES

SMALL = {"n_accounts": 30, "months": 15}
END = date(2026, 11, 22)
FILES = ("tickets.jsonl", "accounts.csv", "renewals.csv")


def _load(folder: Path) -> dict:
    def rows(name: str) -> list[dict[str, str]]:
        with (folder / name).open(encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))

    tickets = [json.loads(line) for line in (folder / "tickets.jsonl").read_text(encoding="utf-8").splitlines()]
    accounts = rows("accounts.csv")
    domains = {a["domain"]: a["account_id"] for a in accounts}
    for t in tickets:  # unlinked tickets belong to the account of their email domain, as on ingest
        t["account"] = t["account_id"] or domains[t["requester_email"].rsplit("@", 1)[1]]
    return {"tickets": tickets, "accounts": accounts, "renewals": rows("renewals.csv")}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("history-small")
    return out, generate_history(out, **SMALL)


@pytest.fixture(scope="module")
def full_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("history-default")
    return out, generate_history(out)


@pytest.fixture(scope="module")
def full(full_folder: tuple[Path, dict]) -> tuple[dict, dict]:
    out, summary = full_folder
    return _load(out), summary


def _day(timestamp: str) -> date:
    return datetime.fromisoformat(timestamp.removesuffix("Z")).date()


# --- determinism and the command line ------------------------------------------------------
def test_same_arguments_give_identical_bytes_and_another_seed_differs(small: tuple[Path, dict],
                                                                      tmp_path: Path) -> None:
    folder, _ = small
    again, other = tmp_path / "again", tmp_path / "other"
    generate_history(again, **SMALL)
    generate_history(other, **SMALL, seed=12)
    for name in FILES:
        assert (again / name).read_bytes() == (folder / name).read_bytes(), name
        assert (other / name).read_bytes() != (folder / name).read_bytes(), name


def test_cli_writes_the_history_with_the_generator_defaults(small: tuple[Path, dict], tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    folder, summary = small
    assert main(["--history", "--out", str(tmp_path), "--accounts", "30", "--months", "15"]) == 0
    assert json.loads(capsys.readouterr().out)["tickets"] == summary["tickets"]
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (folder / name).read_bytes(), name


def test_shipped_history_is_the_default_generation(full_folder: tuple[Path, dict], tmp_path: Path) -> None:
    # What `csintel risk backtest` runs on without --history: data/history, unpacked.
    folder, _ = full_folder
    unpacked = unpack_sample_history(tmp_path / "unpacked")
    for name in FILES:
        assert (unpacked / name).read_bytes() == (folder / name).read_bytes(), name


def test_xz_writes_the_tickets_compressed(small: tuple[Path, dict], tmp_path: Path) -> None:
    folder, _ = small
    assert main(["--history", "--xz", "--out", str(tmp_path), "--accounts", "30", "--months", "15"]) == 0
    assert not (tmp_path / "tickets.jsonl").exists()
    assert lzma.decompress((tmp_path / "tickets.jsonl.xz").read_bytes()) == (folder / "tickets.jsonl").read_bytes()


def test_too_short_a_history_or_too_few_accounts_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="days of history"):
        generate_history(tmp_path, n_accounts=30, months=4)
    with pytest.raises(ValueError, match="accounts"):
        generate_history(tmp_path, n_accounts=10, months=15)


# --- accounts and renewals -----------------------------------------------------------------
def test_summary_matches_the_files(small: tuple[Path, dict]) -> None:
    folder, summary = small
    data = _load(folder)
    assert summary["tickets"] == len(data["tickets"])
    assert summary["renewals"] == len(data["renewals"]) == sum(summary["outcomes"].values())
    assert summary["outcomes"] == {o: sum(r["outcome"] == o for r in data["renewals"])
                                   for o in ("renewed", "churned", "downgraded")}
    assert sum(summary["stories"].values()) == summary["renewals"]
    assert list(data["accounts"][0]) == list(ACCOUNT_COLUMNS)
    assert len(data["accounts"]) == 30


def test_renewals_follow_a_yearly_calendar_of_known_accounts(full: tuple[dict, dict]) -> None:
    data, summary = full
    start = date.fromisoformat(summary["start"])
    assert start == date(2025, 5, 22)
    accounts = {a["account_id"]: a for a in data["accounts"]}
    by_account: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in data["renewals"]:
        assert r["account_id"] in accounts
        assert start + timedelta(days=120) <= date.fromisoformat(r["renewal_date"]) <= END
        by_account[r["account_id"]].append(r)
    assert set(by_account) == set(accounts)  # 18 months: everyone renews at least once
    assert any(len(rs) == 2 for rs in by_account.values())
    for account_id, rs in by_account.items():
        days = [date.fromisoformat(r["renewal_date"]) for r in rs]
        assert all((b - a).days == 365 for a, b in zip(days, days[1:]))
        assert all(r["outcome"] != "churned" for r in rs[:-1]), "a churned account renews no more"
        assert all(a["arr_after"] == b["arr_before"] for a, b in zip(rs, rs[1:]))
        current = accounts[account_id]
        assert int(current["arr_usd"]) == int(rs[-1]["arr_after"])
        if rs[-1]["outcome"] == "churned":
            assert current["renewal_date"] == rs[-1]["renewal_date"] and current["arr_usd"] == "0"
        else:
            assert date.fromisoformat(current["renewal_date"]) == days[-1] + timedelta(days=365) > END
    for r in data["renewals"]:
        before, after = int(r["arr_before"]), int(r["arr_after"])
        assert {"renewed": after >= before, "churned": after == 0, "downgraded": 0 < after < before}[r["outcome"]]


def test_outcome_shares_are_in_the_intended_ranges(full: tuple[dict, dict]) -> None:
    _, summary = full
    share = {k: v / summary["renewals"] for k, v in summary["outcomes"].items()}
    assert 150 <= summary["renewals"] <= 220
    assert 0.12 <= share["churned"] <= 0.24
    assert 0.05 <= share["downgraded"] <= 0.15
    stories = summary["stories"]
    # Noisy like real life: leavers nobody saw coming, and rough patches that ended in a renewal.
    assert stories["silent_leave"] + stories["late_leave"] >= 1
    assert stories["recovered_renewal"] >= 5 and stories["renewed_despite_signals"] >= 5
    assert stories["signalled_leave"] > stories["silent_leave"] + stories["late_leave"]


def test_the_documented_model_is_the_one_that_ran(full: tuple[dict, dict]) -> None:
    _, summary = full
    model = summary["generative_model"]
    assert model["outcome"] == history.outcome_formula()
    assert model["outcome"] in " ".join(history.__doc__.split())
    assert model["outcome_weights"] == history.OUTCOME_WEIGHTS
    links = model["signal_links"]
    assert links["churn_language"] > links["low_csat"] and links["competitor_threat"] > links["low_csat"]


# --- tickets -------------------------------------------------------------------------------
def test_tickets_follow_the_input_contract(small: tuple[Path, dict]) -> None:
    folder, summary = small
    con = connect(":memory:")
    assert ingest_accounts(con, FileSource([folder / "accounts.csv"])).quarantined == 0
    report = ingest_tickets(con, FileSource([folder / "tickets.jsonl"]),
                            max_text_chars=SourcesConfig().max_text_chars)
    assert report.quarantined == 0 and report.loaded == summary["tickets"]
    unlinked, statuses, first, last = con.execute(
        "SELECT count(*) FILTER (WHERE account_id IS NULL), list(DISTINCT status ORDER BY status), "
        "min(solved_at), max(solved_at) FROM store.tickets").fetchone()
    assert unlinked == 0
    assert statuses == ["closed", "solved"]
    assert first.date() < date.fromisoformat(summary["start"]) + timedelta(days=7)  # from the start
    assert last.date() <= END
    data = _load(folder)
    ids = [t["id"] for t in data["tickets"]]
    assert len(set(ids)) == len(ids) and all(i.startswith("HX-") for i in ids)
    assert all(t["created_at"] <= t["solved_at"] for t in data["tickets"] if t["created_at"].endswith("Z"))
    # Like the sample: mostly linked by account id, a few only by the requester's email domain.
    assert 0 < sum(t["account_id"] is None for t in data["tickets"]) < 0.1 * len(ids)


def test_volume_is_a_few_tickets_per_account_and_month(full: tuple[dict, dict]) -> None:
    data, summary = full
    assert 8_000 <= summary["tickets"] <= 16_000
    assert 2 <= summary["tickets_per_account_month"] <= 6
    assert summary["tickets"] == len(data["tickets"])


def test_churned_accounts_stop_writing(full: tuple[dict, dict]) -> None:
    data, _ = full
    churned = {r["account_id"]: date.fromisoformat(r["renewal_date"])
               for r in data["renewals"] if r["outcome"] == "churned"}
    assert churned
    assert not [t["id"] for t in data["tickets"]
                if t["account"] in churned and _day(t["solved_at"]) >= churned[t["account"]]]


def test_churn_language_foreshadows_churn_but_not_always(full: tuple[dict, dict]) -> None:
    data, _ = full
    by_account: dict[str, list[dict]] = defaultdict(list)
    for t in data["tickets"]:
        by_account[t["account"]].append(t)
    counts: dict[str, list[int]] = defaultdict(list)
    for r in data["renewals"]:
        day = date.fromisoformat(r["renewal_date"])
        window = [t for t in by_account[r["account_id"]] if day - timedelta(days=90) <= _day(t["solved_at"]) < day]
        counts[r["outcome"]].append(sum(any(line in t["body"] for line in CHURN_LINES) for t in window))
    churned, renewed = counts["churned"], counts["renewed"]
    mean_churned, mean_renewed = sum(churned) / len(churned), sum(renewed) / len(renewed)
    assert mean_churned > 3 * mean_renewed
    assert 0 in churned, "some churners never say so"
    assert sum(c > 0 for c in churned) > len(churned) / 2
    assert 0 < sum(c > 0 for c in renewed) < len(renewed) / 3, "a few renewals sounded like churn"
