"""The commands that read a ticket file without a warehouse: `tag`, `themes` and `taxonomy
suggest`; they load the tagger without the pipeline's imports."""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import contextmanager
from typing import Any, Iterator, TextIO

from csintel.cli.common import _check_file, _check_output, _check_ticket_file, _note, _settings
from csintel.config import Settings


@contextmanager
def _open_output(name: str) -> Iterator[TextIO]:
    """The output file, or stdout for '-' (left open)."""
    if name == "-":
        yield sys.stdout
        return
    with open(name, "w", encoding="utf-8") as fh:
        yield fh


def _spacy_without_torch(settings: Settings) -> None:
    """Import spaCy without letting thinc import torch, when the embedding model runs on ONNX.

    thinc (spaCy's layer library) imports torch if it can, only to offer torch layers, which a
    blank pipeline with rules never uses; that import is ~1.2 s of the ~4.5 s of CPU a cold
    `csintel tag` takes, and with an ONNX backend nothing else needs torch. Tags are byte-identical
    either way (checked on the sample). With the torch backend, or once torch or spaCy is loaded,
    this does nothing.
    """
    from csintel.embed import planned_backend

    if "spacy" in sys.modules or "torch" in sys.modules or planned_backend(settings.models) == "torch":
        return
    sys.modules["torch"] = None  # type: ignore[assignment]  # makes `import torch` fail inside thinc
    try:
        import spacy  # noqa: F401
    finally:
        del sys.modules["torch"]


def _adhoc_enricher(settings: Settings) -> Any:
    """The tagger for `tag` and `themes`, without the pipeline's imports (digests, Prefect)."""
    _note("loading the embedding model and the taggers")
    from csintel.classify.enricher import Enricher
    from csintel.embed import configured_embedder

    return Enricher(settings, configured_embedder(settings))


class _Progress:
    """Counts on stderr at most every few seconds, so a long file never looks hung."""

    EVERY_S = 5.0

    def __init__(self, what: str) -> None:
        self.what, self.start, self.last = what, time.monotonic(), time.monotonic()

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if now - self.last >= self.EVERY_S:
            self.last = now
            _note(f"{self.what}: {done:,} rows ({now - self.start:.0f} s)")


def _file_command(args: argparse.Namespace) -> Settings:
    """What `tag` and `themes` check before anything loads: the config, the input and the output."""
    settings, _ = _settings(args)
    _check_ticket_file(args.input)
    _check_output(args.output)
    _spacy_without_torch(settings)
    return settings


def cmd_tag(args: argparse.Namespace) -> int:
    settings = _file_command(args)
    from csintel.file_tagging import tag_file

    enricher = _adhoc_enricher(settings)
    with _open_output(args.output) as out:
        tagged, rejected = tag_file(args.input, out, enricher, settings.sources.max_text_chars,
                                    progress=_Progress("tagged"))
    print(f"tagged {tagged} tickets, {rejected} rows rejected (their lines carry an \"error\")", file=sys.stderr)
    return 0


def cmd_themes(args: argparse.Namespace) -> int:
    settings = _file_command(args)
    from csintel.file_tagging import theme_file
    from csintel.themes.policy import cluster_params

    enricher = _adhoc_enricher(settings)
    with _open_output(args.output) as out:
        stats = theme_file(args.input, out, enricher, cluster_params(settings.themes),
                           settings.sources.max_text_chars, progress=_Progress("encoded"), note=_note)
    print(f"{stats['tickets']} tickets in {stats['themes']} themes, {stats['unclustered_share']:.0%} unclustered, "
          f"{stats['rejected']} rows rejected", file=sys.stderr)
    return 0


def cmd_taxonomy(args: argparse.Namespace) -> int:
    _check_file(args.input, "--input")   # before the model loads
    from csintel.file_tagging import read_tickets
    from csintel.classify.suggest import suggest_taxonomy, write_draft
    from csintel.classify.taxonomy import load_taxonomy
    from csintel.pipeline import make_enricher
    from csintel.themes.policy import cluster_params

    settings, _ = _settings(args)
    texts = [t.text for t in read_tickets(args.input, settings.sources.max_text_chars) if t.text]
    if len(texts) < 50:
        print(f"{args.input}: {len(texts)} readable tickets; a draft needs at least 50", file=sys.stderr)
        return 2
    current = load_taxonomy(settings.resolve(settings.models.taxonomy))
    draft, stats = suggest_taxonomy(texts, make_enricher(settings), current, cluster_params(settings.themes))
    write_draft(draft, stats, str(args.input), args.output)
    print(f"{args.output}: {stats['categories']} draft categories from {stats['tickets']} tickets "
          f"({stats['unclustered_share']:.0%} in no theme); with the current taxonomy "
          f"{stats['uncertain_share']:.0%} got no category. Edit it, then set [models] taxonomy to it.")
    return 0
