"""Render a Digest as Markdown, HTML and a plain-text fallback (Slack's Block Kit is in `blocks.py`).

Every string in a Digest may carry customer words, so each renderer escapes it for its own
syntax. Only `TicketRef.url` becomes live syntax, and only after validation: customer text
must never make markup or forge a link.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote as url_quote

from csintel.digests.content import Digest, Line, TicketRef

UNTITLED = "(untitled)"
EMPTY_SECTION = "Nothing this week."
BLANK = "(blank)"

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
        return f"{one_line(digest.title)}: {one_line(digest.summary)}"
    out = [one_line(digest.title), one_line(digest.summary)]
    out += [f"{one_line(s.title)} ({len(s.lines)})" for s in digest.sections]
    return "\n".join(out)


def safe_url(url: str | None) -> bool:
    """Whether a ticket URL may become a live link: http(s) only, nothing that could end the link."""
    return bool(url) and SAFE_URL.fullmatch(url or "") is not None


def one_line(text: str) -> str:
    """Text on one line: control characters and runs of whitespace become single spaces."""
    return " ".join(CONTROL_CHARS.sub(" ", text).split())


def _md(text: str, *, block: bool = False, wrapped: bool = False, label: bool = False,
        link_close: bool = False) -> str:
    """Untrusted text as Markdown that shows it as written and makes no markup.

    Escapes only what would be syntax where it stands: tags and character references, code
    spans, backslash escapes, emphasis and strikethrough delimiters that could open or close
    (an underscore inside a word, a lone `*` between spaces, or a single one in plain running
    text cannot), a `[` that `](` follows (an inline link; a reference link needs a definition
    line, which one-line text cannot make), and with `block` the constructs that live at
    the start of a block. `wrapped` text sits between the renderer's own delimiters (`**...**`),
    so any delimiter in it could pair with those; in a link's `label` every bracket is escaped, and
    every delimiter too, since the labels of a line's tickets share one paragraph and a lone `*`
    in one ticket id would pair with a lone `*` in the next. For the same reason `link_close`
    says that a `](` stands in another piece of the same paragraph: every `[` is then escaped.
    """
    text = MD_ENTITY.sub("&amp;", one_line(text))
    text = MD_TAG_START.sub("&lt;", text)
    text = MD_BACKSLASH.sub(r"\\\\", text)
    edge = "*" if wrapped else " "
    out = []
    for i, ch in enumerate(text):
        before = text[i - 1] if i else edge
        after = text[i + 1] if i + 1 < len(text) else edge
        if ch == "`" or (ch == "[" and (link_close or "](" in text[i:])) or (label and ch in "[]"):
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
    # Title, badge and detail share one paragraph: a `[` in one could open a link that a `](` in
    # another closes.
    closes = "](" in one_line(" ".join((line.title, line.badge or "", line.detail)))
    head = f"- **{_md(line.title, wrapped=True, link_close=closes) or UNTITLED}**"
    if _md(line.badge or ""):
        head += f" _{_md(line.badge or '', wrapped=True, link_close=closes)}_"
    if line.detail:
        head += f" — {_md(line.detail, link_close=closes)}"
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
    if safe_url(ref.url):
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
    if safe_url(ref.url):
        return f'<a href="{html.escape(ref.url or "")}" rel="noopener noreferrer">{label}</a>'
    return label
