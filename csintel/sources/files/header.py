"""The header of a tabular file: its delimiter, its column names as the contract spells them, and
why it cannot be used (no header at all, a required column missing, a likely wrong delimiter)."""

from __future__ import annotations

import csv
import re

from csintel.sources.files.text import preview

DELIMITERS = (",", ";", "\t", "|")  # sniffed from the header line, comma on a tie

# Columns the contract names, to tell a header from a data line and to match "ID" to "id".
TICKET_FIELDS = ("id", "subject", "body", "text", "comments", "account_id", "requester_email", "status",
                 "priority", "channel", "created_at", "solved_at", "closed_at", "updated_at",
                 "first_response_minutes", "csat", "tags")
ACCOUNT_FIELDS = ("account_id", "name", "arr_usd", "plan", "segment", "renewal_date", "csm_email",
                  "csm_slack_id", "domain")
KNOWN = {c.lower(): c for c in (*TICKET_FIELDS, *ACCOUNT_FIELDS)}
# What each kind of file must have: one column of each group.
REQUIRED = {
    "ticket": (("id",), ("subject", "body", "text")),
    "account": (("account_id",), ("name",)),
}
# An id as exports write them: no spaces, no quotes; shape checks in csv_lines narrow it per file.
ID_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:#/@+\-]{0,127}")


def sniff_header(text: str) -> tuple[str, list[str]]:
    """The delimiter (the candidate that splits the header into the most columns) and the names."""
    best, names = ",", next(csv.reader([text]), [])
    for d in DELIMITERS[1:]:
        split = next(csv.reader([text], delimiter=d), [])
        if len(split) > len(names):
            best, names = d, split
    return best, [column_name(n) for n in names]


def column_name(name: str) -> str:
    name = name.strip().lstrip("\ufeff").strip()
    return KNOWN.get(name.lower(), name)


def header_problem(names: list[str], text: str, delimiter: str, kind: str | None) -> str | None:
    """Why a header cannot be used for `kind`, or None."""
    reads = repr(preview(text))
    key = REQUIRED[kind][0][0] if kind else None
    data_like = [n for n in names if _looks_like_value(n)]
    if not any(n in KNOWN.values() for n in names) or (key and key not in names and data_like):
        return (f"no header row: the first line reads {reads}, which names none of the columns csintel "
                f"reads; the first line must name the columns (e.g. id,subject,body,created_at)")
    if kind is None:
        return None
    for group in REQUIRED[kind]:
        if not any(c in names for c in group):
            wanted = " or ".join(repr(c) for c in group)
            hint = ""
            near = [n for n in names if group[0] in n.lower() and n not in KNOWN.values()]
            if near:
                hint = f"; is {near[0]!r} the {group[0]}? name it {group[0]!r}"
            elif len(names) == 1:
                hint = "; the header has one column: is the delimiter something other than , ; tab or |?"
            return f"no {wanted} column; the header reads {reads}{hint}"
    return None


def _looks_like_value(cell: str) -> bool:
    """A header cell that reads like data: an id with a digit ('Q-1', '48213') or a date."""
    cell = cell.strip()
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", cell)) or (
        bool(ID_TOKEN.fullmatch(cell)) and any(ch.isdigit() for ch in cell))
