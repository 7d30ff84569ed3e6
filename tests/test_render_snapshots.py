"""Snapshot tests: one realistic digest per audience, rendered to Slack JSON, Markdown and HTML.

Each rendering is compared with a file in `tests/snapshots/` named `<digest>.slack.json`,
`<digest>.md` or `<digest>.html`. The files double as the examples a reviewer reads, so a change
to the renderers shows up as a reviewable diff.

Updating: when a snapshot file is missing, the test writes it and passes. To accept a deliberate
change, rerun with `UPDATE_SNAPSHOTS=1` (e.g. `UPDATE_SNAPSHOTS=1 pytest
tests/test_render_snapshots.py`), read the new files and keep them. Otherwise a mismatch fails
with the start of a unified diff.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Callable

import pytest

from csintel.digests.content import Digest, Line, Section, TicketRef
from csintel.routing.blocks import to_slack_messages
from csintel.routing.render import to_html, to_markdown

SNAPSHOT_DIR = Path(__file__).parent / "snapshots"
DIFF_LINES = 40
TICKET_URL = "https://acme.zendesk.com/agent/tickets/{id}"
CSM_SLACK_ID = "U07ABCD1234"


def tickets(*ids: str) -> tuple[TicketRef, ...]:
    """Ticket links as the digest builders make them from a configured URL template."""
    return tuple(TicketRef(tid, TICKET_URL.replace("{id}", tid)) for tid in ids)


PRODUCT = Digest(
    audience="product", week="2026-W47", title="Product digest · 2026-W47",
    summary="412 tickets closed in 2026-W47 (+18% vs last week), 163 accounts, 27% negative. "
            "2 emerging theme(s).",
    sections=(
        Section("Emerging: new and spiking themes", (
            Line(title="SSO login loops after Okta certificate rotation",
                 detail="23 tickets (new this week; first seen 2026-W47) · 19 accounts · $1.4M ARR · 74% negative",
                 badge="NEW",
                 quote="After our Okta cert rotated this morning every login bounces back to the sign-in page. "
                       "Nobody on the team can get in.",
                 tickets=tickets("48213", "48220", "48236")),
            Line(title="CSV export drops rows with special characters",
                 detail="31 tickets (+210% vs last week; usual 9.8/week) · 22 accounts · $860k ARR · 61% negative",
                 badge="SPIKING",
                 quote='Export to CSV silently skips any row where a field has "<" or & in it — '
                       "I sent the report to [email] with 40 customers missing.",
                 tickets=tickets("48101", "48177")),
        ), "No new or spiking themes this week."),
        Section("Top themes", (
            Line(title="Invoice PDF totals do not match the dashboard",
                 detail="44 tickets (flat vs last week; usual 41.2/week) · 37 accounts · $2.1M ARR · 38% negative",
                 quote="The invoice says $1,240 but the billing page shows $1,180 for the same period.",
                 tickets=tickets("47902", "47955", "48010")),
            Line(title="Slack notifications arrive twice",
                 detail="17 tickets (-15% vs last week; usual 19.0/week) · 12 accounts · $410k ARR · 22% negative",
                 tickets=tickets("48003")),
        ), "No themed tickets this week."),
        Section("Errors customers hit", (
            Line(title="ERR_SYNC_TIMEOUT",
                 detail="12 tickets, 9 accounts (+50% vs last week)",
                 quote="Sync stops at 87% with ERR_SYNC_TIMEOUT after about ten minutes.",
                 tickets=tickets("48150", "48188")),
        ), "No error codes reported."),
        Section("Feature requests (last 12 weeks, by accounts)", (
            Line(title="Scheduled exports to S3",
                 detail="14 accounts · $1.9M ARR · 21 tickets (3 this week)",
                 quote="We'd love to schedule the weekly export straight into our S3 bucket.",
                 tickets=tickets("46011", "47333")),
        ), "No feature requests."),
    ),
    stats={"tickets": 412, "emerging_themes": 2},
)

CS = Digest(
    audience="cs", week="2026-W47", title="Renewal risk · 2026-W47",
    summary="2 of 18 accounts renewing in the next 90 days show risk (1 high, 1 newly at risk), $395k ARR.",
    sections=(
        Section("Accounts at risk before renewal", (
            Line(title="Northwind Traders — renews 2026-12-15 (in 24 days)",
                 detail="Risk 82/100 · $240k ARR · CSM dana.whitfield@acme.example",
                 badge="HIGH RISK · NEW",
                 reasons=("9 tickets in 30 days, 3x their usual volume",
                          "2 tickets mention evaluating Zendesk",
                          "CSAT 2 of 5 bad ratings this month",
                          "Open escalation: SSO outage blocked 40 users for 2 days"),
                 tickets=tickets("48213", "48236", "47990"),
                 mention=CSM_SLACK_ID),
            Line(title="Globex Retail — renews 2027-01-31 (in 71 days)",
                 detail="Risk 58/100 · $155k ARR",
                 badge="MEDIUM RISK",
                 reasons=("Negative sentiment on 5 of 7 tickets", "Asked about contract terms & exit clauses"),
                 tickets=tickets("48044")),
        ), "Nothing this week."),
    ),
    stats={"at_risk": 2, "high": 1, "newly_at_risk": 1, "arr_at_risk": 395000.0},
)

SALES = Digest(
    audience="sales", week="2026-W47", title="Competitor intel · 2026-W47",
    summary="6 competitive mentions in 2026-W47 across 5 accounts; 3 switching or evaluating.",
    sections=(
        Section("Switching and evaluation threats", (
            Line(title="Zendesk — evaluating",
                 detail="Northwind Traders · $240k ARR",
                 quote="We're evaluating Zendesk for next year because their SSO setup just works.",
                 tickets=tickets("48213")),
            Line(title="Freshdesk — switching",
                 detail="Initech · $38k ARR",
                 quote="If the export bug isn't fixed by Friday we'll move to Freshdesk.",
                 tickets=tickets("48177")),
        ), "No switching or evaluation mentions this week."),
        Section("What customers say competitors do better or cheaper", (
            Line(title="Intercom — pricing",
                 detail="Globex Retail · $155k ARR",
                 quote="Intercom quoted us 30% less for the same seats.",
                 tickets=tickets("48044")),
        ), "No comparisons this week."),
        Section("Mentions by competitor", (
            Line(title="Zendesk",
                 detail="3 competitive mentions this week (last week 1, 0.8/week over 12 weeks) · 3 accounts"),
            Line(title="Freshdesk",
                 detail="2 competitive mentions this week (last week 0, 0.3/week over 12 weeks) · 2 accounts"
                        " · 4 integration mentions"),
        ), "No competitive mentions this week."),
        Section("Integration mentions (kept apart)", (), "No integration mentions this week."),
    ),
    stats={"competitive_mentions": 6},
)

SUPPORT_OPS = Digest(
    audience="support_ops", week="2026-W47", title="Support operations · 2026-W47",
    summary="412 tickets closed (+18% vs last week); first-response SLA 91% against a 95% target. "
            "Next week needs 23 agents, 2 more than scheduled.",
    sections=(
        Section("Service levels", (
            Line(title="First-response SLA", detail="91% met (target 95%) · 38 breaches, 22 on Enterprise plans",
                 badge="BELOW TARGET", tickets=tickets("48213", "48220")),
            Line(title="Median first response", detail="1h 12m (last week 58m, +24%) · p90 6h 40m"),
            Line(title="Median resolution", detail="14.6h (flat vs last week) · p90 3.2 days"),
            Line(title="CSAT", detail="87% good of 214 ratings (last week 91%)",
                 quote="Took three days & four agents to get a straight answer.",
                 tickets=tickets("48101")),
        ), "No service-level data this week."),
        Section("Volume and staffing", (
            Line(title="Forecast for 2026-W48", detail="1,140 tickets (80% range 1,050-1,230), +8% vs this week"),
            Line(title="Agents needed (Erlang C)",
                 detail="23 agents for 80% answered within 1h at 18 min average handle time; 21 scheduled",
                 badge="SHORT 2",
                 reasons=("Peak Monday 09:00-12:00 needs 27 agents", "Occupancy would be 86% with 21 agents")),
        ), "No forecast this week."),
        Section("Slowest queues", (
            Line(title="Billing", detail="Median first response 3h 05m · 64 tickets · 11 SLA breaches",
                 tickets=tickets("47955", "48010")),
        ), "No queue over target."),
    ),
    stats={"tickets": 412, "sla_met": 0.91, "agents_needed": 23},
)

PRODUCT_QUIET = Digest(
    audience="product", week="2026-W52", title="Product digest · 2026-W52",
    summary="A quiet week: no tickets closed in 2026-W52.", quiet=True, stats={"tickets": 0},
)

DIGESTS = {
    "product": PRODUCT, "cs": CS, "sales": SALES, "support_ops": SUPPORT_OPS, "product_quiet": PRODUCT_QUIET,
}


def slack_json(digest: Digest) -> str:
    return json.dumps(to_slack_messages(digest), indent=2, ensure_ascii=False) + "\n"


RENDERERS: dict[str, Callable[[Digest], str]] = {"slack.json": slack_json, "md": to_markdown, "html": to_html}


def check_snapshot(name: str, actual: str) -> None:
    """Compare `actual` with the stored snapshot; write it when missing or UPDATE_SNAPSHOTS=1."""
    path = SNAPSHOT_DIR / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not path.exists():
        SNAPSHOT_DIR.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="\n")
        return
    expected = path.read_text(encoding="utf-8")
    if actual == expected:
        return
    diff = list(difflib.unified_diff(expected.splitlines(), actual.splitlines(),
                                     f"snapshots/{name}", "rendered", lineterm=""))
    shown = "\n".join(diff[:DIFF_LINES]) + ("\n..." if len(diff) > DIFF_LINES else "")
    pytest.fail(f"{name} differs from its snapshot (rerun with UPDATE_SNAPSHOTS=1 to accept):\n{shown}",
                pytrace=False)


@pytest.mark.parametrize("fmt", sorted(RENDERERS))
@pytest.mark.parametrize("name", sorted(DIGESTS))
def test_rendering_matches_snapshot(name: str, fmt: str) -> None:
    check_snapshot(f"{name}.{fmt}", RENDERERS[fmt](DIGESTS[name]))


@pytest.mark.parametrize("name", sorted(DIGESTS))
def test_slack_messages_have_block_kit_shape(name: str) -> None:
    messages = to_slack_messages(DIGESTS[name])
    assert messages
    for message in messages:
        assert set(message) == {"text", "blocks"}
        assert isinstance(message["text"], str) and message["text"].strip()
        assert 1 <= len(message["blocks"]) <= 50
        for block in message["blocks"]:
            kind = block["type"]
            if kind == "divider":
                assert block == {"type": "divider"}
            elif kind == "header":
                assert block["text"]["type"] == "plain_text"
                assert 1 <= len(block["text"]["text"]) <= 150
            else:
                assert kind == "section", block
                assert block["text"]["type"] == "mrkdwn"
                assert 1 <= len(block["text"]["text"]) <= 3000


def test_a_small_digest_fits_one_message_and_a_quiet_one_is_a_single_section() -> None:
    for digest in (PRODUCT, CS, SALES, SUPPORT_OPS):
        assert len(to_slack_messages(digest)) == 1
    [quiet] = to_slack_messages(PRODUCT_QUIET)
    assert quiet["blocks"] == [{"type": "section", "text": {
        "type": "mrkdwn", "text": "*Product digest · 2026-W52*: A quiet week: no tickets closed in 2026-W52."}}]


def test_snapshots_show_the_live_parts_only_where_the_renderer_made_them() -> None:
    cs = slack_json(CS)
    assert f"Owner: <@{CSM_SLACK_ID}>" in cs
    assert "<https://acme.zendesk.com/agent/tickets/48213|#48213>" in cs
    product = slack_json(PRODUCT)
    assert 'has \\"&lt;\\" or &amp; in it' in product          # customer `<` and `&` stay inert
    assert "has &quot;&lt;&quot; or &amp; in it" in to_html(PRODUCT)
    assert "[#48213](https://acme.zendesk.com/agent/tickets/48213)" in to_markdown(PRODUCT)


def test_a_changed_rendering_fails_with_a_readable_diff(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(globals(), "SNAPSHOT_DIR", tmp_path)
    monkeypatch.delenv("UPDATE_SNAPSHOTS", raising=False)
    (tmp_path / "x.md").write_text("# Title\nold line\n", encoding="utf-8")
    with pytest.raises(pytest.fail.Exception) as failure:
        check_snapshot("x.md", "# Title\nnew line\n")
    message = str(failure.value)
    assert "-old line" in message and "+new line" in message and "UPDATE_SNAPSHOTS=1" in message
    check_snapshot("y.md", "fresh\n")                              # a missing snapshot is written
    assert (tmp_path / "y.md").read_text(encoding="utf-8") == "fresh\n"
