"""Turning page text plus match positions into an HTML-safe snippet.

Backend-neutral: a backend finds *where* the query matched (character ranges in the joined
page text); this module picks the window to show, escapes the untrusted OCR text and wraps the
matches in ``<mark>``. Only ``<mark>`` and ``</mark>`` in the output are markup.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import Sequence

__all__ = ["SNIPPET_CHARS", "PAGE_SEPARATOR", "PagedText", "snippet_from_matches", "leading_snippet"]

SNIPPET_CHARS = 200  # visible characters in a snippet, about two lines of a result list
PAGE_SEPARATOR = "\n\n"
_MAX_LEAD = 80  # context shown before the first match, at most
_WORD_SNAP = 20  # how far a window edge may move to avoid cutting a word in half
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # OCR/PDF junk that must not reach HTML
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class PagedText:
    """Page texts joined with ``PAGE_SEPARATOR``, remembering where each page starts."""

    text: str
    starts: tuple[int, ...]
    numbers: tuple[int, ...]

    @classmethod
    def from_pages(cls, pages: Sequence[tuple[int, str]]) -> "PagedText":
        starts, parts, at = [], [], 0
        for _, text in pages:
            starts.append(at)
            parts.append(text)
            at += len(text) + len(PAGE_SEPARATOR)
        return cls(PAGE_SEPARATOR.join(parts), tuple(starts), tuple(n for n, _ in pages))

    def page_of(self, offset: int) -> tuple[int, int, int]:
        """(page number, start, end) of the page holding character ``offset``."""
        i = max(0, bisect_right(self.starts, offset) - 1)
        end = self.starts[i + 1] - len(PAGE_SEPARATOR) if i + 1 < len(self.starts) else len(self.text)
        return self.numbers[i], self.starts[i], end


def _last_space(text: str, lo: int, hi: int) -> int | None:
    found = None
    for found in _SPACES.finditer(text, lo, hi):
        pass
    return found.start() if found else None


def _escape(text: str) -> str:
    return html.escape(_SPACES.sub(" ", _CONTROL.sub(" ", text)), quote=True)


def _best_cluster(
    paged: PagedText, matches: Sequence[tuple[int, int]], width: int
) -> tuple[int, list[tuple[int, int]]]:
    """The run of matches on one page that fits in ``width`` and holds the most distinct words."""
    best: tuple[tuple[int, int], int, list[tuple[int, int]]] | None = None
    for i, (start, _) in enumerate(matches):
        _, _, page_end = paged.page_of(start)
        run = [matches[i]] + [(s, e) for s, e in matches[i + 1 :] if e <= min(start + width, page_end)]
        words = {paged.text[s:e].lower() for s, e in run}
        rank = (len(words), len(run))
        if best is None or rank > best[0]:
            best = (rank, i, run)
    assert best is not None
    return best[1], best[2]


def snippet_from_matches(
    paged: PagedText, matches: Sequence[tuple[int, int]], width: int = SNIPPET_CHARS
) -> tuple[str, int | None]:
    """(HTML snippet, page number) around the best cluster of ``matches`` (char ranges)."""
    ordered: list[tuple[int, int]] = []
    for start, end in sorted(matches):
        if end > start and (not ordered or start >= ordered[-1][1]):  # drop overlaps
            ordered.append((start, end))
    if not ordered:
        return leading_snippet(paged, width)
    _, run = _best_cluster(paged, ordered, width)
    first, last_end = run[0][0], run[-1][1]
    page, page_start, page_end = paged.page_of(first)
    lead = min(_MAX_LEAD, max(0, (width - (last_end - first)) // 2))
    start = max(page_start, first - lead)
    end = min(page_end, max(start + width, last_end))
    if end - start < width:
        start = max(page_start, end - width)
    text = paged.text
    if start > page_start:  # begin after a space rather than inside a word
        space = _SPACES.search(text, start, min(first, start + _WORD_SNAP))
        if space:
            start = space.end()
    if end < page_end:  # and stop at a space
        cut = _last_space(text, max(last_end, end - _WORD_SNAP), end)
        if cut is not None:
            end = cut
    parts: list[str] = ["…"] if start > page_start else []
    at = start
    for s, e in ordered:
        if s < start or e > end:
            continue
        parts.append(_escape(text[at:s]))
        parts.append("<mark>" + _escape(text[s:e]) + "</mark>")
        at = e
    parts.append(_escape(text[at:end]))
    if end < page_end:
        parts.append("…")
    return "".join(parts).strip(), page


def leading_snippet(paged: PagedText, width: int = SNIPPET_CHARS) -> tuple[str, int | None]:
    """The start of the first page that has text (for matches the backend cannot place,
    such as pure filters like ``type:invoice``)."""
    for number, start in zip(paged.numbers, paged.starts):
        _, _, end = paged.page_of(start)
        body = paged.text[start:end].strip()
        if not body:
            continue
        if len(body) <= width:
            return _escape(body).strip(), number
        cut = _last_space(body, width - _WORD_SNAP, width)
        return _escape(body[: width if cut is None else cut]).strip() + "…", number
    return "", None
