"""The `csintel` command's file-only jobs (no warehouse, no Prefect) and its errors."""

import json
from pathlib import Path

import pytest

from csintel.cli import main
from tests.conftest import share_onnx_exports

TICKETS = [
    {"id": "T-1", "subject": "Moving on", "body": "Honestly we are moving to Pipedrive next quarter, the sync fails "
                                                  "with SYNC-409 every day. <!channel>"},
    {"id": "T-2", "subject": "Idea", "body": "It would be great if you supported dark mode in the web app."},
    {"id": "T-3", "body": "I was charged twice this month, please refund the duplicate charge."},
    {"subject": "row without id", "body": "lost"},
]


@pytest.fixture
def ticket_file(tmp_path: Path) -> Path:
    path = tmp_path / "tickets.jsonl"
    path.write_text("\n".join(json.dumps(t) for t in TICKETS) + "\n", encoding="utf-8")
    return path


def test_tag_writes_one_line_per_row_in_the_contract_shape(ticket_file, tmp_path, embedder, capsys):
    out = tmp_path / "tags.jsonl"
    assert main(["tag", "--input", str(ticket_file), "--output", str(out)]) == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["id"] for x in lines] == ["T-1", "T-2", "T-3", None]
    first = lines[0]
    assert set(first) >= {"id", "category", "root_cause", "sentiment", "competitors", "feature_request", "errors"}
    assert first["competitors"][0]["name"] == "Pipedrive" and first["competitors"][0]["competitive"]
    assert first["competitors"][0]["context"] == "switching"
    assert "SYNC-409" in first["errors"]
    assert first["sentiment"]["label"] == "negative"
    assert lines[1]["feature_request"]["is_request"] and "dark mode" in lines[1]["feature_request"]["request"]
    assert lines[2]["category"]["label"] == "billing"
    assert lines[3]["error"] == "missing id"
    assert "1 rows rejected" in capsys.readouterr().err


def test_tag_with_inline_competitor_config(ticket_file, tmp_path, embedder):
    share_onnx_exports(tmp_path)
    config = tmp_path / "c.yaml"
    config.write_text("competitors:\n  - name: Acme CRM\n    aliases: [acme]\n", encoding="utf-8")
    out = tmp_path / "tags.jsonl"
    assert main(["tag", "--input", str(ticket_file), "--output", str(out), "--config", str(config)]) == 0
    first = json.loads(out.read_text().splitlines()[0])
    assert first["competitors"] == []          # Pipedrive is not in this company's list


def test_themes_writes_one_line_per_row(tmp_path, embedder, capsys):
    rows = [{"id": f"E-{i}", "body": f"CSV export of {i * 10 + 50} deals times out with HTTP 504 again"} for i in range(12)]
    rows += [{"id": f"L-{i}", "body": f"Password reset email never arrives for user number {i}, cannot log in"}
             for i in range(12)]
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    out = tmp_path / "themes.jsonl"
    assert main(["themes", "--input", str(path), "--output", str(out)]) == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["id"] for x in lines] == [r["id"] for r in rows]
    assert set(lines[0]) >= {"id", "theme_id", "theme_label", "probability"}
    export = {x["theme_id"] for x in lines[:12]}
    login = {x["theme_id"] for x in lines[12:]}
    assert len(export) == 1 and len(login) == 1 and export != login and None not in export


def test_init_writes_a_valid_config_and_warehouse(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["init"]) == 0
    assert (tmp_path / "csintel.toml").is_file() and (tmp_path / ".csintel" / "warehouse.duckdb").is_file()
    assert main(["init"]) == 1                                  # never clobbers silently


def test_bad_config_gives_one_clear_line(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[themes]\nwindow_weekz = 3\n", encoding="utf-8")
    assert main(["tag", "--input", "x.jsonl", "--output", "-", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "unknown key 'themes.window_weekz'" in err and "Traceback" not in err


def test_request_phrases_are_redacted_before_they_become_labels(tmp_path, embedder):
    path = tmp_path / "t.jsonl"
    body = "Any plans to support click-to-call for numbers like +1 415 555 0132 in the dialer?"
    path.write_text(json.dumps({"id": "R-1", "body": body}), encoding="utf-8")
    out = tmp_path / "o.jsonl"
    assert main(["tag", "--input", str(path), "--output", str(out)]) == 0
    request = json.loads(out.read_text())["feature_request"]
    assert request["is_request"] and request["request"] == "click-to-call for numbers like [phone]"


def test_run_without_any_config_says_what_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CSINTEL_CONFIG", raising=False)
    assert main(["run", "--week", "2026-W47"]) == 2
    err = capsys.readouterr().err
    assert "csintel init" in err and "--config" in err
    assert not (tmp_path / "outbox").exists()       # nothing was "delivered"
