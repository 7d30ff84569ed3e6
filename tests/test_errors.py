import pytest

from csintel.classify.errors import IGNORE_PREFIXES, extract_errors


@pytest.mark.parametrize("text, expected", [
    ("The API returns HTTP 500 on save", ["HTTP 500"]),
    ("500 Internal Server Error when exporting", ["HTTP 500"]),
    ("getting error 502 again", ["HTTP 502"]),
    ("504 gateway timeout on the dashboard", ["HTTP 504"]),
    ("status code 429 from your API", ["HTTP 429"]),
    ("HTTP/1.1 503 Service Unavailable", ["HTTP 503"]),
    ("we got a 500 from the API", ["HTTP 500"]),
    ("a 404 error on the invoice page", ["HTTP 404"]),
    ("Error: 403 Forbidden", ["HTTP 403"]),
    ("Sync fails with SYNC-409", ["SYNC-409"]),
    ("CAL-503 error on the calendar", ["CAL-503"]),
    ("login fails: ERR_AUTH_EXPIRED", ["ERR_AUTH_EXPIRED"]),
    ("Chrome says net::ERR_CONNECTION_REFUSED", ["ERR_CONNECTION_REFUSED"]),
    ("RATE_LIMIT_EXCEEDED after 10 calls", ["RATE_LIMIT_EXCEEDED"]),
    ("the app shows E1234", ["E1234"]),
    ("asyncio.TimeoutError in the worker", ["TimeoutError"]),
    ("java.lang.NullPointerException at line 3", ["NullPointerException"]),
    ("socket hang up ECONNRESET then ETIMEDOUT", ["ECONNRESET", "ETIMEDOUT"]),
])
def test_extracts_errors(text, expected):
    assert extract_errors(text) == expected


def test_unique_in_order_of_appearance():
    text = "SYNC-409 then HTTP 500, then 500 Internal Server Error, SYNC-409 again and TimeoutError"
    assert extract_errors(text) == ["SYNC-409", "HTTP 500", "TimeoutError"]


@pytest.mark.parametrize("text", [
    "we have 500 contacts",
    "planned for 2026",
    "it costs $500 or €502 a month",
    "ticket TW-10234, account ACC-88 and invoice INV-2024-001",
    "since 2026-01-15 and 01/15/2026",
    "call 415-555-0132",
    "upgrade from 2.13.0 to v2.14.1",
    "ISO-8601 dates in UTF-16 files, COVID-19 delays",
    "HTTP 200 OK",
    "we imported 404 deals and got 500 contacts back",
    "error 500500",
    "the Error page and a Timeout",
    "NEW_YEAR PROMO",
    "",
])
def test_not_errors(text):
    assert extract_errors(text) == []


def test_ignore_prefixes_constant():
    assert {"TW", "ACC", "INV"} <= set(IGNORE_PREFIXES)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("text", [
    "😀 HTTP 500 😀", "エラー HTTP 500 が発生", "HTTP 500 " + "x" * 100_000, "HTTP 500 " + "a." * 50_000,
])
def test_odd_inputs(text):
    assert extract_errors(text) == ["HTTP 500"]


# --- hard cases from data/eval ----------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("Mostly 502 and 503 errors since the deploy.", ["HTTP 502", "HTTP 503"]),            # chained statuses
    ("The API responds 500 Internal Server Error and sometimes 502.", ["HTTP 500", "HTTP 502"]),
    ("504s all day on the dashboard.", ["HTTP 504"]),                                       # plural
    ("Gateway timeout (504) after 60 seconds", ["HTTP 504"]),                              # reason (code)
    ("the server responded with a status of 500", ["HTTP 500"]),
    ("sync-409 again this morning", ["SYNC-409"]),                                          # lower case, in context
    ("email sync error err_auth_expired", ["ERR_AUTH_EXPIRED"]),
    ("webhook failed with error code wh-5003", ["WH-5003"]),
    ("Error E-4012 shows up in the add-in.", ["E-4012"]),
])
def test_hard_errors(text, expected):
    assert extract_errors(text) == expected


@pytest.mark.parametrize("text", [
    "Support ticket SR-50012 was closed without an answer.",   # an id, by its prefix or the word before it
    "See case CASE-10234 for the history.",
    "Order ORD-55120 was double charged.",
    "Room E1204 is booked for the training.",
    "The discount code SPRING-2026 didn't apply.",
    "We use deal-12345 style slugs in our URLs.",              # lower case without an error nearby
    "Our first_name_missing column is empty in the export.",
    "We live in the 500s range of seats.",
])
def test_hard_non_errors(text):
    assert extract_errors(text) == []


# --- issue 14: an error needs an error context; ids are never errors; HTTP only from HTTP ----------
@pytest.mark.parametrize("text", [
    "Ticket NW-103994 is still open, any update?",
    "Still waiting on NW-103994, please escalate.",               # a ticket id with no id word before it
    "SAP system SID_34 is the one we connect from, and SID_35 is staging.",
    "Our SAP instance SID_34 cannot reach you, sync failed.",      # an error ticket, but SID_34 is the system
    "Follow-up on JIRA-5521: nothing changed.",
    "Please look at CAL-503 on the calendar.",                    # a code with no error near it
    "We are 409 users in total, please add seats.",
])
def test_ids_and_codes_without_an_error_are_not_errors(text):
    assert extract_errors(text) == []


@pytest.mark.parametrize("text, expected", [
    ("The sync failed with SYNC-409 again this morning.", ["SYNC-409"]),
    ("SYNC-409 error on every contact; see NW-104002 for logs.", ["SYNC-409"]),
    ("SYNC-409 on deals sync\nThe integration reports SYNC-409 conflicts.", ["SYNC-409"]),
    ("Our export returns HTTP 409 Conflict when two users save.", ["HTTP 409"]),
])
def test_codes_in_an_error_context(text, expected):
    assert extract_errors(text) == expected


@pytest.mark.parametrize("text", [
    "SYNC-409 error on every contact",
    "sync failed: SYNC-409 (status conflict)",
    "we keep seeing CAL-409 errors",
])
def test_http_status_never_from_another_code(text):
    assert not any(e.startswith("HTTP") for e in extract_errors(text))


def test_error_rules_are_data():
    from csintel.classify.errors import RULES_FILE, _load_rules

    assert RULES_FILE.parent.name == "rules" and "SID" in IGNORE_PREFIXES
    assert {"ignore_prefixes", "error_context"} <= set(_load_rules())


def test_an_error_word_counts_within_its_sentence_as_the_shared_segmenter_reads_it():
    # csintel.text's sentences: "e.g." and "approx." end none, a full stop does.
    assert extract_errors("Sync error, e.g. sync-409 on every save") == ["SYNC-409"]
    assert extract_errors("Sync error on every save approx. sync-409") == ["SYNC-409"]
    assert extract_errors("The sync had an error yesterday. sync-409 is our team's name") == []
