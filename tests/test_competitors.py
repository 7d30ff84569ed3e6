from pathlib import Path

import pytest
import spacy

from csintel.classify.competitors import CompetitorMatcher, CompetitorSpec, Mention, load_competitors

SPECS = [
    CompetitorSpec("HubSpot", ("Hubspot", "HubSpot CRM", "hubspot.com", "Hub Spot"), integration_partner=True),
    CompetitorSpec("Salesforce", ("SFDC", "salesforce.com"), integration_partner=True),
    CompetitorSpec("Pipedrive", ("pipedrive.com",)),
    CompetitorSpec("Close", ("Close CRM", "close.com", "Close.io"), ambiguous=True),
    CompetitorSpec("Copper", ("Copper CRM", "copper.com"), ambiguous=True),
    CompetitorSpec("Front", ("Front app", "frontapp.com"), ambiguous=True),
    CompetitorSpec("monday.com", ("Monday CRM", "monday sales CRM"), ambiguous=True),
    CompetitorSpec("Notion", ("notion.so",), ambiguous=True),
    CompetitorSpec("Attio", ("attio.com",)),
]


@pytest.fixture(scope="module")
def matcher() -> CompetitorMatcher:
    return CompetitorMatcher(SPECS)


def names(matcher: CompetitorMatcher, text: str) -> list[tuple[str, str, bool]]:
    return [(m.name, m.context, m.competitive) for m in matcher.find(text)]


@pytest.mark.parametrize("text", [
    "Please close this ticket.",
    "We have close to 200 users now.",
    "Ask the front desk for the badge.",
    "The button is in the front of the page.",
    "See you on Monday.",
    "The copper wiring in our office is old.",
    "I had no notion that this was possible.",
    "The Close Date field shows the wrong value.",
    "Can't Close Ticket In Outlook",
    "front has a button for that",
])
def test_ordinary_words_are_not_mentions(matcher, text):
    assert matcher.find(text) == []


@pytest.mark.parametrize("text, name", [
    ("We're switching to Close next month.", "Close"),
    ("we're switching to close next month.", "Close"),
    ("Close.io is cheaper.", "Close"),
    ("We looked at Close CRM.", "Close"),
    ("We are moving to monday.com soon.", "monday.com"),
    ("We are evaluating Copper.", "Copper"),
    ("Close has a better pipeline view.", "Close"),
    ("Our old CRM Copper did this.", "Copper"),
])
def test_ambiguous_names_with_evidence_are_mentions(matcher, text, name):
    assert [m.name for m in matcher.find(text)] == [name]


@pytest.mark.parametrize("text", [
    "PIPEDRIVE is better", "pipedrive is better", "Pipedrive's pricing page", "Pipedrive’s UI is better",
    "see pipedrive.com/pricing", "check https://www.pipedrive.com/en today",
    "Pipedirve is better", "Pipedrvie is better",
])
def test_casing_possessives_domains_and_typos(matcher, text):
    assert [m.name for m in matcher.find(text)] == ["Pipedrive"]


def test_typos_only_for_long_unambiguous_names(matcher):
    assert names(matcher, "Hubspott sync fails") == [("HubSpot", "integration", False)]
    assert matcher.find("Attic is nice") == []          # a word is never a typo
    assert matcher.find("Clase is cheaper") == []       # ambiguous names never match fuzzily


@pytest.mark.parametrize("text, context", [
    ("We're moving to Pipedrive next quarter.", "switching"),
    ("We might replace you with Attio.", "switching"),
    ("Management wants to go with Pipedrive instead.", "switching"),
    ("We're trialing Pipedrive this month.", "evaluating"),
    ("We had a demo of Attio yesterday.", "evaluating"),
    ("We're looking at Pipedrive.", "evaluating"),
    ("Pipedrive is half the price.", "pricing"),
    ("Attio offers a discount for startups.", "pricing"),
    ("We used Pipedrive before.", "past_user"),
    ("When we were on Pipedrive, reports were easier.", "past_user"),
    ("We switched to you from Pipedrive last year.", "past_user"),
    ("Pipedrive lets you bulk edit deals.", "comparison"),
    ("Attio does this better.", "comparison"),
    ("Unlike you, Attio has a timeline.", "comparison"),
    ("Someone mentioned Pipedrive at the meetup.", "other"),
])
def test_context_for_competitors(matcher, text, context):
    found = matcher.find(text)
    assert len(found) == 1 and found[0].context == context and found[0].competitive, found


@pytest.mark.parametrize("text, context, competitive", [
    ("The HubSpot sync fails with SYNC-409.", "integration", False),
    ("Field mapping to Salesforce is wrong.", "integration", False),
    ("Import from HubSpot keeps failing.", "integration", False),
    ("Our team uses Salesforce daily.", "integration", False),
    ("We're moving to HubSpot next quarter.", "switching", True),
    ("We're evaluating HubSpot.", "evaluating", True),
    ("HubSpot is half the price.", "pricing", True),
    ("HubSpot does this better than you.", "comparison", True),
    ("The HubSpot integration has a field that is better left unmapped.", "integration", False),
])
def test_integration_partners_are_competitive_only_with_a_cue(matcher, text, context, competitive):
    assert names(matcher, text)[0][1:] == (context, competitive)


def test_one_mention_per_competitor_and_sentence_with_the_sentence(matcher):
    text = "Pipedrive is cheaper and Pipedrive is faster. We used HubSpot before.\nAlso Pipedrive"
    found = matcher.find(text)
    assert [(m.name, m.sentence) for m in found] == [
        ("Pipedrive", "Pipedrive is cheaper and Pipedrive is faster."),
        ("HubSpot", "We used HubSpot before."),
        ("Pipedrive", "Also Pipedrive"),
    ]
    assert all(isinstance(m, Mention) for m in found)


def test_multi_word_aliases_and_custom_nlp():
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    m = CompetitorMatcher(SPECS, nlp=nlp)
    assert names(m, "We are moving to Hub Spot.") == [("HubSpot", "switching", True)]
    bare = CompetitorMatcher(SPECS, nlp=spacy.blank("en"))   # no sentencizer: sentences are still csintel's
    assert [x.name for x in bare.find("Moving to Pipedrive. Also Attio is cheaper")] == ["Pipedrive", "Attio"]


@pytest.mark.timeout(10)
@pytest.mark.parametrize("text", [
    "", "   ", "😀" * 20, "日本語のテキスト。", "x" * 100_000, "\n\n\n", "a:" * 50_000, "Thanks,\n" * 20_000, "close " * 20_000,
])
def test_odd_inputs(matcher, text):
    assert matcher.find(text) == []


@pytest.mark.timeout(10)
def test_a_name_repeated_in_one_long_sentence_is_one_mention(matcher):
    assert names(matcher, "Pipedrive " * 20_000) == [("Pipedrive", "other", True)]


def test_empty_competitor_list():
    assert CompetitorMatcher([]).find("We are moving to Pipedrive.") == []


def test_load_shipped_list():
    specs = load_competitors(Path(__file__).resolve().parents[1] / "models" / "competitors.yaml")
    by_name = {s.name: s for s in specs}
    assert by_name["HubSpot"].integration_partner and by_name["Close"].ambiguous is None   # no hints: automatic
    assert "Close.io" in by_name["Close"].aliases
    shipped = CompetitorMatcher(specs)
    assert shipped.find("Please close the ticket.") == [] and shipped.find("Where did the Close button go?") == []


# --- a user's list without ambiguity hints (issue 14) ------------------------------------------
PLAIN = [CompetitorSpec(s.name, s.aliases, s.integration_partner) for s in SPECS]   # no `ambiguous` flags


@pytest.fixture(scope="module")
def plain() -> CompetitorMatcher:
    return CompetitorMatcher(PLAIN)


@pytest.mark.parametrize("text", [
    "Where did the Close button go?",
    "Can you update Dan Copper's contact? His email changed.",
    "Dan Copper's contact is wrong.",
    "our salesforce has doubled this year, we need more seats",
    "Please close the Q3 deals that are still open.",
    "We're moving the close date for all Q4 deals.",
    "We're going to close the loop with the customer on Monday.",
    "Front desk staff only need read access.",
    "Where did the Close date filter go?",
    "Copper wiring diagram attachments fail to upload.",
    # ... a common one is not.
    "Close the ticket once the customer confirms.",
    "Copper is a good conductor, as our engineers know.",
])
def test_ordinary_word_names_need_no_flag(plain, text):
    assert plain.find(text) == []


@pytest.mark.parametrize("text, name", [
    ("We're switching to Close next month.", "Close"),
    ("Close has a better pipeline view.", "Close"),
    ("We signed with Copper yesterday.", "Copper"),
    ("The Salesforce sync failed.", "Salesforce"),
    ("SALESFORCE SYNC FAILED AGAIN", "Salesforce"),
    ("Unlike Copper, you make me retype the address.", "Copper"),
    # Opening a sentence, a rarely-written word is the name ("sales force" is two words) ...
    ("Salesforce handles bulk edits in one screen.", "Salesforce"),
    ("Hi. Salesforce announced price cuts, so we are reviewing our tools.", "Salesforce"),
])
def test_ordinary_word_names_with_evidence_without_a_flag(plain, text, name):
    assert [m.name for m in plain.find(text)] == [name]


def test_which_names_are_ordinary_words(plain):
    ordinary = {term for terms in plain.bare.values() for term in terms}
    assert {"close", "copper", "front", "salesforce"} <= ordinary
    assert not ordinary & {"hubspot", "pipedrive", "attio", "sfdc"}


@pytest.mark.parametrize("text, name", [
    ("Hubsopt quoted us less.", "HubSpot"),
    ("Pipedrvie is faster.", "Pipedrive"),
    ("We had a call with Atio yesterday.", "Attio"),
    ("Salesfroce sync errors again.", "Salesforce"),
])
def test_misspellings_with_a_guard(plain, text, name):
    assert [m.name for m in plain.find(text)] == [name]


@pytest.mark.parametrize("text", [
    "The attic is full of old laptops.",     # a word one edit from "Attio"
    "Clise the ticket please.",              # no typos of ordinary-word names
    "The cooper account renewed.",
    "Ratio of won deals dropped.",
])
def test_no_misspelling_from_words_or_ordinary_names(plain, text):
    assert plain.find(text) == []


@pytest.mark.parametrize("body, message", [
    ("competitors:\n  - name: Acme\n    aliases: Acme Inc\n", "competitor #1 ('Acme'): 'aliases' must be a list"),
    ("competitors:\n  - name: Acme\n  - aliases: [x]\n", "competitor #2: 'name' must be a non-empty string"),
    ("competitors:\n  - name: Acme\n    ambigous: true\n", "unknown key(s) ambigous"),
    ("competitors:\n  - name: Acme\n    integration_partner: maybe\n", "'integration_partner' must be true or false"),
    ("competitors:\n  - name: Acme\n  - name: acme\n", "competitor #2 ('acme'): duplicate"),
    ("competitors:\n  - just a string\n", "competitor #1: expected a mapping"),
    ("- name: Acme\n", "expected a mapping with a 'competitors' list"),
    ("competitors: [unclosed\n", "not valid YAML"),
])
def test_load_competitors_rejects_bad_entries(tmp_path, body, message):
    path = tmp_path / "competitors.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_competitors(path)


# --- hard cases from data/eval (one per pattern class) ----------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("Contacts created on app.hubspot.com never reach us.", [("HubSpot", "integration")]),          # subdomain
    ("Their rep sent me to pipedrive.com/pricing to compare plans.", [("Pipedrive", "pricing")]),  # URL path
    ("We got burned by Attio' support before, please don't.", [("Attio", "past_user")]),          # s' possessive
    ("We're looking at front-end fixes first.", []),                                                # compound word
    ("Front is on our list of tools to look at.", [("Front", "evaluating")]),                       # sentence-initial
    ("Copper is half the price for us.", [("Copper", "pricing")]),
    ("Please close the ticket, Copper Creek office says hi.", []),
])
def test_hard_mentions(matcher, text, expected):
    assert [(m.name, m.context) for m in matcher.find(text)] == expected


@pytest.mark.parametrize("text, name, context", [
    ("Our CEO wants to ditch you for Pipedrive.", "Pipedrive", "switching"),
    ("We've chosen Attio and will not renew.", "Attio", "switching"),
    ("We'll be moving everything into Pipedrive by March.", "Pipedrive", "switching"),
    ("Leadership wants to consolidate on Attio.", "Attio", "switching"),
    ("We're thinking about moving to Pipedrive.", "Pipedrive", "evaluating"),   # a hedged move is an evaluation
    ("We've been asked to compare you against Attio.", "Attio", "evaluating"),
    ("I spent the weekend testing a free account on Attio.", "Attio", "evaluating"),
    ("We tried Attio for a month last year.", "Attio", "past_user"),            # tried + a past time
    ("We came to you from Pipedrive three years ago.", "Pipedrive", "past_user"),
    ("I'm a former Attio user and miss the dialer.", "Attio", "past_user"),
    ("We left Pipedrive because of their pricing changes.", "Pipedrive", "past_user"),
    ("Pipedrive charges less than half of your Pro plan.", "Pipedrive", "pricing"),
    ("Attio quoted us less for 30 seats.", "Attio", "pricing"),
    ("In Attio, threads show up on the contact automatically.", "Attio", "comparison"),
    ("Attio's timeline is what our support team wants here too.", "Attio", "comparison"),
    ("A friend's team uses Pipedrive and they don't have this problem.", "Pipedrive", "comparison"),
])
def test_context_cues(matcher, text, name, context):
    assert [(m.name, m.context) for m in matcher.find(text)] == [(name, context)]


@pytest.mark.parametrize("text, expected", [
    # Each name reads its own clause ...
    ("We moved from Pipedrive to you years ago; now we're considering Attio.",
     [("Pipedrive", "past_user"), ("Attio", "evaluating")]),
    ("The HubSpot sync is fine, but Pipedrive is cheaper.", [("HubSpot", "integration"), ("Pipedrive", "pricing")]),
    # ... and names joined by "and" share the verb after them.
    ("Attio and Pipedrive both have a proper timeline view.", [("Attio", "comparison"), ("Pipedrive", "comparison")]),
])
def test_several_competitors_in_one_sentence(matcher, text, expected):
    assert [(m.name, m.context) for m in matcher.find(text)] == expected


@pytest.mark.parametrize("text, name, context, competitive", [
    ("Contacts not coming over from HubSpot", "HubSpot", "integration", False),   # data moving, not a past user
    ("Syncing to HubSpot costs us API calls every minute.", "HubSpot", "integration", False),
    ("The Salesforce connector is better than the old CSV import.", "Salesforce", "integration", False),
    ("Back when we were on Salesforce, reports were automatic.", "Salesforce", "past_user", True),
    ("Salesforce does this natively; can your integration copy it?", "Salesforce", "comparison", True),
])
def test_partner_mentions(matcher, text, name, context, competitive):
    assert names(matcher, text) == [(name, context, competitive)]


@pytest.mark.parametrize("text", ["We are NOT moving to Pipedrive.", "We're not switching to Attio yet."])
def test_the_rules_never_call_a_denied_move_switching(matcher, text):
    # The context head has the same guard (competitor_context.denied_move): one test, both paths.
    found = matcher.find(text)
    assert len(found) == 1 and found[0].context != "switching", found
