"""Accounts from HubSpot companies, with each owner's email and Slack id for the CSM alerts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from csintel.sources import RawRow
from csintel.sources.crm.directory import SlackDirectory
from csintel.sources.crm.mapping import CompanyProperties, account_row
from csintel.sources.crm.settings import BASE_PROPERTIES, COMPANIES, MAX_LIMIT, OWNER
from csintel.sources.http import ApiClient, ApiError


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
        after: str | None = None
        n = 0
        while True:
            params: dict[str, Any] = {"limit": self.per_page, "properties": properties, "archived": "false"}
            if after:
                params["after"] = after
            data = self.client.get_json(COMPANIES, params)
            for company in data.get("results") or []:
                n += 1
                yield RawRow(f"hubspot:{COMPANIES}", n, self._row(company))
            after = ((data.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return

    def _row(self, company: dict[str, Any]) -> dict[str, Any]:
        owner_id = (company.get("properties") or {}).get(self.props.owner) if self.props.owner else None
        email = self._owner_email(str(owner_id)) if owner_id else None
        slack_id = self.directory.user_id(email) if email and self.directory is not None else None
        return account_row(company, self.props, csm_email=email, csm_slack_id=slack_id)

    def _owner_email(self, owner_id: str) -> str | None:
        if owner_id not in self._owners:
            try:
                self._owners[owner_id] = self.client.get_json(OWNER.format(id=owner_id)).get("email") or None
            except ApiError as exc:
                if exc.status != 404:       # an owner deactivated since: no CSM, not a failed sync
                    raise
                self._owners[owner_id] = None
        return self._owners[owner_id]
