"""The trained competitor-context head as the Enricher and `csintel eval` use it (issue 14)."""

import json

import numpy as np
import pytest

from csintel.classify.competitor_context import (
    ContextHead, around_name, classify_contexts, context_features, fit_context_head, load_context_head,
    denied_move, save_context_head, shipped_context_head, word_flags,
)
from csintel.classify.competitor_cues import CUE_FEATURES
from csintel.classify.competitors import CONTEXTS, MASK, CompetitorMatcher, CompetitorSpec, Mention
from csintel.classify.eval_extraction import strongest

SPECS = [
    CompetitorSpec("HubSpot", ("hubspot.com",), integration_partner=True),
    CompetitorSpec("Salesforce", ("SFDC",), integration_partner=True),
    CompetitorSpec("Zoho CRM", ("Zoho",)),
    CompetitorSpec("Pipedrive"),
    CompetitorSpec("Attio"),
]
PARTNERS = {s.name: s.integration_partner for s in SPECS}


@pytest.fixture(scope="module")
def head(embedder):
    found = shipped_context_head(embedder)
    assert found is not None, "the shipped head must fit the packaged embedding model"
    return found


def contexts(head, embedder, text):
    found = classify_contexts([CompetitorMatcher(SPECS).find(text)], head, embedder, PARTNERS)[0]
    return strongest(found), {m.name: m.competitive for m in found}


@pytest.mark.parametrize("text, name, context", [
    ("Honestly, HubSpot is looking pretty attractive right now.", "HubSpot", "evaluating"),
    ("Some of our team are test-driving SFDC this month.", "Salesforce", "evaluating"),
    ("In Salesforce this is a single checkbox.", "Salesforce", "comparison"),
])
def test_competitive_remarks_about_partners_are_competitive(head, embedder, text, name, context):
    labels, competitive = contexts(head, embedder, text)
    assert labels[name] == context and competitive[name]


@pytest.mark.parametrize("text, name, context", [
    # Issue 14's failure kinds in words of no data file; the rules say "integration" or "other" to
    # all of them, and the head before round 5 (faca7741) said "integration" to the first two.
    ("Our reps would be done in half the time with Salesforce's bulk edit.", "Salesforce", "comparison"),
    ("Setting up a round-robin takes one screen in HubSpot and three tickets with you.", "HubSpot", "comparison"),
    ("I keep hearing that HubSpot would fix all of this for us.", "HubSpot", "evaluating"),
    ("Importing the Zoho leads from our previous setup keeps skipping the owner field.", "Zoho CRM", "past_user"),
    ("Our leftover Attio records need to come across before the workspace closes.", "Attio", "past_user"),
])
def test_issue_14_failures_in_new_words(head, embedder, text, name, context):
    labels, competitive = contexts(head, embedder, text)
    assert labels[name] == context and competitive[name]


def test_a_migration_is_never_integration_for_a_vendor_we_do_not_integrate_with(head, embedder):
    labels, competitive = contexts(head, embedder, "I'm importing our old Zoho CRM data and the fields are missing.")
    assert labels["Zoho CRM"] == "past_user" and competitive["Zoho CRM"]


def test_the_partner_sync_stays_integration(head, embedder):
    labels, competitive = contexts(head, embedder, "The HubSpot sync duplicated every contact overnight.")
    assert labels == {"HubSpot": "integration"} and competitive == {"HubSpot": False}


@pytest.mark.parametrize("text, name, context", [
    ("We've signed with HubSpot and our seats here end on the 31st.", "HubSpot", "switching"),
    ("We have a call with Attio's sales team on Thursday.", "Attio", "evaluating"),
    ("Attio quoted us 30% less for the same number of seats.", "Attio", "pricing"),
    ("We spent four years on Pipedrive before coming here.", "Pipedrive", "past_user"),
    ("In Attio, merging duplicates is one click.", "Attio", "comparison"),
    ("Deals created in HubSpot since Tuesday aren't showing up here.", "HubSpot", "integration"),
])
def test_rows_of_the_training_file_get_their_context(head, embedder, text, name, context):
    # Rows of data/train/competitor_context.csv, one per context: the head must fit what it learnt from.
    assert contexts(head, embedder, text)[0][name] == context


def _mention(masked, rule="other"):
    return Mention("X", rule, True, masked.replace(MASK, "X"), masked)


def test_integration_is_masked_for_non_partners():
    # A head that would say "integration" for everything: non-partners get their next best context.
    labels = ("integration", "pricing")
    coef = np.zeros((2, 4 + CUE_FEATURES + len(CONTEXTS)), dtype=np.float32)
    coef[0, 0], coef[1, 0] = 2.0, 1.0
    toy = ContextHead(labels, coef, np.zeros(2, dtype=np.float32), "toy", 4, 0, 0.0, 0.0)
    ms = [_mention(f"We use {MASK}.")] * 2
    assert toy.predict(np.ones((2, 4)), ms, [True, False]) == ["integration", "pricing"]


def test_features_are_vectors_cues_and_rules():
    ms = [_mention(f"We're moving to {MASK} next month.", "switching"), _mention(f"{MASK} is cheaper.", "pricing")]
    features = context_features(np.zeros((2, 3)), ms, [False, True], 0.5, 0.25)
    assert features.shape == (2, 3 + CUE_FEATURES + len(CONTEXTS))
    assert features[0, 3 + CUE_FEATURES + CONTEXTS.index("switching")] == 0.25
    cues = features[:, 3:3 + CUE_FEATURES]
    assert set(np.unique(cues)) <= {0.0, 0.5} and cues[0].sum() > 0 and cues[1].sum() > 0
    assert around_name(f"one two three four {MASK} five six seven", 2) == f"three four {MASK} five six"


def test_save_and_load_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(12, 10))
    gold = ["pricing", "comparison", "switching"] * 4
    ms = [_mention(f"{MASK} {w}") for w in ("costs less", "has a timeline", "wins") * 4]
    fitted = fit_context_head(vectors, ms, [False] * 12, gold, "toy-model", c=1.0, window=4, cue_scale=1.0,
                              rule_scale=0.5)
    assert fitted.dim == 5
    save_context_head(fitted, tmp_path / "competitor_context.json")
    loaded = load_context_head(tmp_path / "competitor_context.json")
    assert loaded.version == fitted.version and loaded.labels == fitted.labels and loaded.window == 4
    assert loaded.predict(vectors, ms, [False] * 12) == fitted.predict(vectors, ms, [False] * 12)
    with pytest.raises(ValueError, match="unknown competitor context"):
        fit_context_head(vectors, ms, [False] * 12, ["nonsense"] * 12, "toy", 1.0, 0, 0.0, 0.0)
    rare = ["pricing"] * 10 + ["comparison"] * 2
    weighted = fit_context_head(vectors, ms, [False] * 12, rare, "toy", 1.0, 0, 0.0, 0.0, balanced=True)
    plain = fit_context_head(vectors, ms, [False] * 12, rare, "toy", 1.0, 0, 0.0, 0.0)
    # Balanced weights raise the rare context's share of the predictions.
    assert (np.array(weighted.predict(vectors, ms, [False] * 12)) == "comparison").sum() >= \
        (np.array(plain.predict(vectors, ms, [False] * 12)) == "comparison").sum()
    assert weighted.intercept[weighted.labels.index("comparison")] > plain.intercept[plain.labels.index("comparison")]
    (tmp_path / "broken.json").write_text('{"format": 2}')
    np.savez(tmp_path / "broken.npz", coef=np.zeros((1, 1)), intercept=np.zeros(1))
    with pytest.raises(ValueError, match="cannot read"):
        load_context_head(tmp_path / "broken.json")


def test_without_a_head_the_rules_decide(embedder):
    found = [CompetitorMatcher(SPECS).find("We're moving to Pipedrive next quarter.")]
    assert classify_contexts(found, None, embedder, PARTNERS) == found


def test_word_flags_mark_the_side_of_the_name_and_are_stable():
    went = word_flags("We went with", " last week.", 4, 4096)
    after = word_flags("Last week", " went with us.", 4, 4096)
    assert went.shape == (4096,) and set(np.unique(went)) == {0.0, 1.0}
    # The same words on the other side of the name are other flags ("b:with" is not "a:with").
    assert not np.array_equal(went, after)
    assert np.array_equal(went, word_flags("We went with", " last week.", 4, 4096))   # CRC-32, not hash()
    # Only the window's words are side-marked; a far word is a sentence flag only.
    far = word_flags("Honestly, after all this time we went with", ".", 2, 4096)
    near = word_flags("we went with", ".", 2, 4096)
    assert far.sum() > near.sum()


def test_a_head_with_word_flags_round_trips_and_an_older_head_still_loads(tmp_path):
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(12, 6))
    gold = ["pricing", "comparison", "switching"] * 4
    ms = [_mention(f"{w} {MASK}") for w in ("cheaper than", "works like", "moved to") * 4]
    features = context_features(vectors, ms, [False] * 12, 0.5, 0.0, 64, 4, 0.6)
    assert features.shape == (12, 6 + CUE_FEATURES + len(CONTEXTS) + 64)
    assert set(np.unique(features[:, -64:])) == {0.0, 0.6}
    fitted = fit_context_head(vectors, ms, [False] * 12, gold, "toy", 1.0, 0, 0.5, 0.0, lex_dim=64, lex_window=4,
                              lex_scale=0.6)
    assert fitted.predict(vectors, ms, [False] * 12) == gold   # the words alone separate these
    save_context_head(fitted, tmp_path / "lex.json")
    loaded = load_context_head(tmp_path / "lex.json")
    assert (loaded.lex_dim, loaded.lex_window, loaded.lex_scale) == (64, 4, 0.6)
    assert loaded.version == fitted.version and loaded.predict(vectors, ms, [False] * 12) == gold
    plain = fit_context_head(vectors, ms, [False] * 12, gold, "toy", 1.0, 0, 0.5, 0.0)
    assert plain.version != fitted.version
    save_context_head(plain, tmp_path / "old.json")
    meta = json.loads((tmp_path / "old.json").read_text())
    for key in ("lex_dim", "lex_window", "lex_scale"):   # a head written before word flags existed
        del meta[key]
    meta["format"] = 2
    (tmp_path / "old.json").write_text(json.dumps(meta))
    assert load_context_head(tmp_path / "old.json").predict(vectors, ms, [False] * 12) == \
        plain.predict(vectors, ms, [False] * 12)


@pytest.mark.parametrize("text, name, context", [
    # Round 7's kinds of writer (terse, lower case, non-native, negated), in words of no data file.
    ("Finance signed off on Zoho yesterday, so this is our last month here.", "Zoho CRM", "switching"),
    ("No plans to leave, but the team has a Pipedrive trial open this week.", "Pipedrive", "evaluating"),
    ("we used to be on attio, import of old notes broken", "Attio", "past_user"),
    ("Attio is 12 dollars a seat, you're 40.", "Attio", "pricing"),
    ("To be clear we are not replacing you with HubSpot; the HubSpot forms just stopped syncing.", "HubSpot",
     "integration"),
])
def test_writers_of_every_kind(head, embedder, text, name, context):
    assert contexts(head, embedder, text)[0][name] == context


@pytest.mark.parametrize("masked, denied", [
    (f"We are NOT moving to {MASK}.", True),
    (f"We're not switching to {MASK} yet, but the board wants a look.", True),
    (f"No plans to go with {MASK}, relax.", True),
    (f"We won't be replacing you with {MASK}.", True),
    (f"We're not staying; we're moving to {MASK}.", False),   # the denial is of staying
    (f"We are moving to {MASK} in May.", False),
    (f"Nothing is decided. {MASK} is cheaper.", False),
])
def test_a_denied_move_is_read_up_to_the_name(masked, denied):
    assert denied_move(_mention(masked)) is denied


def test_a_denied_move_is_never_switching():
    # A head that says "switching" to everything falls back to its next best where the move is denied.
    labels = ("switching", "evaluating")
    coef = np.zeros((2, 4 + CUE_FEATURES + len(CONTEXTS)), dtype=np.float32)
    coef[0, 0], coef[1, 0] = 2.0, 1.0
    toy = ContextHead(labels, coef, np.zeros(2, dtype=np.float32), "toy", 4, 0, 0.0, 0.0)
    ms = [_mention(f"We are moving to {MASK}."), _mention(f"We are not moving to {MASK}.")]
    assert toy.predict(np.ones((2, 4)), ms, [False, False]) == ["switching", "evaluating"]
