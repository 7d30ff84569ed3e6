"""Fast answers: a mistake is reported before any model or Prefect loads, in one line (a traceback
only with --debug); commands that need no orchestration never import Prefect; `--version`;
`init --sample` sets up the bundled sample that ships inside the package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from csintel import __version__
from csintel.cli import ORCHESTRATED, PREFECT_STARTUP_TIMEOUT_S, main
from csintel.config import load_settings

HEAVY = ("torch", "spacy", "sentence_transformers", "onnxruntime", "prefect", "sklearn")


def run_cli(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess, list[str], float]:
    """The CLI in a fresh interpreter; also which heavy modules it imported, and its wall time."""
    code = ("import sys; from csintel.cli import main\n"
            "try:\n    rc = main(sys.argv[1:])\nfinally:\n"
            f"    print('LOADED=' + ','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
            "sys.exit(rc)")
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    wall = time.monotonic() - start
    loaded = proc.stderr.rsplit("LOADED=", 1)[1].strip().split(",") if "LOADED=" in proc.stderr else ["?"]
    return proc, [m for m in loaded if m], wall


def test_a_missing_input_is_reported_before_anything_heavy_loads(tmp_path):
    proc, loaded, wall = run_cli(["tag", "--input", str(tmp_path / "nonexistent.csv"), "--output", "-"], tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[0] == f"csintel: error: --input {tmp_path / 'nonexistent.csv'}: no such file"
    assert "Traceback" not in proc.stderr and loaded == []
    print(f"missing input answered in {wall:.2f} s")   # ~0.5 s on an idle 2-core machine


@pytest.mark.parametrize("args", [
    ["train", "--task", "category", "--labeled", "missing.csv"],
    ["eval", "--task", "sentiment", "--test", "missing.csv"],
    ["themes", "--input", "missing.jsonl", "--output", "-"],
    ["taxonomy", "suggest", "--input", "missing.jsonl"],
    ["tag", "--input", "{here}", "--output", "no-such-folder/out.jsonl"],
])
def test_other_bad_arguments_are_caught_as_early(tmp_path, args):
    (tmp_path / "t.jsonl").write_text('{"id": "1", "body": "hi"}\n', encoding="utf-8")
    args = [a.replace("{here}", str(tmp_path / "t.jsonl")) for a in args]
    proc, loaded, _ = run_cli(args, tmp_path)
    assert proc.returncode == 2 and "csintel: error:" in proc.stderr and "Traceback" not in proc.stderr
    assert loaded == []


@pytest.mark.parametrize("command", ["tag", "themes"])
@pytest.mark.parametrize("name, content, says", [
    ("nohead.csv", "Q-1,Export fails,2026-11-02\nQ-2,Login broken,2026-11-02\n", "file rejected: no header row"),
    ("noid.csv", "ticket_id,body\nT-1,Export fails\n", "file rejected: no 'id' column"),
    ("empty.jsonl", "", "no rows to read (empty.jsonl: empty file"),
])
def test_a_file_rejected_as_a_whole_fails_before_the_model_loads(tmp_path, command, name, content, says):
    (tmp_path / name).write_text(content, encoding="utf-8")
    proc, loaded, _ = run_cli([command, "--input", str(tmp_path / name), "--output", "-"], tmp_path)
    assert proc.returncode == 2 and says in proc.stderr.splitlines()[0], proc.stderr
    assert loaded == [] and proc.stdout == ""


def test_commands_without_orchestration_never_import_prefect(tmp_path):
    assert main(["init", "--config", str(tmp_path / "c.toml")]) == 0
    for args in (["status"], ["export", "--to", str(tmp_path / "lake")], ["report", "--week", "2026-W47"]):
        proc, loaded, _ = run_cli([*args, "--config", str(tmp_path / "c.toml")], tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert "prefect" not in loaded, (args, loaded)
        if args[0] != "report":   # the report imports the digest builders, and through them spaCy (not a model)
            assert "torch" not in loaded and "spacy" not in loaded, (args, loaded)


def test_an_unexpected_error_is_one_line_unless_debug(tmp_path, monkeypatch, capsys):
    import csintel.cli as cli

    def boom(args):
        raise KeyError("something inside")

    monkeypatch.setattr(cli, "cmd_status", boom)   # _parser() binds the handlers when main() runs
    assert main(["status"]) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == ["csintel: error: KeyError: 'something inside'",
                                "csintel: run it again with --debug to see where it failed"]
    with pytest.raises(KeyError):
        main(["status", "--debug"])
    with pytest.raises(KeyError):
        main(["--debug", "status"])


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"csintel {__version__}"


def test_init_sample_points_at_the_shipped_sample(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["init", "--sample"]) == 0
    assert "csintel run --week 2026-W47" in capsys.readouterr().out
    settings = load_settings(tmp_path / "csintel.toml")
    tickets, accounts = (settings.resolve(p) for p in (*settings.sources.tickets, *settings.sources.accounts))
    assert tickets.is_file() and accounts.is_file() and tickets.name == "tickets.jsonl"
    first = json.loads(tickets.read_text(encoding="utf-8").splitlines()[0])
    assert first["id"] and settings.digest.ticket_url.startswith("https://tidewater")
    assert settings.warehouse_path.is_file() and settings.warehouse_path.parent.parent == tmp_path


def test_orchestrated_commands_wait_long_enough_for_prefects_server():
    # Prefect's default (20 s of sleeps) is shorter than a start on a loaded machine takes.
    code = ("import os; from csintel.cli import _prefect_defaults; os.environ.pop("
            "'PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS', None); _prefect_defaults(False); "
            "from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS as T; print(T.value())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert int(out.strip()) == PREFECT_STARTUP_TIMEOUT_S >= 300
    assert {"tag", "themes", "eval", "train", "status", "export", "report", "init"}.isdisjoint(ORCHESTRATED)


def test_spacy_loads_without_torch_for_onnx_and_torch_still_imports_after():
    code = ("import sys; from csintel.cli.files import _spacy_without_torch; from csintel.config import load_settings; "
            "_spacy_without_torch(load_settings(None)); print('spacy' in sys.modules, 'torch' in sys.modules); "
            "import spacy; nlp = spacy.blank('en'); print(len(nlp('two words'))); import torch; print(torch.ones(2).sum().item())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    from csintel.embed import planned_backend

    if planned_backend(load_settings(None).models) == "torch":   # no onnxruntime here: nothing to skip
        pytest.skip("the configured backend runs on torch on this machine")
    assert out == ["True", "False", "2", "2.0"]
