"""The page loops every helpdesk and CRM source shares, over `ApiClient` (which does the retries,
429 `Retry-After` waits and 5xx back-off of each request).

`cursor_pages` follows a list's "next" cursor or link to its end; `watermark_page` turns one
listed page of an `updated_at`-ordered export into the `Page` to store, the watermark moved past it.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

from csintel.sources import Page, RawRow
from csintel.sources.watermark import Watermark

Payload = dict[str, Any]


def cursor_pages(fetch: Callable[[str | None], Payload], next_cursor: Callable[[Payload], str | None],
                 first: str | None = None) -> Iterator[Payload]:
    """Each page of a cursor-paged list: `fetch(first)`, then `fetch(cursor)` for as long as the
    page just read names a next one (`next_cursor` returns None or "" on the last page).

    The next page is asked for only when the caller wants it, so a caller that stores each page
    before taking the next never requests past what it has kept.
    """
    cursor = first
    while True:
        data = fetch(cursor)
        yield data
        cursor = next_cursor(data)
        if not cursor:
            return


def watermark_page(mark: Watermark, origin: str, listed: list[Payload], updated_at: Callable[[Payload], int],
                   row: Callable[[Payload], Payload | None]) -> Page | None:
    """The page to store from one listed page (oldest update first), or None when it moved nothing.

    Items the mark has passed are dropped; each other one becomes `row(item)` (None: not kept, e.g.
    not closed yet; it comes back with its next update) and moves the mark past it. Row numbers
    are positions in `listed`, 1-based.
    """
    before = mark.state()
    rows = []
    for n, item in enumerate(listed, start=1):
        item_id, at = str(item["id"]), updated_at(item)
        if not mark.admits(at, item_id):
            continue
        kept = row(item)
        if kept is not None:
            rows.append(RawRow(origin, n, kept))
        mark.advance(at, item_id)
    if rows or mark.state() != before:
        return Page(rows, mark.state())
    return None
