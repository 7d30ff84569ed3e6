"""Word lists and sentence pools for the sample tickets, read from phrases.yaml.

Everything here is customer or agent text, or a value a template slot draws from. Sentences that
plant something the ground truth records (competitor mentions, false friends, churn language,
PII, Slack markup) are kept in their own pools so the generator knows exactly what it planted.
Pools outside those must never contain a competitor name or one of the ambiguous words (close,
front, copper, monday, notion); `tests/test_sample.py` checks the generated text for it.
"""

from __future__ import annotations

from tools.sample.tables import read_table

_T = read_table("phrases.yaml")

# --- people
FIRST_NAMES: tuple[str, ...] = _T["first_names"]
LAST_NAMES: tuple[str, ...] = _T["last_names"]
AGENTS: tuple[str, ...] = _T["agents"]
TITLES: tuple[str, ...] = _T["titles"]

# --- slot values
BROWSERS: tuple[str, ...] = _T["browsers"]
OPERATING_SYSTEMS: tuple[str, ...] = _T["operating_systems"]
OBJECTS: tuple[str, ...] = _T["objects"]
REPORTS: tuple[str, ...] = _T["reports"]
DASHBOARDS: tuple[str, ...] = _T["dashboards"]
PIPELINES: tuple[str, ...] = _T["pipelines"]
FIELDS: tuple[str, ...] = _T["fields"]
IDENTITY_PROVIDERS: tuple[str, ...] = _T["identity_providers"]
DEVICES: tuple[str, ...] = _T["devices"]
IOS_VERSIONS: tuple[str, ...] = _T["ios_versions"]
ANDROID_VERSIONS: tuple[str, ...] = _T["android_versions"]
APP_VERSIONS: tuple[str, ...] = _T["app_versions"]
ENDPOINTS: tuple[str, ...] = _T["endpoints"]
PLANS: tuple[str, ...] = _T["plans"]
FILE_NAMES: tuple[str, ...] = _T["file_names"]
VAT_IDS: tuple[str, ...] = _T["vat_ids"]
SINCE: tuple[str, ...] = _T["since"]
WHEN: tuple[str, ...] = _T["when"]
TIMES_WORDS: tuple[str, ...] = _T["times_words"]
ORDINALS: tuple[str, ...] = _T["ordinals"]
ERROR_FORMS: dict[str, tuple[str, ...]] = _T["error_forms"]

# --- ordinary noise
GREETINGS: tuple[str, ...] = _T["greetings"]
CLOSINGS: tuple[str, ...] = _T["closings"]
POSITIVE_LINES: tuple[str, ...] = _T["positive_lines"]
NEGATIVE_LINES: tuple[str, ...] = _T["negative_lines"]
TRIED_LINES: tuple[str, ...] = _T["tried_lines"]
ASKS: dict[str, tuple[str, ...]] = _T["asks"]
REQUEST_LOOKALIKES: tuple[str, ...] = _T["request_lookalikes"]

# --- planted: competitors
COMPETITOR_FORMS: dict[str, tuple[str, ...]] = _T["competitor_forms"]
COMPETITOR_WEIGHTS: dict[str, float] = _T["competitor_weights"]
COMPETITIVE_CONTEXTS: dict[str, float] = _T["competitive_contexts"]
COMPETITOR_LINES: dict[str, tuple[str, ...]] = _T["competitor_lines"]
PARTNER_ASIDES: tuple[str, ...] = _T["partner_asides"]
FALSE_FRIENDS: tuple[tuple[str, str], ...] = _T["false_friends"]

# --- planted: renewal risk
REPEAT_LINES: tuple[str, ...] = _T["repeat_lines"]
FRUSTRATION_LINES: tuple[str, ...] = _T["frustration_lines"]
CHURN_LINES: tuple[str, ...] = _T["churn_lines"]
HEALTHY_LINES: tuple[str, ...] = _T["healthy_lines"]

# --- planted: PII and Slack markup
PII_LINES: dict[str, tuple[str, ...]] = _T["pii_lines"]
PII_KIND_WEIGHTS: dict[str, float] = _T["pii_kind_weights"]
PERSONAL_MAIL_DOMAINS: tuple[str, ...] = _T["personal_mail_domains"]
INTL_PHONES: tuple[str, ...] = _T["intl_phones"]
US_PHONES: tuple[str, ...] = _T["us_phones"]
US_AREA_CODES: tuple[str, ...] = _T["us_area_codes"]
IP_PREFIXES: tuple[str, ...] = _T["ip_prefixes"]
SLACK_LINES: tuple[str, ...] = _T["slack_lines"]

# --- email furniture
QUOTE_HEADERS: tuple[str, ...] = _T["quote_headers"]
QUOTED_AGENT_LINES: tuple[str, ...] = _T["quoted_agent_lines"]

# --- agent side
AGENT_REPLIES: dict[str, tuple[str, ...]] = _T["agent_replies"]
INTERNAL_NOTES: tuple[str, ...] = _T["internal_notes"]
FOLLOWUPS_OK: tuple[str, ...] = _T["followups_ok"]
FOLLOWUPS_WAITING: tuple[str, ...] = _T["followups_waiting"]
AGENT_WRAPUPS: tuple[str, ...] = _T["agent_wrapups"]

# --- typos: (correct, misspelt), applied only to the theme sentences
TYPOS: tuple[tuple[str, str], ...] = _T["typos"]
