import pytest

from csintel.classify.sentiment import SentimentResult, score_sentiment

NEGATIVE = [
    "This is still not fixed. Third time I'm reporting this!!!",   # frustration
    "This is unacceptable, our team can't work.",
    "Honestly this is ridiculous.",
    "WHY IS THIS STILL BROKEN",                                      # shouting
    "URGENT: production is down and it's blocking our team",         # urgency
    "Please fix asap, this is blocking our sales team.",
    "The sync is broken again and nobody has responded.\n\nThanks,\nMaria",  # a sign-off is no praise
    "Thanks for your help. Unfortunately the sync still fails with an error.",
    "I'm not happy with the new editor.",
    "The new UI is great but the export is completely broken.",
]
NEUTRAL = [
    "The export fails.",                                             # a calm bug report is neutral (issue 14)
    "The dashboard doesn't load.",
    "Reminder emails never arrive.",
    "The report no longer shows totals.",
    "When I export contacts to CSV the file is empty. Steps: open Contacts, click Export.",
    "Hi team, the calendar sync shows an error since yesterday. Could you take a look? Thanks, Ana",
    "How do I add a user?",
    "Is there a way to export contacts? Thanks!",
    "Hi!! How do I change my password?",
    "This is not urgent, just a question about invoices.",
    "It would be great if you added dark mode.",
    "Please cancel the invoice I created by mistake.",
    "We are not planning to cancel, just need a copy of the invoice.",
    "",
]
POSITIVE = [
    "Thanks, that fixed it!",
    "Love the new reports, great work!",
    "It was slow at first but now it works perfectly.",
    "Thank you so much!",
    "Super quick response, really appreciate it.",
]
CHURN = [
    "We are going to cancel our subscription.",
    "We won't be renewing next month.",
    "Honestly we're looking at alternatives.",
    "We're switching to HubSpot next quarter.",
    "Please terminate our contract at the end of the term.",
]


@pytest.mark.parametrize("text", NEGATIVE)
def test_negative(text):
    result = score_sentiment(text)
    assert result.label == "negative" and result.score < 0, result
    assert not result.churn_language


@pytest.mark.parametrize("text", NEUTRAL)
def test_neutral(text):
    result = score_sentiment(text)
    assert result.label == "neutral", result
    assert not result.churn_language


@pytest.mark.parametrize("text", POSITIVE)
def test_positive(text):
    result = score_sentiment(text)
    assert result.label == "positive" and result.score > 0, result


@pytest.mark.parametrize("text", CHURN)
def test_churn_is_flagged_and_strongly_negative(text):
    result = score_sentiment(text)
    assert result.churn_language and result.label == "negative" and result.score <= -0.6, result


def test_frustration_outweighs_a_plain_problem_report():
    # A calm bug report leans negative in score but stays neutral; frustration makes it negative.
    plain = score_sentiment("The export fails.")
    frustrated = score_sentiment("The export fails AGAIN. Third time this week, this is unacceptable!!!")
    assert -0.6 < plain.score < 0
    assert frustrated.score < plain.score - 0.3


def test_thanks_sign_off_does_not_turn_a_complaint_positive():
    complaint = "The calendar sync keeps failing."
    assert score_sentiment(complaint + "\nThanks!").score == score_sentiment(complaint).score
    assert score_sentiment(complaint + " Thanks in advance.").label == "negative"


def test_cues_explain_the_score():
    result = score_sentiment("This is still not fixed. Third time I'm reporting this!!!")
    assert "third time" in result.cues and "!!!" in result.cues
    assert score_sentiment("Thanks, that fixed it!").cues[0] == "that fixed it"
    assert score_sentiment("How do I add a user?").cues == ()


def test_negated_cues():
    assert score_sentiment("It doesn't crash anymore.").label != "negative"
    assert score_sentiment("Not great, the import is missing half the rows.").label == "negative"
    assert score_sentiment("The issue is not resolved.").label == "negative"


def test_result_is_frozen_and_score_in_range():
    result = score_sentiment("!!!!! " * 500 + "terrible awful useless " * 500)
    assert isinstance(result, SentimentResult) and -1.0 <= result.score <= 1.0
    with pytest.raises(AttributeError):
        result.label = "positive"  # type: ignore[misc]


@pytest.mark.timeout(10)
@pytest.mark.parametrize("text", [
    "😀😀😀", "日本語のテキストです。", "Привет!", " \n ", "x" * 100_000, "\x00", "!" * 100_000, "?" * 100_000,
])
def test_odd_inputs_never_raise(text):
    result = score_sentiment(text)
    assert result.label in ("negative", "neutral", "positive")


def test_deterministic():
    text = "Still broken!!! We might cancel our subscription. Thanks"
    assert score_sentiment(text) == score_sentiment(text)


@pytest.mark.parametrize("text", [
    "I switched to Firefox and now it loads.",
    "We are switching to the Enterprise plan.",
    "We're moving to Pro next month.",
    "How do I cancel a meeting invite?",
])
def test_switching_browsers_or_plans_is_not_churn(text):
    assert not score_sentiment(text).churn_language


def test_switching_to_a_domain_is_churn():
    assert score_sentiment("We are moving to monday.com next month.").churn_language


def test_features_are_the_rules_evidence():
    from csintel.classify.sentiment import FEATURES, sentiment_features, sentiment_with_features

    text = "Still broken!!! We might cancel our subscription. Is anyone there?"
    result, evidence = sentiment_with_features(text)
    assert result == score_sentiment(text) and evidence == sentiment_features(text)
    named = dict(zip(FEATURES, evidence, strict=True))
    assert named["score"] == pytest.approx(result.score, abs=1e-4) and named["churn"] == 1.0
    assert named["frustration"] < 0 and named["positive"] == 0 and named["question"] == 1.0
    assert dict(zip(FEATURES, sentiment_features("Thanks, that fixed it!")))["resolution"] > 0
    assert sentiment_features("") == [0.0] * len(FEATURES)


@pytest.mark.parametrize("text", [
    "Right-click the symbol and go to References to see every caller.",
    "We moved to TensorFlow 2 and the model no longer loads.",
    "I'm switching to another file in the editor and the cursor jumps.",
    "We could explore alternatives to this approach, e.g. a queue.",
    "Calling terminate on the process leaves a zombie child.",
    "The job should terminate the process when the timeout fires.",
    "We're migrating to Postgres next quarter; will the connector support it?",
    "Please cancel the meeting invite for Friday.",
    "How do I cancel a scheduled export?",
    "The service worker registration was cancelled.",
    "We are not planning to cancel our subscription, just asking about invoices.",
    "We have no plans to switch to another vendor.",
    "We're not switching to HubSpot next quarter after all.",
    "The token is not renewing automatically.",
    "Code churn in this module is high.",
    "Leave you a note: the import finished.",
    "Looking for another way to filter the list.",
])
def test_technical_senses_and_negations_are_not_churn(text):
    assert not score_sentiment(text).churn_language, score_sentiment(text)


@pytest.mark.parametrize("text", [
    "We want to cancel our subscription.",
    "Please cancel our account at the end of the month.",
    "We won't be renewing next month.",
    "Our CFO decided not to renew the contract.",
    "Please switch off auto-renewal for our workspace.",
    "Honestly we're looking at alternatives.",
    "We may have to look at other vendors if this isn't fixed.",
    "We're evaluating alternatives to your product.",
    "We're switching to HubSpot next quarter.",
    "We are moving to monday.com next month.",
    "If this isn't fixed we will take our business elsewhere.",
    "Please terminate our contract at the end of the term.",
    "We'll be moving to a different CRM when the contract is up.",
])
def test_real_churn_still_fires(text):
    assert score_sentiment(text).churn_language, score_sentiment(text)


def test_urgency_is_its_own_signal():
    urgent = score_sentiment("URGENT: production is down and it's blocking our team")
    assert urgent.urgent and urgent.label == "negative"
    assert not score_sentiment("This is not urgent, just a question about invoices.").urgent
    assert not score_sentiment("We want to cancel our subscription.").urgent


def test_rules_file_errors_name_the_file_and_cue(tmp_path):
    import yaml

    from csintel.classify.churn import compile_churn
    from csintel.classify.sentiment import RULES_FILE, compile_rules, read_rules_file

    data = read_rules_file(RULES_FILE)
    bad = dict(data, problem=[["(unclosed", 0.5]])
    with pytest.raises(ValueError, match=r"x\.yaml: problem cue 1 is not a valid regex"):
        compile_rules(bad, "x.yaml")
    with pytest.raises(ValueError, match="must be \\[regex, weight\\]"):
        compile_rules(dict(data, positive=["love"]), "x.yaml")
    with pytest.raises(ValueError, match="missing cue lists: urgency"):
        compile_rules({k: v for k, v in data.items() if k != "urgency"}, "x.yaml")
    with pytest.raises(ValueError, match="unknown \\{nope\\}"):
        compile_churn({"patterns": ["cancel {nope}"]}, "x.yaml")
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(["not", "a", "mapping"]))
    with pytest.raises(ValueError, match="expected a mapping"):
        read_rules_file(path)
