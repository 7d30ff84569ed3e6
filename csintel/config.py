"""One typed settings object, read from `csintel.toml` (or YAML) plus environment variables.

Every key has a default, so a file holds only what differs. Secrets come from the environment
only (`SLACK_BOT_TOKEN`, `ZENDESK_API_TOKEN`, ...): a secret written in the file is an error,
so it never ends up in version control or in a log.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import tomllib
import types
import typing
import zoneinfo
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from csintel.resources import checkout_root, shipped

REPO_ROOT = checkout_root()          # benchmarks and tests only: an installed csintel has no repository
SHIPPED_MODELS = shipped("models")   # models/ in a checkout, csintel/_data/models when installed
SAMPLE_DIR = shipped("sample")       # data/sample in a checkout, csintel/_data/sample when installed

# Keys that look like secrets: refused in the file, read from these variables instead.
SECRET_KEYS = {
    "token": "SLACK_BOT_TOKEN",
    "slack_token": "SLACK_BOT_TOKEN",
    "bot_token": "SLACK_BOT_TOKEN",
    "api_token": "ZENDESK_API_TOKEN",
    "api_key": "the helpdesk's *_API_KEY variable",
    "password": "an environment variable",
}


class ConfigError(ValueError):
    """A configuration problem, with a message that names the key and the fix."""


@dataclass
class WarehouseConfig:
    path: str = ".csintel/warehouse.duckdb"   # relative paths are relative to the config file
    # One run writes a warehouse at a time: a second waits this long for the first, then stops
    # with a message naming it. A weekly run takes minutes, so waiting beats failing a schedule.
    lock_timeout_s: float = 600.0


@dataclass
class ZendeskConfig:
    """`[sources.zendesk]`: enabled when `subdomain` or `base_url` is set; the credential comes from
    ZENDESK_API_TOKEN (with `email`) or ZENDESK_OAUTH_TOKEN."""

    subdomain: str = ""              # "acme" for https://acme.zendesk.com
    base_url: str = ""               # overrides subdomain: a host-mapped domain, a proxy, a local fake
    email: str = ""                  # the agent the API token belongs to
    start: str = ""                  # ISO date of the first sync's start; "" = 90 days before now
    include_internal_notes: bool = False   # store internal notes in `comments` (never read by NLP)
    page_size: int = 100             # tickets per export page: one transaction each
    comments_page_size: int = 100    # comments per request (Zendesk's maximum is 100)
    comment_workers: int = 4         # tickets whose comments are fetched at once

    def __post_init__(self) -> None:
        key = "sources.zendesk."
        if self.subdomain and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]*", self.subdomain):
            raise ConfigError(f"{key}subdomain must be the name only (\"acme\" for acme.zendesk.com), got "
                              f"{self.subdomain!r}; use {key}base_url for a full address")
        if self.base_url and not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"{key}base_url must be an http(s) address, got {self.base_url!r}")
        if self.start:
            try:
                date.fromisoformat(self.start[:10])
            except ValueError:
                raise ConfigError(f"{key}start must be an ISO date (2026-01-31), got {self.start!r}") from None
        for name, low, high in (("page_size", 1, 1000), ("comments_page_size", 1, 100), ("comment_workers", 1, 32)):
            if not low <= getattr(self, name) <= high:
                raise ConfigError(f"{key}{name} must be from {low} to {high}, got {getattr(self, name)!r}")

    @property
    def enabled(self) -> bool:
        return bool(self.subdomain or self.base_url)


ACCOUNT_MATCHES = ("company", "domain")   # how a helpdesk ticket finds its account (see README)


def _check_helpdesk(key: str, base_url: str, start: str, account_match: str) -> None:
    if base_url and not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"{key}base_url must be an http(s) address, got {base_url!r}")
    if start:
        try:
            date.fromisoformat(start[:10])
        except ValueError:
            raise ConfigError(f"{key}start must be an ISO date (2026-01-31), got {start!r}") from None
    if account_match not in ACCOUNT_MATCHES:
        raise ConfigError(f"{key}account_match must be \"company\" (the helpdesk's company id is the account_id) "
                          f"or \"domain\" (join by the requester's email domain), got {account_match!r}")


@dataclass
class FreshdeskConfig:
    """`[sources.freshdesk]`: enabled when `domain` or `base_url` is set; the key comes from FRESHDESK_API_KEY."""

    domain: str = ""                 # "acme" or "acme.freshdesk.com"
    base_url: str = ""               # overrides domain: a custom domain, a proxy, a local fake
    start: str = ""                  # ISO date of the first sync's start; "" = 90 days before now
    per_page: int = 100              # tickets per list page (Freshdesk's maximum): one transaction each
    account_match: str = "company"   # "company": account_id = Freshdesk company id; "domain": email domain
    include_private_notes: bool = False   # store private notes in `comments` (never read by NLP)
    satisfaction: bool = True        # csat from the satisfaction-ratings list (one listing per run)

    def __post_init__(self) -> None:
        key = "sources.freshdesk."
        if self.domain and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.-]*", self.domain):
            raise ConfigError(f"{key}domain must be \"acme\" or \"acme.freshdesk.com\", got {self.domain!r}")
        _check_helpdesk(key, self.base_url, self.start, self.account_match)
        if not 1 <= self.per_page <= 100:
            raise ConfigError(f"{key}per_page must be from 1 to 100, got {self.per_page!r}")

    @property
    def enabled(self) -> bool:
        return bool(self.domain or self.base_url)

    @property
    def url(self) -> str:
        host = self.domain if "." in self.domain else f"{self.domain}.freshdesk.com"
        return self.base_url or f"https://{host}"


@dataclass
class IntercomConfig:
    """`[sources.intercom]`: on with `enabled = true`; the token comes from INTERCOM_ACCESS_TOKEN."""

    enabled: bool = False
    base_url: str = "https://api.intercom.io"   # EU: https://api.eu.intercom.io, AU: https://api.au.intercom.io
    api_version: str = "2.11"        # the Intercom-Version header
    start: str = ""                  # ISO date of the first sync's start; "" = 90 days before now
    per_page: int = 150              # conversations per search page (at most 150): one transaction each
    account_match: str = "company"   # "company": account_id = the company's company_id; "domain": email domain
    include_notes: bool = False      # store internal notes in `comments` (never read by NLP)

    def __post_init__(self) -> None:
        key = "sources.intercom."
        _check_helpdesk(key, self.base_url, self.start, self.account_match)
        if not 1 <= self.per_page <= 150:
            raise ConfigError(f"{key}per_page must be from 1 to 150, got {self.per_page!r}")


@dataclass
class HubSpotConfig:
    """`[sources.hubspot]`: accounts from HubSpot companies, on with `enabled = true`; the token
    (a private app's, scopes crm.objects.companies.read and crm.objects.owners.read) comes from
    HUBSPOT_ACCESS_TOKEN."""

    enabled: bool = False
    base_url: str = "https://api.hubapi.com"
    arr_property: str = "annualrevenue"       # company property holding ARR in USD
    renewal_property: str = "renewal_date"    # company property holding the next renewal date
    owner_property: str = "hubspot_owner_id"  # the owner is the account's CSM
    account_id_property: str = ""    # "" = the HubSpot company id is the account_id; else a property
                                     # holding the id the helpdesk uses for the company
    plan_property: str = ""
    segment_property: str = ""
    per_page: int = 100              # companies per request (HubSpot's maximum)
    # CSM email -> Slack user id; emails not listed are looked up in Slack when SLACK_BOT_TOKEN is set.
    slack_ids: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        key = "sources.hubspot."
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"{key}base_url must be an http(s) address, got {self.base_url!r}")
        if not 1 <= self.per_page <= 100:
            raise ConfigError(f"{key}per_page must be from 1 to 100, got {self.per_page!r}")
        if not isinstance(self.slack_ids, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in self.slack_ids.items()):
            raise ConfigError(f"{key}slack_ids must be a table of email = \"Slack user id\", "
                              f"e.g. \"ana@acme.com\" = \"U024BE7LH\"")


@dataclass
class SourcesConfig:
    tickets: list[str] = field(default_factory=list)   # CSV / JSONL / Parquet files or globs
    accounts: list[str] = field(default_factory=list)
    max_text_chars: int = 50_000                       # longer tickets are quarantined, not truncated
    max_row_chars: int = 2_000_000                     # one file row, all fields: longer rows are quarantined
    undated: str = "quarantine"                        # tickets with no timestamp: or "ingest_week"
    zendesk: ZendeskConfig = field(default_factory=ZendeskConfig)
    freshdesk: FreshdeskConfig = field(default_factory=FreshdeskConfig)
    intercom: IntercomConfig = field(default_factory=IntercomConfig)
    hubspot: HubSpotConfig = field(default_factory=HubSpotConfig)


EMBEDDING_BACKENDS = ("torch", "onnx", "onnx-int8")


@dataclass
class ModelsConfig:
    embedding: str = ""          # "" = the packaged all-MiniLM-L6-v2; else a local path or a model name
    device: str = "cpu"
    batch_size: int = 32
    # How the embedding model runs (csintel/embed.py): int8 ONNX encodes ~2x faster than torch on a
    # CPU with VNNI at equal tag accuracy (benchmarks/bench_tagging.py); it falls back to fp32 ONNX
    # on other CPUs and to torch without onnxruntime.
    backend: str = "onnx-int8"
    taxonomy: str = str(SHIPPED_MODELS / "taxonomy.yaml")
    competitors_file: str = str(SHIPPED_MODELS / "competitors.yaml")
    model_dir: str = ".csintel/models"   # trained classifier heads
    category_min_confidence: float = 0.30
    root_cause_min_confidence: float = 0.30
    # When at least this share of a week's tagged tickets gets category "uncertain", the run and
    # the Support Ops digest say the taxonomy fits poorly and point to `csintel taxonomy suggest`.
    # A quarter is a judgement, not a fit to data: zero-shot tagging abstains rarely even on foreign
    # tickets (4% of Banking77, docs/categories.md), so a quarter uncertain means whole kinds of
    # tickets are missing from the taxonomy, not a few odd ones.
    category_poor_fit_share: float = 0.25
    # A sentiment head can abstain too (the rules always answer); 0 = never "uncertain".
    sentiment_min_confidence: float = 0.0
    # Cosine at which two feature-request phrases join one group. Short phrases embed far apart
    # ("dark mode" vs "dark theme"); 0.5 kept group purity at 0.985 on a held-out generated sample
    # while merging most rewordings (benchmarks/eval_tags.py).
    request_group_threshold: float = 0.50


@dataclass
class ThemesConfig:
    window_weeks: int = 12
    min_cluster_size: int = 0        # 0 = scale with the window
    reassign_threshold: float = 0.55
    match_threshold: float = 0.80    # centroid similarity that keeps a theme's id across runs
    # Weekly counts are over-dispersed (launches, outages, quarter ends), so a Poisson z of 3 fires
    # on ordinary wobble of small themes; 4 kept the sample's planted spike and dropped its noise.
    spike_z: float = 4.0
    min_trend_tickets: int = 0       # 0 = max(5, 2% of the window's mean weekly tickets)
    seed: int = 42
    # Between full reclusterings new tickets are placed on the last fit's theme centroids; refit
    # when more than this share of the window is tickets the fit did not cluster, or the fit is
    # this many weeks old (also on a config/model change, on `cluster --refit`, and when new
    # tickets left unplaced are enough to form a theme of their own).
    refit_share: float = 0.25
    refit_weeks: int = 4


@dataclass
class RiskConfig:
    renewal_window_days: int = 120
    lookback_days: int = 90
    high_score: float = 60.0
    medium_score: float = 35.0


@dataclass
class SupportConfig:
    # First-response targets by priority, in minutes: the SLA that compliance is measured against.
    first_response_urgent: float = 60
    first_response_high: float = 240
    first_response_normal: float = 480
    first_response_low: float = 1440
    sla_target: float = 0.95         # the share of tickets that should meet their target
    # Staffing (Erlang C): agents needed so that `answer_target` of tickets get a first answer
    # within `answer_within_minutes`, given the agents' handle time per ticket.
    handle_minutes: float = 20
    answer_within_minutes: float = 60
    answer_target: float = 0.80
    forecast_weeks: int = 4

    @property
    def first_response_targets(self) -> dict[str, float]:
        return {"urgent": self.first_response_urgent, "high": self.first_response_high,
                "normal": self.first_response_normal, "low": self.first_response_low}


@dataclass
class DigestConfig:
    max_lines: int = 8
    min_theme_tickets: int = 5
    ticket_url: str = ""             # e.g. "https://acme.zendesk.com/agent/tickets/{id}"
    quote_chars: int = 180


@dataclass
class SlackConfig:
    base_url: str = "https://slack.com/api/"   # GovSlack, a proxy, or a local fake
    outbox: str = "outbox"                     # where digests go when no SLACK_BOT_TOKEN is set


@dataclass
class RoutingConfig:
    product: str = "#product"
    cs: str = "#cs"
    sales: str = "#sales"
    support_ops: str = "#support-ops"
    disabled: list[str] = field(default_factory=list)   # audiences not to send
    csm_direct: bool = False                            # also DM each at-risk account's CSM


@dataclass
class ScheduleConfig:
    # When `csintel serve` runs the weekly pipeline: Monday 07:00, so digests are in Slack before
    # the week's first stand-ups. Standard five-field cron, read in `timezone` (IANA name).
    weekly_cron: str = "0 7 * * 1"
    timezone: str = "UTC"


@dataclass
class DaskConfig:
    # "" runs everything in this process; "local" starts a LocalCluster of `n_workers` processes;
    # "tcp://host:8786" uses a running scheduler. Only encoding and tagging batches go to Dask.
    address: str = ""
    n_workers: int = 2               # "local" only
    threads_per_worker: int = 1      # "local" only; each thread of a worker tags one batch at a time


@dataclass
class CompetitorEntry:
    name: str
    aliases: list[str] = field(default_factory=list)
    integration_partner: bool = False
    ambiguous: bool | None = None    # None: decided from a word-frequency list (ordinary words are)


@dataclass
class Settings:
    warehouse: WarehouseConfig = field(default_factory=WarehouseConfig)
    sources: SourcesConfig = field(default_factory=SourcesConfig)
    models: ModelsConfig = field(default_factory=ModelsConfig)
    themes: ThemesConfig = field(default_factory=ThemesConfig)
    risk: RiskConfig = field(default_factory=RiskConfig)
    support: SupportConfig = field(default_factory=SupportConfig)
    digest: DigestConfig = field(default_factory=DigestConfig)
    slack: SlackConfig = field(default_factory=SlackConfig)
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    dask: DaskConfig = field(default_factory=DaskConfig)
    # An inline competitor list replaces the file's (a config may hold only this).
    competitors: list[CompetitorEntry] = field(default_factory=list)
    base_dir: str = "."              # set by the loader: the config file's folder

    def resolve(self, path: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        p = Path(path).expanduser()
        return (p if p.is_absolute() else Path(self.base_dir) / p).resolve()

    @property
    def warehouse_path(self) -> Path:
        return self.resolve(self.warehouse.path)

    @property
    def slack_token(self) -> str | None:
        return os.environ.get("SLACK_BOT_TOKEN") or None


def load_settings(path: str | Path | None = None) -> Settings:
    """Read settings from a TOML or YAML file (or defaults when `path` is None).

    Raises:
        ConfigError: missing file, unreadable syntax, unknown key, wrong type or bad value.
    """
    if path is None:
        return _validate(Settings(base_dir=str(Path.cwd())))
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {p} not found: create one with `csintel init` or pass --config")
    text = p.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text) if p.suffix in {".yaml", ".yml"} else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{p}: not valid {'YAML' if p.suffix in {'.yaml', '.yml'} else 'TOML'}: {exc}") from exc
    data = data or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: the top level must be a table of sections, got {type(data).__name__}")
    data.pop("base_dir", None)
    settings = _build(Settings, data, prefix="", source=p.name)
    settings.base_dir = str(p.resolve().parent)
    return _validate(settings)


def settings_from_dict(data: dict[str, Any], base_dir: str | Path = ".") -> Settings:
    """Build settings from a plain dict (tests, notebooks); same checks as a file."""
    settings = _build(Settings, dict(data), prefix="", source="settings")
    settings.base_dir = str(base_dir)
    return _validate(settings)


def _build(cls: type, data: Any, prefix: str, source: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: [{prefix.rstrip('.')}] must be a table, got {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        full = f"{prefix}{key}"
        if key not in fields:
            if key.lower() in SECRET_KEYS:
                raise ConfigError(
                    f"{source}: '{full}' looks like a secret; secrets never go in the config file. "
                    f"Set {SECRET_KEYS[key.lower()]} in the environment instead."
                )
            hint = difflib.get_close_matches(key, sorted(fields), n=1)
            fix = f" Did you mean '{prefix}{hint[0]}'?" if hint else f" Known keys: {', '.join(sorted(fields))}."
            raise ConfigError(f"{source}: unknown key '{full}'.{fix}")
        kwargs[key] = _coerce(hints[key], value, full, source)
    return cls(**kwargs)


def _coerce(tp: Any, value: Any, key: str, source: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, f"{key}.", source)
    if origin is list:
        (item_tp,) = typing.get_args(tp)
        if isinstance(value, str) and item_tp is str:
            value = [value]                      # a single path is fine where a list is expected
        if not isinstance(value, list):
            raise ConfigError(f"{source}: '{key}' must be a list, got {value!r}")
        return [_coerce(item_tp, v, f"{key}[{i}]", source) for i, v in enumerate(value)]
    if origin in (typing.Union, types.UnionType):
        return value
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp in (str, int, float, bool) and (type(value) is not tp):
        raise ConfigError(f"{source}: '{key}' must be {tp.__name__}, got {value!r}")
    return value


def _validate(s: Settings) -> Settings:
    checks: list[tuple[bool, str]] = [
        (s.models.batch_size >= 1, "models.batch_size must be at least 1"),
        (s.models.backend in EMBEDDING_BACKENDS,
         f"models.backend must be one of {', '.join(EMBEDDING_BACKENDS)}, got {s.models.backend!r}"),
        (0.0 <= s.models.category_min_confidence < 1.0, "models.category_min_confidence must be in [0, 1)"),
        (0.0 <= s.models.root_cause_min_confidence < 1.0, "models.root_cause_min_confidence must be in [0, 1)"),
        (0.0 <= s.models.sentiment_min_confidence < 1.0, "models.sentiment_min_confidence must be in [0, 1)"),
        (0.0 < s.models.category_poor_fit_share <= 1.0,
         "models.category_poor_fit_share must be in (0, 1], e.g. 0.25 (1 = warn only when every ticket is uncertain)"),
        (0.0 < s.models.request_group_threshold < 1.0, "models.request_group_threshold must be in (0, 1)"),
        (s.themes.window_weeks >= 2, "themes.window_weeks must be at least 2 (trends need a baseline)"),
        (s.themes.min_cluster_size == 0 or s.themes.min_cluster_size >= 2,
         "themes.min_cluster_size must be 0 (automatic) or at least 2"),
        (0.0 < s.themes.match_threshold <= 1.0, "themes.match_threshold must be in (0, 1]"),
        (s.themes.spike_z > 0, "themes.spike_z must be positive (e.g. 4.0)"),
        (s.themes.min_trend_tickets >= 0, "themes.min_trend_tickets must be 0 (automatic) or more"),
        (0.0 < s.themes.refit_share <= 1.0, "themes.refit_share must be in (0, 1], e.g. 0.25"),
        (s.themes.refit_weeks >= 1, "themes.refit_weeks must be at least 1"),
        (s.risk.renewal_window_days > 0, "risk.renewal_window_days must be positive"),
        (s.risk.lookback_days > 0, "risk.lookback_days must be positive"),
        (s.risk.medium_score < s.risk.high_score, "risk.medium_score must be below risk.high_score"),
        (s.digest.max_lines >= 1, "digest.max_lines must be at least 1"),
        (not s.digest.ticket_url or "{id}" in s.digest.ticket_url,
         "digest.ticket_url must contain {id}, e.g. https://acme.zendesk.com/agent/tickets/{id}"),
        (s.slack.base_url.startswith(("http://", "https://")) and s.slack.base_url.endswith("/"),
         "slack.base_url must be an http(s) address ending in '/', e.g. https://slack.com/api/"),
        (s.sources.max_text_chars > 0, "sources.max_text_chars must be positive"),
        (s.sources.max_row_chars >= 1000, "sources.max_row_chars must be at least 1000 characters"),
        (s.sources.undated in ("quarantine", "ingest_week"),
         f"sources.undated must be \"quarantine\" or \"ingest_week\", got {s.sources.undated!r}"),
        (all(v > 0 for v in s.support.first_response_targets.values()),
         "support.first_response_* targets must be positive minutes"),
        (0.0 < s.support.sla_target <= 1.0, "support.sla_target must be in (0, 1], e.g. 0.95"),
        (s.support.handle_minutes > 0 and s.support.answer_within_minutes > 0,
         "support.handle_minutes and support.answer_within_minutes must be positive"),
        (0.0 < s.support.answer_target < 1.0, "support.answer_target must be in (0, 1), e.g. 0.80"),
        (1 <= s.support.forecast_weeks <= 26, "support.forecast_weeks must be from 1 to 26"),
    ]
    checks.append((len(s.schedule.weekly_cron.split()) == 5,
                   f"schedule.weekly_cron must have five fields (minute hour day month weekday), "
                   f"e.g. \"0 7 * * 1\"; got {s.schedule.weekly_cron!r}"))
    checks.append((_known_timezone(s.schedule.timezone),
                   f"schedule.timezone: unknown time zone {s.schedule.timezone!r} (an IANA name, e.g. Europe/Berlin)"))
    checks += [
        (s.warehouse.lock_timeout_s >= 0, "warehouse.lock_timeout_s must be 0 (do not wait) or more seconds"),
        (s.dask.address in ("", "local") or bool(re.fullmatch(r"(tcp|tls|ucx|inproc)://\S+|[\w.-]+:\d+", s.dask.address)),
         f"dask.address must be \"\" (no Dask), \"local\" or a scheduler address like tcp://10.0.0.5:8786; "
         f"got {s.dask.address!r}"),
        (s.dask.n_workers >= 1 and s.dask.threads_per_worker >= 1,
         "dask.n_workers and dask.threads_per_worker must be at least 1"),
    ]
    for audience in s.routing.disabled:
        checks.append((audience in AUDIENCES, f"routing.disabled: unknown audience '{audience}' "
                                               f"(one of {', '.join(AUDIENCES)})"))
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)
    names = [c.name for c in s.competitors]
    if len(names) != len(set(names)):
        raise ConfigError("competitors: each name must appear once")
    return s


AUDIENCES = ("product", "cs", "sales", "support_ops")


def _known_timezone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


STARTER_CONFIG = """\
# csintel configuration. Every key has a default: delete what you do not change.
# Secrets are never written here: set SLACK_BOT_TOKEN (and helpdesk tokens) in the environment.

[warehouse]
path = ".csintel/warehouse.duckdb"      # one DuckDB file; relative to this file

[sources]
tickets = ["{tickets}"]                  # CSV, JSONL or Parquet; globs allowed
accounts = ["{accounts}"]
# max_text_chars = 50000                 # longer tickets are quarantined
# max_row_chars = 2000000                # a file row (all its fields) longer than this is quarantined
# undated = "quarantine"                 # tickets with no timestamp; "ingest_week" counts them in the ingest week

[models]
# embedding = ""                         # "" = packaged all-MiniLM-L6-v2; or a local model folder
# backend = "onnx-int8"                  # or "onnx" (fp32) or "torch"; int8 needs a CPU with VNNI
# taxonomy = "models/taxonomy.yaml"      # categories and root causes with descriptions
# competitors_file = "models/competitors.yaml"
# model_dir = ".csintel/models"          # where `csintel train` saves classifier heads
# category_min_confidence = 0.30         # below this a tag is "uncertain"
# category_poor_fit_share = 0.25         # this share of a week's tickets uncertain: the taxonomy fits poorly

[themes]
# window_weeks = 12                      # tickets clustered together
# min_cluster_size = 0                   # 0 = scale with the window
# refit_share = 0.25                     # recluster when this share of the window is new since the last fit
# refit_weeks = 4                        # ... or when the last fit is this many weeks old

[risk]
# renewal_window_days = 120              # alert on accounts renewing this soon
# lookback_days = 90                     # support history considered

[support]
# first_response_urgent = 60             # minutes; also _high (240), _normal (480), _low (1440)
# sla_target = 0.95                      # share of tickets that should meet their target
# handle_minutes = 20                    # agent time per ticket, for staffing (Erlang C)
# answer_within_minutes = 60             # staffing target: answer_target of tickets answered this fast
# answer_target = 0.80
# forecast_weeks = 4

[digest]
# max_lines = 8
# ticket_url = "https://acme.zendesk.com/agent/tickets/{{id}}"

[slack]
# base_url = "https://slack.com/api/"    # GovSlack or a proxy: change here
outbox = "outbox"                        # digests land here when SLACK_BOT_TOKEN is unset

[routing]
product = "#product"
cs = "#cs"
sales = "#sales"
support_ops = "#support-ops"
# disabled = ["support_ops"]
# csm_direct = false

[dask]
# address = ""                           # "" = this process; "local" = a LocalCluster; or tcp://host:8786
# n_workers = 2                          # for "local"
# threads_per_worker = 1

[schedule]
# weekly_cron = "0 7 * * 1"              # `csintel serve`: Monday 07:00 ...
# timezone = "UTC"                       # ... in this time zone (IANA name)

# An inline competitor list replaces models/competitors.yaml:
# [[competitors]]
# name = "HubSpot"
# aliases = ["Hubspot", "hubspot.com"]
# integration_partner = true
"""
