"""The commented config `csintel init` writes: every section, the keys a user is likely to change."""

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
