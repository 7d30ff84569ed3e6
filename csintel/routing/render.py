"""Render a Digest for Slack (Block Kit), Markdown, HTML and a plain-text fallback.

Every string in a Digest may carry customer words, so each renderer escapes it for its own
syntax. Only `Line.mention` and `TicketRef.url` become live syntax, and only after validation:
customer text must never ping a channel, mention a person or forge a link.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from urllib.parse import quote as url_quote

from csintel.digests.content import Digest, Line, TicketRef

# Block Kit limits (API_FACTS.md, Slack section).
SLACK_MAX_BLOCKS = 50
SLACK_SECTION_CHARS = 3000
SLACK_HEADER_CHARS = 150
# Slack has refused messages of about 13k characters (msg_blocks_too_long): stay well below.
SLACK_MESSAGE_CHARS = 12000
# The smallest limits that still fit the largest unit packed together (a divider, a section
# header and a full 3,000-character section, whose JSON may double with escaped quotes).
MIN_MESSAGE_CHARS = 10000
MIN_MESSAGE_BLOCKS = 4
FALLBACK_CHARS = 1000
MAX_TICKET_LINKS = 10
ELLIPSIS = "…"
CONTINUED = " (continued)"
UNTITLED = "(untitled)"
EMPTY_SECTION = "Nothing this week."
BLANK = "(blank)"

SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
# Control characters print as nothing useful and grow six-fold as JSON \u escapes.
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
SAFE_URL = re.compile(r"https?://[^\s|<>\x00-\x1f\x7f-\x9f]+", re.IGNORECASE)
# Markdown: escape only what Markdown would read as syntax where it stands, so the .md reads as
# plain text ("0.4 tickets/hour", "INVALID_ARGUMENT") yet customers can make no markup.
# A backslash that would escape what follows it (at the end: the renderer's own markup).
MD_BACKSLASH = re.compile(r"\\(?=[!-/:-@\[-`{-~]|$)")
MD_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")                # an HTML tag, comment or autolink
MD_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")               # a character reference
MD_DELIMITERS = frozenset("*_~")
# What starts a block when it opens a paragraph or a list item's text: a bullet or heading mark
# before a space, a quote, a code fence, a thematic break or setext underline, and an
# ordered-list number ("1." "1)") before a space. "0.4 tickets" or "#42" start nothing.
MARKDOWN_BLOCK = re.compile(r"^(?:[-+*](?=\s|$)|#{1,6}(?=\s|$)|>|```|~~~|[-*_=](?=(?:\s*[-*_=]){2,}\s*$)|=+\s*$)")
MARKDOWN_ORDERED = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")

HTML_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1d1c1d;
       max-width: 46rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; }
h2 { font-size: 1.15rem; border-top: 1px solid #ddd; padding-top: 1rem; margin-top: 1.5rem; }
.summary { color: #444; }
.badge { display: inline-block; font-size: .75rem; font-weight: 600; padding: 0 .4rem;
         border-radius: .25rem; background: #fde8e8; color: #9b1c1c; margin-left: .4rem; }
blockquote { margin: .3rem 0; padding-left: .75rem; border-left: 3px solid #ccc; color: #555; }
.tickets { font-size: .85rem; color: #555; }
.empty { color: #777; font-style: italic; }
li { margin-bottom: .6rem; }
""".strip()


def escape_mrkdwn(text: str) -> str:
    """Escape text for Slack mrkdwn: `&`, `<`, `>` only, as Slack documents.

    Args:
        text: Untrusted text.

    Returns:
        The text with control sequences (`<!channel>`, `<@U123>`, `<url|label>`) made inert.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Slack formats *bold*, _italic_, ~strike~ and `code` and links any web address or domain name
# it sees, with no escape for either (only &, <, > can be escaped). In customer and CRM text a
# delimiter that could pair becomes a look-alike character, and a domain's dots (and a scheme's
# colon) become look-alikes, so the text reads the same and nothing is struck, coded or linked.
SLACK_LOOKALIKES = {"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"}
SLACK_DOMAIN = re.compile(r"\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}\b", re.IGNORECASE)
SLACK_SCHEME = re.compile(r"\b([a-z][a-z0-9+.-]*):(?=//)", re.IGNORECASE)
ONE_DOT_LEADER = "\u2024"
RATIO = "\u2236"


def neutralise_mrkdwn(escaped: str) -> str:
    """Make escaped untrusted text inert for Slack mrkdwn: no formatting, no auto-links.

    Args:
        escaped: Text already passed through `escape_mrkdwn`.

    Returns:
        The same text with pairable formatting delimiters and the dots of domain names (and
        the colon of `scheme://`) replaced by look-alikes; "INVALID_ARGUMENT" or "5 * 3",
        which Slack would not format, are left as they are.
    """
    text = SLACK_SCHEME.sub(lambda m: m[1] + RATIO, escaped)
    text = SLACK_DOMAIN.sub(lambda m: m[0].replace(".", ONE_DOT_LEADER), text)
    out = []
    for i, ch in enumerate(text):
        if ch in SLACK_LOOKALIKES:
            before = text[i - 1] if i else " "
            after = text[i + 1] if i + 1 < len(text) else " "
            inert = (before.isspace() and after.isspace()) or (before.isalnum() and after.isalnum())
            out.append(ch if inert and ch != "`" else SLACK_LOOKALIKES[ch])
        else:
            out.append(ch)
    return "".join(out)


def _slack_text(text: str) -> str:
    """Untrusted text for a mrkdwn field: one line, escaped, neutralised."""
    return neutralise_mrkdwn(escape_mrkdwn(_one_line(text)))


def to_slack_messages(
    digest: Digest, *, max_blocks: int = SLACK_MAX_BLOCKS, max_chars: int = SLACK_MESSAGE_CHARS
) -> list[dict]:
    """Render a digest as Slack messages within Block Kit limits.

    The first message is the top-level post; the others belong in its thread. Lines that do
    not fit a message move to the next one, never dropped.

    Args:
        digest: The digest to render.
        max_blocks: Most blocks in one message (Slack allows 50).
        max_chars: Most characters of one message's JSON (text and blocks).

    Returns:
        Messages as `{"text": fallback, "blocks": [...]}` dicts, in posting order.

    Raises:
        ValueError: If the limits are too small to hold one full section.
    """
    if max_blocks < MIN_MESSAGE_BLOCKS or max_chars < MIN_MESSAGE_CHARS:
        raise ValueError(
            f"max_blocks must be >= {MIN_MESSAGE_BLOCKS} and max_chars >= {MIN_MESSAGE_CHARS}"
        )
    first_text = _clip(neutralise_mrkdwn(escape_mrkdwn(to_plain_text(digest))), FALLBACK_CHARS)
    if digest.quiet:
        return [{"text": first_text, "blocks": [_section(_quiet_mrkdwn(digest))]}]
    later_text = _clip(_slack_text(digest.title), FALLBACK_CHARS - len(CONTINUED))
    later_text += CONTINUED
    overhead = max(_json_len({"text": first_text, "blocks": []}),
                   _json_len({"text": later_text, "blocks": []}))
    pages = _pack(_slack_units(digest), max_blocks, max_chars - overhead)
    return [{"text": first_text if i == 0 else later_text, "blocks": blocks}
            for i, blocks in enumerate(pages)]


def to_markdown(digest: Digest) -> str:
    """Render a digest as GitHub-flavoured Markdown with customer text escaped.

    Args:
        digest: The digest to render.

    Returns:
        The Markdown document, ending with a newline.
    """
    if digest.quiet:
        return f"**{_md(digest.title, wrapped=True) or UNTITLED}**: {_md(digest.summary)}\n"
    out = [f"# {_md(digest.title)}", "", _md(digest.summary, block=True)]
    for section in digest.sections:
        out += ["", f"## {_md(section.title)}", ""]
        if not section.lines:
            out.append(f"_{_md(section.empty_text, wrapped=True) or EMPTY_SECTION}_")
        for line in section.lines:
            out += _markdown_line(line)
    return "\n".join(out) + "\n"


def to_html(digest: Digest) -> str:
    """Render a digest as a self-contained HTML page (doctype, inline CSS, no scripts).

    Args:
        digest: The digest to render.

    Returns:
        The HTML document.
    """
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(digest.title)}</title>\n<style>\n{HTML_CSS}\n</style>\n</head>\n"
        "<body>\n<main>\n" + to_html_body(digest) + "\n</main>\n</body>\n</html>\n"
    )


def to_html_body(digest: Digest) -> str:
    """The digest's HTML without the page around it (for pages that hold several digests)."""
    e = html.escape
    body = [f"<h1>{e(digest.title)}</h1>", f'<p class="summary">{e(digest.summary)}</p>']
    if not digest.quiet:
        for section in digest.sections:
            body.append(f"<section><h2>{e(section.title)}</h2>")
            if section.lines:
                body.append("<ul>" + "".join(_html_line(line) for line in section.lines) + "</ul>")
            else:
                body.append(f'<p class="empty">{e(section.empty_text)}</p>')
            body.append("</section>")
    return "\n".join(body)


def to_plain_text(digest: Digest) -> str:
    """Render the notification fallback: title, summary and section titles with counts.

    Args:
        digest: The digest to render.

    Returns:
        Plain text, unescaped (escape it for the target syntax); one line for a quiet week.
    """
    if digest.quiet:
        return f"{_one_line(digest.title)}: {_one_line(digest.summary)}"
    out = [_one_line(digest.title), _one_line(digest.summary)]
    out += [f"{_one_line(s.title)} ({len(s.lines)})" for s in digest.sections]
    return "\n".join(out)


@dataclass(frozen=True)
class _Unit:
    """Blocks that stay in one message; `section` names the section a continuation resumes."""

    blocks: tuple[dict, ...]
    section: str | None = None


def _slack_units(digest: Digest) -> list[_Unit]:
    summary = _clip(_slack_text(digest.summary), SLACK_SECTION_CHARS)
    # Slack refuses a message with an empty text object: a blank summary gets no block.
    first = (_header(escape_mrkdwn(_one_line(digest.title))),) + ((_section(summary),) if summary else ())
    units = [_Unit(first)]
    for section in digest.sections:
        title = escape_mrkdwn(_one_line(section.title))
        texts = [_slack_line(line) for line in section.lines]
        texts = texts or [f"_{_clip(_slack_text(section.empty_text), 2000)}_"]
        # A section's header travels with its first line so no message ends on a bare header.
        units.append(_Unit(({"type": "divider"}, _header(title), _section(texts[0]))))
        units += [_Unit((_section(text),), section=title) for text in texts[1:]]
    return units


def _pack(units: list[_Unit], max_blocks: int, budget: int) -> list[list[dict]]:
    pages: list[list[dict]] = [[]]
    for unit in units:
        blocks = list(unit.blocks)
        if pages[-1] and not _fits(pages[-1] + blocks, max_blocks, budget):
            if blocks[0]["type"] == "divider":
                blocks = blocks[1:]
            if unit.section is not None:
                blocks.insert(0, _header(unit.section, suffix=CONTINUED))
            pages.append([])
        pages[-1].extend(blocks)
    return pages


def _fits(blocks: list[dict], max_blocks: int, budget: int) -> bool:
    return len(blocks) <= max_blocks and _json_len(blocks) <= budget


def _json_len(value: object) -> int:
    # Characters, not bytes or \u escapes: Slack's limits count characters.
    return len(json.dumps(value, ensure_ascii=False))


def _slack_line(line: Line) -> str:
    head = f"*{_slack_text(line.title)}*"
    if line.badge:
        head += f"  `{_slack_text(line.badge).replace(SLACK_LOOKALIKES['`'], '')}`"
    parts = [head]
    if line.detail:
        parts.append(_slack_text(line.detail))
    if line.quote:
        parts.append(f"> “{_slack_text(line.quote)}”")
    parts += [f"• {_slack_text(reason)}" for reason in line.reasons]
    body = "\n".join(parts)
    tail = _slack_tail(line)
    if tail:
        # Clip the customer text first so the ticket links and owner survive a long line.
        room = max(SLACK_SECTION_CHARS - len(tail) - 1, SLACK_SECTION_CHARS // 2)
        body = _clip(body, room) + "\n" + tail
    return _clip(body, SLACK_SECTION_CHARS)


def _slack_tail(line: Line) -> str:
    shown = line.tickets[:MAX_TICKET_LINKS]
    refs = [_slack_ticket(ref) for ref in shown]
    if len(line.tickets) > len(shown):
        refs.append(f"and {len(line.tickets) - len(shown)} more")
    tail = "Tickets: " + ", ".join(refs) if refs else ""
    if line.mention and SLACK_USER_ID.fullmatch(line.mention):
        tail += ("  ·  " if tail else "") + f"Owner: <@{line.mention}>"
    return tail


def _slack_ticket(ref: TicketRef) -> str:
    label = "#" + _slack_text(ref.ticket_id)
    if _safe_url(ref.url):
        return f"<{escape_mrkdwn(ref.url or '')}|{label}>"
    return label


def _quiet_mrkdwn(digest: Digest) -> str:
    text = f"*{_slack_text(digest.title)}*: {_slack_text(digest.summary)}"
    return _clip(text, SLACK_SECTION_CHARS)


def _header(escaped: str, suffix: str = "") -> dict:
    # A title blank after cleaning would be an empty text object, which Slack refuses.
    text = _clip(escaped or UNTITLED, SLACK_HEADER_CHARS - len(suffix)) + suffix
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def _section(mrkdwn: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}


def _clip(escaped: str, limit: int) -> str:
    """Cut escaped text to `limit` characters with an ellipsis, never inside `&...;` or `<...>`."""
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - len(ELLIPSIS)]
    for opener, closer in (("<", ">"), ("&", ";")):
        start = cut.rfind(opener)
        if start != -1 and closer not in cut[start:]:
            cut = cut[:start]
    return cut.rstrip() + ELLIPSIS


def _safe_url(url: str | None) -> bool:
    return bool(url) and SAFE_URL.fullmatch(url or "") is not None


def _one_line(text: str) -> str:
    return " ".join(CONTROL_CHARS.sub(" ", text).split())


def _md(text: str, *, block: bool = False, wrapped: bool = False, label: bool = False) -> str:
    """Untrusted text as Markdown that shows it as written and makes no markup.

    Escapes only what would be syntax where it stands: tags and character references, code
    spans, backslash escapes, emphasis and strikethrough delimiters that could open or close
    (an underscore inside a word, a lone `*` between spaces, or a single one in plain running
    text cannot), a `[` that `](` follows (an inline link; a reference link needs a definition
    line, which one-line text cannot make), and with `block` the constructs that live at
    the start of a block. `wrapped` text sits between the renderer's own delimiters (`**...**`),
    so any delimiter in it could pair with those; in a link's `label` every bracket is escaped, and
    every delimiter too, since the labels of a line's tickets share one paragraph and a lone `*`
    in one ticket id would pair with a lone `*` in the next.
    """
    text = MD_ENTITY.sub("&amp;", _one_line(text))
    text = MD_TAG_START.sub("&lt;", text)
    text = MD_BACKSLASH.sub(r"\\\\", text)
    edge = "*" if wrapped else " "
    out = []
    for i, ch in enumerate(text):
        before = text[i - 1] if i else edge
        after = text[i + 1] if i + 1 < len(text) else edge
        if ch == "`" or (ch == "[" and "](" in text[i:]) or (label and ch in "[]"):
            out.append("\\" + ch)
        elif (ch in MD_DELIMITERS and (wrapped or label or text.count(ch) > 1)
              and not _inert_delimiter(ch, before, after)):
            out.append("\\" + ch)
        else:
            out.append(ch)
    text = "".join(out)
    if block and MARKDOWN_BLOCK.match(text):
        text = "\\" + text
    if block:
        text = MARKDOWN_ORDERED.sub(r"\1\\\2", text)
    return text


def _inert_delimiter(ch: str, before: str, after: str) -> bool:
    """Whether an emphasis delimiter can neither open nor close here (CommonMark flanking rules)."""
    if before.isspace() and after.isspace():
        return True
    return ch == "_" and before.isalnum() and after.isalnum()


def _markdown_line(line: Line) -> list[str]:
    # Emphasis around nothing would read as a rule or as literal stars: blank parts get a stand-in.
    head = f"- **{_md(line.title, wrapped=True) or UNTITLED}**"
    if _md(line.badge or ""):
        head += f" _{_md(line.badge or '', wrapped=True)}_"
    if line.detail:
        head += f" — {_md(line.detail)}"
    out = [head]
    if line.quote:
        out.append(f"  > “{_md(line.quote)}”")
    # A blank item under a paragraph would read as a heading's underline ("  - ").
    out += [f"  - {_md(reason, block=True) or BLANK}" for reason in line.reasons]
    if line.tickets:
        out.append("  - Tickets: " + ", ".join(_markdown_ticket(ref) for ref in line.tickets))
    return out


def _markdown_ticket(ref: TicketRef) -> str:
    label = "#" + _md(ref.ticket_id, label=True)
    if _safe_url(ref.url):
        # Parentheses would end the link destination early.
        return f"[{label}]({url_quote(ref.url or '', safe=':/?#[]@!$&*+,;=%~-._')})"
    return label


def _html_line(line: Line) -> str:
    e = html.escape
    out = [f"<li><strong>{e(line.title)}</strong>"]
    if line.badge:
        out.append(f'<span class="badge">{e(line.badge)}</span>')
    if line.detail:
        out.append(f"<div>{e(line.detail)}</div>")
    if line.quote:
        out.append(f"<blockquote>{e(line.quote)}</blockquote>")
    if line.reasons:
        out.append("<ul>" + "".join(f"<li>{e(r)}</li>" for r in line.reasons) + "</ul>")
    if line.tickets:
        out.append('<div class="tickets">Tickets: '
                   + ", ".join(_html_ticket(ref) for ref in line.tickets) + "</div>")
    return "".join(out) + "</li>"


def _html_ticket(ref: TicketRef) -> str:
    label = html.escape("#" + ref.ticket_id)
    if _safe_url(ref.url):
        return f'<a href="{html.escape(ref.url or "")}" rel="noopener noreferrer">{label}</a>'
    return label
