"""What the digest facts share: ticket links and short customer quotes (numbers are worded in
`csintel/routing/wording/numbers.py`)."""

from __future__ import annotations

import re
from typing import Iterable

from csintel.digests.content import TicketRef
from csintel.text import short_quote, split_sentences


def refs(ticket_ids: Iterable[str], url_template: str, limit: int = 5) -> tuple[TicketRef, ...]:
    """Links to the first `limit` tickets (the helpdesk URL when a template is configured)."""
    out = []
    for tid in list(dict.fromkeys(str(t) for t in ticket_ids))[:limit]:
        out.append(TicketRef(tid, url_template.replace("{id}", tid) if url_template else None))
    return tuple(out)


# Issue and bug-report templates (GitHub's defaults and their many copies) put the same words in
# every ticket filed through them; a quote should be the customer's words, not the form's.
TEMPLATE_SENTENCE = re.compile(
    r"clear and concise description|steps to reproduce the behaviou?r|if applicable, add screenshots"
    r"|add any other context|please complete the following information|\[e\.g\.|"
    r"(?:go to|click on|scroll down to) '\.{2,}'|is your feature request related to a problem"
    r"|describe the solution you'?d like|describe alternatives you'?ve considered"
    r"|i have searched (?:the )?existing issues|<!--|^\W*(?:see error|n/?a)\W*$",
    re.IGNORECASE)
# A template's section heading glued to the sentence after it ("Describe the bug Export fails...").
TEMPLATE_HEADING = re.compile(
    r"^\W*(?:describe the bug|bug description|to reproduce|steps to reproduce|expected behaviou?r"
    r"|actual behaviou?r|current behaviou?r|screenshots|additional context|environment|summary)\W*"
    r"(?=[A-Z0-9]|$)", re.IGNORECASE)


def quote(text: str | None, chars: int, prefer: str | None = None) -> str | None:
    """A short quote of already-redacted display text, leaving out issue-template boilerplate."""
    if not text:
        return None
    own = [TEMPLATE_HEADING.sub("", s).strip() for s in split_sentences(text) if not TEMPLATE_SENTENCE.search(s)]
    own = [s for s in own if re.search(r"[^\W\d_]{2,}", s)]   # a list number or a lone mark is no quote
    return short_quote("\n".join(own), max_chars=chars, prefer=prefer) or None
