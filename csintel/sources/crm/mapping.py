"""HubSpot companies to raw account rows in the accounts-file contract's shape (pure functions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any


@dataclass(frozen=True)
class CompanyProperties:
    """Which HubSpot company properties hold what csintel needs ("" = not read)."""

    arr: str = "annualrevenue"
    renewal_date: str = "renewal_date"
    owner: str = "hubspot_owner_id"
    account_id: str = ""          # "" = the HubSpot record id is the account_id
    plan: str = ""
    segment: str = ""

    def names(self) -> list[str]:
        return [p for p in (self.arr, self.renewal_date, self.owner, self.account_id, self.plan, self.segment) if p]


def account_row(company: dict[str, Any], props: CompanyProperties, *, csm_email: str | None = None,
                csm_slack_id: str | None = None) -> dict[str, Any]:
    """One company (`results[]` of the companies list) as an account row.

    The account_id is the value of `props.account_id` when set and filled in (an id the helpdesk
    also knows), else the HubSpot record id, which is kept as `hubspot_id` either way.
    """
    values = company.get("properties") or {}

    def prop(name: str) -> Any:
        value = values.get(name) if name else None
        return None if value == "" else value

    hubspot_id = str(company["id"])
    return {
        "account_id": str(prop(props.account_id) or hubspot_id),
        "name": prop("name"),
        "domain": prop("domain"),
        "arr_usd": prop(props.arr),
        "renewal_date": renewal_date(prop(props.renewal_date)),
        "plan": prop(props.plan),
        "segment": prop(props.segment),
        "csm_email": csm_email,
        "csm_slack_id": csm_slack_id,
        "hubspot_id": hubspot_id,
        "hubspot_owner_id": prop(props.owner),
    }


def renewal_date(value: Any) -> str | None:
    """A HubSpot date property: ISO date or datetime, or epoch milliseconds (older portals)."""
    if value is None:
        return None
    text = str(value).strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, timezone.utc).date().isoformat()
    return text
