"""Rendering digests: escaping untrusted text, validated links and mentions, Slack limits."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from markdown_it import MarkdownIt

from csintel.digests.content import Digest, Line, Section, TicketRef
from csintel.routing.blocks import escape_mrkdwn, to_slack_messages
from csintel.routing.render import to_html, to_markdown, to_plain_text

EVIL = "<!channel> & <@U123> <https://evil.example|click> <#C999>"
SAFE_URL = "https://help.example.com/tickets/42"
# The only `<...>` sequences a Slack message may hold: links to vetted URLs and vetted mentions.
ALLOWED_TOKEN = re.compile(r"<https://help\.example\.com/[^|<>]*\|[^<>]*>|<@[UW][A-Z0-9]{2,}>")
ENTITY = re.compile(r"&(amp|lt|gt);")


def texts_of(messages: list[dict]) -> list[str]:
    """Every text string in the messages (fallbacks and block texts)."""
    out = []
    for message in messages:
        out.append(message["text"])
        out += [block["text"]["text"] for block in message["blocks"] if "text" in block]
    return out


def evil_digest() -> Digest:
    line = Line(title=f"Title {EVIL}", detail=f"Detail {EVIL}", badge="NEW", quote=f"Quote {EVIL}",
                tickets=(TicketRef(EVIL), TicketRef("42", SAFE_URL)), reasons=(f"Reason {EVIL}",))
    return Digest(audience="product", week="2026-W47", title=f"Digest {EVIL}",
                  summary=f"Summary {EVIL}",
                  sections=(Section(f"Section {EVIL}", (line,)),
                            Section("Empty", (), empty_text=f"Nothing {EVIL}")))


def numbered_digest(n_lines: int, detail_chars: int = 400) -> Digest:
    sections = tuple(
        Section(f"Section {s}", tuple(
            Line(title=f"line-{s}-{i:03d}", detail="d" * detail_chars, badge="SPIKING",
                 quote="q" * 150, tickets=(TicketRef(str(i), f"{SAFE_URL}/{i}"),),
                 mention="U0CSM01")
            for i in range(n_lines // 3)))
        for s in range(3))
    return Digest(audience="product", week="2026-W47", title="Weekly product digest",
                  summary="Lots happened.", sections=sections)


def test_escape_mrkdwn_escapes_only_the_three_control_characters() -> None:
    assert escape_mrkdwn("a & b <!here> *x* _y_ > z") == "a &amp; b &lt;!here&gt; *x* _y_ &gt; z"
    assert escape_mrkdwn("&amp;") == "&amp;amp;"


def test_customer_text_cannot_ping_mention_or_link_in_slack() -> None:
    messages = to_slack_messages(evil_digest())
    texts = texts_of(messages)
    for text in texts:
        assert ALLOWED_TOKEN.sub("", text).count("<") == 0, text
        assert "&" not in ENTITY.sub("", text), text
    joined = "\n".join(texts)
    assert "&lt;!channel&gt; &amp; &lt;@U123&gt; &lt;https://evil.example|click&gt;" in joined
    assert f"<{SAFE_URL}|#42>" in joined
    assert "#&lt;!channel&gt;" in joined          # a ticket id is a label, never syntax
    header = messages[0]["blocks"][0]
    assert header["type"] == "header"
    assert header["text"]["text"].startswith("Digest &lt;!channel&gt; &amp;")


@pytest.mark.parametrize("mention, live", [
    ("U0ABC12", True), ("W0ABC12", True),
    ("U1", False), ("u0abc12", False), ("here", False), ("<!channel>", False),
    ("U0ABC12> <!channel", False), ("", False),
])
def test_mention_only_from_a_valid_slack_user_id(mention: str, live: bool) -> None:
    line = Line(title="Acme renewal at risk", mention=mention or None)
    digest = Digest("cs", "2026-W47", "CS digest", "One account.", (Section("Risk", (line,)),))
    joined = "\n".join(texts_of(to_slack_messages(digest)))
    assert (f"<@{mention}>" in joined) is live
    assert joined.count("<") == int(live)


@pytest.mark.parametrize("url, live", [
    (SAFE_URL, True), ("http://help.example.com/t/1", True), ("HTTPS://help.example.com/t/1", True),
    ("javascript:alert(1)", False), ("ftp://help.example.com/1", False),
    ("https://help.example.com/a|<!channel>", False), ("https://help.example.com/a>b", False),
    ("https://help.example.com/a b", False), ("https://help.example.com/\n<!here>", False),
    ("", False), (None, False),
])
def test_ticket_link_only_for_a_safe_http_url(url: str | None, live: bool) -> None:
    line = Line(title="Sync fails", tickets=(TicketRef("7", url),))
    digest = Digest("product", "2026-W47", "Product", "Sync.", (Section("Errors", (line,)),))
    joined = "\n".join(texts_of(to_slack_messages(digest)))
    assert ("|#7>" in joined) is live
    assert joined.count("<") == int(live)
    assert "#7" in joined


def test_ampersand_in_a_link_url_is_escaped() -> None:
    line = Line(title="x", tickets=(TicketRef("1", "https://help.example.com/t?a=1&b=2"),))
    digest = Digest("product", "2026-W47", "P", "S", (Section("A", (line,)),))
    assert "<https://help.example.com/t?a=1&amp;b=2|#1>" in "\n".join(
        texts_of(to_slack_messages(digest)))


def test_a_big_digest_splits_into_messages_within_limits_and_loses_nothing() -> None:
    digest = numbered_digest(120)
    messages = to_slack_messages(digest)
    assert len(messages) > 2
    for message in messages:
        assert len(message["blocks"]) <= 50
        assert len(json.dumps(message, ensure_ascii=False)) <= 12000
        for block in message["blocks"]:
            if block["type"] == "header":
                assert len(block["text"]["text"]) <= 150
            elif block["type"] == "section":
                assert len(block["text"]["text"]) <= 3000
    titles = [line.title for section in digest.sections for line in section.lines]
    seen = re.findall(r"\*(line-\d-\d{3})\*", "\n".join(texts_of(messages)))
    assert seen == titles                     # every line once, in order
    for message in messages[1:]:
        first = message["blocks"][0]
        assert first["type"] == "header"          # a continuation never opens with a divider
        assert message["text"] == "Weekly product digest (continued)"
    assert any(m["blocks"][0]["text"]["text"].endswith("(continued)") for m in messages[1:])


def test_block_count_limit_splits_too() -> None:
    digest = numbered_digest(60, detail_chars=5)
    messages = to_slack_messages(digest, max_blocks=8)
    assert all(len(m["blocks"]) <= 8 for m in messages)
    seen = re.findall(r"\*(line-\d-\d{3})\*", "\n".join(texts_of(messages)))
    assert len(seen) == 60 and len(set(seen)) == 60


def test_limits_too_small_for_one_section_are_refused() -> None:
    with pytest.raises(ValueError):
        to_slack_messages(numbered_digest(3), max_chars=4000)
    with pytest.raises(ValueError):
        to_slack_messages(numbered_digest(3), max_blocks=2)


def test_an_overlong_line_is_truncated_but_keeps_its_links_and_owner() -> None:
    line = Line(title="T" * 200, detail="& " * 5000, quote='"' * 4000,
                tickets=(TicketRef("42", SAFE_URL),), mention="U0CSM01")
    digest = Digest("product", "2026-W47", "H" * 400, "S" * 5000, (Section("X" * 300, (line,)),))
    messages = to_slack_messages(digest)
    blocks = [b for m in messages for b in m["blocks"]]
    headers = [b["text"]["text"] for b in blocks if b["type"] == "header"]
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert all(len(h) <= 150 and h.endswith("…") for h in headers)
    assert all(len(s) <= 3000 for s in sections)
    line_text = sections[-1]
    assert "…" in line_text
    assert f"<{SAFE_URL}|#42>" in line_text and "<@U0CSM01>" in line_text
    assert "&" not in ENTITY.sub("", line_text)   # never cut inside an entity
    assert all(len(json.dumps(m, ensure_ascii=False)) <= 12000 for m in messages)


def test_empty_section_shows_its_empty_text() -> None:
    digest = Digest("sales", "2026-W47", "Sales", "Quiet on competitors.",
                    (Section("Competitors", (), empty_text="No competitor mentions."),))
    joined = "\n".join(texts_of(to_slack_messages(digest)))
    assert "_No competitor mentions._" in joined


def test_quiet_digest_renders_one_line() -> None:
    digest = Digest("product", "2026-W47", "Product digest",
                    "A quiet week: 3 tickets, no new themes.",
                    (Section("Themes", (Line("ignored"),)),), quiet=True)
    messages = to_slack_messages(digest)
    assert len(messages) == 1 and len(messages[0]["blocks"]) == 1
    assert messages[0]["blocks"][0]["text"]["text"] == (
        "*Product digest*: A quiet week: 3 tickets, no new themes.")
    assert to_plain_text(digest) == "Product digest: A quiet week: 3 tickets, no new themes."
    assert to_markdown(digest).strip().count("\n") == 0
    assert "ignored" not in to_markdown(digest) and "ignored" not in to_html(digest)


def test_plain_text_has_title_summary_and_section_counts() -> None:
    digest = numbered_digest(6)
    assert to_plain_text(digest).splitlines() == [
        "Weekly product digest", "Lots happened.", "Section 0 (2)", "Section 1 (2)",
        "Section 2 (2)"]


def test_markdown_neutralises_html_and_markdown_syntax() -> None:
    line = Line(title="*bold* _it_ [x](https://evil.example) <script>alert(1)</script>",
                detail="a | b ~c~ `code`", quote="# not a heading", badge="NEW",
                reasons=("1. not a list", "- not a bullet"),
                tickets=(TicketRef("42", "https://help.example.com/t/(42)"),
                         TicketRef("43", "javascript:alert(1)")))
    digest = Digest("product", "2026-W47", "Digest <b>&</b>", "Summary", (Section("S", (line,)),))
    md = to_markdown(digest)
    assert re.search(r"<[A-Za-z/!?]", md) is None              # no tag, comment or autolink
    assert "# Digest &lt;b>&&lt;/b>" in md
    assert r"\*bold\* \_it\_ \[x](https://evil.example) &lt;script>alert(1)&lt;/script>" in md
    assert r"a | b \~c\~ \`code\`" in md
    assert "  > “# not a heading”" in md                    # mid-line: not a heading, left as is
    assert r"  - 1\. not a list" in md and r"  - \- not a bullet" in md
    assert "[#42](https://help.example.com/t/%2842%29)" in md
    assert "#43" in md and "javascript" not in md


def test_markdown_of_plain_text_reads_as_written() -> None:
    """No escapes where Markdown would read nothing: the .md files are for people to read."""
    plain = ("0.4 tickets/hour", "INVALID_ARGUMENT", "#42", "5 * 3", "$2.8M ARR (+29% vs last week)",
             "first-response SLA met on 90%", "C:\\Users\\me", "a | b", "3.5 h", "~5 min", "snake_case_name")
    line = Line(title=plain[1], detail=" · ".join(plain), quote=plain[0], reasons=plain)
    md = to_markdown(Digest("support_ops", "2026-W47", "Support operations", plain[0], (Section("This week", (line,)),)))
    assert "\\" not in md.replace("C:\\Users\\me", "")
    for text in plain:
        assert text in md


def test_markdown_ticket_ids_on_one_line_cannot_pair_into_emphasis() -> None:
    """The tickets of a line share one paragraph: a lone `*` in each of two ids must not pair."""
    line = Line(title="T", tickets=(TicketRef("a*b", None), TicketRef("c*d", "https://help.example.com/1"),
                                    TicketRef("e_", None), TicketRef("_f", None)))
    md = to_markdown(Digest("product", "2026-W47", "Title", "Summary", (Section("S", (line,)),)))
    kinds = Counter(t.type for block in MarkdownIt("commonmark").parse(md) for t in (block.children or []))
    assert kinds["strong_open"] == 1 and kinds["em_open"] == 0          # only the title's own **T**
    assert "#a\\*b" in md and "#c\\*d" in md


def test_markdown_bracket_in_the_title_cannot_link_to_a_url_in_the_detail() -> None:
    """Title, badge and detail share one paragraph: a `[` in one must not open a link another closes."""
    line = Line(title="[", detail="[x](https://evil.example)")
    md = to_markdown(Digest("product", "2026-W47", "Title", "Summary", (Section("S", (line,)),)))
    assert r"- **\[** — \[x](https://evil.example)" in md
    plain = to_markdown(Digest("product", "2026-W47", "Title", "Summary",
                               (Section("S", (Line(title="[beta] export", detail="see (docs)"),)),)))
    assert "- **[beta] export** — see (docs)" in plain      # no `](` in the line: nothing to escape


def test_html_is_a_whole_page_with_all_text_escaped() -> None:
    line = Line(title="<script>alert(1)</script>", detail="a & b", quote='"<img src=x>"',
                badge="<b>NEW</b>", tickets=(TicketRef("1", 'https://help.example.com/"onclick=x'),
                                             TicketRef("2", "javascript:alert(1)")))
    page = to_html(Digest("product", "2026-W47", "T <i>", "S", (Section("<h1>", (line,)),)))
    assert page.startswith("<!doctype html>") and "<style>" in page
    assert page.rstrip().endswith("</html>")
    assert "<script>" not in page and "<img" not in page and "<i>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "a &amp; b" in page
    assert 'href="https://help.example.com/&quot;onclick=x"' in page
    assert "javascript:" not in page and "#2" in page


def test_account_names_and_quotes_cannot_format_or_link_in_slack() -> None:
    """A CRM name with a URL, a subject with ~strike~: shown as written, neither linked nor struck."""
    line = Line(title="Acme (https://acme-login.evil.example/sso)", detail="moved to attio.com · INVALID_ARGUMENT · 5 * 3",
                quote="~strike~ *bold* _it_ `code` www.evil.example", reasons=("ask bob.smith@acme.example",))
    text = to_slack_messages(Digest("cs", "2026-W47", "Renewal risk", "S", (Section("At risk", (line,)),)))[0]
    mrkdwn = " ".join(b["text"]["text"] for b in text["blocks"] if b["type"] == "section")
    body = mrkdwn.split("*", 2)[2]                                   # past the renderer's bold title
    assert not re.search(r"[~*_`]\w", body.replace("INVALID_ARGUMENT", "")), body
    assert not re.search(r"https?://|www\.|\w\.(com|example)\b", mrkdwn), mrkdwn
    assert "INVALID_ARGUMENT" in mrkdwn and "5 * 3" in mrkdwn
    # Read back, it is the same text: only look-alike characters stand in.
    shown = mrkdwn.translate({0x2217: "*", 0x02CD: "_", 0x223C: "~", 0x02CB: "`", 0x2024: ".", 0x2236: ":"})
    assert "Acme (https://acme-login.evil.example/sso)" in shown and "“~strike~ *bold* _it_ `code`" in shown
