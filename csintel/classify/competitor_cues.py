"""The rules' context of a competitor mention: the cue patterns and how they are read.

Context is read in two tiers. First the words right next to the name, which say what is done
with this product ("moving to X", "came from X", "the X sync"); then, when those say nothing,
the cues of the name's clause, strongest context first (CONTEXTS order). Where an embedder is
given, the trained head (csintel.classify.competitor_context) reads the masked sentence with
this context as a feature.
"""

from __future__ import annotations

import re

from spacy.tokens import Doc, Span

CONTEXTS = ("switching", "evaluating", "past_user", "pricing", "comparison", "integration", "other")
SWITCH_VERB = (r"(?:switch\w*|mov(?:e|es|ed|ing)|migrat\w*|leav\w+|jump\w*|port(?:ing)?|transition\w*"
               r"|chang(?:e|es|ed|ing))")
SWITCHING_BEFORE = re.compile(
    rf"(?:\b{SWITCH_VERB}\b[\w\s,'-]{{0,30}}?\b(?:to|for|into|onto)|\b(?:go|going|went|gone)\s+(?:over\s+)?(?:to|with)"
    r"|\b(?:replac\w+|ditch\w*|dump\w*|drop\w*|swap\w*|trad(?:e|es|ed|ing)|abandon\w*)\s+(?:you|your\s+\w+|\w+)"
    r"\s+(?:with|for)"
    r"|\b(?:decided|decide|chose|choosing|choose|picked|sign\w*(?:\s+\w+){0,3}?)\s+(?:to\s+go\s+)?(?:with|up\s+with)"
    r"|\b(?:chosen|selected|opted\s+for|settled\s+on|committed\s+to|standardi[sz]\w*\s+on)"
    r"|\b(?:will|'ll|going\s+to)\s+be\s+(?:on|using))\s*$",
    re.IGNORECASE,
)
# A move to the name that is denied ("we are NOT moving to X", "not switching to X yet", "no plans to
# go with X"): whatever the mention is about, it is not switching. The clause runs up to the name.
NEGATED_MOVE = re.compile(
    r"\b(?:not|never|no\s+(?:plans?|intention|way)\s+(?:to|of)|\w+n't)\s+(?:\w+\s+){0,2}?"
    r"(?:switch\w*|mov(?:e|es|ed|ing)|migrat\w*|leav\w+|go(?:ing)?|replac\w+|jump\w*|chang\w*|sign\w*)\b"
    r"[^.;!?]{0,40}$",
    re.IGNORECASE,
)


def move_denied(before: str) -> bool:
    """The words before a name, up to it, deny a move to it (NEGATED_MOVE): never "switching"."""
    return bool(NEGATED_MOVE.search(before))


SWITCHING_AFTER = re.compile(r"^\W*(?:\w+\s+){0,2}?instead\b", re.IGNORECASE)
PAST_BEFORE = re.compile(
    r"(?:\bused\s+to\s+(?:use|be\s+on|have)|\b(?:we|i)\s+(?:used|had|were\s+using|were\s+on|were|was)"
    r"|\b(?:when|while)\s+(?:we|i)\s+(?:were|was)\s+(?:on|using|with)"
    r"|\b(?:our|my)\s+(?:old|previous|former|last)\s+(?:crm|tool|system|provider|vendor|platform|software|helpdesk"
    r"|help\s+desk|inbox)(?:\s+(?:was|is))?\s*,?"
    r"|\bex-|\b(?:former|previous|past|ex)"
    r"|\b(?:we|i)\s+(?:left|dropped|ditched|quit|cancell?ed|abandoned|ran\s+on|lived\s+in|worked\s+in))\s*$",
    re.IGNORECASE,
)
# "We came over from X" is a past user; "contacts are not coming over from X" is the sync.
MOVED_FROM_BEFORE = re.compile(
    rf"(?:\b{SWITCH_VERB}\b|\b(?:came|coming|come|converted|ported))[\w\s,'-]{{0,30}}?\bfrom\s*$",
    re.IGNORECASE,
)
PERSON = re.compile(r"\b(?:we|i|us|our\s+(?:team|company|org|organi[sz]ation|reps|agents))\b", re.IGNORECASE)
EVALUATING_BEFORE = re.compile(
    r"\b(?:looking\s+at|looked\s+at|look\s+at|checking\s+out|check\s+out|trying(?:\s+out)?|testing(?:\s+out)?"
    r"|test\s+out|demo\s+(?:of|with)|trial\s+(?:of|with)|pilot\s+(?:of|with)|compar\w+\s+(?:\w+\s+)?(?:against|with|to)"
    r"|between)\s*$",
    re.IGNORECASE,
)
TRIED_BEFORE = re.compile(r"\b(?:tried|tested)(?:\s+out)?\s*$", re.IGNORECASE)
# The mention is about our integration with the product: its sync, or data that lives there.
INTEGRATION_AFTER = re.compile(
    r"^(?:\s*['’]s?)?\s+(?:\w+\s+)?(?:sync\w*|integrations?|connectors?|connections?|org|orgs|instance|sandbox"
    r"|forms?|fields?|api|plugin|add-?on|webhooks?|import\w*|export\w*|mapping\w*)\b",
    re.IGNORECASE,
)
INTEGRATION_BEFORE = re.compile(
    r"(?:\b(?:sync\w*|connect\w*|import\w*|export\w*|push\w*|pull\w*|mirror\w*|feed\w*|send\w*|map\w*|link\w*)"
    r"\s+(?:\w+\s+){0,3}?(?:to|from|with|into|in)"
    r"|\b(?:created|updated|edited|deleted|added|entered|changed|logged|stored|kept|lives?|living)\s+(?:in|on))\s*$",
    re.IGNORECASE,
)
PRICING_HIT = re.compile(r"/(?:\w+/)?(?:pricing|prices?|plans)\b", re.IGNORECASE)   # "pipedrive.com/pricing"
WEAK_COMPARISON_AFTER = re.compile(   # "Attio has this": for partners too weak (their API "has" things)
    r"^(?:\s*['’]s?)?\s+(?:\w+\s+){0,2}?(?:has|have|had|does|did|offers?|supports?|provides?|gives|includes|can"
    r"|handles|shows|is\s+(?:better|faster|easier|simpler|nicer|cheaper))\b",
    re.IGNORECASE,
)
FEATURE_AFTER = re.compile(   # "Copper's Gmail sidebar", "Zoho CRM's Blueprint feature"
    r"^\s*['’]s?\s+(?:\w+\s+){0,2}?(?:features?|views?|interface|ui|ux|apps?|dialer|sidebar|editor|inbox|timeline"
    r"|reports?|reporting|dashboards?|automations?|workflows?|mobile|search|bots?|pages?|macros?|templates?)\b",
    re.IGNORECASE,
)
IN_PRODUCT_BEFORE = re.compile(r"^\W*in\s*$", re.IGNORECASE)
HOW_IT_IS_THERE = re.compile(   # "In Salesforce this is...", "In HubSpot, you can...": how it works there
    r"^[\s,]*(?:this|that|it|you|they|there(?:'s|\s+is)|we\s+(?:can|could|just|only))\b", re.IGNORECASE)   # "In Copper, threads show up on the contact"
# Clause cues, strongest first.
HEDGE = re.compile(
    r"\b(?:consider\w*|thinking\s+(?:about|of)|explor\w+|debat\w+|discuss\w+|looking\s+into|weigh\w*|evaluat\w+)\b",
    re.IGNORECASE,
)
SWITCHING = re.compile(
    r"\bconsolidat\w+\s+(?:on|onto|into|there|to|with)\b"
    r"|\b(?:management|leadership|corporate|the\s+board|our\s+board"
    r"|(?:our|my|the)\s+(?:ceo|cfo|cto|coo|boss|vp|director)"
    r"|hq|headquarters|(?:half|most|all|part)\s+of\s+(?:our|the)\s+team|everyone)\s+wants?\s+"
    r"(?:us\b|to\s+(?:go|move|switch|use|consolidate|ditch|drop|leave)\b)"
    r"|\bwants?\s+to\s+(?:go|move|switch|migrate)\b|\bwon't\s+be\s+renewing\b|\bnot\s+(?:be\s+)?renewing\b",
    re.IGNORECASE,
)
EVALUATING = re.compile(
    r"\btrial\w*|\bevaluat\w+|\bdemos?\b|\bdemoed\b|\bconsider(?:ing|ed)\b|\bpilot\w*|\bpoc\b|\bproof\s+of\s+concept\b"
    r"|\bshortlist\w*|\bcompar(?:e|es|ing)\b|\bproposals?\b|\b(?:choos|decid|pick)\w*\s+between\b"
    r"|\bas\s+an?\s+(?:option|alternative|replacement|backup)\b|\balternatives?\b|\bon\s+(?:our|the)\s+(?:short)?list\b"
    r"|\blist\s+of\s+(?:tools|options|vendors|alternatives)\b|\bthinking\s+(?:about|of)\b|\bexplor\w+\b"
    r"|\breached\s+out\b|\bfree\s+(?:account|trial)\b|\bsign(?:ed)?\s+up\s+for\s+(?:a\s+)?(?:free|trial)\b"
    r"|\b(?:talking|talked|speaking|spoke)\s+(?:to|with)\b|\bin\s+talks\s+with\b",
    re.IGNORECASE,
)
PAST_TIME = re.compile(
    r"\blast\s+(?:year|month|quarter|spring|summer|fall|autumn|winter)\b|\b(?:years?|months?)\s+ago\b|\bin\s+20\d\d\b"
    r"|\bback\s+then\b|\bwent\s+back\b|\bbefore\s*(?:[,.;!?]|$)|\bbefore\s+(?:you|coming|switching|moving|joining)\b",
    re.IGNORECASE,
)
PAST_USER = re.compile(
    r"\bused\s+to\s+(?:use|be\s+on|have)\b|\bwe\s+(?:used|had|were\s+using|were\s+on)\b|\b(?:when|while)\s+(?:we"
    r"|i)\s+(?:were|was)\s+(?:on|using|with)\b"
    r"|\b(?:our|my)\s+(?:old|previous|former|last)\s+(?:crm|tool|system|provider|vendor|platform|software|helpdesk"
    r"|help\s+desk|inbox)\b"
    r"|\bpreviously\b|\bin\s+the\s+past\b|\bback\s+when\b|\bleft\s+(?:them|it|\w+)\s+for\b"
    r"|\bbefore\s*(?:[,.;!?]|$)|\bbefore\s+(?:you|coming|switching|moving|joining|we|i)\b",
    re.IGNORECASE,
)
PRICING = re.compile(
    r"\bcheaper\b|\bpric(?:e|es|ed|ing)\b|\bcosts?\b|\bcosting\b|\bhalf\s+the\s+price\b|\bdiscount\w*|\bexpensive\b"
    r"|\bpa(?:y|ys|ying|id)\b|\bcharg(?:e|es|ed|ing)\b|\bquot(?:e|es|ed|ing)\b|\boffer(?:ed|s)?\s+us\b"
    r"|[$€£]\s?\d|\bper\s+(?:seat|user|agent|month|year)\b|\bseats\b|\bbudget\b|\bfree\s+(?:plan|tier)\b"
    r"|\bmonths?\s+free\b|\bcheap\b|\baffordable\b|\bless\s+(?:than|for)\b|\blower\b|\bdeal\s+on\b",
    re.IGNORECASE,
)
COMPARISON_STRONG = re.compile(
    r"\bbetter\b|\bworse\b|\bunlike\b|\bcompared\s+(?:to|with)\b|\bvs\.?\s|\bversus\b|\bthan\s+(?:you|yours|your)\b"
    r"|\bsame\s+as\b|\bsimilar\s+to\b|\blike\s+(?:in|on)\b|\bfaster\b|\beasier\b|\bsimpler\b|\bnicer\b"
    r"|\bprefer\w*\b|\bwhat\s+(?:we|i|they|our\s+\w+(?:\s+\w+)?)\s+(?:need|needs|want|wants|keep\s+asking|asked)\b"
    r"|\bhere\s+too\b|\b(?:they|everyone|people)\s+love\s+it\b|\bup\s+against\b|\bexactly\s+what\b"
    r"|\bworks?\s+(?:\w+\s+)?there\b"
    r"|\bnatively\b|\bbuilt[\s-]?in\b|\bout\s+of\s+the\s+box\b|\byou\s+(?:don't|do\s+not|can't|cannot|only)\b"
    r"|\byours\s+(?:doesn't|does\s+not|can't|isn't)\b"
    r"|\byour\s+\w+\s+(?:don't|doesn't|do\s+not|does\s+not|can't|cannot|isn't|aren't)\b"
    r"|\bwhy\s+(?:can't|don't)\s+you\b|\b(?:lets|allows)\s+you\b"
    r"|\bin\s+\w+(?:\s+\w+)?,?\s+you\s+can\b"
    r"|\b(?:don't|doesn't|didn't|never)\s+(?:have|has|had|get|see)\s+(?:this|that|these|those|the\s+same)\s+"
    r"(?:problem|issue|bug)s?\b",
    re.IGNORECASE,
)
INTEGRATION = re.compile(
    r"\bsync\w*|\bintegrat\w+|\bconnector\w*|\bconnect\w*|\bfield\s+mapping\w*|\bmapping\w*|\bimport\w*|\bexport\w*"
    r"|\bpush\w*\b|\bapi\b|\bwebhooks?\b|\bplugin\b|\badd-?on\b|\bmarketplace\b|\bfeed\w*\s+(?:\w+\s+)?(?:into|to)\b"
    r"|\bforms?\b|\bmirror\w*|\bshow\s+up\s+in\b|\breach(?:es)?\s+(?:us|our|your)\b|\blink\w*\b|\bsandbox\b"
    r"|\btwo-way\b|\b2-way\b|\bbi-?directional\b",
    re.IGNORECASE,
)
CLAUSE_BREAK = frozenset({";", "but", "however", "whereas", "although", "though"})
LOCAL_TOKENS = 6           # a partner's competitive cue must be this close when the sentence is about the sync
CONTEXT_TOKENS = 12        # the words before/after a name that its own cues are read from


def clause_around(doc: Doc, start: int, end: int, sent: Span) -> Span:
    """The part of the sentence around tokens start..end, between "but", ";", ", now" and the like."""
    def breaks(k: int) -> bool:
        word = doc[k].lower_
        return word in CLAUSE_BREAK or word == "now" and k > sent.start and doc[k - 1].lower_ in (",", "and", ";")
    left = start
    while left > sent.start and not breaks(left - 1):
        left -= 1
    right = end
    while right < sent.end and not breaks(right):
        right += 1
    return doc[left:right]


def mention_context(doc: Doc, name: Span, start: int, end: int, clause: Span, partner: bool) -> tuple[str, bool]:
    """The context of the mention `name` (whose coordinated names span tokens start..end) in
    `clause`, and whether the words right next to the name decided it. `partner`: the competitor
    is an integration partner."""
    before = doc[max(clause.start, start - CONTEXT_TOKENS):start].text
    after = doc[end:min(clause.end, end + CONTEXT_TOKENS)].text_with_ws
    after = (" " + after) if doc[end - 1].whitespace_ else after
    text = clause.text
    hedged = HEDGE.search(doc[clause.start:start].text)
    denied = move_denied(doc[clause.start:start].text)
    # 1. What the words right next to the name do with it.
    if PAST_BEFORE.search(before) or MOVED_FROM_BEFORE.search(before) and PERSON.search(before):
        return "past_user", True
    if not denied and (SWITCHING_BEFORE.search(before) or SWITCHING_AFTER.match(after)):
        return ("evaluating" if hedged else "switching"), True
    if PRICING_HIT.search(name.text):
        return "pricing", True
    if TRIED_BEFORE.search(before):
        return ("past_user" if PAST_TIME.search(text) else "evaluating"), True
    if EVALUATING_BEFORE.search(before):
        return "evaluating", True
    attached = INTEGRATION_AFTER.match(after) or INTEGRATION_BEFORE.search(before)
    if attached and partner:
        return "integration", True
    if IN_PRODUCT_BEFORE.match(doc[clause.start:start].text) and (not partner or HOW_IT_IS_THERE.match(after)):
        return "comparison", True   # "In Copper, threads show up"; a partner's "In Salesforce this is one checkbox"
    # 2. The clause's cues, strongest first.
    if not denied and SWITCHING.search(text):
        return ("evaluating" if hedged else "switching"), False
    if EVALUATING.search(text):
        return "evaluating", False
    if PAST_USER.search(text):
        return "past_user", False
    integration = INTEGRATION.search(text)
    # A partner's clause about the sync may also say "cost" or "better" about something else:
    # there, only cues right next to the name count.
    cue_text = (doc[max(clause.start, start - LOCAL_TOKENS):min(clause.end, end + LOCAL_TOKENS)].text
                if partner and integration else text)
    if PRICING.search(cue_text):
        return "pricing", False
    if (COMPARISON_STRONG.search(cue_text) or FEATURE_AFTER.match(after)
            or not partner and WEAK_COMPARISON_AFTER.match(after)):
        return "comparison", False
    if integration or attached or partner:
        return "integration", False
    return "other", False


# The cue families the trained context head reads as features (beside the sentence's embedding):
# the words right next to the name, then the clause's cues. Flags, not a decision, so the head
# learns how much each one says where the rules' fixed order is wrong.
_BEFORE_CUES = (PAST_BEFORE, MOVED_FROM_BEFORE, SWITCHING_BEFORE, TRIED_BEFORE, EVALUATING_BEFORE, INTEGRATION_BEFORE)
_AFTER_CUES = (SWITCHING_AFTER, INTEGRATION_AFTER, FEATURE_AFTER, WEAK_COMPARISON_AFTER, HOW_IT_IS_THERE)
_SENTENCE_CUES = (HEDGE, SWITCHING, EVALUATING, PAST_TIME, PAST_USER, PRICING, COMPARISON_STRONG, INTEGRATION)
CUE_FEATURES = 4 + len(_BEFORE_CUES) + len(_AFTER_CUES) + len(_SENTENCE_CUES)
LONG_SENTENCE_WORDS = 25


def cue_flags(before: str, after: str, partner: bool) -> list[float]:
    """The cue families present around a mention (`before` and `after`: the sentence's text on
    either side of the name), the name's position and whether the vendor is an integration
    partner, as CUE_FEATURES numbers (0 or 1)."""
    near_before = " ".join(before.split()[-CONTEXT_TOKENS:])
    sentence = f"{before} {after}"
    flags = [bool(p.search(near_before)) for p in _BEFORE_CUES] + [bool(p.match(after)) for p in _AFTER_CUES]
    flags += [bool(p.search(sentence)) for p in _SENTENCE_CUES]
    flags += [bool(IN_PRODUCT_BEFORE.match(before)), partner, not before.strip(),   # the name opens the sentence
              len(sentence.split()) > LONG_SENTENCE_WORDS]
    return [float(f) for f in flags]
