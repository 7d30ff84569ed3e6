"""Zendesk endpoints, side-loads and value maps, as data (paths are relative to the base address)."""

from __future__ import annotations

# The cursor-based incremental ticket export: `start_time` for the first page, then `cursor`.
# Side-loads: metric_sets (reply and resolution minutes, solved_at), users (requester emails,
# submitter roles), organizations (external ids for the account key).
EXPORT_PATH = "api/v2/incremental/tickets/cursor.json"
EXPORT_INCLUDE = "metric_sets,users,organizations"
# A ticket's conversation, cursor-paged (`page[size]` at most 100), authors side-loaded for roles.
COMMENTS_PATH = "api/v2/tickets/{ticket_id}/comments.json"
COMMENTS_INCLUDE = "users"
# Look-ups for what a page's side-loads did not carry; at most 100 ids a request.
USERS_PATH = "api/v2/users/show_many.json"
ORGANIZATIONS_PATH = "api/v2/organizations/show_many.json"
SHOW_MANY_IDS = 100
# Custom-field labels, fetched once per sync.
TICKET_FIELDS_PATH = "api/v2/ticket_fields.json"
TICKET_FIELDS_PAGE = 100

ORIGIN = "zendesk"                       # the quarantine's origin; row_number is the ticket id
KEPT_STATUSES = frozenset({"solved", "closed"})
# The export refuses a start_time less than a minute old.
MIN_START_AGE_S = 60
# Legacy CSAT is two-valued; on the contract's 1-5 scale "good" is the top and "bad" the bottom.
# offered / unoffered / received without a score carry no rating.
CSAT_SCORES = {"good": 5, "bad": 1}
CUSTOMER_USER_ROLES = frozenset({"end-user"})
