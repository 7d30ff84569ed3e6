"""Field types that carry their own check, each written once and shared by the sections.

A check raises ValueError with the rest of a sentence that starts with the key ("must be ...",
or a clause after a colon); `csintel.config.errors` puts the file and the key in front.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict


class Section(BaseModel):
    """A config table: unknown keys are errors, values keep their TOML type (no "12" for 12;
    an int is fine where a float is expected), and a loaded section is never changed in place
    (build a new one: `csintel.config.with_overrides`)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def http_address(*, optional: bool = False, trailing_slash: bool = False) -> AfterValidator:
    """The base address of an external API: http(s), so a local fake or a proxy can stand in.

    Args:
        optional: "" is allowed (the source is off, or builds its address from another key).
        trailing_slash: the client joins method names onto it (slack_sdk does), so it ends in '/'.
    """
    def check(value: str) -> str:
        if optional and not value:
            return value
        if not value.startswith(("http://", "https://")) or (trailing_slash and not value.endswith("/")):
            if trailing_slash:
                raise ValueError(f"must be an http(s) address ending in '/', e.g. https://slack.com/api/; "
                                 f"got {value!r}")
            raise ValueError(f"must be an http(s) address, got {value!r}")
        return value
    return AfterValidator(check)


def one_of(*choices: str, explain: str = "") -> AfterValidator:
    """A value from a fixed set; `explain` says what each choice means."""
    def check(value: str) -> str:
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}{explain}, got {value!r}")
        return value
    return AfterValidator(check)


def matching(pattern: str, message: str) -> AfterValidator:
    """A non-empty value must match `pattern` whole; `message` (with `{value}`) says what is expected."""
    def check(value: str) -> str:
        if value and not re.fullmatch(pattern, value):
            raise ValueError(message.format(value=repr(value)))
        return value
    return AfterValidator(check)


def _iso_date(value: str) -> str:
    if value:
        try:
            date.fromisoformat(value[:10])
        except ValueError:
            raise ValueError(f"must be an ISO date (2026-01-31), got {value!r}") from None
    return value


def _time_zone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (an IANA name, e.g. Europe/Berlin)") from None
    return value


def _cron(value: str) -> str:
    if len(value.split()) != 5:
        raise ValueError(f"must have five fields (minute hour day month weekday), e.g. \"0 7 * * 1\"; got {value!r}")
    return value


def _zero_or_at_least_2(value: int) -> int:
    if value != 0 and value < 2:
        raise ValueError(f"must be 0 (automatic) or at least 2, got {value!r}")
    return value


def _one_as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value   # one path is fine where a list is expected


HelpdeskUrl = Annotated[str, http_address(optional=True)]   # "" = built from the subdomain/domain
ApiUrl = Annotated[str, http_address()]
SlackUrl = Annotated[str, http_address(trailing_slash=True)]
StartDate = Annotated[str, AfterValidator(_iso_date)]       # "" = 90 days before the first sync
AccountMatch = Annotated[str, one_of(
    "company", "domain", explain=" (\"company\": the helpdesk's company id is the account_id; "
                                 "\"domain\": join by the requester's email domain)")]
TimeZone = Annotated[str, AfterValidator(_time_zone)]
Cron = Annotated[str, AfterValidator(_cron)]
ClusterSize = Annotated[int, AfterValidator(_zero_or_at_least_2)]
StrList = Annotated[list[str], BeforeValidator(_one_as_list)]
