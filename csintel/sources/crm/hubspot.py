"""Accounts from HubSpot companies, with each owner's email and Slack id for the CSM alerts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from csintel.sources import RawRow
from csintel.sources.crm.directory import SlackDirectory
from csintel.sources.crm.mapping import CompanyProperties, account_row
from csintel.sources.crm.settings import BASE_PROPERTIES, COMPANIES, MAX_LIMIT, OWNER
from csintel.sources.http import ApiClient
from csintel.sources.paging import cursor_pages


@dataclass
class HubSpotAccounts:
    """A `RowSource` of account rows: every (unarchived) company, read in full each run.

    Companies are few next to tickets and accounts upsert on account_id, so a full read is cheap
    and also picks up changed renewal dates, ARR and owners without a watermark.
    """

    client: ApiClient
    props: CompanyProperties = field(default_factory=CompanyProperties)
    directory: SlackDirectory | None = None     # owner email -> Slack user id
    per_page: int = MAX_LIMIT
    name: str = "hubspot"
    _owners: dict[str, str | None] = field(default_factory=dict, init=False, repr=False)

    def rows(self) -> Iterator[RawRow]:
        properties = ",".join(dict.fromkeys([*BASE_PROPERTIES, *self.props.names()]))

        def companies(after: str | None) -> dict[str, Any]:
            params: dict[str, Any] = {"limit": self.per_page, "properties": properties, "archived": "false"}
            if after:
                params["after"] = after
            return self.client.get_json(COMPANIES, params)

        n = 0
        for data in cursor_pages(companies, lambda d: ((d.get("paging") or {}).get("next") or {}).get("after")):
            for company in data.get("results") or []:
                n += 1
                yield RawRow(f"hubspot:{COMPANIES}", n, self._row(company))

    def _row(self, company: dict[str, Any]) -> dict[str, Any]:
        owner_id = (company.get("properties") or {}).get(self.props.owner) if self.props.owner else None
        email = self._owner_email(str(owner_id)) if owner_id else None
        slack_id = self.directory.user_id(email) if email and self.directory is not None else None
        return account_row(company, self.props, csm_email=email, csm_slack_id=slack_id)

    def _owner_email(self, owner_id: str) -> str | None:
        if owner_id not in self._owners:
            # An owner deactivated since (404) is no CSM, not a failed sync.
            owner = self.client.get_json_or_none(OWNER.format(id=owner_id))
            self._owners[owner_id] = (owner or {}).get("email") or None
        return self._owners[owner_id]
