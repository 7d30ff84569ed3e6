"""Who receives what: audiences to channels, per-audience on/off, and CSMs addressed directly."""

from __future__ import annotations

from dataclasses import replace

from csintel.config import Settings
from csintel.digests.content import Digest, Section


def routes(settings: Settings, digest: Digest) -> list[tuple[str, Digest]]:
    """The (channel, digest) pairs to send for one audience's digest."""
    if digest.audience in settings.routing.disabled:
        return []
    out = [(getattr(settings.routing, digest.audience), digest)]
    if digest.audience == "cs" and settings.routing.csm_direct:
        out.extend(_per_csm(digest))
    return out


def _per_csm(digest: Digest) -> list[tuple[str, Digest]]:
    """One direct message per CSM holding only that CSM's accounts (a user id is a valid channel)."""
    by_csm: dict[str, list] = {}
    for section in digest.sections:
        for line in section.lines:
            if line.mention:
                by_csm.setdefault(line.mention, []).append(line)
    return [
        (csm, replace(digest, title=f"{digest.title} · your accounts",
                      summary=f"{len(lines)} of your accounts show renewal risk.",
                      sections=(Section("Your accounts at risk", tuple(lines)),)))
        for csm, lines in sorted(by_csm.items())
    ]
