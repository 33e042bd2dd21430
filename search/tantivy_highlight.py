"""Finding where a query matched in a hit's page text.

tantivy's SnippetGenerator finds the best region of a long text fast (rarest matched words);
the words around it are then re-checked here, so every query word in the shown window is
marked (tantivy cuts its fragments at fixed places) and near misses of fuzzy words are marked
too. ``search.snippets`` picks the window, escapes the text and adds the ``<mark>`` tags.
"""

from __future__ import annotations

import re

import tantivy
from rapidfuzz import process
from rapidfuzz.distance import OSA

from search.snippets import SNIPPET_CHARS, PagedText, leading_snippet, snippet_from_matches
from search.tantivy_query import HighlightTerms
from search.tantivy_schema import F_BODY

__all__ = ["Highlighter"]

# The same split as tantivy's simple tokenizer: runs of letters and digits.
_TOKEN = re.compile(r"[^\W_]+")


class Highlighter:
    """Snippets for the hits of one search (one searcher, one query)."""

    def __init__(
        self,
        searcher: tantivy.Searcher,
        schema: tantivy.Schema,
        words: tantivy.TextAnalyzer,
        terms: HighlightTerms,
        width: int = SNIPPET_CHARS,
    ) -> None:
        self._searcher = searcher
        self._schema = schema
        self._words = words
        self._terms = terms
        self._width = width
        self._exact = self._generator(terms.all_words)
        self._decided: dict[str, bool] = {}

    def _generator(self, words: set[str]) -> tantivy.SnippetGenerator | None:
        if not words:
            return None
        query = tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, tantivy.Query.term_query(self._schema, F_BODY, w)) for w in sorted(words)]
        )
        generator = tantivy.SnippetGenerator.create(self._searcher, query, self._schema, F_BODY)
        generator.set_max_num_chars(2 * self._width)
        return generator

    def snippet(self, pages: list[tuple[int, str]]) -> tuple[str, int | None]:
        """(HTML snippet, page number) for a hit with these (page number, text) pairs."""
        paged = PagedText.from_pages(pages)
        region = _region(self._exact, paged.text)
        if region is None and self._terms.fuzzy:
            region = _region(self._generator(self._near_words(paged.text)), paged.text)
        if region is None:
            return leading_snippet(paged, self._width)
        _, page_start, page_end = paged.page_of(region[0])
        low = max(page_start, region[0] - self._width)
        high = min(page_end, region[1] + self._width)
        matches = self._matches(paged.text, low, high) or [region]
        return snippet_from_matches(paged, matches, self._width)

    def _near_words(self, text: str) -> set[str]:
        vocabulary = list(set(self._words.analyze(text)))
        near: set[str] = set()
        for word, distance in self._terms.fuzzy:
            found = process.extract(word, vocabulary, scorer=OSA.distance, score_cutoff=distance, limit=None)
            near.update(choice for choice, _, _ in found)
        return near

    def _matches(self, text: str, low: int, high: int) -> list[tuple[int, int]]:
        """Character ranges of the query's words, whole phrases and near misses of fuzzy
        words in text[low:high]."""
        tokens: list[tuple[str, tuple[int, int]]] = []
        for token in _TOKEN.finditer(text, low, high):
            analysed = self._words.analyze(token.group())
            if analysed:
                tokens.append((analysed[0], token.span()))
        found = {span for word, span in tokens if self._wanted(word)}
        words = [word for word, _ in tokens]
        for phrase in self._terms.phrases:
            size = len(phrase)
            for i in range(len(words) - size + 1):
                if tuple(words[i : i + size]) == phrase:
                    found.update(span for _, span in tokens[i : i + size])
        return sorted(found)

    def _wanted(self, word: str) -> bool:
        wanted = self._decided.get(word)
        if wanted is None:  # hits share most words: decide each once per search
            wanted = word in self._terms.exact or any(
                abs(len(word) - len(target)) <= distance
                and OSA.distance(word, target, score_cutoff=distance) <= distance
                for target, distance in self._terms.fuzzy
            )
            self._decided[word] = wanted
        return wanted


def _region(generator: tantivy.SnippetGenerator | None, text: str) -> tuple[int, int] | None:
    """Character range, in ``text``, of the matched words of tantivy's best fragment."""
    if generator is None or not text:
        return None
    snippet = generator.snippet_from_doc(tantivy.Document(**{F_BODY: text}))
    highlighted = snippet.highlighted()
    if not highlighted:
        return None
    base = snippet.fragment_range().start
    start = base + min(r.start for r in highlighted)
    end = base + max(r.end for r in highlighted)
    if text.isascii():
        return start, end
    # tantivy reports byte offsets into the UTF-8 text; snippets work in characters.
    data = text.encode("utf-8")
    return len(data[:start].decode("utf-8", "ignore")), len(data[:end].decode("utf-8", "ignore"))
