"""The one sentence segmenter (csintel.text.sentences), on what support text throws at it, and its callers."""

import time

import pytest

from csintel.classify.competitors import CompetitorMatcher, CompetitorSpec
from csintel.text import sentence_spans, split_sentences

CASES = [
    # (kind, text, sentences)
    ("abbreviation", "I tried e.g. the export. It failed.", ["I tried e.g. the export.", "It failed."]),
    ("abbreviation", "Use the API i.e. the REST one. Then retry.", ["Use the API i.e. the REST one.", "Then retry."]),
    ("abbreviation", "Approx. 50 users affected. Urgent.", ["Approx. 50 users affected.", "Urgent."]),
    ("abbreviation", "Mr. Jones left. Ms. Lee stayed.", ["Mr. Jones left.", "Ms. Lee stayed."]),
    ("abbreviation", "Ask J. Smith. He knows.", ["Ask J. Smith.", "He knows."]),
    ("abbreviation", "Meet at 3 p.m. tomorrow. OK?", ["Meet at 3 p.m. tomorrow.", "OK?"]),
    ("version", "Upgraded to v2.3.1 yesterday. Now sync fails.", ["Upgraded to v2.3.1 yesterday.", "Now sync fails."]),
    ("version", "Version 10.4.2 broke it. Please fix.", ["Version 10.4.2 broke it.", "Please fix."]),
    ("number", "It costs $4.99 per seat. Too much.", ["It costs $4.99 per seat.", "Too much."]),
    ("number", "Q2 shows $1.9M but finance says $1.4M. Which deals count?",
     ["Q2 shows $1.9M but finance says $1.4M.", "Which deals count?"]),
    ("url", "See https://example.com/docs/v1.2/page.html for details. It is wrong.",
     ["See https://example.com/docs/v1.2/page.html for details.", "It is wrong."]),
    ("url", "Email me at jo.smith@example.com. Thanks.", ["Email me at jo.smith@example.com.", "Thanks."]),
    ("url", "Go to Example.Com now.", ["Go to Example.Com now."]),
    ("dotted name", "Python client raises requests.exceptions.ConnectionError after 30 seconds.",
     ["Python client raises requests.exceptions.ConnectionError after 30 seconds."]),
    ("dotted name", "System.Net.WebException: The operation has timed out",
     ["System.Net.WebException: The operation has timed out"]),
    ("dotted name", "ssl.SSLCertVerificationError when connecting", ["ssl.SSLCertVerificationError when connecting"]),
    ("dotted name", "We use Node.js. The file is report.pdf. It won't open.",
     ["We use Node.js.", "The file is report.pdf.", "It won't open."]),
    ("ellipsis", "It just hangs... Then it crashes.", ["It just hangs...", "Then it crashes."]),
    ("ellipsis", 'The billing page shows "Loading..." forever.', ['The billing page shows "Loading..." forever.']),
    ("ellipsis", "It just hangs… then it crashes.", ["It just hangs… then it crashes."]),
    ("emoji", "Love it 😍 Export is broken though 😡 Please fix!", ["Love it 😍 Export is broken though 😡 Please fix!"]),
    ("emoji", "Export is broken 😡. Please fix! 🙏", ["Export is broken 😡.", "Please fix!", "🙏"]),
    ("no end punctuation", "no punctuation at all here", ["no punctuation at all here"]),
    ("no end punctuation", "Export fails\nThe CSV export times out after 30 s.",
     ["Export fails", "The CSV export times out after 30 s."]),
    ("no end punctuation", "1. Open settings\n2. Click export\n3. Nothing happens",
     ["1. Open settings", "2. Click export", "3. Nothing happens"]),
    ("punctuation", "Why?? Really!!! Fix it.", ["Why??", "Really!!!", "Fix it."]),
    ("punctuation", 'He said "it works." It does not.', ['He said "it works."', "It does not."]),
    ("punctuation", "(This is aside.) Next one.", ["(This is aside.)", "Next one."]),
    ("punctuation", "for 500£.  I definitely didn't.", ["for 500£.", "I definitely didn't."]),
    ("no space after", "Can you check what's going on.I don't want to be charged.",
     ["Can you check what's going on.", "I don't want to be charged."]),
    ("no space after", "The money is not there yet.She should have it by now.",
     ["The money is not there yet.", "She should have it by now."]),
    ("no space after", "Thanks!Bye.", ["Thanks!", "Bye."]),
    ("no space after", "Compare e.g.Pipedrive first.", ["Compare e.g.Pipedrive first."]),
    ("chat markup", "<!channel> FYI, posting this here. <!here> is anyone else seeing this?",
     ["<!channel> FYI, posting this here.", "<!here> is anyone else seeing this?"]),
    ("empty", "", []),
    ("empty", " \n\t ", []),
]


@pytest.mark.parametrize("kind, text, sentences", CASES, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(CASES)])
def test_support_text_sentences(kind, text, sentences):
    assert split_sentences(text) == sentences
    # Offsets index the raw text: a sentence quotes the customer verbatim.
    assert [text[s:e] for s, e in sentence_spans(text)] == sentences


@pytest.mark.timeout(20)
@pytest.mark.parametrize("text", ["ab.Cd," * 20_000, "a." * 50_000, "yet.She " * 20_000, "e.g.Foo," * 20_000,
                                  "Loading..." * 20_000, "1. " * 50_000, "!" * 100_000, "x" * 200_000])
def test_linear_on_long_glued_runs(text):
    start = time.perf_counter()
    split_sentences(text)
    assert time.perf_counter() - start < 5


def test_competitor_mentions_quote_the_shared_segmenter():
    # spaCy's sentencizer split "e.g." and "approx." and glued "on.I": the matcher now reads
    # csintel's sentences, so a mention's sentence is one of split_sentences'.
    matcher = CompetitorMatcher([CompetitorSpec("Pipedrive"), CompetitorSpec("Attio")])
    text = ("We use Pipedrive e.g. for deals. Approx. half of us tried Attio.Now what?\n"
            "Subject: Attio\nrequests.exceptions.ConnectionError in Pipedrive sync")
    found = matcher.find(text)
    assert [m.sentence for m in found] == [
        "We use Pipedrive e.g. for deals.", "Approx. half of us tried Attio.", "Subject: Attio",
        "requests.exceptions.ConnectionError in Pipedrive sync",
    ]
    assert all(m.sentence in split_sentences(text) for m in found)
