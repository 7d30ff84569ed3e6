"""Render a Digest for Slack: Block Kit messages within Slack's limits, and mrkdwn escaping.

Every string in a Digest may carry customer words, so it is escaped and neutralised for mrkdwn.
Only `Line.mention` and `TicketRef.url` become live syntax, and only after validation:
customer text must never ping a channel, mention a person or forge a link. Markdown, HTML and
the plain-text fallback are in `render.py`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from csintel.digests.content import Digest, Line, TicketRef
from csintel.routing.render import UNTITLED, one_line, safe_url, to_plain_text

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

SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


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
    return neutralise_mrkdwn(escape_mrkdwn(one_line(text)))


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




@dataclass(frozen=True)
class _Unit:
    """Blocks that stay in one message; `section` names the section a continuation resumes."""

    blocks: tuple[dict, ...]
    section: str | None = None


def _slack_units(digest: Digest) -> list[_Unit]:
    summary = _clip(_slack_text(digest.summary), SLACK_SECTION_CHARS)
    # Slack refuses a message with an empty text object: a blank summary gets no block.
    first = (_header(escape_mrkdwn(one_line(digest.title))),) + ((_section(summary),) if summary else ())
    units = [_Unit(first)]
    for section in digest.sections:
        title = escape_mrkdwn(one_line(section.title))
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
    if safe_url(ref.url):
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
