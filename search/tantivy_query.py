"""Compiling the query AST (``search.query``) to tantivy queries for the embedded index.

Scoring rules that the rest of the design relies on:

* a bare word matches the page text, the file name or any field value (a word may be found in
  any of them; every word must be found somewhere);
* a fuzzy match (OCR tolerance) adds at most ``FUZZY_SCORE`` and an exact match adds BM25 on
  top of it, so an exact match always outranks the same word matched only fuzzily;
* filters (type, id, dates, amounts) add nothing to the score: ranking is about the words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import tantivy
from tantivy import FieldType, Occur, Query

from search.fields import ANY_DATE, CREATED_AT, DOC_TYPE, ID, REVIEW, SHA256, SOURCE, TAGS
from search.query import And, DateRange, Keyword, Node, Not, NumberRange, Or, Phrase, Word
from search.tantivy_schema import (
    F_ANY_DATE,
    F_BODY,
    F_CREATED_AT,
    F_DOC_TYPE,
    F_FIELD_WORDS,
    F_ID,
    F_REVIEW,
    F_SHA256,
    F_SOURCE,
    F_SOURCE_EXACT,
    F_TAGS,
    day_start,
    exact_field,
    normalise_keyword,
)

__all__ = ["TantivyCompiler", "HighlightTerms", "FUZZY_SCORE", "EXACT_VALUE_BOOST"]

FUZZY_SCORE = 0.05  # below any BM25 contribution worth having; only orders fuzzy-only hits
EXACT_VALUE_BOOST = 2.0  # vendor:"acme corp" equal to the whole field value beats a mention
_BARE_FIELDS = (F_BODY, F_SOURCE, F_FIELD_WORDS)
_KEYWORD_FIELDS = {DOC_TYPE: F_DOC_TYPE, ID: F_ID, SHA256: F_SHA256, TAGS: F_TAGS, REVIEW: F_REVIEW}
_DATE_FIELDS = {ANY_DATE: F_ANY_DATE, CREATED_AT: F_CREATED_AT}


@dataclass
class HighlightTerms:
    """Words of the query to mark in snippets (negated parts excluded), analysed."""

    exact: set[str] = field(default_factory=set)  # single words, marked wherever they occur
    phrases: set[tuple[str, ...]] = field(default_factory=set)  # marked only as a whole
    fuzzy: set[tuple[str, int]] = field(default_factory=set)  # (word, edit distance)

    @property
    def all_words(self) -> set[str]:
        return self.exact.union(*self.phrases)


class TantivyCompiler:
    def __init__(
        self,
        schema: tantivy.Schema,
        words: tantivy.TextAnalyzer,
        keyword: tantivy.TextAnalyzer,
    ) -> None:
        self._schema = schema
        self._words = words
        self._keyword = keyword

    # ------------------------------------------------------------------ AST -> Query

    def compile(self, node: Node) -> Query | None:
        """The tantivy query for ``node``; None when nothing in it can match anything
        (e.g. words that are only punctuation), which callers treat as no results."""
        if isinstance(node, Word):
            return self._text(node.text, node.field, node.fuzziness, phrase=False)
        if isinstance(node, Phrase):
            return self._text(node.text, node.field, 0, phrase=True)
        if isinstance(node, Keyword):
            return self._filter(self._keyword_query(node))
        if isinstance(node, DateRange):
            return self._filter(self._date_query(node))
        if isinstance(node, NumberRange):
            return self._filter(self._number_query(node))
        if isinstance(node, And):
            return self._and(node.children)
        if isinstance(node, Or):
            parts = [q for q in map(self.compile, node.children) if q is not None]
            if not parts:
                return None
            return parts[0] if len(parts) == 1 else Query.boolean_query([(Occur.Should, q) for q in parts])
        if isinstance(node, Not):
            return self._and((node,))
        raise TypeError(f"not a query node: {node!r}")

    def _and(self, children: tuple[Node, ...]) -> Query | None:
        clauses: list[tuple[Occur, Query]] = []
        for child in children:
            if isinstance(child, Not):
                excluded = self.compile(child.child)
                if excluded is not None:
                    clauses.append((Occur.MustNot, excluded))
            else:
                required = self.compile(child)
                if required is not None:
                    clauses.append((Occur.Must, required))
        if not clauses:
            return None
        if all(occur == Occur.MustNot for occur, _ in clauses):
            # "-draft" alone means every document except drafts.
            clauses.insert(0, (Occur.Must, Query.all_query()))
        if len(clauses) == 1:
            return clauses[0][1]
        return Query.boolean_query(clauses)

    @staticmethod
    def _filter(query: Query) -> Query:
        return Query.const_score_query(query, 0.0)

    def _text(self, text: str, field_name: str | None, fuzziness: int, phrase: bool) -> Query | None:
        tokens = self._words.analyze(text)
        if not tokens:
            return None
        if field_name is None:
            fields, exact = _BARE_FIELDS, None
        elif field_name == SOURCE:
            fields, exact = (F_SOURCE,), F_SOURCE_EXACT
        else:
            fields, exact = (field_name,), exact_field(field_name)
        clauses: list[tuple[Occur, Query]] = []
        if len(tokens) == 1:
            for name in fields:
                clauses.append((Occur.Should, Query.term_query(self._schema, name, tokens[0])))
            # Fuzzy on one field: the page text for bare words (OCR errors live there, not in
            # file names), else the field itself. A distance-2 automaton costs about 1 ms per
            # field at 100k documents, so not on every field.
            fuzzy_field = fields[0]
            if fuzziness and not phrase and fuzzy_field != F_SOURCE:
                fuzzy = Query.fuzzy_term_query(self._schema, fuzzy_field, tokens[0], fuzziness, True, False)
                # Constant score, below any exact match: see module doc.
                clauses.append((Occur.Should, Query.const_score_query(fuzzy, FUZZY_SCORE)))
        else:
            for name in fields:
                clauses.append((Occur.Should, Query.phrase_query(self._schema, name, tokens)))
        if exact is not None:
            value = self._keyword.analyze(normalise_keyword(text))
            if value:
                term = Query.term_query(self._schema, exact, value[0], index_option="basic")
                clauses.append((Occur.Should, Query.boost_query(term, EXACT_VALUE_BOOST)))
        return clauses[0][1] if len(clauses) == 1 else Query.boolean_query(clauses)

    def _keyword_query(self, node: Keyword) -> Query:
        name = _KEYWORD_FIELDS[node.field]
        if name == F_ID:
            value = node.value  # ids are case-sensitive and stored raw
        else:
            analysed = self._keyword.analyze(normalise_keyword(node.value))
            value = analysed[0] if analysed else ""
        return Query.term_query(self._schema, name, value, index_option="basic")

    def _date_query(self, node: DateRange) -> Query:
        name = _DATE_FIELDS.get(node.field, node.field)
        return Query.range_query(
            self._schema,
            name,
            FieldType.Date,
            _day(node.start),
            _day(node.end),
            include_lower=True,
            # The AST's end is the first day *after* the range. tantivy wants open ends inclusive.
            include_upper=node.end is None,
        )

    def _number_query(self, node: NumberRange) -> Query:
        return Query.range_query(
            self._schema,
            node.field,
            FieldType.Float,
            node.low,
            node.high,
            include_lower=node.include_low or node.low is None,
            include_upper=node.include_high or node.high is None,
        )

    # ------------------------------------------------------------------ snippets

    def highlight_terms(self, node: Node | None) -> HighlightTerms:
        """The words worth marking in the page text for ``node``."""
        terms = HighlightTerms()
        self._collect(node, terms)
        return terms

    def _collect(self, node: Node | None, terms: HighlightTerms) -> None:
        if isinstance(node, (And, Or)):
            for child in node.children:
                self._collect(child, terms)
        elif isinstance(node, (Word, Phrase)):
            tokens = self._words.analyze(node.text)
            if len(tokens) > 1:
                terms.phrases.add(tuple(tokens))
            elif tokens:
                terms.exact.add(tokens[0])
                if isinstance(node, Word) and node.fuzziness:
                    terms.fuzzy.add((tokens[0], node.fuzziness))
        # Not: excluded words are not what the user is looking for. Filters: not in the text.


def _day(day: date | None):
    return None if day is None else day_start(day)
