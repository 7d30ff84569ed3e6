import numpy as np
import pytest

from csintel.classify.request_groups import group_requests, slugify
from csintel.classify.requests import RequestResult, detect_request


@pytest.mark.parametrize("text, phrase, cue", [
    ("Please add dark mode.", "dark mode", "please add"),
    ("Could you add a bulk edit option for deals?", "bulk edit option for deals", "could you add"),
    ("Feature request: scheduled report exports", "scheduled report exports", "feature request"),
    ("Hi, feature request\nbulk delete for activities would help a lot", "bulk delete for activities",
     "feature request"),
    ("It would be great if we could schedule report exports.", "schedule report exports", "would be great"),
    ("It would be nice to have a Gantt view.", "gantt view", "would be great"),
    ("It'd be really helpful if there was an audit log.", "audit log", "would be great"),
    ("We would love to see a dark mode!", "dark mode", "would love"),
    ("I'd love it if you added two-factor authentication.", "two-factor authentication", "would love"),
    ("Any plans to support SSO?", "sso", "any plans"),
    ("Are there any plans to add a mobile app?", "mobile app", "any plans"),
    ("Is there a roadmap for custom objects?", "custom objects", "roadmap"),
    ("Is multi-currency on the roadmap?", "multi-currency", "on the roadmap"),
    ("We need the ability to bulk edit deals.", "bulk edit deals", "we need the ability"),
    ("We need a way to merge duplicate contacts so that our data stays clean.", "merge duplicate contacts",
     "we need the ability"),
    ("I wish there was a dark mode.", "dark mode", "i wish"),
    ("I wish I could export reports to PDF.", "export reports to pdf", "i wish"),
    ("I can't believe there's no undo button in 2026", "undo button", "can't believe there's no"),
    ("Why is there no recurring invoices feature?", "recurring invoices", "why is there no"),
    ("It's a shame you don't support Outlook calendars.", "outlook calendars", "it's a shame"),
    ("I suggest adding a kanban view for tasks.", "kanban view for tasks", "i suggest"),
    ("Do you plan to support SAML?", "saml", "do you plan"),
    ("When will you release the mobile app?", "mobile app", "do you plan"),
    ("Please allow us to export more than 10k rows.", "export more than 10k rows", "please add"),
])
def test_detects_request_and_phrase(text, phrase, cue):
    assert detect_request(text) == RequestResult(True, phrase, cue)


def test_how_to_then_would_be_great_takes_the_how_to_object():
    result = detect_request("Is there a way to bulk edit deals? If not, it would be great to have that.")
    assert result.is_request and result.phrase == "bulk edit deals"


@pytest.mark.parametrize("text", [
    "The export button doesn't work.",
    "Sync fails with SYNC-409.",
    "How do I export contacts?",
    "Is there a way to add a user?",
    "Is it possible to add a custom field to deals?",
    "Please close the ticket.",
    "Please advise.",
    "Please fix the export.",
    "Please add my colleague maria@example.com as an admin.",
    "Could you add 5 seats to our account?",
    "Can you add a user for me?",
    "It would be great if you could look into this bug asap.",
    "It would be great if the export worked again.",
    "I wish it worked.",
    "I love the new reports!",
    "There's no way to log in.",
    "Could you please provide an update?",
    "Please let us know how to proceed.",
    "Please provide the SOC 2 report.",
    "Do you support SSO?",
    "I would like to cancel my subscription.",
    "", "   ", "😀😀", "日本語のテキスト",
])
def test_not_requests(text):
    assert detect_request(text) == RequestResult(False, None, None)


def test_phrase_is_short_and_lowercase():
    result = detect_request("Please add the ability to export every single report, dashboard, chart and table "
                            "to Excel and Google Sheets automatically every Monday morning")
    assert result.is_request and result.phrase == "export every single report"
    long_one = detect_request("Please add " + "very " * 30 + "long things")
    assert long_one.phrase is not None and len(long_one.phrase.split()) <= 8
    assert long_one.phrase == long_one.phrase.lower()


def test_long_text_never_raises():
    assert detect_request("please add " * 20_000).is_request


@pytest.mark.parametrize("phrase, slug", [
    ("bulk edit of deals", "bulk-edit-deals"),
    ("Dark Mode", "dark-mode"),
    ("Export to CSV/XLSX!", "export-csv-xlsx"),
    ("café menu", "cafe-menu"),
    ("", "request"),
    ("日本語", "request"),
    ("the", "the"),
])
def test_slugify(phrase, slug):
    assert slugify(phrase) == slug


def _vectors(*rows: list[float]) -> np.ndarray:
    return np.array(rows, dtype=np.float32)


def test_group_requests_joins_existing_and_forms_new_groups():
    existing = [("dark-mode", "dark mode", np.array([1.0, 0.0, 0.0]))]
    phrases = ["dark theme", "bulk edit deals", "edit deals in bulk", "sso"]
    vectors = _vectors([0.9, 0.1, 0.0], [0.0, 1.0, 0.1], [0.0, 0.95, 0.2], [0.0, 0.0, 5.0])
    ids, created = group_requests(phrases, vectors, existing)
    assert ids[0] == "dark-mode"
    assert ids[1] == ids[2] != ids[3]
    assert {gid for gid, _, _ in created} == {ids[1], ids[3]}
    assert ids[3] == "sso"
    for gid, label, centroid in created:
        assert np.isclose(np.linalg.norm(centroid), 1.0) and centroid.dtype == np.float32
        assert label in phrases and slugify(label) in gid


def test_group_requests_representative_phrase_and_unique_ids():
    existing = [("dark-mode", "dark mode", np.array([1.0, 0.0]))]
    phrases = ["dark mode", "dark mode", "dark mode please now"]
    vectors = _vectors([0.0, 1.0], [0.0, 1.0], [0.1, 1.0])  # far from the existing "dark-mode" group
    ids, created = group_requests(phrases, vectors, existing)
    assert ids == ["dark-mode-2"] * 3
    assert [(g, label) for g, label, _ in created] == [("dark-mode-2", "dark mode")]


def test_group_requests_is_deterministic_and_order_independent():
    phrases = ["a b", "c d", "e f", "a b c"]
    vectors = _vectors([1, 0, 0], [0, 1, 0], [0, 0, 1], [0.9, 0.1, 0])
    ids, _ = group_requests(phrases, vectors)
    rev_ids, _ = group_requests(phrases[::-1], vectors[::-1])
    assert ids == rev_ids[::-1]
    assert ids[0] == ids[3] and len(set(ids)) == 3
    again_ids, again_created = group_requests(phrases, vectors)
    _, created = group_requests(phrases, vectors)
    assert again_ids == ids
    assert [(g, label) for g, label, _ in again_created] == [(g, label) for g, label, _ in created]
    assert all(np.array_equal(a[2], b[2]) for a, b in zip(again_created, created))


def test_group_requests_threshold_and_edge_cases():
    vectors = _vectors([1, 0], [0.6, 0.8])               # cosine 0.6
    assert len(set(group_requests(["x", "y"], vectors, threshold=0.72)[0])) == 2
    assert len(set(group_requests(["x", "y"], vectors, threshold=0.5)[0])) == 1
    assert group_requests([], np.zeros((0, 3))) == ([], [])
    ids, created = group_requests(["zero"], _vectors([0, 0]))   # a zero vector still gets a group
    assert ids == ["zero"] and len(created) == 1
    stale = [("old", "old", np.ones(5))]                        # another model's dimension: ignored
    assert group_requests(["x"], _vectors([1, 0]), stale)[0] == ["x"]
    with pytest.raises(ValueError, match="2 phrases"):
        group_requests(["x", "y"], _vectors([1, 0]))


@pytest.mark.parametrize("text,phrase", [
    ("We would like to request bulk editing for deals.", "bulk editing for deals"),
    ("I was surprised to find there is no automatic weekly report exports.", "automatic weekly report exports"),
    ("Honestly the lack of mass updates of deal stages is a problem for us.", "mass updates of deal stages"),
])
def test_more_request_phrasings(text, phrase):
    result = detect_request(text)
    assert result.is_request and result.phrase == phrase


def test_billing_admin_asks_are_not_feature_requests():
    assert not detect_request("Please add VAT number FR12345678901 to our invoices going forward.").is_request
    assert not detect_request("Please add our billing address to the invoice.").is_request


def test_deals_in_the_pipeline_is_not_a_roadmap_ask():
    text = "Half of our widgets are blank even though there are deals in the pipeline."
    assert not detect_request(text).is_request
    assert detect_request("Is dark mode on the roadmap?").is_request


# --- hard cases from data/eval (one per phrasing class) ---------------------------------------
@pytest.mark.parametrize("text, phrase, cue", [
    ("Our SDRs keep asking for a darker color scheme option.", "darker color scheme", "keep asking for"),
    ("Any chance you could add mass editing for deals?", "mass editing for deals", "any chance"),
    ("Requesting Okta login support for our workspace.", "okta login", "requesting"),
    ("Bulk editing deals would save our ops team hours every week.", "bulk editing deals", "would save"),
    ("We really need offline access on mobile for site visits.", "offline access on mobile for site visits",
     "we need"),
    ("The mobile app badly needs an offline mode.", "offline mode", "badly needs"),
    ("It would be great if the mobile app worked offline.", "mobile app worked offline", "would be great"),
    ("It's 2026 and there's still no Outlook calendar integration?", "outlook calendar integration", "still no"),
    ("Would it be possible to add a kanban board for tasks?", "kanban board for tasks", "would it be possible"),
    ("+1 for a board view of tasks, the list gets unwieldy.", "board view of tasks", "+1"),
    ("You really should add an export to Excel.", "export to excel", "you should add"),
    ("Not having an Excel export is painful for our finance team.", "excel export", "not having"),
    ("Is territory management something you're working on?", "territory management",
     "something you're working on"),
    ("Night mode please!", "night mode", "X please"),
    ("We want to force reps to fill in the loss reason.", "force reps to fill in the loss reason", "we want to"),
    ("Could Tidewater support required custom fields?", "required custom fields", "could you add"),
])
def test_more_request_cues(text, phrase, cue):
    assert detect_request(text) == RequestResult(True, phrase, cue)


@pytest.mark.parametrize("text, phrase", [
    ("Is there a way to bulk update deal stages? There doesn't seem to be one.", "bulk update deal stages"),
    ("Is there any way to make tasks recur? Apparently not, but it would be very useful.", "make tasks recur"),
    ("Why can't tasks repeat? Every other to-do app does this.", "tasks repeat"),
])
def test_a_question_answered_no_is_a_request(text, phrase):
    assert detect_request(text) == RequestResult(True, phrase, "is there a way (no)")


@pytest.mark.parametrize("text", [
    "Is there a way to filter the report by region? I couldn't find it. A short video or help article would be great.",
    "Why is there no data on my dashboard today?",          # missing data is a bug
    "How come there is no data in the activity report since Monday?",
    "I wish someone had told us about the price change.",  # a regret
    "It would be nice if the page loaded in 20 seconds like it used to.",   # a regression
    "I wish the sync would stop failing every night.",
    "Would be great to hear back on this today.",
    "Please enable SSO for our account, we bought the add-on.",
    "Please add the attached PDF to our contract file.",
    "Could you add Zack in cc on your replies?",
    "Please add my colleague Gus to this ticket.",
    "Any plans to reduce the price for nonprofits?",
    "We need this fixed before Thursday.",
    "I want Bianca to be able to edit reports, how do I set that up?",
    "I need a way to reach your billing team.",
])
def test_more_non_requests(text):
    assert not detect_request(text).is_request


# --- the trained detector, the rules file, group names (issue 14) -------------------------------

from csintel.classify.request_groups import capability_name, names_capability  # noqa: E402
from csintel.classify.request_head import RequestDetector  # noqa: E402
from csintel.classify.requests import load_request_rules  # noqa: E402


@pytest.fixture(scope="module")
def detector(embedder):
    found = RequestDetector.for_embedder(embedder.name, embedder.dim)
    assert found.head is not None   # the shipped head fits the packaged embedder
    return found


def _detect(detector, embedder, texts):
    return detector.detect(texts, embedder.encode(texts))


def test_a_question_about_a_fix_is_not_a_request(detector, embedder):
    texts = ["Any ETA on a fix?", "When will this be fixed? The sync has failed since Monday.",
             "Is there a workaround for the SYNC-409 error?"]
    assert [r.is_request for r in _detect(detector, embedder, texts)] == [False, False, False]
    assert not detect_request("Any ETA on a fix?").is_request


def test_the_detector_finds_asks_the_rules_miss_and_names_them(detector, embedder):
    said = _detect(detector, embedder, [
        "Add support for exporting dashboards as PDF\nIt would help our monthly board packs.",
        "Please add dark mode.",
        "The export button crashes the app with a NullPointerException.",
    ])
    assert [r.is_request for r in said] == [True, True, False]
    assert said[0].phrase and "pdf" in said[0].phrase
    assert said[1].phrase == "dark mode"


def test_without_a_fitting_embedder_the_rules_decide():
    rules_only = RequestDetector.for_embedder("some-other-model", 768)
    assert rules_only.head is None
    said = rules_only.detect(["Please add dark mode.", "Any ETA on a fix?"], np.zeros((2, 768)))
    assert [r.is_request for r in said] == [True, False] and said[0].phrase == "dark mode"


def test_asks_stand_by_threshold_rules_and_how_to():
    from csintel.classify.request_head import stands

    probs = np.array([0.40, 0.39, 0.40, 0.60, 0.60])
    ruled = np.array([True, True, False, False, False])
    howto = np.array([False, False, False, False, True])
    # A rule hit stands from `threshold` (inclusive); an ask no rule found needs `alone_threshold`
    # and is never a how-to question.
    assert stands(probs, ruled, howto, 0.40, 0.60).tolist() == [True, False, False, True, False]


def test_a_saved_head_reads_back_the_same(tmp_path):
    from csintel.classify.lexical import fit_lexicon
    from csintel.classify.request_head import (
        blank_head, load_request_head, opening_line, rule_features, save_request_head,
    )
    from sklearn.linear_model import LogisticRegression

    texts = ["Add dark mode\nPlease.", "Crash on start\nTraceback", "How do I export?", "Support SSO\nWe need it",
             "Export is broken", "Where is the audit log?"]
    labels = ["feature", "bug", "question", "feature", "bug", "question"]
    vectors = np.random.default_rng(0).normal(size=(len(texts), 4))
    cues = rule_features(texts)
    head = blank_head(fit_lexicon(texts), fit_lexicon([opening_line(t) for t in texts]), 4, sorted(set(labels)),
                      "some-model", lexical_weight=2.0)
    model = LogisticRegression(max_iter=1000).fit(head.design(vectors, cues, texts), labels)
    head = head.with_weights(model.coef_, model.intercept_, model.classes_)
    expected = model.predict_proba(head.design(vectors, cues, texts))[:, list(model.classes_).index("feature")]
    assert np.allclose(head.probabilities(vectors, cues, texts), expected)
    save_request_head(head, tmp_path)
    loaded = load_request_head(tmp_path / "feature_request.json")
    assert loaded.classes == head.classes and loaded.dim == 4
    assert np.allclose(loaded.probabilities(vectors, cues, texts), expected, atol=1e-4)
    meta = (tmp_path / "feature_request.json").read_text()
    (tmp_path / "feature_request.json").write_text(meta.replace('"format": 2', '"format": 1'))
    with pytest.raises(ValueError, match="format 1"):
        load_request_head(tmp_path / "feature_request.json")


@pytest.mark.parametrize("phrase", ["fix", "a fix", "way", "start", "set", "this sorted first", "it to work",
                                    "that", "hotfix for the sync", ""])
def test_phrases_that_name_no_capability(phrase):
    assert not names_capability(phrase)


@pytest.mark.parametrize("phrase", ["bulk export to csv", "dark mode", "okta as an identity provider", "sso"])
def test_phrases_that_name_a_capability(phrase):
    assert names_capability(phrase)


def test_an_unnamed_ask_borrows_a_how_to_object_or_goes_ungrouped():
    assert capability_name("way", "Is there a way to merge deals? We need a way.") == "merge deals"
    assert capability_name("this sorted first", "Hi team,\nCould you get this sorted first?") is None
    assert capability_name(None, "Hello,\nCSV export of invoices\nWe do this by hand today.") == "csv export of invoices"
    # Only a title line names an ask: not praise, not a heading word.
    assert capability_name(None, "Hey! Love the product. One wish: a proper dark mode.") is None
    assert capability_name(None, "Feature ask:\nsomething for the team") is None


def test_group_labels_name_capabilities(embedder):
    texts = ["Please add bulk export to CSV.", "We need bulk export to CSV!", "Any plans to support Okta as an IdP?",
             "Any ETA on a fix?", "Could you get this sorted first?"]
    phrases = [capability_name(detect_request(t).phrase, t) for t in texts]
    named = [p for p in phrases if p]
    _, groups = group_requests(named, embedder.encode(named), threshold=0.5)
    labels = {label for _, label, _ in groups}
    assert labels and all(names_capability(label) for label in labels)
    assert not labels & {"fix", "way", "start", "set", "this sorted first"}


def test_rules_file_errors_name_the_file_and_the_key(tmp_path):
    from csintel.classify.requests import RULES_FILE

    text = RULES_FILE.read_text(encoding="utf-8")
    bad = tmp_path / "requests.yaml"
    bad.write_text(text.replace("- name: 'please add'\n    pattern: '", "- name: 'please add'\n    pattern: '(", 1),
                   encoding="utf-8")
    with pytest.raises(ValueError, match=r"requests.yaml: cue 'please add' is not a valid regular expression"):
        load_request_rules(bad)
    bad.write_text(text.replace("unnamed_phrases:", "unnamed_words:", 1), encoding="utf-8")
    with pytest.raises(ValueError, match="'unnamed_phrases' is missing"):
        load_request_rules(bad)
    bad.write_text(text.replace("<<OBJ>>", "<<OBJECT>>", 1), encoding="utf-8")
    with pytest.raises(ValueError, match="<<OBJECT>>, which is not defined"):
        load_request_rules(bad)
