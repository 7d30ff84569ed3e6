"""The tags version: which inputs made a ticket's tags, read from files and settings alone.

Every tag row carries it (`ticket_tags.model_version`), so enrich retags exactly the tickets whose
tags a change made stale, and digests, trends and risk read the current tags only. It is derived
from the content of everything that decides a tag, so nobody has to remember to bump a constant:

- every file under the shipped `models/rules/` (and a configured rules folder, when there is one);
- the heads the tagger may use, per task: the model folder's, else the shipped `models/heads/` one
  (every head shipped there counts, the feature-request detector's too);
- the taxonomy and the competitor list (file content, or the inline list);
- the confidence and grouping thresholds;
- the embedding model's name and the backend it will run on;
- csintel's own version, so an upgrade that changes rule code retags.

It costs file reads and hashes only: no embedding model, spaCy or heads are loaded, so `digest`
and `report` learn which tags are current in milliseconds.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Iterable

from csintel import __version__
from csintel.config import Settings
from csintel.embed import model_name, planned_backend
from csintel.resources import shipped

HEAD_TASKS = ("category", "root_cause", "sentiment")


def tags_versions(settings: Settings) -> dict[str, str]:
    """Each input of the tags version, as a short readable or hashed string."""
    models = settings.models
    return {
        "package": __version__,
        "embedding": f"{model_name(models.embedding)}/{planned_backend(models)}",
        "taxonomy": _file_digest(settings.resolve(models.taxonomy)),
        "competitors": _competitors_digest(settings),
        "rules": _folder_digest(*_rules_folders(settings)),
        "thresholds": f"{models.category_min_confidence}/{models.root_cause_min_confidence}/"
                      f"{models.request_group_threshold}/{models.sentiment_min_confidence}",
        "heads": _heads_digest(settings),
    }


def tags_version(settings: Settings) -> str:
    """The version stamped on every tag made under these settings: `tags-<8 hex>`."""
    blob = json.dumps(tags_versions(settings), sort_keys=True)
    return "tags-" + hashlib.sha1(blob.encode()).hexdigest()[:8]


def _rules_folders(settings: Settings) -> list[Path]:
    folders = [shipped("models") / "rules"]
    # A user's own rules folder, if the configuration names one (`[models] rules_dir`).
    own = getattr(settings.models, "rules_dir", "")
    if own:
        folders.append(settings.resolve(own))
    return folders


def _heads_digest(settings: Settings) -> str:
    """The heads the tagger may pick, by content: the model folder's head for a task, else the
    shipped one. Whether a shipped head fits the embedding model is decided when the tagger loads;
    the embedding model is part of the version anyway, so hashing the candidate suffices."""
    own = settings.resolve(settings.models.model_dir)
    shipped_heads = shipped("models") / "heads"
    tasks = sorted(set(HEAD_TASKS) | {p.stem for p in shipped_heads.glob("*.json")})
    parts = []
    for task in tasks:
        folder = own if (own / f"{task}.json").is_file() else shipped_heads
        files = [folder / f"{task}.json", folder / f"{task}.npz"]
        parts.append(f"{task}:{_digest_files(f for f in files if f.is_file()) or 'none'}")
    return hashlib.sha1(",".join(parts).encode()).hexdigest()[:12]


def _competitors_digest(settings: Settings) -> str:
    if settings.competitors:
        blob = json.dumps([vars(c) for c in settings.competitors], sort_keys=True)
        return "inline-" + hashlib.sha1(blob.encode()).hexdigest()[:12]
    return _file_digest(settings.resolve(settings.models.competitors_file))


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha1(Path(path).read_bytes()).hexdigest()[:12]
    except OSError:
        return "missing"   # the tagger itself reports the missing file when it loads


def _folder_digest(*folders: Path) -> str:
    """Every file under the folders, by relative path and content (none: "none")."""
    h = hashlib.sha1()
    seen = False
    for folder in folders:
        if not folder.is_dir():
            continue
        for f in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            h.update(str(f.relative_to(folder)).encode() + b"\0" + f.read_bytes() + b"\0")
            seen = True
    return h.hexdigest()[:12] if seen else "none"


def _digest_files(files: Iterable[Path]) -> str:
    h = hashlib.sha1()
    seen = False
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes())
        seen = True
    return h.hexdigest()[:12] if seen else ""
