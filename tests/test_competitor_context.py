"""The trained competitor-context head as the Enricher and `csintel eval` use it (issue 14)."""

import numpy as np
import pytest

from csintel.classify.competitor_context import (
    classify_contexts, context_features, fit_context_head, load_context_head, save_context_head,
    shipped_context_head,
)
from csintel.classify.competitors import CONTEXTS, CompetitorMatcher, CompetitorSpec
from csintel.classify.eval_extraction import strongest

SPECS = [
    CompetitorSpec("HubSpot", ("hubspot.com",), integration_partner=True),
    CompetitorSpec("Salesforce", ("SFDC",), integration_partner=True),
    CompetitorSpec("Zoho CRM", ("Zoho",)),
    CompetitorSpec("Pipedrive"),
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
    assert labels[name] != "integration" and competitive[name]


def test_a_migration_is_never_integration_for_a_vendor_we_do_not_integrate_with(head, embedder):
    labels, competitive = contexts(head, embedder, "I'm importing our old Zoho CRM data and the fields are missing.")
    assert labels["Zoho CRM"] == "past_user" and competitive["Zoho CRM"]


def test_the_partner_sync_stays_integration(head, embedder):
    labels, competitive = contexts(head, embedder, "The HubSpot sync duplicated every contact overnight.")
    assert labels == {"HubSpot": "integration"} and competitive == {"HubSpot": False}


def test_integration_is_masked_for_non_partners():
    # A head that would say "integration" for everything: non-partners get their next best context.
    labels = ("integration", "pricing")
    coef = np.zeros((2, 4 + len(CONTEXTS)), dtype=np.float32)
    coef[0, 0], coef[1, 0] = 2.0, 1.0
    from csintel.classify.competitor_context import ContextHead

    toy = ContextHead(labels, coef, np.zeros(2, dtype=np.float32), "toy", 0.0)
    vectors = np.ones((2, 4))
    assert toy.predict(vectors, ["other", "other"], [True, False]) == ["integration", "pricing"]


def test_save_and_load_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(12, 5))
    gold = ["pricing", "comparison", "switching"] * 4
    fitted = fit_context_head(vectors, ["other"] * 12, gold, "toy-model", c=1.0, rule_scale=0.5)
    save_context_head(fitted, tmp_path / "competitor_context.json")
    loaded = load_context_head(tmp_path / "competitor_context.json")
    assert loaded.version == fitted.version and loaded.labels == fitted.labels
    assert context_features(vectors[:1], ["pricing"], 0.5)[0, 5 + CONTEXTS.index("pricing")] == 0.5
    with pytest.raises(ValueError, match="unknown competitor context"):
        fit_context_head(vectors, ["other"] * 12, ["nonsense"] * 12, "toy", 1.0, 0.0)


def test_without_a_head_the_rules_decide(embedder):
    found = [CompetitorMatcher(SPECS).find("We're moving to Pipedrive next quarter.")]
    assert classify_contexts(found, None, embedder, PARTNERS) == found
