import json

import pytest

from csintel.text import (
    content_hash, customer_text, html_to_text, looks_like_html, redact_pii, short_quote, split_sentences, strip_noise,
)

ODD_INPUTS = ["", " \n\t ", "😀" * 50, "!" * 100_000, "?" * 100_000, "a." * 50_000,
              "日本語のテキストです。これは二番目の文です。", "Привет, мир!", "x" * 200_000,
              "<<<>>>&&&;;", "a\x00b\r\nc", "\u200b\u00a0"]


# --- html_to_text -----------------------------------------------------------------------------

def test_html_blocks_become_lines_and_entities_unescape():
    html = "<div>Hello&nbsp;there &amp; you</div><p>Second<br>Third</p><ul><li>one</li><li>two</li></ul>"
    assert html_to_text(html) == "Hello there & you\nSecond\nThird\none\ntwo"


def test_html_scripts_and_styles_dropped():
    html = "<html><head><style>p {color: red}</style></head><body><p>Kept</p><script>alert('x')</script></body></html>"
    assert html_to_text(html) == "Kept"


def test_html_malformed_degrades_to_text():
    assert html_to_text("<p>Unclosed <b>bold &lt;tag&gt;") == "Unclosed bold <tag>"


def test_looks_like_html():
    assert looks_like_html("<p>hi</p>")
    assert looks_like_html("a&nbsp;b")
    assert not looks_like_html("if a < b and c > d")


# --- strip_noise ------------------------------------------------------------------------------

EMAIL_THREAD = """Hi team,

The export fails every time with HTTP 504.
We need this fixed before Friday.

Thanks,
Maria Lopez
Head of Operations | Acme Corp
+1 (415) 555-0132

On Mon, Jan 5, 2026 at 10:00 AM Support <support@example.com> wrote:
> Could you describe the issue?
> Thanks
"""


def test_strip_noise_drops_greeting_signoff_signature_and_quote():
    assert strip_noise(EMAIL_THREAD) == "The export fails every time with HTTP 504.\nWe need this fixed before Friday."


@pytest.mark.parametrize("header", [
    "-----Original Message-----\nFrom: Support\nSent: Monday\nSubject: Re: x",
    "From: Support <s@example.com>\nSent: Monday, January 5, 2026 10:00\nTo: Maria",
    "From: Support <s@example.com> Sent: Monday, January 5, 2026",
    "On Mon, Jan 5, 2026 at 10:00 AM Support <s@example.com>\nwrote:",
    "________________________________\nFrom: Support",
])
def test_strip_noise_cuts_reply_headers(header):
    assert strip_noise(f"Sync is broken again.\n{header}\nOld quoted text here.") == "Sync is broken again."


def test_strip_noise_drops_quoted_lines_and_mobile_footer_and_sig_delimiter():
    text = "Still failing.\n> old reply\nSent from my iPhone\n-- \nMaria\nAcme"
    assert strip_noise(text) == "Still failing."


def test_strip_noise_keeps_thanks_that_is_content():
    assert strip_noise("Thanks, that fixed it!") == "Thanks, that fixed it!"
    assert strip_noise("Hello Sarah,\nIt works now, thanks!") == "It works now, thanks!"


def test_strip_noise_keeps_content_after_a_closing_word():
    text = "The sync is broken.\nThanks,\nI tried again and the sync still fails with an error"
    assert strip_noise(text) == text


def test_strip_noise_greeting_on_same_line():
    assert strip_noise("Hi team, the export is broken.") == "The export is broken."
    assert strip_noise("Hi John the export is broken") == "Hi John the export is broken"


# --- customer_text ----------------------------------------------------------------------------

def test_customer_text_combines_customer_words_only():
    comments = [
        {"author_role": "end-user", "body": "Hi,\nThe export is broken.\nThanks,\nMaria", "public": True},
        {"author_role": "agent", "body": "Have you tried clearing the cache?", "public": True},
        {"author_role": "end_user", "body": "Still broken after clearing it!!", "public": True},
        {"author_role": "customer", "body": "internal-looking note", "public": False},
        {"author_role": "requester", "body": "<p>Any update?</p>"},
    ]
    body = "<p>Hi team,</p><p>The export is broken.</p><p>Thanks,<br>Maria</p>"
    assert customer_text("Re: Export broken", body, comments) == (
        "Export broken\nThe export is broken.\nStill broken after clearing it!!\nAny update?"
    )


def test_customer_text_accepts_json_comments_and_ignores_plain_strings():
    comments = [{"author_role": "customer", "body": "Second message", "public": True}]
    assert customer_text(None, "First", json.dumps(comments)) == "First\nSecond message"
    assert customer_text(None, "First", "agent: hello\ncustomer: hi") == "First"


def test_customer_text_none_and_odd_values():
    assert customer_text(None, None, None) == ""
    assert customer_text("", "", []) == ""
    assert customer_text("Subject", None, [None, 3, {"body": "no role"}]) == "Subject"


def test_customer_text_normalises_whitespace():
    text = customer_text("  Login   fails ", "It   fails\u00a0 on\tSSO.\n\n\n Really.")
    assert text == "Login fails\nIt fails on SSO.\nReally."


# --- redact_pii -------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("mail maria.lopez+crm@acme-corp.co.uk now", "mail [email] now"),
    ("call (415) 555-0132 today", "call [phone] today"),
    ("call +44 20 7946 0958 today", "call [phone] today"),
    ("call 415.555.0132 today", "call [phone] today"),
    ("call 415-555-0132.", "call [phone]."),
    ("card 4111 1111 1111 1111 please", "card [card] please"),
    ("card 4111-1111-1111-1111 please", "card [card] please"),
    ("server 10.0.0.12 and 2001:db8::8a2e:370:7334.", "server [ip] and [ip]."),
    ("Hi John,\nthe sync fails", "Hi [name],\nthe sync fails"),
    ("Hello Sarah Connor! It fails", "Hello [name]! It fails"),
    ("It fails.\nThanks,\nMaria Lopez", "It fails.\nThanks,\n[name]"),
    ("It fails.\nBest regards,\nMaria", "It fails.\nBest regards,\n[name]"),
    ("It fails.\nCheers, Maria", "It fails.\nCheers, [name]"),
    ("My name is Maria Lopez and I run ops", "My name is [name] and I run ops"),
])
def test_redact_pii_redacts(text, expected):
    assert redact_pii(text) == expected


@pytest.mark.parametrize("text", [
    "ticket #48213 and TW-10234",
    "HTTP 504 and SYNC-409 since 2026-01-15",
    "at 10:30 or 10:30:45 on 01/15/2026 and 15.01.2026",
    "costs $1,299.00 or €49.99 per month",
    "upgrade to 2.13.0 or version 1.2.3.4",
    "we have 1,200 contacts and 35000 deals",
    "card-like but not Luhn: 4111 1111 1111 1112",
    "order 1234567890123",
    "Hi team, hi all, Hello there,",
    "Thanks,\nThe export still fails",
    "This is Urgent.",
])
def test_redact_pii_leaves_non_pii(text):
    assert redact_pii(text) == text


# --- content_hash -----------------------------------------------------------------------------

def test_content_hash_normalises_whitespace_and_is_16_hex():
    h = content_hash("Export  fails\n")
    assert h == content_hash(" Export fails") and len(h) == 16
    assert int(h, 16) >= 0
    assert content_hash("Export fails") != content_hash("Export works")
    assert content_hash("") == content_hash("   ")


# --- sentences and short_quote ----------------------------------------------------------------

def test_split_sentences_handles_abbreviations_and_lines():
    assert split_sentences("I tried e.g. the export. it failed!! Why?\nSubject line") == [
        "I tried e.g. the export.", "it failed!!", "Why?", "Subject line"]


def test_short_quote_is_the_preferred_sentence_alone():
    text = "First we set up the account. We are moving to HubSpot next quarter. Cost is the reason."
    assert short_quote(text, 200, prefer="hubspot") == "We are moving to HubSpot next quarter."
    assert short_quote(text, 200) == "First we set up the account."


def test_short_quote_says_a_repeated_subject_once_and_whole():
    assert short_quote("Half of my team... Half of my team is locked out after the SSO change.", 200) == \
        "Half of my team is locked out after the SSO change."
    assert short_quote("Is dark mode on the web app on the roadmap? Is dark mode on the roadmap?", 200) == \
        "Is dark mode on the web app on the roadmap?"
    # A subject line gives way to the complete sentence after it.
    assert short_quote("Export fails\nThe CSV export times out after 30 s.", 200) == \
        "The CSV export times out after 30 s."
    # ... unless only the subject line says the preferred words, or nothing complete follows.
    assert short_quote("CAL-503 on sync\nThe calendar is empty.", 200, prefer="CAL-503") == "CAL-503 on sync"
    assert short_quote("Export fails\nsee attached", 200) == "Export fails"


@pytest.mark.parametrize("text, quote", [
    ("My export fails. Got it, thanks.", "My export fails."),
    ("Hi there! The CSV export times out after 30 s.", "The CSV export times out after 30 s."),
    ("Ok great, thanks! Invoices show the old VAT number.", "Invoices show the old VAT number."),
    ("Thanks!", "Thanks!"),                                   # only a pleasantry: still quoted
    ("Thanks, the export works now.", "Thanks, the export works now."),
    ("Cost is the reason. Noted.", "Cost is the reason."),
])
def test_short_quote_never_spends_its_room_on_a_pleasantry(text: str, quote: str) -> None:
    assert short_quote(text, 200) == quote


def test_short_quote_cuts_at_word_boundary():
    quote = short_quote("word " * 100, 50)
    assert quote.endswith("…") and len(quote) <= 50 and quote[:-1].split() == ["word"] * len(quote[:-1].split())


def test_short_quote_windows_on_preferred_words_far_into_a_long_sentence():
    text = "This is a very long sentence " + "blah " * 60 + "and then HubSpot appears near the end."
    quote = short_quote(text, 80, prefer="HubSpot")
    assert quote.startswith("…") and "HubSpot" in quote and len(quote) <= 80


def test_short_quote_falls_back_to_first_sentence():
    assert short_quote("Alpha one. Beta two.", 200, prefer="missing") == "Alpha one."
    assert short_quote("", 200) == ""


# --- robustness -------------------------------------------------------------------------------

@pytest.mark.timeout(10)   # also guards against regexes that go quadratic on long runs
@pytest.mark.parametrize("text", ODD_INPUTS)
def test_text_functions_never_raise(text):
    assert isinstance(html_to_text(text), str)
    assert isinstance(strip_noise(text), str)
    assert isinstance(customer_text(text, text, [{"author_role": "customer", "body": text}]), str)
    assert isinstance(redact_pii(text), str)
    assert len(content_hash(text)) == 16
    assert len(short_quote(text, 120, prefer="x")) <= 120


def test_short_quote_is_the_body_sentence_after_a_subject_line():
    from csintel.text import short_quote

    quote = short_quote("dark theme please\nI was surprised to find there is no dark mode.", 180)
    assert quote == "I was surprised to find there is no dark mode."
