"""Snippets for Elasticsearch hits, the same as the embedded index's.

Elasticsearch's highlighter decides *which* words matched (its own analysis, phrase positions,
fuzzy expansions). It is asked for whole pages (``number_of_fragments: 0``: one highlighted value
per matching page) with ``<mark>`` tags and the ``html`` encoder; this module reads the marked
character ranges back out of that and hands them to ``search.snippets``, which picks the ~200
character window, escapes the text and adds the tags, exactly as for the embedded index. So the
window, the ellipses and the page number are computed the same way for both backends, and the
escaping of untrusted OCR text never depends on what the server returned: the text shown is
re-escaped from the page text in ``_source``.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from typing import Any, Sequence

from search.es_mapping import F_BODY, F_PAGE_NUMBERS
from search.snippets import SNIPPET_CHARS, PagedText, leading_snippet, snippet_from_matches

__all__ = ["MARK_OPEN", "MARK_CLOSE", "highlight_request", "snippet_for_hit", "marked_ranges"]

MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"
_TAG = re.compile(f"({re.escape(MARK_OPEN)}|{re.escape(MARK_CLOSE)})")
_TOKEN = re.compile(r"[^\W_]+")  # a marked phrase is marked word by word, as in the embedded index
# Elasticsearch refuses to highlight text longer than index.highlight.max_analyzed_offset
# (1,000,000 characters) unless the request says to stop there; a 600-page scan is such a text.
MAX_ANALYZED_OFFSET = 999_999


def highlight_request(query: dict[str, Any]) -> dict[str, Any]:
    """The ``highlight`` part of a search body for ``query`` (see ``EsQueryCompiler.highlight_query``)."""
    return {
        "type": "unified",
        "pre_tags": [MARK_OPEN],
        "post_tags": [MARK_CLOSE],
        "encoder": "html",  # so a literal "<mark>" in OCR text cannot pass for a tag
        "max_analyzed_offset": MAX_ANALYZED_OFFSET,
        "fields": {F_BODY: {"number_of_fragments": 0, "highlight_query": query}},
    }


def marked_ranges(highlighted: str) -> tuple[str, list[tuple[int, int]]]:
    """(plain text, character ranges of its marked words) of one html-encoded highlighted value."""
    plain: list[str] = []
    ranges: list[tuple[int, int]] = []
    at, opened = 0, None
    for part in _TAG.split(highlighted):
        if part == MARK_OPEN:
            opened = at
        elif part == MARK_CLOSE:
            if opened is not None:
                ranges.append((opened, at))
            opened = None
        elif part:
            text = html.unescape(part)  # the text was html-encoded: '<' in it is '&lt;', never a tag
            plain.append(text)
            at += len(text)
    text = "".join(plain)
    words = [word.span() for start, end in ranges for word in _TOKEN.finditer(text, start, end)]
    return text, words


def _page_matches(pages: Sequence[str], highlighted: Sequence[str]) -> list[tuple[int, list[tuple[int, int]]]]:
    """(page index, ranges) for each highlighted value, found by its text among the pages."""
    out: list[tuple[int, list[tuple[int, int]]]] = []
    used: set[int] = set()
    for value in highlighted:
        text, ranges = marked_ranges(value)
        if not ranges:
            continue
        candidates = [i for i, page in enumerate(pages) if page == text and i not in used]
        if candidates:
            used.add(candidates[0])
            out.append((candidates[0], ranges))
            continue
        # Not expected (the highlighter returns the value it was given); keep what can be placed.
        for i, page in enumerate(pages):
            offset = page.find(text) if text else -1
            if offset >= 0:
                out.append((i, [(s + offset, e + offset) for s, e in ranges]))
                break
    return out


def _focus(paged: PagedText, matches: list[tuple[int, int]], width: int) -> list[tuple[int, int]]:
    """The matches around the densest ``width`` characters of one page (most distinct words).

    ``snippet_from_matches`` compares every run of matches (quadratic); a common word on a long
    document has thousands, so it gets the best region plus a window's worth around it, which is
    also what the embedded index gives it."""
    if len(matches) <= 64:
        return matches
    text = paged.text
    words = [text[s:e].lower() for s, e in matches]
    pages = [paged.page_of(s)[0] for s, _ in matches]
    counts: Counter[str] = Counter()
    best, best_rank, lo = 0, (0, 0), 0
    for hi, (start, end) in enumerate(matches):
        counts[words[hi]] += 1
        while lo < hi and (pages[lo] != pages[hi] or end - matches[lo][0] > width):
            counts[words[lo]] -= 1
            if not counts[words[lo]]:
                del counts[words[lo]]
            lo += 1
        rank = (len(counts), hi - lo + 1)
        if rank > best_rank:
            best, best_rank = lo, rank
    first = matches[best][0]
    page = pages[best]
    return [(s, e) for (s, e), p in zip(matches, pages) if p == page and first - width <= s and e <= first + 2 * width]


def snippet_for_hit(source: dict[str, Any], highlight: dict[str, list[str]] | None,
                    width: int = SNIPPET_CHARS) -> tuple[str, int | None]:
    """(HTML snippet, page number) of one hit, from its ``_source`` and ``highlight``."""
    texts: list[str] = list(source.get(F_BODY) or [])
    numbers: list[int] = list(source.get(F_PAGE_NUMBERS) or range(1, len(texts) + 1))
    paged = PagedText.from_pages(list(zip(numbers, texts)))
    matches = [
        (paged.starts[i] + s, paged.starts[i] + e)
        for i, ranges in _page_matches(texts, (highlight or {}).get(F_BODY, []))
        for s, e in ranges
    ]
    if not matches:
        return leading_snippet(paged, width)
    return snippet_from_matches(paged, _focus(paged, sorted(matches), width), width)
