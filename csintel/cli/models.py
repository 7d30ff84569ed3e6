"""The commands that train and measure models: `train`, `eval` and `risk backtest`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from csintel.cli.common import _check_file, _note, _print_json, _settings


def cmd_train(args: argparse.Namespace) -> int:
    settings, _ = _settings(args)
    _check_file(args.labeled, "--labeled")
    if args.test:
        _check_file(args.test, "--test")
    if args.unlabelled:
        _check_file(args.unlabelled, "--unlabelled")
    from csintel.classify.evaluation import train
    from csintel.classify.heads import save_head

    _note(f"training the {args.task} head (loads the embedding model, then cross-validates)")
    head = train(args.task, args.labeled, settings, test=args.test, progress=_note, fine_tune=args.fine_tune,
                 unlabelled=args.unlabelled)
    path = save_head(head, settings.resolve(settings.models.model_dir))
    cv = head.card.get("cross_validation")
    if cv:
        print(f"{args.task}: {cv['folds']}-fold cross-validated accuracy {cv['accuracy']}, macro F1 {cv['macro_f1']}, "
              f"ECE {cv['ece']} (temperature {cv['temperature']}) on {head.card['examples']} examples")
    semi = head.card.get("unlabelled")
    if semi:
        print(f"{args.task}: {semi['offered']} unlabelled tickets " + (
            "used as pseudo-labelled rows (they won on validation)" if semi["used"] else
            "tried as pseudo-labelled rows, not used (no gain on validation)"))
    if head.card.get("few_shot"):
        print(f"{args.task}: {head.card['few_shot']['decision']}")
    held = head.card.get("held_out")
    if held:
        print(f"{args.task}: held-out {held['file']} (n={held['n']}): accuracy {held['accuracy']}, "
              f"macro recall {held['macro_recall']}, macro F1 {held['macro_f1']}")
    print(f"saved {head.task} head to {path} (the tagger uses it from now on; retag with `csintel enrich`)")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    settings, _ = _settings(args)
    _check_file(args.test, "--test")
    if args.train:
        _check_file(args.train, "--train")
    from csintel.classify.evaluation import evaluate, format_report

    result = evaluate(args.task, args.test, settings, train_file=args.train)
    if args.json:
        print(json.dumps(result, default=str))
    else:
        print(format_report(result))
    return 0


def cmd_risk_backtest(args: argparse.Namespace) -> int:
    from csintel.risk.backtest import backtest, load_history, load_renewals
    from csintel.risk.model import save_model

    settings, _ = _settings(args)
    folder = args.history or _sample_history()
    tickets = sorted(p for p in folder.iterdir() if p.stem == "tickets" and p.suffix in {".jsonl", ".csv", ".parquet"})
    if not tickets or not (folder / "renewals.csv").is_file():
        raise FileNotFoundError(f"{folder} needs tickets.jsonl (or .csv/.parquet) and renewals.csv")
    accounts = folder / "accounts.csv"
    history = load_history(settings, tickets, accounts if accounts.is_file() else None)
    report = backtest(settings, history, load_renewals(folder / "renewals.csv"), lead_days=args.lead_days)
    if args.json:
        _print_json(report.to_json())
    else:
        print(report.summary)
    if args.save:
        if report.learned_is_better and report.learned:
            path = save_model(report.learned, settings.resolve(settings.models.model_dir))
            print(f"saved the learned model to {path}; weekly scoring now uses it", file=sys.stderr)
        else:
            print("the learned model did not backtest better: nothing saved, the default stays", file=sys.stderr)
    return 0


def _sample_history() -> Path:
    """The sample's renewal history, shipped with csintel, unpacked once under ./.csintel."""
    from csintel.risk.backtest import unpack_sample_history

    return unpack_sample_history(Path(".csintel") / "sample-history")
