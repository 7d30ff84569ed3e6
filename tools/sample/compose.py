"""Write one ticket's subject and body from its plan, recording what the text contains.

Every slot that puts something the ground truth cares about into the text (an error code, a
competitor, a false friend, PII, Slack markup) records it on the `Draft` as it is written, so
the ground truth is read off the text the generator actually produced.
"""

from __future__ import annotations

import html
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tools.sample import phrases as P
from tools.sample.plan import TicketSpec
from tools.sample.themes import REQUEST_FRAMES

# Integration partners as customers name them in a sync context ("our SFDC sync").
INTEGRATION_FORMS = {"salesforce": ("Salesforce", "Salesforce", "SFDC"),
                     "hubspot": ("HubSpot", "HubSpot", "Hubspot")}
PARTNER_NAMES = {"salesforce": "Salesforce", "hubspot": "HubSpot"}
# Number of theme detail sentences (after the opener) and how likely each count is.
DETAIL_COUNTS = {"chat": ((0, 1, 2), (5, 4, 1)), "other": ((0, 1, 2, 3, 4), (15, 30, 30, 17, 8))}
# Slots drawn from a word list, and slots drawn as a whole number in a range.
SIMPLE_SLOTS: dict[str, tuple[str, ...]] = {
    "browser": P.BROWSERS, "os": P.OPERATING_SYSTEMS, "object": P.OBJECTS, "report": P.REPORTS,
    "dashboard": P.DASHBOARDS, "pipeline": P.PIPELINES, "field": P.FIELDS, "idp": P.IDENTITY_PROVIDERS,
    "device": P.DEVICES, "ios": P.IOS_VERSIONS, "android": P.ANDROID_VERSIONS,
    "app_version": P.APP_VERSIONS, "endpoint": P.ENDPOINTS, "plan": P.PLANS, "file": P.FILE_NAMES,
    "vat": P.VAT_IDS,
}
NUMBER_SLOTS: dict[str, tuple[int, int]] = {
    "n_users": (3, 60), "n_deals": (12, 900), "seats": (2, 40), "count": (2, 6), "hours": (2, 9),
    "minutes": (10, 90), "seconds": (20, 120), "pct": (4, 45),
}
TYPO_RATE = 0.07
HTML_RATE = 0.12
QUOTE_RATE = 0.12


@dataclass
class Draft:
    """A ticket's text and what the generator put in it."""

    subject: str = ""
    body: str = ""
    errors: list[str] = field(default_factory=list)
    competitors: list[dict[str, object]] = field(default_factory=list)
    false_friends: list[dict[str, str]] = field(default_factory=list)
    pii: list[str] = field(default_factory=list)
    slack_markup: bool = False
    request_lookalike: bool = False

    def add_error(self, code: str) -> None:
        if code not in self.errors:
            self.errors.append(code)

    def add_mention(self, name: str, context: str) -> None:
        mention = {"name": name, "context": context, "competitive": context != "integration"}
        if mention not in self.competitors:
            self.competitors.append(mention)

    def add_pii(self, kind: str) -> None:
        if kind not in self.pii:
            self.pii.append(kind)


class _Slots(dict):
    """`str.format_map` target that draws each missing slot from the renderer."""

    def __init__(self, fill: _Renderer) -> None:
        super().__init__()
        self._fill = fill

    def __missing__(self, key: str) -> str:
        return self._fill.slot(key)


class _Renderer:
    """Fills template slots for one ticket."""

    def __init__(self, rng: random.Random, spec: TicketSpec, draft: Draft) -> None:
        self.rng, self.spec, self.draft = rng, spec, draft
        self._kept: dict[str, str] = {}

    def __call__(self, template: str) -> str:
        return template.format_map(_Slots(self))

    def _recent(self, lo: int, hi: int) -> datetime:
        return self.spec.created_at - timedelta(days=self.rng.randint(lo, hi))

    def slot(self, key: str) -> str:
        rng, spec = self.rng, self.spec
        if key in SIMPLE_SLOTS:
            # One ticket talks about one report, one device, one browser: keep the first pick.
            return self._kept.setdefault(key, rng.choice(SIMPLE_SLOTS[key]))
        if key in NUMBER_SLOTS:
            return str(rng.randint(*NUMBER_SLOTS[key]))
        if key == "agent":
            return spec.agent
        if key == "n_records":
            return f"{rng.randint(12, 2400) * 100:,}"
        if key == "teammate":
            return self._kept.setdefault(key, rng.choice([n for n in P.FIRST_NAMES if n != spec.requester.first]))
        if key == "amount":
            return f"${rng.randint(300, 9000):,}.{rng.choice(('00', '00', '50', '40'))}"
        if key == "invoice":
            return f"INV-{spec.created_at.year}-{rng.randint(1000, 99999):05d}"
        if key == "date":
            return _short_date(self._recent(1, 6))
        if key == "since":
            return rng.choice((*P.SINCE, _short_date(self._recent(1, 5))))
        if key == "when":
            return rng.choice((*P.WHEN, "on " + _short_date(self._recent(1, 5))))
        if key == "month":
            return (spec.created_at.replace(day=1) - timedelta(days=1)).strftime("%B")
        if key in ("err", "err2"):
            code = spec.theme.errors[0 if key == "err" else 1]
            self.draft.add_error(code)
            return rng.choice(P.ERROR_FORMS.get(code, (code,)))
        if key in INTEGRATION_FORMS:
            self.draft.add_mention(PARTNER_NAMES[key], "integration")
            return rng.choice(INTEGRATION_FORMS[key])
        if key == "nth":
            return P.ORDINALS[min(spec.risk.repeat_n, len(P.ORDINALS)) - 1]
        if key == "weeks_ago":
            return str(rng.randint(2, 6))
        if key == "pii_email":
            first, last = spec.requester.first.lower(), spec.requester.last.lower()
            return rng.choice((f"{first}{rng.randint(1, 99)}@{rng.choice(P.PERSONAL_MAIL_DOMAINS)}",
                               f"{first[0]}.{last}@{spec.account.domain}"))
        if key == "phone_us":
            return rng.choice(P.US_PHONES).format(area=rng.choice(P.US_AREA_CODES), n2=f"{rng.randint(0, 99):02d}")
        if key == "phone_intl":
            return rng.choice(P.INTL_PHONES).format(n3=f"{rng.randint(0, 999):03d}", n2=f"{rng.randint(0, 99):02d}")
        if key == "card":
            return _card_number(rng)
        if key == "card_exp":
            return f"{rng.randint(1, 12):02d}/{rng.randint(27, 31)}"
        if key == "ip":
            return rng.choice(P.IP_PREFIXES) + str(rng.randint(2, 254))
        if key == "slack_user":
            return "U" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(8))
        raise KeyError(f"unknown template slot {{{key}}}")


def compose(rng: random.Random, spec: TicketSpec) -> Draft:
    """Write the subject and body of `spec`'s ticket."""
    draft = Draft()
    render = _Renderer(rng, spec, draft)
    core = _request_sentences(rng, spec, render) if spec.request else _theme_sentences(rng, spec, render)
    if rng.random() < TYPO_RATE:
        core = _typo(rng, core)
    sentences = core + _extras(rng, spec, render, draft)
    chat = spec.channel == "chat"
    blocks: list[list[str]] = []
    if rng.random() < (0.15 if chat else 0.75):
        blocks.append([render(rng.choice(P.GREETINGS))])
    if len(sentences) >= 5 and rng.random() < 0.5:
        cut = rng.randint(2, len(sentences) - 2)
        blocks += [[" ".join(sentences[:cut])], [" ".join(sentences[cut:])]]
    else:
        blocks.append([" ".join(sentences)])
    if chat and rng.random() < 0.4:
        blocks[-1][0] = _casual(blocks[-1][0])
    if "full_name" in draft.pii or rng.random() < (0.05 if chat else 0.8):
        blocks.append(_signature(rng, spec, draft))
    quote = _quote(rng, spec, render) if not chat and rng.random() < QUOTE_RATE else None
    if not chat and not draft.slack_markup and rng.random() < HTML_RATE:
        draft.body = _as_html(rng, blocks, quote)
    else:
        draft.body = "\n\n".join("\n".join(b) for b in blocks + ([quote] if quote else []))
    draft.subject = _subject(rng, spec, render)
    return draft


# --- the sentences -------------------------------------------------------------------------
def _theme_sentences(rng: random.Random, spec: TicketSpec, render: _Renderer) -> list[str]:
    theme = spec.theme
    counts, weights = DETAIL_COUNTS["chat" if spec.channel == "chat" else "other"]
    k = min(len(theme.details), rng.choices(counts, weights=weights)[0])
    return [render(rng.choice(theme.openers))] + [render(t) for t in rng.sample(theme.details, k)]


def _request_sentences(rng: random.Random, spec: TicketSpec, render: _Renderer) -> list[str]:
    group = spec.request
    style = "implicit" if spec.sentiment == "negative" else rng.choice(("explicit", "would_be_great", "plans"))
    frame = rng.choice(REQUEST_FRAMES[style])
    noun, clause = render(rng.choice(group.nouns)), render(rng.choice(group.clauses))
    ask = frame.replace("{noun}", noun).replace("{clause}", clause)
    out = [ask] + [render(t) for t in rng.sample(group.reasons, rng.choice((0, 1, 1, 2)))]
    if rng.random() < 0.2:
        second = rng.choice(REQUEST_FRAMES["plans"])
        out.append(second.replace("{noun}", render(rng.choice(group.nouns))))
    return out


def _extras(rng: random.Random, spec: TicketSpec, render: _Renderer, draft: Draft) -> list[str]:
    """Sentences around the core: tone, planted items and the customer's ask, in reading order."""
    out: list[str] = []
    bug_like = spec.root_cause in ("product_bug", "performance", "integration_third_party")
    if bug_like and spec.channel != "chat" and rng.random() < 0.25:
        out.append(render(rng.choice(P.TRIED_LINES)))
    if spec.risk:
        if spec.risk.repeat_n and rng.random() < 0.8:
            out.append(render(rng.choice(P.REPEAT_LINES)))
        if spec.risk.frustrated:
            out.append(rng.choice(P.FRUSTRATION_LINES))
        if spec.risk.churn:
            out.append(rng.choice(P.CHURN_LINES))
    if spec.sentiment == "negative" and not spec.risk and rng.random() < 0.9:
        out.append(rng.choice(P.NEGATIVE_LINES))
    if spec.sentiment == "positive":
        out.insert(0, rng.choice(P.HEALTHY_LINES if spec.role == "healthy" else P.POSITIVE_LINES))
    if spec.competitor:
        name, context = spec.competitor
        line = rng.choice(P.COMPETITOR_LINES[context])
        form = rng.choice(P.COMPETITOR_FORMS[name])
        text = line.replace("{c}", form)
        out.append(text[0].upper() + text[1:])
        draft.add_mention(name, context)
    if spec.partner_aside:
        out.append(render(rng.choice(P.PARTNER_ASIDES)))
    if spec.false_friend:
        word, template = rng.choice(P.FALSE_FRIENDS)
        text = render(template)
        out.append(text)
        draft.false_friends.append({"word": word, "text": text})
    if spec.lookalike:
        out.append(render(rng.choice(P.REQUEST_LOOKALIKES)))
        draft.request_lookalike = True
    if rng.random() < (0.25 if spec.channel == "chat" else 0.55):
        out.append(rng.choice(P.ASKS[spec.root_cause]))
    if spec.pii:
        drawn = rng.choices(list(P.PII_KIND_WEIGHTS), weights=list(P.PII_KIND_WEIGHTS.values()),
                            k=rng.choice((1, 1, 2)))
        for kind in dict.fromkeys(drawn):
            draft.add_pii(kind)
            if kind != "full_name":  # a full name goes in the signature
                out.append(render(rng.choice(P.PII_LINES[kind])))
    if spec.slack:
        out += [render(t) for t in rng.sample(P.SLACK_LINES, rng.choice((1, 2)))]
        draft.slack_markup = True
    return out


def _typo(rng: random.Random, sentences: list[str]) -> list[str]:
    text = "\n".join(sentences)
    present = [(right, wrong) for right, wrong in P.TYPOS if re.search(rf"\b{re.escape(right)}\b", text)]
    for right, wrong in rng.sample(present, min(len(present), rng.choice((1, 2)))):
        text = re.sub(rf"\b{re.escape(right)}\b", wrong, text, count=1)
    return text.split("\n")


# --- email furniture -----------------------------------------------------------------------
def _signature(rng: random.Random, spec: TicketSpec, draft: Draft) -> list[str]:
    person, company = spec.requester, spec.account.name
    closing = rng.choice(P.CLOSINGS)
    if "full_name" in draft.pii:
        lines = [closing, f"{person.first} {person.last}", f"{rng.choice(P.TITLES)}, {company}"]
        if rng.random() < 0.5:
            draft.add_pii("phone_us")
            lines.append("m: " + _Renderer(rng, spec, draft).slot("phone_us"))
        return lines
    style = rng.random()
    if style < 0.45:
        return [closing, person.first]
    if style < 0.65:
        return [closing, person.first, rng.choice(P.TITLES)]
    if style < 0.8:
        return [closing, f"{person.first} | {company}"]
    return [closing.rstrip(",") + ", " + person.first]


def _quote(rng: random.Random, spec: TicketSpec, render: _Renderer) -> list[str]:
    when = spec.created_at - timedelta(days=rng.randint(1, 4), minutes=rng.randint(0, 600))
    qdate = f"{when:%a}, {when:%b} {when.day}, {when.year}"
    qtime = f"{(when.hour % 12) or 12}:{when.minute:02d} {'AM' if when.hour < 12 else 'PM'}"
    header = rng.choice(P.QUOTE_HEADERS).replace("{qdate}", qdate).replace("{qtime}", qtime)
    return [header, f"> Hi {spec.requester.first},", ">", "> " + rng.choice(P.QUOTED_AGENT_LINES),
            ">", "> Best,", f"> {spec.agent}"]


def _as_html(rng: random.Random, blocks: list[list[str]], quote: list[str] | None) -> str:
    tag = rng.choice(("p", "p", "div"))
    parts = [f"<{tag}>" + "<br>".join(html.escape(line, quote=False) for line in block) + f"</{tag}>"
             for block in blocks]
    if quote:
        inner = "<br>".join(html.escape(line.removeprefix("> ").removeprefix(">"), quote=False) for line in quote[1:])
        parts.append(f"<div>{html.escape(quote[0], quote=False)}</div><blockquote>{inner}</blockquote>")
    return rng.choice(("", "\n")).join(parts)


def _subject(rng: random.Random, spec: TicketSpec, render: _Renderer) -> str:
    pool = spec.request.subjects if spec.request else spec.theme.subjects
    subject = render(rng.choice(pool))
    if spec.priority == "urgent" and rng.random() < 0.35:
        subject = "URGENT: " + subject
    roll = rng.random()
    if roll < 0.06:
        subject = "Re: " + subject
    elif roll < 0.08:
        subject = "Fwd: " + subject
    elif roll < 0.16:
        subject = subject.lower()
    return subject


def _casual(text: str) -> str:
    """Chat style: no capital at the start, no full stop at the end."""
    return (text[:1].lower() + text[1:]).rstrip(".")


def _short_date(day: datetime) -> str:
    return f"{day:%b} {day.day}"


def _card_number(rng: random.Random) -> str:
    """A Luhn-valid 16-digit card number (Visa or Mastercard prefix), grouped by four."""
    digits = [4] if rng.random() < 0.6 else [5, rng.randint(1, 5)]
    digits += [rng.randint(0, 9) for _ in range(15 - len(digits))]
    checksum = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:  # doubled positions, counted from the check digit's left neighbour
            d = d * 2 - 9 if d > 4 else d * 2
        checksum += d
    digits.append((10 - checksum % 10) % 10)
    text = "".join(map(str, digits))
    sep = rng.choice((" ", "-", ""))
    return sep.join(text[i:i + 4] for i in range(0, 16, 4))
