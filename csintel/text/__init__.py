"""Text preparation for untrusted customer text, one module per concern:

- `clean`: HTML to text, quoted replies, signatures and greetings off (`customer_text`), content hashes;
- `pii`: redaction of e-mail addresses, phone and card numbers, IP addresses and names;
- `sentences`: the one sentence segmenter every caller uses;
- `quotes`: short quotes of one or two whole sentences.

Callers import from `csintel.text`; the names below are its public surface.
"""

from csintel.text.clean import content_hash, customer_text, html_to_text, looks_like_html, normalise_for_hash, strip_noise
from csintel.text.pii import EMAIL, PHONE, redact_pii
from csintel.text.quotes import short_quote
from csintel.text.sentences import sentence_spans, split_sentences

__all__ = [
    "EMAIL", "PHONE", "content_hash", "customer_text", "html_to_text", "looks_like_html", "normalise_for_hash",
    "redact_pii", "sentence_spans", "short_quote", "split_sentences", "strip_noise",
]
