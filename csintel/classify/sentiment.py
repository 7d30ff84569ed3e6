"""Support-language sentiment by rules.

General lexicons read support tickets badly: "error", "please fix" and "Thanks," sign-offs
dominate them, while "third time", "still not fixed" and "we're looking at alternatives" carry
the real signal. These rules weigh the cues support teams act on: frustration, urgency, churn
language, negated function ("doesn't load"), plain problem reports (mildly negative), and
thanks or praise that is about something (not a sign-off).
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass

from csintel.text import sentence_spans

# --- data: (pattern, weight, kind) ------------------------------------------------------------
# kinds: problem (capped in total), frustration, urgency, churn (sets churn_language), positive,
# resolution, polite (thanks/appreciation: counts only when the text has no complaint), neutral
# (zero-weight phrases that shadow the cue words inside them, e.g. "would love to see").

NEUTRAL = [
    r"would (?:really )?(?:love|like|appreciate)", r"(?:i|we)'d (?:really )?(?:love|like|appreciate)",
    r"would (?:be|it be) (?:really |so |very |super )?(?:great|nice|helpful|awesome|amazing|good|useful|ideal|cool"
    r"|handy)",
    r"(?:it'd|that'd) be (?:really |so |very |super )?(?:great|nice|helpful|awesome|amazing|good|useful)",
    r"good (?:morning|afternoon|evening|day)", r"(?:have|enjoy) a (?:great|nice|good|lovely) (?:day|week|weekend|one)",
    r"hope (?:you(?:'re| are)|all is|this finds) \w+", r"happy to (?:help|provide|share|jump|hop|answer|send|chat)",
    r"no (?:problem|worries|rush|issue)s?\b", r"not (?:a )?(?:big )?(?:deal|problem|issue|urgent|critical)",
    r"without (?:any )?(?:issues?|problems?|errors?)",
    r"(?:no|any) (?:known )?(?:issues?|errors?|problems?) (?:since|so far|now)",
    r"can't wait",
]
# Capitalised words after "switching to" that name no rival: browsers, devices, tools, plans, days.
NOT_RIVALS = (
    "(?:The|This|That|Our|My|New|Next|It|Them|Version|V\\d|Dark|Light|Chrome|Firefox|Safari|Edge|Opera|Brave"
    "|Windows|Mac|MacOS|Linux|Ubuntu|iOS|Android|iPhone|iPad|Outlook|Gmail|Excel|Google|Zoom|Teams|Slack"
    "|English|Spanish|French|German|UTC|PDF|CSV|Admin|Pro|Premium|Enterprise|Business|Annual|Monthly|Yearly"
    "|Plus|Starter|Basic|Growth|Professional|Standard|Team|SSO|SAML|Monday|Tuesday|Wednesday|Thursday|Friday"
    "|Saturday|Sunday|January|February|March|April|May|June|July|August|September|October|November|December"
    "|Q[1-4])"
)
CHURN = [
    (r"\bcancel(?:l?ing|l?ed|lation)?\s+(?:of\s+)?(?:my|our|the|this|your)?\s*(?:account|subscription|plan|contract"
     r"|service|membership|licen[cs]es?|seats?|renewal|agreement)", 2.6),
    (r"\b(?:want|wants|going|plan|planning|decided|decide|need|have|will|intend|intending|considering|consider"
     r"|thinking about|about)\s+(?:to\s+)?cancel(?:l?ing)?\b(?!\s+(?:the|an?|this|that|my|our)\s+(?:invoice|meeting"
     r"|order|event|import|export|sync|job|task|deal|ticket|request|call|booking|appointment|payment))", 2.4),
    (r"\b(?:not|won't|will not|wouldn't|don't plan to|do not plan to|aren't|are not|isn't"
     r"|unlikely to)\s+(?:be\s+)?renew(?:ing|al)?\b", 2.6),
    (r"\b(?:terminat\w+|end(?:ing)?)\s+(?:of\s+)?(?:our|my|the|this)?\s*(?:contract|agreement|subscription"
     r"|relationship)", 2.6),
    (r"\bterminat(?:e|ing|ion)\b", 1.8),
    (r"\b(?:looking|look|started looking|shopping|searching)\s+(?:at|for|around for|into)\s+(?:other|alternative"
     r"|another|different|competing|competitor)\s*\w*", 2.4),
    (r"\b(?:evaluat\w+|consider\w*|explor\w+|find\w*|found|look\w* (?:at|for|into))\s+(?:some |other "
     r"|an? )?alternatives?\b(?! (?:way|method|approach|option))", 2.4),
    (rf"\b(?:switch\w*|mov(?:e|ed|ing)|migrat\w+|go(?:ing)?|jump\w*)\s+(?:over\s+)?to\s+(?:another|a different"
     rf"|a competing|a competitor|other|a new (?:vendor|provider|tool|crm|platform|system)|[\w-]+\.(?:com|io|so|app|co"
     rf"|ai)\b|(?-i:(?!{NOT_RIVALS}\b)[A-Z]\w+))", 2.4),
    (r"\b(?:mov\w+|switch\w*|migrat\w+|walk\w*)\s+away\s+from\s+(?:you|your|this)", 2.4),
    (r"\bleav(?:e|ing)\s+(?:you|your (?:platform|product|service|company|tool))\b", 2.4),
    (r"\b(?:take|taking)\s+(?:our|my)\s+business\s+elsewhere|\bgo(?:ing)? elsewhere\b", 2.4),
    (r"\bchurn(?:ing)?\b", 2.0),
    (r"\breplac(?:e|ing) (?:you|your (?:product|platform|tool|service))\b", 2.4),
]
FRUSTRATION = [
    (r"\bstill\s+(?:not|isn't|doesn't|don't|hasn't|haven't|can't|cannot|won't|broken|fail\w*|happening|an issue"
     r"|a problem|waiting|no\b|nothing|unresolved|having)", 1.3),
    (r"\b(?:third|fourth|fifth|3rd|4th|5th|nth|umpteenth)\s+time\b", 1.4),
    (r"\b(?:several|multiple|many|countless|numerous)\s+times\b", 0.9),
    (r"\b(?:yet|once) again\b|\bagain and again\b|\bover and over\b", 0.9),
    (r"\bhow many (?:more )?times\b", 1.4),
    (r"\bunacceptable\b|\bnot (?:acceptable|ok|okay)\b", 1.7),
    (r"\bridiculous\b|\babsurd\b|\bludicrous\b|\binsane\b", 1.6),
    (r"\bfrustrat\w*", 1.4),
    (r"\bannoy\w*|\birritat\w*", 1.1),
    (r"\bfurious\b|\blivid\b|\boutraged?\b|\bfuming\b", 1.9),
    (r"\bangry\b|\bupset\b", 1.3),
    (r"\bdisappoint\w*", 1.3),
    (r"\bterrible\b|\bawful\b|\bhorrible\b|\bhorrendous\b|\batrocious\b|\bdreadful\b", 1.6),
    (r"\buseless\b|\bworthless\b|\bgarbage\b|\brubbish\b|\bjunk\b|\bcrap\b|\bsucks\b", 1.6),
    (r"\bworst\b|\bhate\b|\bpathetic\b|\bembarrassing\b|\bshameful\b|\bnightmare\b", 1.6),
    (r"\bwaste of (?:time|money)\b|\bwasted (?:hours|days|a day|my|our)\b", 1.6),
    (r"\bfed up\b|\bsick (?:and tired )?of\b|\bhad enough\b|\blosing (?:my|our) patience\b", 1.6),
    (r"\b(?:no one|nobody|no-one)\s+(?:has\s+|have\s+|ever\s+)?(?:respond|repl|answer|got back|gets back|help|care|fix"
     r"|look)\w*", 1.4),
    (r"\b(?:still|been|keep|kept)\s+waiting\b|\bwaiting (?:for|since) (?:days|weeks|months|over)\b", 1.1),
    (r"\bfor (?:days|weeks|months)\b|\bsince (?:last week|last month|days|weeks)\b", 0.6),
    (r"\bno (?:response|reply|answer|update|follow-up)s?\b|\bhaven't heard back\b", 1.0),
    (r"\b(?:completely|totally|utterly|entirely)\s+(?:broken|useless|unusable)\b|\bunusable\b", 1.5),
    (r"\b(?:a|this is a|what a)\s+joke\b", 1.4),
    (r"\bkeeps?\s+(?:happening|failing|crashing|breaking|logging|timing|losing|dropping)\b"
     r"|\bkeeps? (?:on )?going down\b", 1.1),
    (r"\bevery (?:single )?time\b", 0.5),
    (r"\b(?:thought|supposed\s+to\s+be|said|told\s+(?:me|us))\s+(?:it|this|that)?\s*(?:was|had\s+been|has\s+been"
     r"|would\s+be|is|were)?\s*(?:fixed|resolved|solved)\b", 1.1),
    (r"\bnothing\s+(?:works|happens|loads|shows|syncs|saves|changed|is working)\b", 1.3),
    (r"\bbroken again\b|\bbroke again\b|\bhappening again\b|\bfailed again\b", 1.2),
    (r"\bwhat is going on\b|\bwhat's going on\b|\bseriously\b|\bwtf\b|\bffs\b|\bcome on\b", 1.0),
    (r"\bpoor (?:support|service|quality|experience|communication)\b|\bbad (?:support|service|experience)\b", 1.4),
    (r"\bzero (?:help|support|response|communication)\b|\bno help\b", 1.3),
    (r"\bbad\b|\bunhappy\b|\bdissatisfied\b", 0.9),
    (r"\bunfortunately\b|\bsadly\b|\bconfus\w+|\bconcern(?:ed|ing)?\b|\bworried\b|\bcomplain\w*", 0.5),
]
URGENCY = [
    (r"\burgent(?:ly)?\b", 1.1), (r"\basap\b|\bas soon as possible\b", 0.8), (r"\bimmediately\b|\bright away\b", 0.5),
    (r"\bblock(?:ing|s|ed)\s+(?:our|the|my|us|me|all|whole|entire|everyone|everything|work|sales|team)\b"
     r"|\bblocker\b", 1.3),
    (r"\b(?:production|prod|site|app|platform|system|service|everything|website|server|dashboard)\s+(?:is|are|went"
     r"|has gone|was)\s+(?:down|offline)\b", 1.6),
    (r"\boutage\b|\bemergency\b|\bcritical\b|\bsev(?:erity)?[ -]?1\b|\bp1\b", 1.2),
    (r"\b(?:can't|cannot|unable to)\s+(?:work|do (?:our|my|any) (?:work|job))\b", 1.2),
    (r"\blos(?:ing|e|t)\s+(?:money|customers|revenue|deals|sales|business|clients)\b|\bdata loss\b"
     r"|\blost (?:all )?(?:of )?(?:our|my|the) data\b", 1.4),
    (r"\bdeadline\b|\btime[- ]sensitive\b|\bhigh priority\b", 0.6),
]
PROBLEM = [
    (r"\b(?:not|never|no longer|can't|cannot|can not|couldn't|won't|doesn't|don't|didn't|isn't|aren't|wasn't|weren't"
     r"|hasn't|haven't|unable to|fails? to|failed to|not able to)"
     r"(?!\s+(?:find|figure|see how|understand|remember|locate|know|tell|work out)\b)\s+(?:\w+\s+){0,2}?"
     r"(?:work|load|sync|open|sav|send|show|display|arriv|receiv|updat|import|export|connect|log(?:ging)? ?in"
     r"|sign(?:ing)? ?in|login|appear|respond|print|download|upload|refresh|run|start|finish|complet|go(?:es)? through"
     r"|come through|match|render|submit|launch|process|deliver|trigger|fire|populat|calculat|access|get in)\w*", 0.7),
    (r"\bno longer\b", 0.6),
    (r"\bfail(?:s|ed|ing|ure|ures)?\b", 0.6),
    (r"\berrors?\b|\bexceptions?\b", 0.5),
    (r"\bbroken\b|\bbroke\b|\bcrash(?:es|ed|ing)?\b|\bfreez(?:es|ing)\b|\bfroze\b|\bhangs?\b", 0.7),
    (r"\bbug(?:s|gy)?\b|\bglitch(?:es|y)?\b|\bdefect\b", 0.6),
    (r"\bissues?\b|\bproblems?\b|\btrouble\b", 0.4),
    (r"\bwrong\b|\bincorrect(?:ly)?\b|\binaccurate\b|\bmissing\b|\bdisappear\w*|\bvanish\w*|\blost\b", 0.5),
    (r"\bstuck\b|\bslow(?:ly|er|ness)?\b|\blag(?:gy|s|ging)?\b|\btim(?:es|ed|ing) out\b|\btimeouts?\b", 0.5),
    (r"\bduplicat\w+|\bcharged twice\b|\bdouble[- ]charged\b|\bovercharg\w+|\brefund\b", 0.6),
    (r"\bplease fix\b|\bneeds? (?:to be )?fix\w*|\bdoesn't make sense\b", 0.5),
    (r"\b(?:need|needs|want|get|have)\s+(?:this|it|that|the\s+\w+)\s+"
     r"(?:resolved|fixed|solved|sorted|looked at)\b", 0.5),
    (r"\b(?:will|to|should|must|could|can|would)\s+(?:this|it|that\s+)?\s*(?:be|get)\s+(?:fixed|resolved|solved"
     r"|sorted)\b", 0.5),
    (r"\b(?:can't|cannot|can not|couldn't|unable to|not able to)\s+"
     r"(?!find|figure|see how|wait|tell|remember|thank)\w+", 0.5),
    (r"\b(?:is|are|went|was) down\b", 0.9),
]
POSITIVE = [
    (r"\blove[ds]?\b|\bloving\b", 1.3),
    (r"\bawesome\b|\bamazing\b|\bfantastic\b|\bexcellent\b|\bbrilliant\b|\bsuperb\b|\boutstanding\b|\bwonderful\b"
     r"|\bstellar\b", 1.4),
    (r"\bgreat\b", 1.0), (r"\bperfect(?:ly)?\b", 1.1), (r"\bhelpful\b|\buseful\b", 0.9),
    (r"\bhappy\b|\bdelighted\b|\bpleased\b|\bglad\b|\bthrilled\b|\bsatisfied\b", 1.0),
    (r"\bimpress(?:ed|ive)\b|\bwell done\b|\bkudos\b|\b(?:nice|good|great) (?:work|job)\b|\bshout[- ]?out\b", 1.3),
    (r"\bnice\b|\bgood\b|\bsmooth(?:ly)?\b|\beasy to use\b|\bintuitive\b|\bneat\b", 0.6),
    (r"\b(?:quick|fast|speedy|prompt|swift)\s+(?:response|reply|help|fix|turnaround|support|resolution)\b", 1.0),
    (r"\brecommend\w*|\bthe best\b|\bcan't wait\b|\blifesaver\b|\bgame[- ]changer\b", 1.0),
]
RESOLUTION = [
    (r"\b(?:that|this|it|which|you|your (?:fix|suggestion|workaround)|the (?:fix|update|patch|workaround))"
     r"\s+(?:has\s+|have\s+)?(?:fixed|solved|resolved|sorted|did)\s+(?:it|the (?:issue|problem|trick)"
     r"|everything|my (?:issue|problem)|our (?:issue|problem)|things)\b", 1.7),
    (r"\b(?:works?|working|worked)\s+(?:now|again|perfectly|great|fine|well|like a charm|as expected)\b", 1.5),
    (r"\b(?:issue|problem|bug|it)\s+(?:is\s+|has been\s+|was\s+|seems\s+)?(?:now\s+)?(?:resolved|fixed|solved|sorted"
     r"|gone)\b", 1.4),
    (r"\ball (?:good|set|sorted|fixed|working) (?:now)?\b|\bdid the trick\b|\bproblem solved\b", 1.4),
    (r"\bfixed\b|\bresolved\b|\bsolved\b", 0.4),
]
POLITE = [
    (r"\bthank you\b(?: (?:so|very) much| again)?|\b(?:many |huge |big )?thanks\b(?: (?:so|very) much| a lot| again"
     r"| a ton)?|\bthx\b|\bcheers\b", 1.0),
    (r"\bappreciat\w+", 0.9),
]
# Thanks that carries no verdict: a sign-off or a request for help to come.
GENERIC_THANKS = re.compile(
    r"^\W*(?:(?:many|huge|big)\s+)?(?:thanks|thank\s+you|thx|ty|tia|cheers)(?:\s+(?:so|very)\s+much|\s+a\s+lot"
    r"|\s+again)?"
    r"(?:\s+in\s+advance|\s+for\s+(?:your|the|any)\s+(?:help|time|assistance|support|patience|reply|response)"
    r"|\s+for\s+looking\s+into\s+(?:this|it)|\s+for\s+checking)?[\s,.!:)\-]*(?:\w+[\s,.!]*)?$",
    re.IGNORECASE,
)
# A negator up to two words before a cue flips or cancels it: "not happy", "not urgent".
NEGATORS = re.compile(
    r"(?:\bnot|n't|\bnever|\bno|\bnothing|\bwithout|\bhardly|\bbarely|\bnor)\b\s*(?:\w+\s+){0,2}$", re.IGNORECASE
)
NEGATABLE = frozenset({"positive", "resolution", "frustration", "urgency", "problem", "churn"})
BUT = re.compile(r"\b(?:but|however|though|although|yet|except)\b", re.IGNORECASE)
SHOUTING_PUNCT = re.compile(r"!!|\?!|!\?")
CAPS_WORD = re.compile(r"(?<![\w-])[A-Z]{3,}(?![\w-])")
ACRONYMS = frozenset({
    "API", "APIS", "CSV", "PDF", "CRM", "URL", "URLS", "SSO", "SAML", "UI", "UX", "ID", "IDS", "IP", "HTTP", "HTTPS",
    "JSON", "XML", "SQL", "CSS", "HTML", "JS", "IOS", "OS", "PC", "MAC", "USA", "US", "UK", "EU", "GDPR", "HIPAA",
    "SOC", "CEO", "CTO", "CFO", "VP", "HR", "IT", "QA", "FAQ", "AM", "PM", "UTC", "EST", "PST", "CET", "GMT",
    "TIA", "FYI", "BTW", "IMO", "AFAIK", "OK", "OKAY", "SMS", "MFA", "TFA", "OTP", "DNS", "SSL", "TLS", "VPN",
    "SDK", "CLI", "AWS", "GCP", "SAP", "ERP", "ROI", "KPI", "SLA", "ARR", "MRR", "USD", "EUR", "GBP", "CC", "BCC",
    "IE", "EG", "AI", "ML", "LLM", "XLSX", "XLS", "ZIP", "PNG", "JPG", "GIF", "SMTP", "IMAP", "POP", "CSAT", "NPS",
    "SFDC", "POC", "PO", "QBR", "ETA", "RE", "FW", "FWD", "TW", "ACC", "INV", "CAL", "SYNC", "ERR", "SKU", "B2B",
    "ASAP", "ISO", "TV", "DM", "PS", "NB", "LLC", "INC", "LTD", "GMBH", "CSM", "CS", "CX", "SEO", "SMB",
})
SHOUT_WEIGHT = 0.9
EXCLAIM_WEIGHT = 0.6
AMPLIFY = 1.3            # a shouted or !!!-ed sentence weighs more, whichever way it leans
BEFORE_BUT = 0.3         # "the UI is great but the sync fails": what follows "but" decides
AFTER_BUT = 1.3
PROBLEM_CAP = 1.2        # ten bug words are still one bug report
CHURN_FLOOR = -0.6
ALPHA = 2.0              # squashes the raw sum into -1..1
THRESHOLD = 0.2


@dataclass(frozen=True)
class SentimentResult:
    """Sentiment of one text: label, score in -1..1, churn flag, and the cues behind it."""

    label: str            # "negative" | "neutral" | "positive"
    score: float          # -1..1
    churn_language: bool  # cancel / not renewing / looking at alternatives / switching ...
    cues: tuple[str, ...] # the phrases that drove the score (for explanations)


def _compile(items: list[tuple[str, float]], kind: str, sign: float) -> list[tuple[re.Pattern[str], float, str]]:
    return [(re.compile(p, re.IGNORECASE), sign * w, kind) for p, w in items]


RULES = (
    [(re.compile(p, re.IGNORECASE), 0.0, "neutral") for p in NEUTRAL]
    + _compile(CHURN, "churn", -1) + _compile(FRUSTRATION, "frustration", -1) + _compile(URGENCY, "urgency", -1)
    + _compile(PROBLEM, "problem", -1) + _compile(POSITIVE, "positive", 1) + _compile(RESOLUTION, "resolution", 1)
    + _compile(POLITE, "polite", 1)
)
SELF_NEGATING = re.compile(r"^(?:not|never|no longer|can't|cannot|can not|couldn't|won't|doesn't|don't|didn't|isn't"
                           r"|aren't|wasn't|weren't|hasn't|haven't|unable|fails?|failed|still|no one|nobody|no-one|no\b"
                           r"|without|zero)", re.IGNORECASE)


@dataclass
class _Cue:
    start: int
    end: int
    weight: float
    kind: str
    phrase: str


def score_sentiment(text: str) -> SentimentResult:
    """Score support text: negative for complaints, frustration, urgency and churn language,
    positive for specific thanks and praise, neutral for questions and plain requests."""
    return sentiment_with_features(text)[0]


# The rule evidence a trained sentiment head reads beside the embedding (csintel/classify/heads.py):
# the score, the churn flag, the weighed cues summed by kind (each sum signed as it counts), and
# whether the text asks something.
FEATURES = ("score", "churn", "frustration", "urgency", "problem", "positive", "resolution", "polite", "question")


def sentiment_features(text: str) -> list[float]:
    """The rules' evidence for one text, in the order of FEATURES."""
    return sentiment_with_features(text)[1]


def sentiment_with_features(text: str) -> tuple[SentimentResult, list[float]]:
    """The rules' result and their evidence (FEATURES) from one pass over the text."""
    score, churn, drivers = _analyse(text)
    label = "negative" if score <= -THRESHOLD else "positive" if score >= THRESHOLD else "neutral"
    phrases = tuple(dict.fromkeys(c.phrase for c in sorted(drivers, key=lambda c: -abs(c.weight))))
    sums = dict.fromkeys(FEATURES[2:8], 0.0)
    for cue in drivers:
        if cue.kind in sums:   # churn cues are the churn flag
            sums[cue.kind] += cue.weight
    sums["problem"] = max(sums["problem"], -PROBLEM_CAP)
    evidence = [score, float(churn), *sums.values(), float("?" in (text or ""))]
    return SentimentResult(label, round(score, 4), churn, phrases), evidence


def _analyse(text: str) -> tuple[float, bool, list[_Cue]]:
    """The score in -1..1, the churn flag, and the cues that carry weight after every adjustment."""
    if not text or not text.strip():
        return 0.0, False, []
    text = text.replace("’", "'").replace("‘", "'")
    spans = sentence_spans(text)
    starts = [s for s, _ in spans]
    cues = _find_cues(text)
    complaint = any(c.weight < 0 for c in cues)
    substantive = any(not GENERIC_THANKS.match(text[s:e]) for s, e in spans)
    per_sentence: dict[int, list[_Cue]] = {}
    for cue in cues:
        # Thanks is politeness, not a verdict, when the text complains or it only signs off.
        if cue.kind == "polite":
            sentence = text[slice(*spans[_sentence_of(starts, cue.start)])]
            if complaint or (substantive and GENERIC_THANKS.match(sentence)):
                cue.weight = 0.0
        per_sentence.setdefault(_sentence_of(starts, cue.start), []).append(cue)
    raw_problem, raw_other = 0.0, 0.0
    drivers: list[_Cue] = []
    for index, (s, e) in enumerate(spans):
        sentence_cues = per_sentence.get(index, [])
        sentence = text[s:e]
        _add_emphasis(sentence, s, sentence_cues, complaint)
        but = BUT.search(sentence)
        pivot = s + but.start() if but else None
        if pivot is not None and any(c.start > pivot and c.weight for c in sentence_cues):
            for cue in sentence_cues:
                cue.weight *= BEFORE_BUT if cue.start < pivot else AFTER_BUT
        for cue in sentence_cues:
            if cue.kind == "problem":
                raw_problem += cue.weight
            else:
                raw_other += cue.weight
            if cue.weight:
                drivers.append(cue)
    raw = max(raw_problem, -PROBLEM_CAP) + raw_other
    score = raw / math.sqrt(raw * raw + ALPHA)
    churn = any(c.kind == "churn" and c.weight < 0 for c in cues)
    if churn:
        score = min(score, CHURN_FLOOR)
    return score, churn, drivers


def _sentence_of(starts: list[int], offset: int) -> int:
    return max(0, bisect.bisect_right(starts, offset) - 1)


def _find_cues(text: str) -> list[_Cue]:
    found = []
    for pattern, weight, kind in RULES:
        for m in pattern.finditer(text):
            if m.end() > m.start():
                found.append(_Cue(m.start(), m.end(), weight, kind, m.group().lower()))
    # Longest match wins: "still not working" shadows "not working"; "would love" shadows "love".
    found.sort(key=lambda c: (c.start, -(c.end - c.start)))
    kept: list[_Cue] = []
    reach = -1
    for cue in found:
        if cue.start >= reach:
            kept.append(cue)
            reach = cue.end
    for cue in kept:
        if cue.kind in NEGATABLE and cue.weight and not SELF_NEGATING.match(cue.phrase):
            window = text[max(0, cue.start - 30): cue.start]
            negator = NEGATORS.search(window)
            if negator:
                cue.weight = _negated(cue)
                cue.phrase = f"{window[negator.start():].strip().lower()} {cue.phrase}"
    return kept


def _negated(cue: _Cue) -> float:
    # "not happy" is a complaint; "not urgent", "no errors", "not cancelling" are nothing.
    if cue.kind in ("positive", "resolution"):
        return -0.8 * cue.weight
    return 0.0


def _add_emphasis(sentence: str, offset: int, cues: list[_Cue], complaint: bool) -> None:
    # Shouting and "!!!" amplify whatever the sentence says; they only add frustration to a
    # sentence that complains (or to a bare "!!!" in a text that complains elsewhere), so
    # "Hi!!" and "Love it!!!" stay what they are.
    lean = sum(c.weight for c in cues)
    shouting = any(w not in ACRONYMS for w in CAPS_WORD.findall(sentence))
    exclaiming = SHOUTING_PUNCT.search(sentence) is not None
    if not (shouting or exclaiming):
        return
    for c in cues:
        c.weight *= AMPLIFY
    if lean > 0 or (lean == 0 and not complaint):
        return
    if shouting:
        cues.append(_Cue(offset, offset, -SHOUT_WEIGHT, "frustration", "ALL CAPS"))
    if exclaiming and (lean < 0 or "!!!" in sentence):
        cues.append(_Cue(offset, offset, -EXCLAIM_WEIGHT, "frustration", "!!!"))
