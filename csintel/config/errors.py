"""Pydantic's validation errors as the project's messages: the file, the TOML key, the nearest
right key for a typo, the bound and what it means."""

from __future__ import annotations

import difflib
import json
import re
import typing
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

# Keys that look like secrets: refused in the file, read from these variables instead.
SECRET_KEYS = {
    "token": "SLACK_BOT_TOKEN",
    "slack_token": "SLACK_BOT_TOKEN",
    "bot_token": "SLACK_BOT_TOKEN",
    "api_token": "ZENDESK_API_TOKEN",
    "api_key": "the helpdesk's *_API_KEY variable",
    "password": "an environment variable",
}

# What a value of the wrong type should have been, by pydantic's error type.
EXPECTED_TYPES = {"int_type": "int", "float_type": "float", "string_type": "str", "bool_type": "bool",
                  "list_type": "a list", "dict_type": "a table"}

BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


class ConfigError(ValueError):
    """A configuration problem, with a message that names the key and the fix."""


def config_error(exc: ValidationError, root: type[BaseModel], source: str) -> ConfigError:
    """One ConfigError for all of `exc`'s problems, a line each, in the order pydantic found them."""
    problems = [f"{source}: {_describe(error, root)}" for error in exc.errors()]
    return ConfigError("\n".join(problems))


def _describe(error: Any, root: type[BaseModel]) -> str:
    loc = tuple(error["loc"])
    key = key_path(loc)
    kind = error["type"]
    owner, info = _field_at(root, loc)
    if kind == "extra_forbidden":
        return _unknown_key(loc, owner)
    if kind == "missing":
        return f"'{key}' is required"
    if kind == "model_type":
        return f"[{key}] must be a table, got {error['input']!r}"
    if kind in EXPECTED_TYPES:
        value = error["input"]
        # TOML reads an unquoted 2026-01-31 as a date; the keys hold the text.
        quote = f" (quote it: \"{value.isoformat()}\")" if isinstance(value, (date, datetime)) else ""
        return f"'{key}' must be {EXPECTED_TYPES[kind]}{quote or _hint(info, describe=False)}, got {value!r}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal") and info is not None:
        return f"{key} must be {_bounds(info)}{_hint(info)}, got {error['input']!r}"
    if kind == "value_error":
        message = str(error["ctx"]["error"])
        if message.startswith(key):      # a check across keys names them itself
            return message
        return f"{key}{' ' if message.startswith('must') else ': '}{message}"
    return f"{key}: {error['msg']}"


def key_path(loc: tuple[int | str, ...]) -> str:
    """The TOML spelling of a location: `sources.zendesk.page_size`, `competitors[0].name`,
    `sources.hubspot.slack_ids."ana@acme.com"`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + (part if BARE_KEY.fullmatch(part) else json.dumps(part))
    return out


def _unknown_key(loc: tuple[int | str, ...], owner: type[BaseModel] | None) -> str:
    key = str(loc[-1])
    full = key_path(loc)
    if key.lower() in SECRET_KEYS:
        return (f"'{full}' looks like a secret; secrets never go in the config file. "
                f"Set {SECRET_KEYS[key.lower()]} in the environment instead.")
    known = sorted(owner.model_fields) if owner is not None else []
    prefix = full[: len(full) - len(key_path(loc[-1:]))]
    hint = difflib.get_close_matches(key, known, n=1)
    fix = f" Did you mean '{prefix}{hint[0]}'?" if hint else f" Known keys: {', '.join(known)}."
    return f"unknown key '{full}'.{fix}"


def _field_at(root: type[BaseModel], loc: tuple[int | str, ...]) -> tuple[type[BaseModel] | None, FieldInfo | None]:
    """The section that holds the key at `loc`, and the field of the key (of the nearest named
    key for an item of a list or table); None when the key is unknown."""
    tp: Any = root
    owner: type[BaseModel] | None = None
    info: FieldInfo | None = None
    for part in loc:
        if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
            owner, info = tp, tp.model_fields.get(part)
            if info is None:
                return owner, None
            tp = info.annotation
        else:                            # a list index or a table's own key: the item's type
            args = typing.get_args(tp)
            tp = args[-1] if args else Any
    return owner, info


def _bounds(info: FieldInfo) -> str:
    """`from 1 to 100`, `in (0, 1]`, `at least 2`, `positive`, `0 or more`, from the field's bounds."""
    limits = {name: getattr(m, name) for m in info.metadata for name in ("ge", "gt", "le", "lt") if hasattr(m, name)}
    low = limits.get("ge", limits.get("gt"))
    high = limits.get("le", limits.get("lt"))
    if low is not None and high is not None:
        if info.annotation is int and "ge" in limits and "le" in limits:
            return f"from {low} to {high}"
        return f"in {'[' if 'ge' in limits else '('}{low}, {high}{']' if 'le' in limits else ')'}"
    if low is not None:
        if "gt" in limits:
            return "positive" if low == 0 else f"more than {low}"
        return "0 or more" if low == 0 else f"at least {low}"
    return f"{'at most' if 'le' in limits else 'below'} {high}"


def _hint(info: FieldInfo | None, describe: bool = True) -> str:
    """What the field's description (what its bound means) and first example add:
    ` (0 = automatic)`, ` (e.g. 0.25)`."""
    if info is None:
        return ""
    parts = ([info.description] if info.description and describe else []) + ([f"e.g. {info.examples[0]}"] if info.examples else [])
    return f" ({'; '.join(parts)})" if parts else ""
