"""One typed settings object, read from `csintel.toml` (or YAML) plus environment variables.

Every key has a default, so a file holds only what differs. Secrets come from the environment
only (`SLACK_BOT_TOKEN`, `ZENDESK_API_TOKEN`, ...): a secret written in the file is an error,
so it never ends up in version control or in a log.

The sections are pydantic models (`models.py`) with each bound beside its key; their field types
(`fields.py`) carry the checks written once; `errors.py` turns pydantic's errors into messages
that name the file, the key and the fix. Loaded settings are frozen: `with_overrides` builds a
new, validated object instead of changing one in place.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from csintel.config.errors import SECRET_KEYS, ConfigError, config_error
from csintel.config.models import (
    AUDIENCES,
    EMBEDDING_BACKENDS,
    SHIPPED_MODELS,
    CompetitorEntry,
    DaskConfig,
    DigestConfig,
    FreshdeskConfig,
    HubSpotConfig,
    IntercomConfig,
    ModelsConfig,
    RiskConfig,
    RoutingConfig,
    ScheduleConfig,
    Settings,
    SlackConfig,
    SourcesConfig,
    SupportConfig,
    ThemesConfig,
    WarehouseConfig,
    ZendeskConfig,
)
from csintel.config.starter import STARTER_CONFIG
from csintel.resources import checkout_root, shipped

REPO_ROOT = checkout_root()          # benchmarks and tests only: an installed csintel has no repository
SAMPLE_DIR = shipped("sample")       # data/sample in a checkout, csintel/_data/sample when installed

__all__ = [
    "AUDIENCES", "EMBEDDING_BACKENDS", "REPO_ROOT", "SAMPLE_DIR", "SECRET_KEYS", "SHIPPED_MODELS", "STARTER_CONFIG",
    "CompetitorEntry", "ConfigError", "DaskConfig", "DigestConfig", "FreshdeskConfig", "HubSpotConfig",
    "IntercomConfig", "ModelsConfig", "RiskConfig", "RoutingConfig", "ScheduleConfig", "Settings", "SlackConfig",
    "SourcesConfig", "SupportConfig", "ThemesConfig", "WarehouseConfig", "ZendeskConfig",
    "load_settings", "settings_from_dict", "with_overrides",
]


def load_settings(path: str | Path | None = None) -> Settings:
    """Read settings from a TOML or YAML file (or defaults when `path` is None).

    Raises:
        ConfigError: missing file, unreadable syntax, unknown key, wrong type or bad value.
    """
    if path is None:
        return _validate({}, base_dir=Path.cwd(), source="settings")
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
    return _validate(data, base_dir=p.resolve().parent, source=p.name)


def settings_from_dict(data: dict[str, Any], base_dir: str | Path = ".") -> Settings:
    """Build settings from a plain dict (tests, notebooks); same checks as a file."""
    return _validate(data, base_dir=base_dir, source="settings")


def with_overrides(settings: Settings, overrides: dict[str, Any], source: str = "override") -> Settings:
    """New settings: `settings` with `overrides` (nested tables, e.g. {"models": {"embedding": "x"}})
    merged in, checked like a file. `settings` itself is unchanged.

    Raises:
        ConfigError: an override names an unknown key or breaks a bound.
    """
    data = _merge(settings.model_dump(exclude={"base_dir"}), overrides)
    return _validate(data, base_dir=settings.base_dir, source=source)


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        old = merged.get(key)
        merged[key] = _merge(old, value) if isinstance(old, dict) and isinstance(value, dict) else value
    return merged


def _validate(data: dict[str, Any], *, base_dir: str | Path, source: str) -> Settings:
    # base_dir is where the file is, never what it says.
    data = {k: v for k, v in data.items() if k != "base_dir"} | {"base_dir": str(base_dir)}
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise config_error(exc, Settings, source) from exc
