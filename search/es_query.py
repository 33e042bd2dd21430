"""Compiling the query AST (``search.query``) to Elasticsearch query DSL.

The same scoring rules as the embedded index (``search.tantivy_query``), so both rank alike:

* a bare word matches the page text, the file name or any field value (``bool`` ``should``
  over the three); every word of the query must be found somewhere (``must``);
* a fuzzy match (OCR tolerance) is a ``constant_score`` of ``FUZZY_SCORE``, below any BM25
  contribution, so an exact match always outranks the same word matched only fuzzily;
* a word the analyser splits (``INV-2018-001``) is a ``match_phrase`` of its parts;
* a field value equal to the whole field (``.exact`` keyword) is boosted;
* filters (type, id, dates, amounts) go to ``bool.filter``: they add nothing to the score.

Splitting a word into tokens is decided here with the same rule as the index analyser (runs of
letters and digits), only to choose between ``match`` and ``match_phrase`` and to drop
punctuation-only words; the server analyses the text itself.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from search.es_mapping import (
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
    exact_subfield,
)
from search.fields import ANY_DATE, CREATED_AT, DOC_TYPE, ID, REVIEW, SHA256, SOURCE, TAGS
from search.query import And, DateRange, Keyword, Node, Not, NumberRange, Or, Phrase, Word
from search.tantivy_schema import normalise_keyword

__all__ = ["EsQueryCompiler", "FUZZY_SCORE", "EXACT_VALUE_BOOST", "FUZZY_MAX_EXPANSIONS", "word_tokens"]

FUZZY_SCORE = 0.05  # as in the embedded index: only orders fuzzy-only hits
EXACT_VALUE_BOOST = 2.0  # vendor:"acme corp" equal to the whole field value beats a mention
# Terms a fuzzy word may expand to. Elasticsearch's default (50) can miss the right word in a
# large vocabulary of OCR variants; more costs a little per fuzzy word.
FUZZY_MAX_EXPANSIONS = 128
_BARE_FIELDS = (F_BODY, F_SOURCE, F_FIELD_WORDS)
_KEYWORD_FIELDS = {DOC_TYPE: F_DOC_TYPE, ID: F_ID, SHA256: F_SHA256, TAGS: F_TAGS, REVIEW: F_REVIEW}
_DATE_FIELDS = {ANY_DATE: F_ANY_DATE, CREATED_AT: F_CREATED_AT}
# Letters and digits: the same split as the index's pattern tokenizer ([^\p{L}\p{N}]+).
_TOKEN = re.compile(r"[^\W_]+")

Query = dict[str, Any]


def word_tokens(text: str) -> list[str]:
    """The words the index analyser makes of ``text`` (before lower-casing and folding)."""
    return _TOKEN.findall(text)


def _bool(**clauses: list[Query]) -> Query:
    return {"bool": {occur: queries for occur, queries in clauses.items() if queries}}


def _any_of(queries: list[Query]) -> Query:
    if len(queries) == 1:
        return queries[0]
    return {"bool": {"should": queries, "minimum_should_match": 1}}


class EsQueryCompiler:
    """AST -> query DSL (``compile``) and the query that marks words in snippets (``highlight_query``)."""

    # ------------------------------------------------------------------ AST -> query

    def compile(self, node: Node) -> Query | None:
        """The query for ``node``; None when nothing in it can match anything (e.g. words that are
        only punctuation), which callers treat as no results."""
        if isinstance(node, Word):
            return self._text(node.text, node.field, node.fuzziness, phrase=False)
        if isinstance(node, Phrase):
            return self._text(node.text, node.field, 0, phrase=True)
        if isinstance(node, Keyword):
            return _bool(filter=[self._keyword_query(node)])
        if isinstance(node, DateRange):
            return _bool(filter=[self._date_query(node)])
        if isinstance(node, NumberRange):
            return _bool(filter=[self._number_query(node)])
        if isinstance(node, And):
            return self._and(node.children)
        if isinstance(node, Or):
            parts = [q for q in map(self.compile, node.children) if q is not None]
            return _any_of(parts) if parts else None
        if isinstance(node, Not):
            return self._and((node,))
        raise TypeError(f"not a query node: {node!r}")

    def _and(self, children: tuple[Node, ...]) -> Query | None:
        must: list[Query] = []
        must_not: list[Query] = []
        for child in children:
            if isinstance(child, Not):
                excluded = self.compile(child.child)
                if excluded is not None:
                    must_not.append(excluded)
            else:
                required = self.compile(child)
                if required is not None:
                    must.append(required)
        if not must and not must_not:
            return None
        if not must:
            # "-draft" alone means every document except drafts.
            must.append({"match_all": {}})
        if len(must) == 1 and not must_not:
            return must[0]
        return _bool(must=must, must_not=must_not)

    def _text(self, text: str, field_name: str | None, fuzziness: int, phrase: bool) -> Query | None:
        tokens = word_tokens(text)
        if not tokens:
            return None
        if field_name is None:
            fields, exact = _BARE_FIELDS, None
        elif field_name == SOURCE:
            fields, exact = (F_SOURCE,), F_SOURCE_EXACT
        else:
            fields, exact = (field_name,), exact_subfield(field_name)
        clauses: list[Query] = []
        if len(tokens) == 1:
            clauses += [{"match": {name: {"query": text}}} for name in fields]
            # Fuzzy on one field: the page text for bare words (OCR errors live there, not in
            # file names), else the field itself; as in the embedded index.
            fuzzy_field = fields[0]
            if fuzziness and not phrase and fuzzy_field != F_SOURCE:
                clauses.append({"constant_score": {"filter": self._fuzzy(fuzzy_field, text, fuzziness),
                                                   "boost": FUZZY_SCORE}})
        else:
            clauses += [{"match_phrase": {name: {"query": text}}} for name in fields]
        if exact is not None:
            value = normalise_keyword(text)
            if value:
                # The keyword field's normalizer lower-cases and folds the value at query time.
                clauses.append({"term": {exact: {"value": value, "boost": EXACT_VALUE_BOOST}}})
        return _any_of(clauses)

    @staticmethod
    def _fuzzy(field_name: str, text: str, fuzziness: int) -> Query:
        # ``match`` rather than ``fuzzy``: the text is analysed (lower-cased, folded) by the server.
        return {"match": {field_name: {
            "query": text,
            "fuzziness": fuzziness,
            "fuzzy_transpositions": True,  # "two letters swapped" is one error (QUERY.md)
            "prefix_length": 0,  # OCR errors are as likely in the first letter ("lnvoice")
            "max_expansions": FUZZY_MAX_EXPANSIONS,
        }}}

    @staticmethod
    def _keyword_query(node: Keyword) -> Query:
        name = _KEYWORD_FIELDS[node.field]
        # ids are matched raw (case-sensitive); the other keyword fields normalise at query time.
        value = node.value if name == F_ID else normalise_keyword(node.value)
        return {"term": {name: value}}

    @staticmethod
    def _date_query(node: DateRange) -> Query:
        name = _DATE_FIELDS.get(node.field, node.field)
        bounds: dict[str, str] = {"format": "strict_date"}
        if node.start is not None:
            bounds["gte"] = _day(node.start)
        if node.end is not None:
            bounds["lt"] = _day(node.end)  # the AST's end is the first day *after* the range
        return {"range": {name: bounds}}

    @staticmethod
    def _number_query(node: NumberRange) -> Query:
        bounds: dict[str, float] = {}
        if node.low is not None:
            bounds["gte" if node.include_low else "gt"] = node.low
        if node.high is not None:
            bounds["lte" if node.include_high else "lt"] = node.high
        return {"range": {node.field: bounds}}

    # ------------------------------------------------------------------ snippets

    def highlight_query(self, node: Node | None) -> Query | None:
        """What to mark in the page text: the query's words and phrases wherever they were
        looked for (``law:delaware`` marks Delaware on the page too), near misses of fuzzy words,
        never negated words or filters. None when there is nothing to mark."""
        queries: list[Query] = []
        self._collect(node, queries)
        return _any_of(queries) if queries else None

    def _collect(self, node: Node | None, out: list[Query]) -> None:
        if isinstance(node, (And, Or)):
            for child in node.children:
                self._collect(child, out)
        elif isinstance(node, (Word, Phrase)):
            tokens = word_tokens(node.text)
            if len(tokens) > 1:
                out.append({"match_phrase": {F_BODY: {"query": node.text}}})
            elif tokens:
                out.append({"match": {F_BODY: {"query": node.text}}})
                if isinstance(node, Word) and node.fuzziness:
                    out.append(self._fuzzy(F_BODY, node.text, node.fuzziness))
        # Not: excluded words are not what the user is looking for. Filters: not in the text.


def _day(day: date) -> str:
    return day.isoformat()
