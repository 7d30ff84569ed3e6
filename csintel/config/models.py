"""The settings sections: every key with its default, its bound and why.

A bound's `description` and `examples` are part of the error message when a value breaks it
(see `csintel.config.errors`), so they say what the number means, not what the field is.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field, SecretStr, model_validator

from csintel.config.fields import (
    AccountMatch,
    ApiUrl,
    ClusterSize,
    Cron,
    HelpdeskUrl,
    Section,
    SlackUrl,
    StartDate,
    StrList,
    TimeZone,
    matching,
    one_of,
)
from csintel.resources import shipped

SHIPPED_MODELS = shipped("models")   # models/ in a checkout, csintel/_data/models when installed

EMBEDDING_BACKENDS = ("torch", "onnx", "onnx-int8")
AUDIENCES = ("product", "cs", "sales", "support_ops")


class WarehouseConfig(Section):
    path: str = ".csintel/warehouse.duckdb"   # relative paths are relative to the config file
    # One run writes a warehouse at a time: a second waits this long for the first, then stops
    # with a message naming it. A weekly run takes minutes, so waiting beats failing a schedule.
    lock_timeout_s: float = Field(default=600.0, ge=0, description="0 = do not wait")


class ZendeskConfig(Section):
    """`[sources.zendesk]`: enabled when `subdomain` or `base_url` is set; the credential comes from
    ZENDESK_API_TOKEN (with `email`) or ZENDESK_OAUTH_TOKEN."""

    subdomain: Annotated[str, matching(
        r"[A-Za-z0-9][A-Za-z0-9-]*", "must be the name only (\"acme\" for acme.zendesk.com), got {value}; "
        "use sources.zendesk.base_url for a full address")] = ""   # "acme" for https://acme.zendesk.com
    base_url: HelpdeskUrl = ""       # overrides subdomain: a host-mapped domain, a proxy, a local fake
    email: str = ""                  # the agent the API token belongs to
    start: StartDate = ""            # ISO date of the first sync's start; "" = 90 days before now
    include_internal_notes: bool = False   # store internal notes in `comments` (never read by NLP)
    page_size: int = Field(default=100, ge=1, le=1000)         # tickets per export page: one transaction each
    comments_page_size: int = Field(default=100, ge=1, le=100)  # comments per request (Zendesk's maximum is 100)
    comment_workers: int = Field(default=4, ge=1, le=32)        # tickets whose comments are fetched at once

    @property
    def enabled(self) -> bool:
        return bool(self.subdomain or self.base_url)


class FreshdeskConfig(Section):
    """`[sources.freshdesk]`: enabled when `domain` or `base_url` is set; the key comes from FRESHDESK_API_KEY."""

    domain: Annotated[str, matching(
        r"[A-Za-z0-9][A-Za-z0-9.-]*", "must be \"acme\" or \"acme.freshdesk.com\", got {value}")] = ""
    base_url: HelpdeskUrl = ""       # overrides domain: a custom domain, a proxy, a local fake
    start: StartDate = ""            # ISO date of the first sync's start; "" = 90 days before now
    per_page: int = Field(default=100, ge=1, le=100)   # tickets per list page (Freshdesk's maximum): one transaction each
    account_match: AccountMatch = "company"    # "company": account_id = Freshdesk company id; "domain": email domain
    include_private_notes: bool = False   # store private notes in `comments` (never read by NLP)
    satisfaction: bool = True        # csat from the satisfaction-ratings list (one listing per run)

    @property
    def enabled(self) -> bool:
        return bool(self.domain or self.base_url)

    @property
    def url(self) -> str:
        host = self.domain if "." in self.domain else f"{self.domain}.freshdesk.com"
        return self.base_url or f"https://{host}"


class IntercomConfig(Section):
    """`[sources.intercom]`: on with `enabled = true`; the token comes from INTERCOM_ACCESS_TOKEN."""

    enabled: bool = False
    base_url: HelpdeskUrl = "https://api.intercom.io"   # EU: https://api.eu.intercom.io, AU: https://api.au.intercom.io
    api_version: str = "2.11"        # the Intercom-Version header
    start: StartDate = ""            # ISO date of the first sync's start; "" = 90 days before now
    per_page: int = Field(default=150, ge=1, le=150)   # conversations per search page (at most 150): one transaction each
    account_match: AccountMatch = "company"    # "company": account_id = the company's company_id; "domain": email domain
    include_notes: bool = False      # store internal notes in `comments` (never read by NLP)


class HubSpotConfig(Section):
    """`[sources.hubspot]`: accounts from HubSpot companies, on with `enabled = true`; the token
    (a private app's, scopes crm.objects.companies.read and crm.objects.owners.read) comes from
    HUBSPOT_ACCESS_TOKEN."""

    enabled: bool = False
    base_url: ApiUrl = "https://api.hubapi.com"
    arr_property: str = "annualrevenue"       # company property holding ARR in USD
    renewal_property: str = "renewal_date"    # company property holding the next renewal date
    owner_property: str = "hubspot_owner_id"  # the owner is the account's CSM
    account_id_property: str = ""    # "" = the HubSpot company id is the account_id; else a property
                                     # holding the id the helpdesk uses for the company
    plan_property: str = ""
    segment_property: str = ""
    per_page: int = Field(default=100, ge=1, le=100)   # companies per request (HubSpot's maximum)
    # CSM email -> Slack user id; emails not listed are looked up in Slack when SLACK_BOT_TOKEN is set.
    slack_ids: dict[str, str] = Field(default_factory=dict, examples=['"ana@acme.com" = "U024BE7LH"'])


class SourcesConfig(Section):
    tickets: StrList = []            # CSV / JSONL / Parquet files or globs
    accounts: StrList = []
    max_text_chars: int = Field(default=50_000, gt=0)      # longer tickets are quarantined, not truncated
    # One file row, all fields: longer rows are quarantined.
    max_row_chars: int = Field(default=2_000_000, ge=1000, description="characters")
    # Tickets with no timestamp: set aside, or counted in the week they were ingested.
    undated: Annotated[str, one_of("quarantine", "ingest_week")] = "quarantine"
    zendesk: ZendeskConfig = ZendeskConfig()
    freshdesk: FreshdeskConfig = FreshdeskConfig()
    intercom: IntercomConfig = IntercomConfig()
    hubspot: HubSpotConfig = HubSpotConfig()


class ModelsConfig(Section):
    embedding: str = ""          # "" = the packaged all-MiniLM-L6-v2; else a local path or a model name
    device: str = "cpu"
    batch_size: int = Field(default=32, ge=1)
    # How the embedding model runs (csintel/embed.py): int8 ONNX encodes ~2x faster than torch on a
    # CPU with VNNI at equal tag accuracy (benchmarks/bench_tagging.py); it falls back to fp32 ONNX
    # on other CPUs and to torch without onnxruntime.
    backend: Annotated[str, one_of(*EMBEDDING_BACKENDS)] = "onnx-int8"
    taxonomy: str = str(SHIPPED_MODELS / "taxonomy.yaml")
    competitors_file: str = str(SHIPPED_MODELS / "competitors.yaml")
    model_dir: str = ".csintel/models"   # trained classifier heads
    category_min_confidence: float = Field(default=0.30, ge=0, lt=1)
    root_cause_min_confidence: float = Field(default=0.30, ge=0, lt=1)
    # When at least this share of a week's tagged tickets gets category "uncertain", the run and
    # the Support Ops digest say the taxonomy fits poorly and point to `csintel taxonomy suggest`.
    # A quarter is a judgement, not a fit to data: zero-shot tagging abstains rarely even on foreign
    # tickets (4% of Banking77, docs/categories.md), so a quarter uncertain means whole kinds of
    # tickets are missing from the taxonomy, not a few odd ones.
    category_poor_fit_share: float = Field(default=0.25, gt=0, le=1, examples=[0.25],
                                           description="1 = warn only when every ticket is uncertain")
    # A sentiment head can abstain too (the rules always answer); 0 = never "uncertain".
    sentiment_min_confidence: float = Field(default=0.0, ge=0, lt=1)
    # Cosine at which two feature-request phrases join one group. Short phrases embed far apart
    # ("dark mode" vs "dark theme"); 0.5 kept group purity at 0.985 on a held-out generated sample
    # while merging most rewordings (benchmarks/eval_tags.py).
    request_group_threshold: float = Field(default=0.50, gt=0, lt=1)


class ThemesConfig(Section):
    window_weeks: int = Field(default=12, ge=2, description="trends need a baseline")
    min_cluster_size: ClusterSize = 0    # 0 = scale with the window
    reassign_threshold: float = 0.55
    match_threshold: float = Field(default=0.80, gt=0, le=1)   # centroid similarity that keeps a theme's id across runs
    # Weekly counts are over-dispersed (launches, outages, quarter ends), so a Poisson z of 3 fires
    # on ordinary wobble of small themes; 4 kept the sample's planted spike and dropped its noise.
    spike_z: float = Field(default=4.0, gt=0, examples=[4.0])
    # 0 = max(5, 2% of the window's mean weekly tickets)
    min_trend_tickets: int = Field(default=0, ge=0, description="0 = automatic")
    seed: int = 42
    # Between full reclusterings new tickets are placed on the last fit's theme centroids; refit
    # when more than this share of the window is tickets the fit did not cluster, or the fit is
    # this many weeks old (also on a config/model change, on `cluster --refit`, and when new
    # tickets left unplaced are enough to form a theme of their own).
    refit_share: float = Field(default=0.25, gt=0, le=1, examples=[0.25])
    refit_weeks: int = Field(default=4, ge=1)


class RiskConfig(Section):
    renewal_window_days: int = Field(default=120, gt=0)
    lookback_days: int = Field(default=90, gt=0)
    high_score: float = 60.0
    medium_score: float = 35.0

    @model_validator(mode="after")
    def _bands_in_order(self) -> RiskConfig:
        if self.medium_score >= self.high_score:
            raise ValueError(f"risk.medium_score must be below risk.high_score, got {self.medium_score!r} "
                             f"and {self.high_score!r}")
        return self


class SupportConfig(Section):
    # First-response targets by priority, in minutes: the SLA that compliance is measured against.
    first_response_urgent: float = Field(default=60, gt=0, description="minutes")
    first_response_high: float = Field(default=240, gt=0, description="minutes")
    first_response_normal: float = Field(default=480, gt=0, description="minutes")
    first_response_low: float = Field(default=1440, gt=0, description="minutes")
    # The share of tickets that should meet their target.
    sla_target: float = Field(default=0.95, gt=0, le=1, examples=[0.95])
    # Staffing (Erlang C): agents needed so that `answer_target` of tickets get a first answer
    # within `answer_within_minutes`, given the agents' handle time per ticket.
    handle_minutes: float = Field(default=20, gt=0)
    answer_within_minutes: float = Field(default=60, gt=0)
    answer_target: float = Field(default=0.80, gt=0, lt=1, examples=[0.80])
    forecast_weeks: int = Field(default=4, ge=1, le=26)

    @property
    def first_response_targets(self) -> dict[str, float]:
        return {"urgent": self.first_response_urgent, "high": self.first_response_high,
                "normal": self.first_response_normal, "low": self.first_response_low}


class DigestConfig(Section):
    max_lines: int = Field(default=8, ge=1)
    min_theme_tickets: int = 5
    ticket_url: Annotated[str, matching(
        r".*\{id\}.*", "must contain {{id}}, e.g. https://acme.zendesk.com/agent/tickets/{{id}}; got {value}"
    )] = ""                          # e.g. "https://acme.zendesk.com/agent/tickets/{id}"
    quote_chars: int = 180


class SlackConfig(Section):
    base_url: SlackUrl = "https://slack.com/api/"   # GovSlack, a proxy, or a local fake
    outbox: str = "outbox"                          # where digests go when no SLACK_BOT_TOKEN is set


def _audiences(names: list[str]) -> list[str]:
    for name in names:
        if name not in AUDIENCES:
            raise ValueError(f"unknown audience '{name}' (one of {', '.join(AUDIENCES)})")
    return names


class RoutingConfig(Section):
    product: str = "#product"
    cs: str = "#cs"
    sales: str = "#sales"
    support_ops: str = "#support-ops"
    disabled: Annotated[StrList, AfterValidator(_audiences)] = []   # audiences not to send
    csm_direct: bool = False                             # also DM each at-risk account's CSM


class ScheduleConfig(Section):
    # When `csintel serve` runs the weekly pipeline: Monday 07:00, so digests are in Slack before
    # the week's first stand-ups. Standard five-field cron, read in `timezone` (IANA name).
    weekly_cron: Cron = "0 7 * * 1"
    timezone: TimeZone = "UTC"


class DaskConfig(Section):
    # "" runs everything in this process; "local" starts a LocalCluster of `n_workers` processes;
    # "tcp://host:8786" uses a running scheduler. Only encoding and tagging batches go to Dask.
    address: Annotated[str, matching(
        r"local|(tcp|tls|ucx|inproc)://\S+|[\w.-]+:\d+",
        "must be \"\" (no Dask), \"local\" or a scheduler address like tcp://10.0.0.5:8786; got {value}")] = ""
    n_workers: int = Field(default=2, ge=1)           # "local" only
    threads_per_worker: int = Field(default=1, ge=1)  # "local" only; each thread of a worker tags one batch at a time


class CompetitorEntry(Section):
    name: str
    aliases: StrList = []
    integration_partner: bool = False
    ambiguous: bool | None = None    # None: decided from a word-frequency list (ordinary words are)


class Settings(Section):
    warehouse: WarehouseConfig = WarehouseConfig()
    sources: SourcesConfig = SourcesConfig()
    models: ModelsConfig = ModelsConfig()
    themes: ThemesConfig = ThemesConfig()
    risk: RiskConfig = RiskConfig()
    support: SupportConfig = SupportConfig()
    digest: DigestConfig = DigestConfig()
    slack: SlackConfig = SlackConfig()
    routing: RoutingConfig = RoutingConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    dask: DaskConfig = DaskConfig()
    # An inline competitor list replaces the file's (a config may hold only this).
    competitors: list[CompetitorEntry] = []
    base_dir: str = "."              # set by the loader: the config file's folder

    @model_validator(mode="after")
    def _competitors_once(self) -> Settings:
        names = [c.name for c in self.competitors]
        if len(names) != len(set(names)):
            raise ValueError("competitors: each name must appear once")
        return self

    def resolve(self, path: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        p = Path(path).expanduser()
        return (p if p.is_absolute() else Path(self.base_dir) / p).resolve()

    @property
    def warehouse_path(self) -> Path:
        return self.resolve(self.warehouse.path)

    @property
    def slack_token(self) -> SecretStr | None:
        """The bot token, from SLACK_BOT_TOKEN only (a token in the file is refused)."""
        token = os.environ.get("SLACK_BOT_TOKEN")
        return SecretStr(token) if token else None
