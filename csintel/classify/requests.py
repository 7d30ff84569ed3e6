"""Feature requests: detect the ask, extract what is asked for, group similar asks.

A request is found by its cue ("please add", "it would be great if", "any plans to support",
"I wish", "why is there no" ...); bug reports, how-to questions and service asks ("please add
a user", "please close the ticket") are not requests. Grouping works on the phrases'
embeddings, so "dark mode" and "a dark theme" land in one group across weeks.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from csintel.text import split_sentences

# --- data: cues -------------------------------------------------------------------------------

# Not "enable": "please enable SSO for our account" asks to switch on what exists.
ASK_VERB = (r"(?:add|build|implement|introduce|include|support|offer|bring\s+back|give\s+(?:us|me)"
            r"|provide\s+(?=(?:an?\s+|the\s+|some\s+)?(?:way|option|ability|setting|feature|support)\b)"
            r"|consider\s+adding|make\s+it\s+possible\s+to|allow\s+(?:us|me|users|admins|people)\s+to"
            r"|let\s+(?:us|me|users|admins)(?!\s+know)|create\s+(?:an?\s+)?(?:option|way|setting)\s+to)")
GOOD = (r"(?:great|nice|helpful|awesome|amazing|useful|good|ideal|fantastic|lovely|cool|handy|wonderful"
        r"|beneficial|valuable|brilliant|perfect|a\s+(?:huge|big|great|nice)\s+(?:help|improvement|win|plus))")
OBJ = r"\s*(?P<obj>.*)"
CUES: list[tuple[str, str]] = [
    ("feature request",
     rf"\b(?:feature|enhancement|product)\s+(?:request|suggestion|idea)s?\b\s*(?:[:\-–—]|for\b|to\b)?{OBJ}"),
    ("suggestion", rf"\b(?:suggestion|idea|wish\s*list)\s*:{OBJ}"),
    ("would like to request", rf"\b(?:would|'d)\s+(?:like|love)\s+to\s+(?:request|suggest|propose)\b{OBJ}"),
    ("surprised there's no",
     r"\bsurprised\s+(?:to\s+(?:find|see|learn|discover)\s+)?(?:that\s+)?there(?:'s|\s+is|\s+are)\s+(?:still\s+)?no\b"
     rf"{OBJ}"),
    ("the lack of",
     r"\bthe\s+(?:lack|absence)\s+of\s+(?P<obj>.{3,60}?)\s+(?:is|has\s+been|was)\s+(?:a\s+|really\s+|such\s+a\s+|"
     r"becoming\s+a\s+)?(?:real\s+|big\s+|huge\s+)?(?:problem|pain|issue|blocker|deal-?breaker|frustrating|annoying)"),
    ("please add", rf"\b(?:please|pls|plz|kindly)\s+(?:(?:could|can)\s+you\s+)?{ASK_VERB}\b{OBJ}"),
    ("could you add",
     r"\b(?:could|can|would|will)\s+(?:you|your\s+team|you\s+guys|y'all|(?-i:[A-Z][a-z]+))\s+(?:please\s+)?"
     r"(?:ever\s+)?"
     rf"{ASK_VERB}\b{OBJ}"),
    ("would be great",
     r"(?:\b(?:would|'d|will)\s+(?:also\s+)?(?:really\s+)?be\s+"
     r"(?:so\s+|really\s+|very\s+|super\s+|extremely\s+|incredibly\s+|much\s+more\s+)?"
     rf"{GOOD}\s+(?:if|to|for\s+(?:us|me|users|everyone)\s+to)"
     r"|\b(?:would|'d)\s+(?:really\s+)?help\s+(?:us\s+)?(?:a\s+lot|enormously|massively|tremendously|hugely)?"
     rf"\s*if){OBJ}"),
    ("would love",
     r"\b(?:would|'d)\s+(?:really\s+|absolutely\s+|so\s+|also\s+)?(?:love|like)\s+"
     r"(?:to\s+see|it\s+if|to\s+have|to\s+be\s+able\s+to|to\s+get|(?:for\s+)?you\s+to\s+(?:add|build|support|offer)"
     rf"|for\s+(?:there|it)\s+to\s+be|(?=(?:a|an|some)\s|the\s+(?:option|ability)\b)){OBJ}"),
    ("any plans",
     r"\b(?:any|are\s+there\s+(?:any\s+)?|do\s+you\s+have\s+(?:any\s+)?|is\s+there\s+a|what\s+are\s+(?:the|your)|no)"
     r"\s*plans?\s+(?:to|for|on)\s+"
     rf"(?:(?:support|add|build|introduc|offer|releas|implement|bring|provid|mak|includ)\w*\s+)?{OBJ}"),
    ("do you plan",
     r"\b(?:(?:do|are)\s+you\s+(?:guys\s+)?plan(?:ning)?\s+(?:to|on)|will\s+you|when\s+will\s+you"
     r"|are\s+you\s+going\s+to|do\s+you\s+intend\s+to)\s+(?:ever\s+)?"
     rf"(?:add|support|build|offer|release|introduce|implement|provide|bring\s+back)(?:ing)?\b{OBJ}"),
    ("roadmap",
     r"\b(?:is\s+there\s+a\s+roadmap\s+for|(?:any|what's|what\s+is\s+the)\s+(?:roadmap|timeline|eta)\s+(?:for|on))"
     rf"{OBJ}"),
    # Not "in the pipeline": in a sales tool that is where the customer's deals are.
    ("on the roadmap", r"\b(?:is|are)\s+(?P<obj>.{1,80}?)\s+(?:on|in)\s+(?:the|teh|your)\s+(?:roadmap|backlog)\b"),
    ("we need the ability",
     r"\b(?:we|i|our\s+(?:team|users|customers|reps|agents)|users|customers)\s+"
     r"(?:really\s+|really\s+really\s+|badly\s+|also\s+|urgently\s+|desperately\s+|would\s+)?"
     r"(?:need|want|require|miss|are\s+missing|would\s+like)\s+"
     r"(?:the\s+ability|a\s+way|an?\s+(?:easy\s+|simple\s+|quick\s+|better\s+)?(?:way|option)"
     rf"|the\s+option|a\s+feature|a\s+setting|some\s+way|to\s+be\s+able)\s+(?:to|for|that)\b{OBJ}"),
    ("i wish", rf"\b(?:i|we)\s+(?:really\s+|just\s+|do\s+)?wish\b{OBJ}"),
    ("can't believe there's no",
     r"\b(?:i\s+)?can(?:'t|not|\s+not)\s+believe\s+(?:that\s+)?"
     r"(?:there(?:'s|\s+is)\s+(?:still\s+)?(?:no|not\s+(?:a|an|any))"
     r"|you\s+(?:still\s+)?(?:don't|do\s+not)\s+(?:have|support|offer)"
     rf"|it\s+(?:still\s+)?(?:doesn't|does\s+not)\s+(?:have|support)){OBJ}"),
    ("why is there no",
     r"(?:\b(?:why|how\s+come)\s+(?:is\s+there|isn't\s+there|there's|there\s+is)\s+(?:still\s+)?"
     r"(?:no|not\s+(?:a|an|any))\b"
     r"|\bwhy\s+(?:don't|doesn't|do\s+not|does\s+not|can't|cannot|won't)\s+"
     r"(?:you|you\s+guys|the\s+(?:app|product|platform|tool)|it|(?-i:[A-Z][a-z]+))\s+"
     rf"(?:still\s+)?(?:support|have|offer|allow|let\s+(?:us|me|users))){OBJ}"),
    ("it's a shame",
     r"\b(?:it's|it\s+is|what|it\s+was)\s+(?:a\s+)?(?:real\s+)?(?:shame|pity|bummer)\s+(?:that\s+)?"
     r"(?:you|there|it|the\s+(?:app|product|platform|tool))\s*"
     r"(?:still\s+)?(?:don't|doesn't|do\s+not|does\s+not|can't|cannot|isn't|is\s+no|'s\s+no|won't)\s*"
     rf"(?:support|have|offer|allow|let\s+(?:us|me|users))?{OBJ}"),
    ("still no",
     r"\b(?:(?:frustrating|annoying|shame|pity|surprising|strange|weird|odd|ridiculous|disappointing|painful"
     r"|unfortunate|crazy|baffling|amazing|shocking)\b[^.?!]{0,20}?\bthere(?:'s|\s+is|\s+are)\s+(?:still\s+)?no"
     rf"|\bthere(?:'s|\s+is|\s+are)\s+still\s+no)\b{OBJ}"),
    ("there's no way to",
     r"\b(?:there(?:'s|\s+is)\s+(?:still\s+)?no\s+(?:way|option|setting|feature|ability)"
     r"|(?:lack|lacking|missing)\s+(?:of\s+)?(?:a|an|the|any)?\s*"
     rf"(?:way|option|ability|feature|support))\s+(?:to|for)\b{OBJ}"),
    ("i suggest",
     r"\b(?:i|we)\s+(?:would\s+)?(?:strongly\s+)?(?:suggest|propose|recommend)\s+(?:that\s+)?(?:you\s+)?"
     rf"(?:add(?:ing)?|build(?:ing)?|introduc\w+|support\w*|offer\w*|implement\w*|provid\w+)\b{OBJ}"),
    ("consider adding",
     r"\b(?:consider|think\s+about)\s+"
     rf"(?:adding|building|supporting|offering|implementing|introducing|bringing\s+back){OBJ}"),
    ("possible for you to add",
     rf"\b(?:is\s+it|would\s+it\s+be)\s+possible\s+for\s+(?:you|your\s+team)\s+to\s+{ASK_VERB}\b{OBJ}"),
    ("would it be possible",
     rf"\b(?:would|will)\s+it\s+be\s+possible\s+(?:for\s+you\s+)?to\s+{ASK_VERB}\b{OBJ}"),
    ("any way you could", rf"\bany\s+way\s+(?:you|your\s+team)\s+(?:could|can|might)\s+{ASK_VERB}\b{OBJ}"),
    ("+1", rf"(?:^|\s)(?:\+1|upvot\w+|me\s+too)\s+(?:for|on|to)\b{OBJ}"),
    ("begging for",
     rf"\b(?:begging|clamou?ring|crying\s+out|dying|desperate|pleading)\s+(?:for|to\s+have)\b{OBJ}"),
    ("hoping you add",
     r"\bhop(?:e|ing)\s+(?:(?:that\s+)?you(?:'ll|\s+will|\s+can|\s+could|\s+guys\s+can)?\s+(?:can\s+)?"
     rf"(?:{ASK_VERB}|ship|release|translate)|to\s+see)\b{OBJ}"),
    ("you should add",
     r"\byou\s+(?:guys\s+)?(?:really\s+|definitely\s+|seriously\s+)?(?:should|need\s+to|ought\s+to|must)\s+"
     rf"(?:really\s+)?(?:{ASK_VERB}|have|get)\b{OBJ}"),
    ("we'd pay for",
     rf"\b(?:we|i)(?:'d|\s+would)\s+(?:happily\s+|gladly\s+)?pay\s+(?:extra|more|good\s+money)\s+for\b{OBJ}"),
    ("not having",
     r"\bnot\s+having\s+(?P<obj>.{3,60}?)\s+(?:is|has\s+been|was)\s+(?:a\s+|really\s+|so\s+|very\s+|such\s+a\s+)?"
     r"(?:real\s+|big\s+|huge\s+)?(?:problem|pain|painful|issue|blocker|deal-?breaker|frustrating|annoying|hard"
     r"|difficult|tough)"),
    ("a real gap", rf"\b(?:real|big|huge|major|glaring)\s+gap\s+(?:that|is\s+that|in)\b{OBJ}"),
    ("something you're working on",
     r"\bis\s+(?P<obj>.{2,60}?)\s+something\s+(?:you(?:'re|\s+are)|your\s+team\s+is)\s+(?:working\s+on|planning"
     r"|considering|thinking\s+about|looking\s+(?:at|into))"),
    ("planned",
     r"\b(?:do\s+you\s+have|is|are)\s+(?P<obj>.{2,60}?)\s+(?:planned|in\s+the\s+works|coming(?:\s+soon)?"
     r"|in\s+development)\b"),
    ("looking forward to",
     r"\blooking\s+forward\s+to\s+(?:the\s+day\s+)?(?:when\s+)?(?:you|tidewater)\s+"
     rf"(?:{ASK_VERB}|ship|release)\w*\b{OBJ}"),
    ("we miss", rf"\b(?:(?:really|sorely|badly|still)\s+missing|(?:we|i)\s+(?:really\s+|sorely\s+)?miss)\b{OBJ}"),
    ("any chance",
     r"\bany\s+chance\s+(?:(?:you|your\s+team|you\s+guys)\s+(?:could|can|will|would|might)\s+(?:please\s+)?"
     rf"{ASK_VERB}\b|(?:of|for)\s+(?:getting\s+|having\s+|seeing\s+)?){OBJ}"),
    ("keep asking for",
     rf"\b(?:keep|keeps|kept|are|is|have\s+been|has\s+been)\s+asking\s+(?:us\s+|me\s+)?(?:for|about)\b{OBJ}"),
    ("requesting", rf"(?:^|\b(?:i'm|we're|i\s+am|we\s+are|just)\s+)requesting\b{OBJ}"),
    # The broad cues last, and only with a real object (STRICT_CUES): "X would save us hours",
    # "we really need X", "the app badly needs X".
    ("would save",
     r"^(?:(?:honestly|also|frankly|really|and|but|so)[,\s]+)?(?P<obj>[^,;:]{3,80}?)\s+would\s+"
     r"(?:really\s+|honestly\s+|definitely\s+|also\s+|probably\s+)?"
     r"(?:save|make\s+(?:\w+\s+){0,3}?(?:usable|easier|faster|simpler|possible|better)|let\s+(?:us|me|our)"
     r"|allow\s+(?:us|me|our)|help\s+(?:us|our|me|a\s+lot)"
     r"|be\s+(?:a\s+)?(?:huge|big|great|massive|real|nice|game)[\s-]*(?:win|help|improvement|plus|changer)"
     rf"|be\s+(?:so\s+|really\s+|very\s+|super\s+|incredibly\s+)?{GOOD})\b"),
    ("we need",
     r"\b(?:we|i|our\s+(?:team|users|customers|reps|agents|company))\s+"
     r"(?:really\s+|badly\s+|urgently\s+|desperately\s+|also\s+|absolutely\s+|definitely\s+|still\s+)?"
     r"(?:need|want|require)\s+(?!to\b|this\b|that\b|it\b|these\b|those\b|them\b|him\b|her\b|you\b|someone\b"
     rf"|somebody\b|anyone\b){OBJ}"),
    ("badly needs", rf"\b(?:badly|desperately|really|seriously|urgently)\s+needs\s+{OBJ}"),
    ("we want to",
     r"\b(?:we|i)\s+(?:really\s+)?(?:want|need|would\s+like)\s+to\s+(?:be\s+able\s+to\s+)?"
     rf"(?=(?:force|require|make|prevent|stop|restrict|block|lock|enforce|automate|allow)\b){OBJ}"),
    ("would love to",
     r"\b(?:would|'d)\s+(?:really\s+|absolutely\s+|so\s+|also\s+)?love\s+to\s+"
     rf"(?!know|hear|understand|talk|speak|chat|discuss|learn|get\s+(?:a|an|the|some)\s){OBJ}"),
    ("X please", r"^(?P<obj>(?:[\w-]+\s+){0,4}[\w-]+)\s*,?\s*(?:please|pls|plz)\s*[!.]*$"),
]
STRICT_CUES = frozenset({"would save", "we need", "badly needs", "we want to", "would love to", "X please"})
# Cues that say something is missing: missing data or a missing answer is a bug or a service
# matter ("why is there no data on my dashboard today?"), not a missing feature.
ABSENCE_CUES = frozenset({"surprised there's no", "can't believe there's no", "why is there no", "it's a shame",
                          "still no", "there's no way to"})
ABSENT_NOT_A_FEATURE = re.compile(
    r"^(?:any\s+|the\s+|my\s+|our\s+|new\s+)?(?:data|records?|numbers|results|activit(?:y|ies)|entries"
    r"|response|reply|answer|update|fix|change|progress|sound|connection|signal|word)\b"
    r"|\b(?:today|yesterday|since|anymore|any\s+more|this\s+(?:morning|week|afternoon)|right\s+now|again)\b",
    re.IGNORECASE,
)
# "I wish someone had told us": a regret, not a wish for the product.
REGRET = re.compile(r"\bhad\s+(?:been\s+)?\w+(?:ed|en|ld|wn|ne|ght)\b", re.IGNORECASE)
# A how-to or why-can't question is an ask when the next sentences say the answer is no
# ("Is there a way to bulk edit deals? Apparently not.") or that other tools can. Not "I
# couldn't find it": people asking where a setting is say that too.
QUESTION_OBJECT = re.compile(
    r"\b(?:is\s+there\s+(?:a|any)\s+way\s+to|is\s+it\s+possible\s+to|why\s+(?:can't|cannot|can\s+not)"
    r"(?!\s+(?:i|we|my|our)\b))\s+(?P<obj>[^?]*)",
    re.IGNORECASE,
)
ANSWER_IS_NO = re.compile(
    r"\bthere\s+(?:isn't|is\s+not|'s\s+no|is\s+no|doesn't\s+seem\s+to\s+be|does\s+not\s+seem\s+to\s+be)\b"
    r"|\bapparently\s+not\b|\bseems?\s+not\b|\b(?:isn't|is\s+not|not)\s+possible\b|\bif\s+not\b"
    r"|\bplease\s+(?:add|change|consider)\b"
    rf"|\b(?:it|that|this|which)\s*(?:would|'d)\s+be\s+(?:very\s+|really\s+|so\s+|super\s+)?{GOOD}\b"
    r"|\b(?:every|all|most)\s+other\s+(?:[\w-]+\s+){0,2}?(?:tools?|apps?|crms?|products?|software|platforms?"
    r"|systems?|vendors?)\b",
    re.IGNORECASE,
)
SOMEONE_ABLE = re.compile(r"^\w+\s+to\s+(?:be\s+able|have|see|edit|access|get|view|manage)\b", re.IGNORECASE)
# An ask for the ticket to be handled, not for the product to change ("we need this back by Friday").
NOT_A_NEED = re.compile(r"\b(?:back|fixed|resolved|restored|working|asap|urgently|today|tomorrow|tonight"
                        r"|by\s+(?:monday|tuesday|wednesday|thursday|friday|eod|end\s+of))\b", re.IGNORECASE)
CUE_PATTERNS = [(name, re.compile(p, re.IGNORECASE)) for name, p in CUES]
# How-to questions: not requests, but their object names the request when a cue follows
# ("Is there a way to merge deals? If not, it would be great to have").
HOWTO_OBJECT = re.compile(
    r"\b(?:is\s+there\s+(?:a|any)\s+way\s+to|is\s+it\s+possible\s+to|can\s+(?:i|we)|how\s+(?:do|can)\s+(?:i|we))"
    r"\s+(?P<obj>.*)",
    re.IGNORECASE,
)
# Asks that are service, not product: "please add a user", "could you look into this".
SERVICE_OBJECT = re.compile(
    r"^(?:(?:get|getting|have|having|receive|hear\s+back|some)\s+)?"
    r"(?:(?:my|our|a|an|the|\d+|two|three|four|five|few|some|more|another|this|these|new|extra|additional"
    r"|missing|deleted|lost|short|quick|brief|simple|step-by-step)\s+)*"
    r"(?:colleagues?|users?|seats?|licen[cs]es?|members?|admins?|credits?|invoices?|contacts?|emails?|persons?"
    r"|people|him|her|them|me|us|employees?|agents?|teammates?|accounts?|refund|discount|receipts?|ticket|call"
    r"|meeting|updates?|status|eta|information|info|details|feedback|answer|response|reply|access|copy|link"
    r"|estimate|quote|documentation|docs|screenshots?|instructions|steps|guidance|help|assistance|clarification"
    r"|confirmation|callback|demo|training|walkthrough|session|vat|tax\s+ids?|po\s+numbers?|purchase\s+orders?"
    r"|(?:help\s+|support\s+)?(?:articles?|videos?|guides?|tutorials?|examples?|explanations?)"
    r"|(?:billing|postal|company)\s+(?:address|details|name|contact))"
    # ... as the head of the object ("a user for me"), not a modifier ("user provisioning").
    r"(?=\s*(?:$|[.,;:!?)(]|(?:to|for|as|on|in|into|from|with|at|so|and|or|please|asap|by|of|back|again|if|who"
    r"|that|which|would|will|here|there|today|now)\b))"
    r"|@|\[email\]|\b(?:in|to|on)\s+(?:the\s+)?cc\b|\bto\s+(?:this|the|my|our)\s+(?:ticket|thread|conversation|case)\b"
    r"|\b(?:colleague|teammate|coworker|co-worker)s?\s+\w+\s+(?:to|as|in|on)\b"
    r"|^(?:you\s+could\s+|you\s+can\s+|someone\s+could\s+)?(?:fix|look|resolve|investigate|check|help|get\s+back"
    r"|respond|call|reply|hear|let\s+(?:me|us)\s+know|update\s+(?:me|us)|confirm|advise|close|cancel|refund|escalate"
    r"|send\s+(?:me|us)|log\s+in|login|sign\s+in|access|reach|contact|reduce|lower|cut|waive|extend|renew"
    r"|upgrade|downgrade)\b"
    r"|\b(?:attached|enclosed)\b|\bto\s+(?:our|my)\s+(?:contract|file|account|invoices?|order|ticket)\b"
    r"|^(?:the\s+)?(?:price|pricing|prices|cost|costs|fees?|rates?|bill)\b",
    re.IGNORECASE,
)
# "if the export worked (again)" is a bug report; "if the app worked offline" asks for more.
BUG_OBJECT = re.compile(
    r"\b(?:worked|works|would\s+work|was\s+working|were\s+working)\s*(?:again|properly|correctly|reliably|as\s+"
    r"(?:expected|before|intended)|at\s+all|[.!?,;]|$)"
    r"|\b(?:actually|just|even)\s+(?:worked|works|work)\b"
    r"|\b(?:didn't\s+(?:crash|fail|break)|stopped\s+(?:crashing|failing)|got\s+fixed|was\s+fixed|were\s+fixed"
    r"|fixed|bugs?|fail\w*|crash\w*|broken|break(?:s|ing)?|stop(?:s|ped)?\s+\w+ing|used\s+to)\b",
    re.IGNORECASE,
)
WEAK_OBJECT = re.compile(
    r"^(?:it|this|that|one|them|this\s+feature|that\s+feature|such\s+a\s+feature|something\s+like\s+(?:this|that)"
    r"|have|see|too)?$"
)

# --- data: phrase clean-up --------------------------------------------------------------------

CUT = re.compile(
    r"[.?!;:\n()\[\]\"]|,\s|\s[-–—]\s"
    r"|\s+(?:so\s+(?:that|we|i|our|it|they|you|users)|because|since|as\s+(?:it|we|this|that|our|i)|which"
    r"|that\s+would|to\s+help|in\s+order\s+to|instead\s+of|similar\s+to|just\s+like"
    r"|like\s+(?:in|on|the|what|how|you|other)|for\s+(?:example|instance|our|my|us|the\s+team|all|everyone|each)"
    r"|would\s+(?:help|be|make|save|really|allow|let|mean)|will\s+(?:help|save|make)|e\.g|thanks|thank\s+you"
    r"|please|asap|if\s+possible|if\s+you\s+can|when\s+(?:you|we|i)|and\s+(?:it|that|this)\s+would|thx"
    r"|at\s+some\s+point|any\s+time\s+soon)\b",
    re.IGNORECASE,
)
LEADING_FILLER = re.compile(
    r"^(?:"
    r"(?:please|kindly|also|just|really|maybe|perhaps|somehow|eventually|finally|to\s+us|for\s+us|us\s+with"
    r"|at\s+least|even|still|already)\s+"
    r"|(?:you|you\s+guys|your\s+team|we|i|they|users|admins|people|one|someone|our\s+(?:team|users|reps|agents))"
    r"\s+(?:could|can|would|might|will|were\s+able\s+to|was\s+able\s+to|are\s+able\s+to|had)\s+"
    r"|(?:you|you\s+guys|your\s+team|the\s+(?:app|product|platform|tool|system|crm)|it)"
    r"\s+(?:added|add|had|has|have|offered|offer|supported|support|provided|provide|built|build|introduced"
    r"|implemented|included|allowed|allow|gave|give|got)\s+"
    r"|(?:there\s+(?:was|were|is|are|would\s+be|could\s+be|will\s+be)|there's)\s+"
    r"|support\s+for\s+|(?:native|proper|better|built-in)\s+support\s+for\s+"
    r"|(?:add|adding|build|building|introduce|introducing|implement|implementing|include|including|support"
    r"|supporting|provide|providing|offer|offering|create|creating|get|getting|have|having|see|seeing"
    r"|bring\s+back|bringing\s+back|enable|enabling|allow|allowing)\s+"
    r"|(?:the|an?|some|any)\s+(?:\w+\s+)?(?:ability|way|option|possibility|setting|functionality|capability|means"
    r"|feature)\s+(?:to|for|that\s+(?:lets|allows)\s+(?:us|me|users)\s+to)\s+"
    r"|(?:ability|option|possibility|way)\s+(?:to|for)\s+"
    r"|(?:to\s+)?(?:be\s+able\s+to|being\s+able\s+to)\s+"
    r"|(?:us|me|users|admins|people|them)\s+(?:to\s+)?(?=\w)"
    r"|to\s+(?=\w)|if\s+|(?:the|an?|some|any)\s+"
    r")",
    re.IGNORECASE,
)
TRAILING_FILLER = re.compile(
    r"\s+(?:please|pls|thanks|thank\s+you|asap|soon|too|also|as\s+well"
    r"|in\s+the\s+(?:app|product|platform|future|near\s+future|tool)|at\s+some\s+point"
    r"|one\s+day|someday|feature|option|functionality|capability|support|soon\s+please|yet|again|already|anymore"
    r"|in\s+\d{4}|of|to|and|or|for|with|on|the|a|an|at|by|that|is|are)$",
    re.IGNORECASE,
)
PHRASE_CHARS = re.compile(r"[^\w\s/&+#.'-]")
MAX_PHRASE_WORDS = 8
MAX_OBJECT_CHARS = 300   # eight words never need more; bounds the work on pathological input
SLUG_STOPWORDS = frozenset({
    "a", "an", "the", "of", "for", "to", "in", "on", "with", "by", "at", "from", "and", "or", "our", "my", "your",
    "us", "me", "we", "i", "is", "be", "it", "that", "this",
})
SLUG_MAX = 60


@dataclass(frozen=True)
class RequestResult:
    """Whether a text asks for a feature, what it asks for, and the cue that said so."""

    is_request: bool
    phrase: str | None     # short normalised phrase, e.g. "dark mode", "bulk edit of deals"
    cue: str | None        # the cue that matched


NO_REQUEST = RequestResult(False, None, None)


def detect_request(text: str) -> RequestResult:
    """Detect a feature request in `text` and extract what is asked for."""
    if not text:
        return NO_REQUEST
    sentences = split_sentences(text.replace("’", "'"))
    for index, sentence in enumerate(sentences):
        for name, pattern in CUE_PATTERNS:
            match = pattern.search(sentence)
            if not match:
                continue
            raw = (match.groupdict().get("obj") or "").strip()
            if not raw and name == "feature request" and index + 1 < len(sentences):
                raw = sentences[index + 1]   # "Feature request" as a heading, the ask on the next line
            if SERVICE_OBJECT.search(raw.lstrip()) or BUG_OBJECT.search(raw) or REGRET.search(raw):
                continue
            if name in ABSENCE_CUES and ABSENT_NOT_A_FEATURE.search(raw.lstrip()):
                continue
            phrase = normalise_phrase(raw)
            if name in STRICT_CUES and (WEAK_OBJECT.match(phrase) or NOT_A_NEED.search(raw)
                                        or SERVICE_OBJECT.search(phrase)
                                        or HOWTO_OBJECT.search(sentence) or sentence.rstrip().endswith("?")
                                        or SOMEONE_ABLE.match(raw.lstrip())):
                continue
            if WEAK_OBJECT.match(phrase or ""):
                phrase = _howto_object(sentences)
            return RequestResult(True, phrase or None, name)
    return _question_answered_no(sentences)


def _question_answered_no(sentences: Sequence[str]) -> RequestResult:
    for index, sentence in enumerate(sentences):
        match = QUESTION_OBJECT.search(sentence)
        if match and any(ANSWER_IS_NO.search(s) for s in sentences[index + 1:index + 3]):
            raw = match.group("obj")
            phrase = normalise_phrase(raw)
            if phrase and not WEAK_OBJECT.match(phrase) and not SERVICE_OBJECT.search(raw.lstrip()):
                return RequestResult(True, phrase, "is there a way (no)")
    return NO_REQUEST


def _howto_object(sentences: Sequence[str]) -> str | None:
    for sentence in sentences:
        match = HOWTO_OBJECT.search(sentence)
        if match:
            phrase = normalise_phrase(match.group("obj"))
            if phrase and not WEAK_OBJECT.match(phrase):
                return phrase
    return None


def normalise_phrase(raw: str) -> str:
    """Trim an ask to its object: no filler, lowercase, at most eight words."""
    text = unicodedata.normalize("NFKC", (raw or "")[:MAX_OBJECT_CHARS]).replace("’", "'")
    cut = CUT.search(text)
    if cut:
        text = text[: cut.start()]
    text = " ".join(PHRASE_CHARS.sub(" ", text).split()).lower()
    previous = None
    while text and text != previous:
        previous = text
        text = LEADING_FILLER.sub("", text, count=1).strip()
    words = text.split()[:MAX_PHRASE_WORDS]
    text = " ".join(words)
    previous = None
    while text and text != previous:
        previous = text
        text = TRAILING_FILLER.sub("", text).strip()
    return text.strip(" .'-/&+")


def slugify(phrase: str) -> str:
    """A URL-safe id from a phrase: "bulk edit of deals" -> "bulk-edit-deals"."""
    ascii_text = unicodedata.normalize("NFKD", phrase or "").encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", ascii_text)
    kept = [w for w in words if w not in SLUG_STOPWORDS] or words
    slug = ""
    for word in kept:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > SLUG_MAX:
            break
        slug = candidate
    return slug or (kept[0][:SLUG_MAX] if kept else "request")


def group_requests(phrases: Sequence[str], vectors: np.ndarray,
                   existing: Sequence[tuple[str, str, np.ndarray]] = (), threshold: float = 0.72,
                   ) -> tuple[list[str], list[tuple[str, str, np.ndarray]]]:
    """Assign each phrase to a request group.

    A phrase joins the most similar existing group when their cosine is >= `threshold`; the
    rest are clustered among themselves (average linkage, cut at cosine distance
    1 - threshold, over the phrases in sorted order so input order does not matter). A new
    group's id is the slug of its most central phrase, made unique; its centroid is the
    normalised mean of its members.

    Returns:
        (group id per phrase, new groups as (group_id, label, centroid)).

    Raises:
        ValueError: `vectors` does not have one row per phrase.
    """
    n = len(phrases)
    given = np.asarray(vectors)
    if n == 0:
        return [], []
    if given.ndim != 2 or given.shape[0] != n:
        raise ValueError(f"group_requests: {n} phrases but vectors has shape {given.shape}")
    dtype = given.dtype if np.issubdtype(given.dtype, np.floating) else np.float64
    unit = _normalise_rows(given.astype(np.float64))
    ids: list[str | None] = [None] * n
    taken = {gid for gid, _, _ in existing}
    # Centroids of another dimension come from an earlier embedding model: they cannot match.
    usable = [(gid, np.asarray(c, dtype=np.float64).ravel()) for gid, _, c in existing]
    usable = [(gid, c) for gid, c in usable if c.shape[0] == unit.shape[1]]
    if usable:
        centroids = _normalise_rows(np.vstack([c for _, c in usable]))
        sims = unit @ centroids.T
        best = sims.argmax(axis=1)
        for i in range(n):
            if sims[i, best[i]] >= threshold:
                ids[i] = usable[best[i]][0]
    rest = sorted((i for i in range(n) if ids[i] is None), key=lambda i: (phrases[i], i))
    created: list[tuple[str, str, np.ndarray]] = []
    for members in _clusters(unit, rest, threshold):
        sims = unit[members] @ unit[members].T
        centrality = sims.sum(axis=1)
        order = sorted(range(len(members)),
                       key=lambda k: (-round(float(centrality[k]), 6), len(phrases[members[k]]), phrases[members[k]]))
        label = phrases[members[order[0]]]
        gid = _unique(slugify(label), taken)
        taken.add(gid)
        centroid = _normalise_rows(unit[members].mean(axis=0, keepdims=True))[0].astype(dtype)
        for i in members:
            ids[i] = gid
        created.append((gid, label, centroid))
    return [gid or "" for gid in ids], created


def _normalise_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


def _clusters(unit: np.ndarray, indices: list[int], threshold: float) -> list[list[int]]:
    """Groups of `indices`, ordered by their first member in `indices`."""
    if not indices:
        return []
    if len(indices) == 1:
        return [indices]
    distances = np.clip(1.0 - unit[indices] @ unit[indices].T, 0.0, 2.0)
    condensed = distances[np.triu_indices(len(indices), k=1)]
    labels = fcluster(linkage(condensed, method="average"), t=1.0 - threshold, criterion="distance")
    groups: dict[int, list[int]] = {}
    for position, label in enumerate(labels):
        groups.setdefault(int(label), []).append(indices[position])
    return list(groups.values())


def _unique(slug: str, taken: set[str]) -> str:
    if slug not in taken:
        return slug
    n = 2
    while f"{slug}-{n}" in taken:
        n += 1
    return f"{slug}-{n}"
