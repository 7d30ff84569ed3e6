"""Flow parameters to settings and weeks (flows take plain strings so deployments can set them)."""

from __future__ import annotations

import sys

from csintel.config import Settings, load_settings, with_overrides
from csintel.digests.content import Digest
from csintel.routing.render import to_markdown
from csintel.weeks import Week, last_complete_week, parse_week


def resolve(config: str | None, week: str | None, model: str | None = None) -> tuple[Settings, Week]:
    """Settings and week from flow parameters; `model` overrides `[models] embedding` for this run
    (a deployment can try another embedding model without editing the config file)."""
    return settings_for(config, model), parse_week(week) if week else last_complete_week()


def settings_for(config: str | None, model: str | None = None) -> Settings:
    settings = load_settings(config)
    return with_overrides(settings, {"models": {"embedding": model}}, source="the model parameter") if model else settings


def previews(digests: list[Digest]) -> dict[str, str]:
    """What a dry run shows instead of sending: each digest as Markdown."""
    return {d.audience: to_markdown(d) for d in digests}


def say(progress: bool, message: str) -> None:
    """A stage line on stderr when the caller asked for progress (the CLI does), so a step of
    minutes (clustering a 12-week window) never looks hung."""
    if progress:
        print(f"csintel: {message}", file=sys.stderr, flush=True)
