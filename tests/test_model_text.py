import pytest

from csintel.model_text import ModelTextOptions, model_text, model_texts
from csintel.text import customer_text


def test_strips_handles_urls_hashtag_marks_and_keeps_the_subject():
    tweet = "@united thanks for nothing, flight 2 hrs late #fail http://t.co/abc123"
    assert model_text(tweet) == "thanks for nothing, flight 2 hrs late fail"


def test_strips_issue_template_and_html_comments():
    issue = ("### Describe the bug\n<!-- A clear and concise description -->\n"
             "Export to CSV times out with HTTP 504\n### Expected behavior\nIt downloads\n"
             "- [x] I searched existing issues")
    assert model_text(issue) == "Export to CSV times out with HTTP 504\nIt downloads"


def test_ticket_refs_go_but_error_codes_and_emails_stay():
    assert model_text("Ticket #48213: invoice PDF download fails (CAL-503)") == "invoice PDF download fails (CAL-503)"
    assert model_text("INC0012345 is still open, see case 00123456") == "is still open, see"
    assert "jo@acme.com" in model_text("Please reply to jo@acme.com about the export")


def test_greetings_and_signatures_go():
    assert model_text("Hi team,\nmy export fails again\nThanks,\nBob") == "my export fails again"


@pytest.mark.parametrize("text", ["hello there", "https://acme.com/help", "@AppleSupport", "Thanks!"])
def test_nothing_but_scaffolding_keeps_a_text(text):
    assert model_text(text) == text


def test_options_choose_what_goes():
    text = "@acme see https://acme.com/x #12345"
    assert model_text(text, ModelTextOptions.only(["urls"])) == "@acme see #12345"
    assert model_text(text, ModelTextOptions.only([])) == text
    with pytest.raises(ValueError, match="unknown text part"):
        ModelTextOptions.only(["emoji"])


def test_greeting_only_ticket_keeps_its_words():
    assert customer_text("hello there", None) == "hello there"
    assert customer_text(None, "Hi team,") == "Hi team,"
    assert customer_text("Hi,", "my export fails\nThanks,\nBob") == "my export fails"


def template_window() -> list[str]:
    # An issue template's fixed answers under every ticket, with each ticket's own subject; a
    # one-line ticket that happens to say "No response"; a ticket of nothing but the template.
    words = ["invoice", "login", "export", "calendar", "webhook", "billing", "search", "upload", "sync", "alerts"]
    subjects = [f"{w} broken on {where}" for w in words for where in ("mobile", "desktop")]
    template = "No response\nOS version: Windows_NT x64 10.0.{n}\nEvery time"
    return ([f"{s}\n{template.format(n=22000 + i)}" for i, s in enumerate(subjects)]
            + ["No response", template.format(n=1)])


def test_lines_many_tickets_of_a_window_share_are_not_what_they_are_about():
    seen = model_texts(template_window())
    assert seen[0] == "invoice broken on mobile"
    assert seen[3] == "login broken on desktop"
    assert seen[20] == "No response"                      # one line: nothing to tell it from
    assert seen[21] == template_window()[21]               # only shared lines: kept whole


def test_shared_lines_need_enough_tickets_and_can_be_kept():
    few = template_window()[:4]                              # 4 tickets share them: chance, not a template
    assert model_texts(few) == [model_text(t) for t in few]
    keep = ModelTextOptions(repeated_lines=False)
    assert model_texts(template_window(), keep) == [model_text(t, keep) for t in template_window()]
