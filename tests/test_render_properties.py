"""Property tests: hostile customer text in every Digest field, and the PII path of quotes.

Hypothesis builds digests whose every string carries Slack control sequences, HTML, Markdown,
entities, emoji, right-to-left and zero-width characters, newlines, very long words and PII,
then checks the renderers' promises: Slack limits hold and nothing is dropped, the only live
Slack syntax is what the renderer built from a valid mention or ticket URL, Markdown and HTML
carry no markup from customers, and quotes (redact_pii then short_quote) keep no PII.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from csintel.digests.content import Digest, Line, Section, TicketRef
from csintel.routing.blocks import neutralise_mrkdwn, to_slack_messages
from csintel.routing.render import UNTITLED, to_html, to_markdown
from csintel.text import redact_pii, short_quote

# --- what customers write -----------------------------------------------------------------------

SLACK_CONTROL = (
    "<!channel>", "<!here>", "<!everyone>", "<@U123ABC>", "<#C123|general>", "<https://evil.example|click>",
    "<mailto:a@b.c|x>", "<!subteam^S0123|@support>", "<!date^1392734382^{date}|Feb 18>", "<@W0ABC12>",
)
MARKUP = (
    "&", "<", ">", "&amp;", "&lt;!channel&gt;", "&#60;", "*bold*", "_it_", "~x~", "`code`", "```", "# ", "## ",
    "- ", "+ ", "1. ", "2) ", "> ", "|", "\\", "[x](https://evil.example)", "![i](https://evil.example/i.png)",
    "===", "$", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "</li></ul>", "<!--", "-->",
    "<a href='javascript:alert(1)'>", '"', "'", "<b>", "</strong>",
)
UNICODE = (
    "🔥", "👍🏽", "👨‍👩‍👧", ":tada:", "مرحبا بالعالم", "שלום", "\u202e", "\u202b", "\u200f", "\u200b", "\u200c",
    "\u200d", "\ufeff", "\u2060", "请联系", "です", "สวัสดี", "Ünïcödé",
)
WHITESPACE = ("\n", "\r\n", "\t", " ", "  ", "\u2028", "\u00a0", "\x00", "\x1b", "\x85", "\x7f")
PII_EXAMPLES = (
    "jane.doe@example.com", "+44 20 7946 0958", "(415) 555-0100", "4111 1111 1111 1111", "192.168.10.24",
)
FRAGMENTS = SLACK_CONTROL + MARKUP + UNICODE + WHITESPACE + PII_EXAMPLES

HOSTILE_MENTIONS = (
    "U123> <!channel", "<!channel>", "here", "u0abc12", "U1", "", "U0ABC12\n", "U0ABC12 ", "<@U0ABC12>",
    "U0ABC12|x", "@U0ABC12", "U0ABC12>",
)
HOSTILE_URLS = (
    "javascript:alert(1)", "https://help.example.com/a|<!channel>", "https://help.example.com/a>b",
    "https://help.example.com/a b", "https://help.example.com/\n<!here>", "ftp://help.example.com/1",
    "mailto:a@b.c", "", "https://", "data:text/html,<script>alert(1)</script>",
)
TICKET_URL = "https://help.example.com/tickets/{id}"

VALID_MENTION = re.compile(r"[UW][A-Z0-9]{2,}")
# Independent of the renderer: an http(s) URL with nothing Slack or HTML would read as syntax.
LINKABLE_URL = re.compile(r"https?://[^\s|<>\x00-\x1f\x7f-\x9f]+", re.IGNORECASE)
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
SLACK_LINK = re.compile(r"<([^<>|]*)\|#[^<>]*>")
SLACK_MENTION = re.compile(r"<@([^<>]*)>")
ENTITY = re.compile(r"&(?:amp|lt|gt);")
QUOTE_MARKER = re.compile(r"(?:^|\n)> “")                   # the renderer's block quote
BLOCK_TYPES = {"header", "section", "divider"}
HTML_TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "p", "section", "ul", "li", "strong",
    "span", "div", "blockquote", "a",
}
HTML_ATTRS = {"lang", "charset", "name", "content", "class", "href", "rel"}
MARKDOWN_PREFIXES = ("# ", "## ", "- **", "  > “", "  - ", "_", "**")
# A line that Markdown would read as a block (heading, quote, list, code fence, rule).
MARKDOWN_BLOCK_START = re.compile(r"(?:[-+*]|#{1,6}|\d{1,9}[.)])(?:\s|$)|\s|>|```|~~~|(?:[-*_=]\s*){3,}$")
COMMONMARK = MarkdownIt("commonmark").enable("strikethrough")

fragment = st.sampled_from(FRAGMENTS)
long_word = st.builds(lambda ch, n: ch * n, st.sampled_from("xW&<>*_9é🔥\""), st.integers(200, 3500))
customer_text = st.lists(st.one_of(fragment, fragment, st.text(max_size=12), long_word), max_size=8).map("".join)
short_text = st.lists(st.one_of(fragment, st.text(max_size=8)), max_size=4).map("".join)

mention = st.one_of(st.none(), st.sampled_from(HOSTILE_MENTIONS), st.from_regex(r"[UW][A-Z0-9]{2,11}", fullmatch=True))
ticket_id = st.one_of(st.integers(1, 10**7).map(str), short_text)
ticket_ref = st.one_of(
    st.builds(lambda tid: TicketRef(tid, TICKET_URL.replace("{id}", tid)), ticket_id),
    st.builds(TicketRef, ticket_id, st.one_of(st.none(), st.sampled_from(HOSTILE_URLS))),
    st.builds(TicketRef, ticket_id, st.just("https://help.example.com/t?a=1&b=2")),
)
line = st.builds(
    Line, title=customer_text, detail=customer_text, badge=st.one_of(st.none(), short_text),
    quote=st.one_of(st.none(), customer_text), tickets=st.lists(ticket_ref, max_size=13).map(tuple),
    mention=mention, reasons=st.lists(customer_text, max_size=4).map(tuple),
)


@st.composite
def digests(draw: st.DrawFn, max_lines: int = 150) -> Digest:
    """A digest with hostile text everywhere and 0-`max_lines` lines in all.

    The lines cycle through a dozen drawn ones: drawing 150 distinct lines costs seconds each.
    """
    total = draw(st.integers(0, max_lines))
    n_sections = draw(st.integers(1, 5))
    pool = draw(st.lists(line, min_size=1, max_size=12))
    lines = [pool[i % len(pool)] for i in range(total)]
    cuts = sorted(draw(st.lists(st.integers(0, total), min_size=n_sections - 1, max_size=n_sections - 1)))
    bounds = [0, *cuts, total]
    sections = tuple(
        Section(draw(customer_text), tuple(lines[a:b]), draw(st.one_of(st.just("Nothing this week."), customer_text)))
        for a, b in zip(bounds, bounds[1:])
    )
    return Digest(audience=draw(st.sampled_from(["product", "cs", "sales", "support_ops"])), week="2026-W47",
                  title=draw(customer_text), summary=draw(customer_text), sections=sections,
                  quiet=draw(st.sampled_from([False, False, False, True])))


# No example database: the failures found so far are pinned below as explicit regressions.
DIGEST_SETTINGS = settings(max_examples=60, deadline=None, database=None,
                           suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PII_SETTINGS = settings(max_examples=300, deadline=None, database=None)
# Slack splits a digest into messages by block count and size, so its properties see up to 150
# lines. Markdown and HTML are one document with no split: past every drawn line appearing a few
# times (3 x the pool of 12) more lines only repeat what is checked, and CommonMark parsing of
# 150 long hostile lines took over a second an example.
ONE_DOCUMENT_LINES = 36


def one_line(text: str) -> str:
    """How the renderers show a field: control characters dropped, whitespace collapsed."""
    return " ".join(CONTROL.sub(" ", text).split())


def escape_only(text: str) -> str:
    return one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escaped(text: str) -> str:
    """How Slack text shows a field: escaped, then made inert (tested on its own in test_render.py)."""
    return neutralise_mrkdwn(escape_only(text))


def blocks_of(messages: list[dict]) -> list[dict]:
    return [block for message in messages for block in message["blocks"]]


def mrkdwn_texts(messages: list[dict]) -> list[str]:
    """Every text Slack parses as mrkdwn: the fallbacks and the section texts."""
    return [m["text"] for m in messages] + [b["text"]["text"] for b in blocks_of(messages) if b["type"] == "section"]


def prefix(text: str, chars: int) -> str:
    """The first `chars` characters of escaped text, without a trailing partial entity."""
    return re.sub(r"&[a-z]{0,3}$", "", text[:chars])


# --- 1. Slack limits, and nothing dropped -------------------------------------------------------

@DIGEST_SETTINGS
@given(digests())
def test_slack_messages_stay_within_limits_and_drop_no_line(digest: Digest) -> None:
    messages = to_slack_messages(digest)
    assert messages
    for message in messages:
        assert set(message) == {"text", "blocks"}
        assert 1 <= len(message["blocks"]) <= 50
        assert len(json.dumps(message, ensure_ascii=False)) <= 12000
        for block in message["blocks"]:
            assert block["type"] in BLOCK_TYPES
            if block["type"] == "header":
                assert block["text"]["type"] == "plain_text"
                assert 1 <= len(block["text"]["text"]) <= 150      # Slack refuses an empty text object
            elif block["type"] == "section":
                assert block["text"]["type"] == "mrkdwn"
                assert 1 <= len(block["text"]["text"]) <= 3000
    sections = [b["text"]["text"] for b in blocks_of(messages) if b["type"] == "section"]
    if digest.quiet:
        assert len(sections) == 1 and sections[0].startswith("*" + prefix(escaped(digest.title), 100))
        return
    has_summary = bool(escaped(digest.summary))                # a blank summary gets no block
    assert len(sections) == has_summary + sum(max(1, len(s.lines)) for s in digest.sections)
    shown = iter(sections[has_summary:])
    for section in digest.sections:
        texts = [next(shown) for _ in range(max(1, len(section.lines)))]
        for text, ln in zip(texts, section.lines):                # one block per line, in order
            assert text.startswith("*" + prefix(escaped(ln.title), 1000)), (text[:80], ln.title[:80])
    headers = [b["text"]["text"] for b in blocks_of(messages) if b["type"] == "header"]
    for section in digest.sections:
        want = prefix(escape_only(section.title), 100)                  # headers are plain_text: nothing to neutralise
        assert any(h.startswith(want) for h in headers), want


def test_blank_title_and_summary_still_make_blocks_slack_accepts() -> None:
    # Found by the property above: a title blank after cleaning made an empty header text, and a
    # blank summary an empty section text; Slack refuses the whole message for either.
    digest = Digest("product", "2026-W47", " \n", "\x00", (Section("", (Line("Sync fails"),)),))
    blocks = to_slack_messages(digest)[0]["blocks"]
    assert [b["type"] for b in blocks] == ["header", "divider", "header", "section"]
    assert blocks[0]["text"]["text"] == blocks[2]["text"]["text"] == UNTITLED
    assert blocks[3]["text"]["text"] == "*Sync fails*"


# --- 2. No live Slack syntax from customers -----------------------------------------------------

@DIGEST_SETTINGS
@given(digests())
def test_only_renderer_built_links_and_mentions_are_live_in_slack(digest: Digest) -> None:
    lines = [ln for s in digest.sections for ln in s.lines]
    mentions = {ln.mention for ln in lines if ln.mention and VALID_MENTION.fullmatch(ln.mention)}
    urls = {ref.url for ln in lines for ref in ln.tickets if ref.url and LINKABLE_URL.fullmatch(ref.url)}
    messages = to_slack_messages(digest)
    for text in mrkdwn_texts(messages):
        for link in SLACK_LINK.finditer(text):
            assert html.unescape(link.group(1)) in urls, link.group()
        for m in SLACK_MENTION.finditer(text):
            assert m.group(1) in mentions, m.group()
        rest = QUOTE_MARKER.sub("", SLACK_MENTION.sub("", SLACK_LINK.sub("", text)))
        assert "<" not in rest and ">" not in rest, rest
        assert "&" not in ENTITY.sub("", text), text            # every `&` is one of the three escapes
    for block in blocks_of(messages):
        if block["type"] == "header":
            assert not {"<", ">"} & set(block["text"]["text"])


def test_a_ticket_url_with_a_c1_control_character_is_not_a_link() -> None:
    # Found by the property above: "\x80"-"\x9f" passed the URL check though the renderer drops
    # them from every other field; a ticket id with one made a link to a malformed URL.
    line = Line("Sync fails", tickets=(TicketRef("\x80", "https://help.example.com/tickets/\x80"),))
    text = to_slack_messages(Digest("product", "2026-W47", "P", "S", (Section("E", (line,)),)))[0]["blocks"][-1]
    assert "<" not in text["text"]["text"] and "#" in text["text"]["text"]


# --- 3. Markdown and HTML carry no customer markup ----------------------------------------------

class _PageReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def markdown_line_count(digest: Digest) -> int:
    if digest.quiet:
        return 1
    count = 3
    for section in digest.sections:
        count += 3 + (0 if section.lines else 1)
        count += sum(1 + bool(ln.quote) + len(ln.reasons) + bool(ln.tickets) for ln in section.lines)
    return count


@DIGEST_SETTINGS
@given(digests(max_lines=ONE_DOCUMENT_LINES))
@example(Digest("product", "2026-W47", "", "", (Section("", (
    Line(title="", detail=""), Line(title="[", detail="[x](https://evil.example)"))),)))   # a `[` in the title met `](` in the detail
def test_markdown_has_no_html_and_no_customer_made_blocks(digest: Digest) -> None:
    md = to_markdown(digest)
    assert not re.search(r"<[A-Za-z/!?]", md) and "<!channel>" not in md
    out = md.rstrip("\n").split("\n")
    assert len(out) == markdown_line_count(digest)               # customer text adds no line
    for number, text in enumerate(out):
        if not digest.quiet and number == 2:                    # the summary line
            assert not MARKDOWN_BLOCK_START.match(text), text
        else:
            assert text == "" or text.startswith(MARKDOWN_PREFIXES), text
    # What a CommonMark parser (with GFM strikethrough) makes of it: only the renderer's markup.
    tokens = [t for block in COMMONMARK.parse(md) for t in [block, *(block.children or [])]]
    kinds = Counter(t.type for t in tokens)
    lines = [ln for sec in digest.sections for ln in sec.lines] if not digest.quiet else []
    assert not {"html_inline", "html_block", "code_inline", "code_block", "fence", "image", "s_open",
                "hr", "table_open"} & set(kinds), kinds
    assert kinds["strong_open"] == (1 if digest.quiet else len(lines))
    assert kinds["em_open"] == (0 if digest.quiet else sum(bool(one_line(ln.badge or "")) for ln in lines)
                                + sum(not sec.lines for sec in digest.sections))
    links = sum(1 for ln in lines for ref in ln.tickets if ref.url and LINKABLE_URL.fullmatch(ref.url))
    assert kinds["link_open"] - kinds["text_autolink"] == links
    assert kinds["heading_open"] == (0 if digest.quiet else 1 + len(digest.sections))


@DIGEST_SETTINGS
@given(digests(max_lines=ONE_DOCUMENT_LINES))
def test_html_has_only_the_renderers_tags_and_all_customer_text_as_text(digest: Digest) -> None:
    page = to_html(digest)
    assert "<script" not in page.lower() and "<!channel>" not in page
    reader = _PageReader()
    reader.feed(page)
    reader.close()
    assert not reader.comments
    urls = {ref.url for s in digest.sections for ln in s.lines for ref in ln.tickets
            if ref.url and LINKABLE_URL.fullmatch(ref.url)}
    for tag, attrs in reader.tags:
        assert tag in HTML_TAGS, tag
        assert set(attrs) <= HTML_ATTRS, attrs
        if tag == "a":
            assert attrs["href"] in urls and attrs["rel"] == "noopener noreferrer"
    text = "".join(reader.text)
    assert digest.title in text and digest.summary in text
    if not digest.quiet:
        for section in digest.sections:
            assert section.title in text
            for ln in section.lines:
                assert ln.title in text and ln.detail in text


# --- 4. Quotes keep no PII ----------------------------------------------------------------------

def luhn_digit(body: str) -> str:
    """The check digit that makes `body + digit` Luhn-valid."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def digits(n: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=n, max_size=n)


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    length = draw(st.integers(13, 19))
    body = draw(st.sampled_from("23456")) + draw(digits(length - 2))
    number = body + luhn_digit(body)
    style = draw(st.sampled_from(["plain", "space", "dash", "amex"]))
    if style == "amex" and length == 15:
        return f"{number[:4]} {number[4:10]} {number[10:]}"
    if style == "plain":
        return number
    sep = "-" if style == "dash" else " "
    return sep.join(number[i:i + 4] for i in range(0, length, 4))


ip_addresses = st.lists(st.integers(0, 255), min_size=4, max_size=4).map(lambda p: ".".join(map(str, p)))
emails = st.from_regex(
    r"[A-Za-z0-9]([A-Za-z0-9._+-]{0,12}[A-Za-z0-9])?@[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?(\.[a-z0-9]{1,8}){0,2}"
    r"\.[a-z]{2,6}", fullmatch=True).filter(lambda e: ".." not in e)


@st.composite
def phone_numbers(draw: st.DrawFn) -> str:
    """The formats redact_pii documents: international, North American, national trunk 0."""
    d = lambda n: draw(digits(n))   # noqa: E731
    fmt = draw(st.integers(0, 8))
    return [
        f"+44 {d(2)} {d(4)} {d(4)}", f"+1 ({d(3)}) {d(3)}-{d(4)}", f"+49-{d(2)}-{d(7)}",
        f"+33.{d(1)}.{d(2)}.{d(2)}.{d(2)}.{d(2)}", f"({d(3)}) {d(3)}-{d(4)}", f"{d(3)}-{d(3)}-{d(4)}",
        f"{d(3)}.{d(3)}.{d(4)}", f"1-{d(3)}-{d(3)}-{d(4)}", f"0{d(3)} {d(3)} {d(4)}",
    ][fmt]


# Text around PII, none of it with digits or "@": what survives redaction must come from here.
WORDS = ("please", "call", "me", "at", "card", "the", "server", "is", "down", "email", "our", "billing",
         "contact", "thanks", "Hi", "team", "sync", "fails", "urgent", "🔥", "مرحبا", "שלום", "请联系", "谢谢",
         "です", "สวัสดี", "Ünïcödé", "<!channel>", "*bold*", "&amp;", "\u200b", "\u202e")
LEFT = ("", "(", "“", "请联系", "รหัส", "رقم", "🙏", "\u200b", "\u202b", "email:", "IP=", "<", "[", "*", "_", "#")
RIGHT = ("", ")", ".", ",", "!", "?", "”", "です", "谢谢", "ครับ", "🙏", "\u200b", ">", "]", "*", ":", ";", "\n")
# Numbers that are not PII, for the neighbours a PII value may run into.
BENIGN_NUMBERS = ("123", "2026", "3", "12/27", "v2.3", "$1,240", "ERR-504", "#48213", "10:30", "45%")

pii = st.one_of(emails, phone_numbers(), card_numbers(), ip_addresses)
pii_in_context = st.tuples(st.sampled_from(LEFT), pii, st.sampled_from(RIGHT))
SEPARATORS = (" ", "\n", ". ", ", ", " - ", "\n\n", "! ")


@st.composite
def pii_texts(draw: st.DrawFn, neighbours: tuple[str, ...] = ()) -> tuple[str, list[str]]:
    """Customer text with PII in varied surroundings, and the PII values in it."""
    values: list[str] = []
    parts: list[str] = []
    for _ in range(draw(st.integers(1, 12))):
        if draw(st.booleans()):
            left, value, right = draw(pii_in_context)
            if neighbours:
                right = right + " " + draw(st.sampled_from(neighbours))
            values.append(value)
            parts.append(left + value + right)
        else:
            parts.append(draw(st.sampled_from(WORDS)))
        parts.append(draw(st.sampled_from(SEPARATORS)))
    return "".join(parts), values


IPV4_LIKE = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")


def only_digits(text: str) -> str:
    return re.sub(r"[^0-9]", "", text)


def assert_no_pii(quote: str, values: list[str]) -> None:
    assert "@" not in quote, quote                               # only the emails carry "@"
    assert not IPV4_LIKE.search(quote), quote
    for value in values:
        assert value not in quote, (value, quote)
        if "@" not in value and not IPV4_LIKE.fullmatch(value):
            assert only_digits(value) not in only_digits(quote), (value, quote)


@PII_SETTINGS
@given(pii_texts(), st.sampled_from([60, 200, 10_000]))
@example(("请联系jane.doe@example.com谢谢", ["jane.doe@example.com"]), 200)
@example(("服务器地址192.168.1.20です", ["192.168.1.20"]), 200)
@example(("電話(415) 555-0100まで", ["(415) 555-0100"]), 200)
@example(("卡号4111111111111111", ["4111111111111111"]), 200)
def test_a_quote_keeps_no_pii(case: tuple[str, list[str]], chars: int) -> None:
    text, values = case
    quote = short_quote(redact_pii(text), max_chars=chars)
    assert not re.search(r"[0-9]", quote), quote               # the words around PII have no digits
    assert_no_pii(quote, values)


@PII_SETTINGS
@given(pii_texts(neighbours=BENIGN_NUMBERS))
@example(("card 4111 1111 1111 1111 123 declined", ["4111 1111 1111 1111"]))
@example(("tried 3 4111 1111 1111 1111 twice", ["4111 1111 1111 1111"]))
def test_pii_next_to_other_numbers_is_still_redacted(case: tuple[str, list[str]]) -> None:
    text, values = case
    assert_no_pii(short_quote(redact_pii(text), max_chars=10_000), values)


@pytest.mark.parametrize("text, redacted", [
    # Found by the properties above; each leaked before the fix.
    ("服务器地址192.168.1.20です", "服务器地址[ip]です"),
    ("電話(415) 555-0100まで", "電話[phone]まで"),
    ("เบอร์โทร+66 2 123 4567ครับ", "เบอร์โทร[phone]ครับ"),
    ("卡号4111111111111111", "卡号[card]"),
    ("请联系jane.doe@example.com谢谢", "[email]谢谢"),   # the local part takes the glued CJK word too
    ("_4111 1111 1111 1111_", "_[card]_"),
    ("card 4111 1111 1111 1111 123 declined", "card [card] 123 declined"),
    ("tried 3 4111 1111 1111 1111 twice", "tried 3 [card] twice"),
    # ... and what must stay as it was.
    ("order 12345678901234 shipped", "order 12345678901234 shipped"),
    ("version 1.2.3.4 build 5", "version 1.2.3.4 build 5"),
    ("price $1,240.50 on 2026-11-17 at 10:30", "price $1,240.50 on 2026-11-17 at 10:30"),
])
def test_redaction_regressions(text: str, redacted: str) -> None:
    assert redact_pii(text) == redacted
