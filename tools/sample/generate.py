"""Generate the sample: plan, write every ticket, add the malformed rows, save the three files."""

from __future__ import annotations

import csv
import json
import random
from datetime import date, datetime, time, timedelta
from pathlib import Path

from tools.sample.accounts import ACCOUNT_COLUMNS, make_accounts, plant_renewals
from tools.sample.compose import Draft, compose
from tools.sample.conversation import conversation, iso_utc
from tools.sample.plan import TicketSpec, plan_tickets
from tools.sample.truth import Written, planted, ticket_truth

FIRST_TICKET_NUMBER = 10001
NAIVE_TIMESTAMP_RATE = 0.01         # a few rows carry timestamps without a zone (meaning UTC)
DAYS_UNTIL_CLOSED = 4               # a solved ticket becomes "closed" after this many days
MAX_REWRITES = 50
LOG_LINES_IN_OVERSIZED_BODY = 2000  # ~140,000 characters: over the 100,000 a loader accepts
MALFORMED_FAULTS = ("missing_id", "empty_text", "bad_timestamp", "bad_csat", "body_too_long", "invalid_json")


def generate(out_dir: Path, *, n_tickets: int = 3600, n_accounts: int = 200, weeks: int = 13,
             last_week_end: date = date(2026, 11, 22), seed: int = 7) -> dict:
    """Write tickets.jsonl, accounts.csv, ground_truth.json into out_dir; return a small summary dict.

    The same arguments always give byte-identical files. Tickets are solved in the `weeks` ISO
    weeks ending with the one that holds `last_week_end`; six malformed rows follow them.

    Raises:
        ValueError: when the sizes leave no room for every planted item.
    """
    rng = random.Random(seed)
    week_starts = _week_starts(last_week_end, weeks)
    week_labels = [_week_label(d) for d in week_starts]
    accounts = make_accounts(rng, n_accounts, last_week_end)
    accounts, at_risk, healthy = plant_renewals(rng, accounts, last_week_end)
    specs = plan_tickets(rng, n_tickets, week_starts, last_week_end, accounts, at_risk, healthy)
    specs.sort(key=lambda s: s.created_at)

    seen: set[str] = set()
    written = [Written(f"TW-{FIRST_TICKET_NUMBER + i}", spec, _unique_draft(rng, spec, seen))
               for i, spec in enumerate(specs)]
    end_of_data = datetime.combine(last_week_end, time(23, 59, 59))
    lines = [_json_line(_row(rng, w, end_of_data)) for w in written]
    bad_lines, malformed = _malformed_rows(rng, specs, seen, len(lines), end_of_data)
    lines += bad_lines

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "tickets.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    _write_accounts(out_dir / "accounts.csv", accounts)
    truth = {
        "generator": {"n_tickets": n_tickets, "n_accounts": n_accounts, "weeks": weeks,
                      "last_week_end": last_week_end.isoformat(), "seed": seed},
        "weeks": [{"week": label, "start": start.isoformat(), "end": (start + timedelta(days=6)).isoformat(),
                   "tickets": sum(1 for w in written if w.spec.week == i)}
                  for i, (label, start) in enumerate(zip(week_labels, week_starts))],
        "planted": planted(written, week_labels, at_risk, healthy, last_week_end),
        "malformed": malformed,
    }
    _write_truth(out_dir / "ground_truth.json", truth, {w.ticket_id: ticket_truth(w.spec, w.draft) for w in written})
    p = truth["planted"]
    return {
        "out_dir": str(out_dir), "tickets": len(written), "malformed": len(malformed),
        "accounts": len(accounts), "weeks": [week_labels[0], week_labels[-1]],
        "emerging_tickets": len(p["emerging"]["tickets"]), "spike_ratio": p["spiking"]["ratio"],
        "competitor_tickets": p["competitors"]["tickets_with_mention"], "pii_tickets": len(p["pii"]),
    }


def _week_starts(last_week_end: date, weeks: int) -> list[date]:
    last_monday = last_week_end - timedelta(days=last_week_end.weekday())
    return [last_monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]


def _week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _unique_draft(rng: random.Random, spec: TicketSpec, seen: set[str]) -> Draft:
    """Write the ticket again until its body differs from every body written so far."""
    for _ in range(MAX_REWRITES):
        draft = compose(rng, spec)
        key = " ".join(draft.body.lower().split())
        if key not in seen:
            seen.add(key)
            return draft
    raise RuntimeError(f"could not write a unique body for theme {spec.theme_key}")


def _malformed_rows(rng: random.Random, specs: list[TicketSpec], seen: set[str], n_valid: int,
                    end_of_data: datetime) -> tuple[list[str], list[dict[str, object]]]:
    """One broken line per fault, to follow the `n_valid` good lines, and where each one is."""
    # Plain background tickets only, so nothing planted hides in a row the loader sets aside.
    plain = [s for s in specs if s.role == "background" and not s.planted_extras]
    lines, malformed = [], []
    for fault in MALFORMED_FAULTS:
        spec = rng.choice(plain)
        w = Written(f"TW-{FIRST_TICKET_NUMBER + n_valid + len(lines)}", spec, _unique_draft(rng, spec, seen))
        lines.append(_malformed_line(fault, _row(rng, w, end_of_data)))
        malformed.append({"line": n_valid + len(lines), "id": None if fault == "missing_id" else w.ticket_id,
                          "fault": fault})
    return lines, malformed


def _row(rng: random.Random, w: Written, end_of_data: datetime) -> dict[str, object]:
    spec = w.spec
    naive = rng.random() < NAIVE_TIMESTAMP_RATE
    updated = min(end_of_data, spec.solved_at + timedelta(minutes=rng.randint(0, 180)))
    closed = spec.solved_at < end_of_data - timedelta(days=DAYS_UNTIL_CLOSED)
    tags = [*rng.sample(spec.theme.tags, rng.randint(0, min(2, len(spec.theme.tags))))] if spec.theme else []
    if spec.request and rng.random() < 0.5:
        tags.append("feedback")
    if spec.priority == "urgent":
        tags.append("escalated")
    return {
        "id": w.ticket_id, "subject": w.draft.subject, "body": w.draft.body,
        "comments": conversation(rng, spec),
        "account_id": None if spec.unlinked else spec.account.account_id,
        "requester_email": spec.requester.email, "status": "closed" if closed else "solved",
        "priority": spec.priority, "channel": spec.channel,
        "created_at": iso_utc(spec.created_at, naive), "solved_at": iso_utc(spec.solved_at, naive),
        "updated_at": iso_utc(updated, naive), "first_response_minutes": spec.first_response_minutes,
        "csat": spec.csat, "tags": tags, "region": spec.account.region,
    }


def _malformed_line(fault: str, row: dict[str, object]) -> str:
    """One row broken in exactly one way."""
    if fault == "missing_id":
        del row["id"]
    elif fault == "empty_text":
        row["subject"], row["body"] = "", ""
    elif fault == "bad_timestamp":
        row["created_at"] = "yesterday"
    elif fault == "bad_csat":
        row["csat"] = "five"
    elif fault == "body_too_long":
        log = "".join(f"2026-11-20T10:{i // 60 % 60:02d}:{i % 60:02d}Z ERROR export-worker job={40000 + i} "
                      f"status=504 retrying in 30s\n" for i in range(LOG_LINES_IN_OVERSIZED_BODY))
        row["body"] = f"{row['body']}\n\nFull log below:\n{log}"
    elif fault == "invalid_json":
        text = _json_line(row)
        return text[: len(text) // 2]
    return _json_line(row)


def _json_line(row: dict[str, object]) -> str:
    return json.dumps(row, sort_keys=True, ensure_ascii=False)


def _write_accounts(path: Path, accounts: list) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=ACCOUNT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for account in sorted(accounts, key=lambda a: a.account_id):
            writer.writerow(account.row())


def _write_truth(path: Path, head: dict[str, object], tickets: dict[str, dict[str, object]]) -> None:
    """Pretty-print the summary; one line per ticket keeps the file compact and diffable."""
    parts = [f" {json.dumps(k)}: " + json.dumps(v, sort_keys=True, ensure_ascii=False, indent=1).replace("\n", "\n ")
             for k, v in head.items()]
    rows = ",\n".join(f"  {json.dumps(tid)}: {json.dumps(t, sort_keys=True, ensure_ascii=False)}"
                      for tid, t in tickets.items())
    parts.append(f' "tickets": {{\n{rows}\n }}')
    path.write_text("{\n" + ",\n".join(parts) + "\n}\n", encoding="utf-8")
