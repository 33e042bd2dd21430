"""The tantivy schema of the embedded index and how an IndexEntry becomes a tantivy document.

One tantivy document per Document. Page texts are separate values of ``body`` (so a phrase
does not run across a page break) and are kept, with everything a hit shows, in one stored
JSON ``record``: a hit is rendered from a single stored value.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time, timezone

import tantivy

from search.entry import IndexEntry, source_name
from search.fields import AMOUNT_FIELDS, DATE_FIELDS, TEXT_FIELDS

__all__ = [
    "WORDS_ANALYZER",
    "KEYWORD_ANALYZER",
    "F_ID",
    "F_SHA256",
    "F_DOC_TYPE",
    "F_TAGS",
    "F_REVIEW",
    "F_SOURCE",
    "F_SOURCE_EXACT",
    "F_BODY",
    "F_FIELD_WORDS",
    "F_ANY_DATE",
    "F_CREATED_AT",
    "F_RECORD",
    "exact_field",
    "words_analyzer",
    "keyword_analyzer",
    "build_schema",
    "register_analyzers",
    "normalise_keyword",
    "tantivy_document",
    "day_start",
]

WORDS_ANALYZER = "ecm_words"  # split on non-alphanumerics, lower case, fold accents
KEYWORD_ANALYZER = "ecm_keyword"  # the whole value as one term, lower case, folded accents
_MAX_TOKEN_CHARS = 64  # longer "words" are OCR garbage or base64; sha256 hex (64) still fits
_MAX_KEYWORD_CHARS = 512

F_ID = "id"  # raw: exact, case-sensitive (used to replace and delete)
F_SHA256 = "sha256"
F_DOC_TYPE = "doc_type"
F_TAGS = "tags"  # raw and fast (terms aggregation for the facet): tags are lower-case ASCII already
F_REVIEW = "review"  # raw and fast: the review state, one of search.fields.REVIEW_STATES
F_SOURCE = "source"  # words of the path
F_SOURCE_EXACT = "source_exact"  # whole path and file name
F_BODY = "body"  # page texts
F_FIELD_WORDS = "field_words"  # every extracted value as words (normalised values, e.g. ISO dates)
F_ANY_DATE = "date"  # every date on the document
F_CREATED_AT = "created_at"
F_RECORD = "record"  # stored JSON of the hit: id, sha256, source, doc_type, fields, pages, tags, review


def exact_field(name: str) -> str:
    """The keyword twin of a text field: its whole value, for exact matches."""
    return f"{name}_exact"


def words_analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(_MAX_TOKEN_CHARS))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


def keyword_analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.raw())
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


def register_analyzers(index: tantivy.Index) -> None:
    # Tokenizers are not saved in the index folder: every process registers them on open.
    index.register_tokenizer(WORDS_ANALYZER, words_analyzer())
    index.register_tokenizer(KEYWORD_ANALYZER, keyword_analyzer())


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field(F_ID, tokenizer_name="raw", index_option="basic")
    for name in (F_SHA256, F_DOC_TYPE, F_SOURCE_EXACT):
        sb.add_text_field(name, tokenizer_name=KEYWORD_ANALYZER, index_option="basic")
    for name in (F_TAGS, F_REVIEW):
        sb.add_text_field(name, fast=True, tokenizer_name="raw", index_option="basic")
    for name in (F_SOURCE, F_BODY, F_FIELD_WORDS):
        sb.add_text_field(name, tokenizer_name=WORDS_ANALYZER)
    for name in TEXT_FIELDS:
        sb.add_text_field(name, tokenizer_name=WORDS_ANALYZER)
        sb.add_text_field(exact_field(name), tokenizer_name=KEYWORD_ANALYZER, index_option="basic")
    for name in DATE_FIELDS + (F_ANY_DATE, F_CREATED_AT):
        sb.add_date_field(name, indexed=True, fast=True)
    for name in AMOUNT_FIELDS:
        sb.add_float_field(name, indexed=True, fast=True)
    sb.add_bytes_field(F_RECORD, stored=True)
    return sb.build()


_SPACES = re.compile(r"\s+")


def normalise_keyword(value: str) -> str:
    """Whitespace-collapsed value; the keyword analyser then lower-cases and folds it.
    Query values go through the same function, so both sides agree."""
    return _SPACES.sub(" ", value).strip()[:_MAX_KEYWORD_CHARS]


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


def tantivy_document(entry: IndexEntry) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_text(F_ID, entry.id)
    doc.add_text(F_SHA256, entry.sha256)
    doc.add_text(F_DOC_TYPE, entry.doc_type)
    for tag in entry.tags:
        doc.add_text(F_TAGS, tag)
    doc.add_text(F_REVIEW, entry.review)
    doc.add_text(F_SOURCE, entry.source)
    doc.add_text(F_SOURCE_EXACT, normalise_keyword(entry.source))
    doc.add_text(F_SOURCE_EXACT, normalise_keyword(source_name(entry.source)))
    for _, text in entry.pages:
        doc.add_text(F_BODY, text)
    for text in entry.field_texts:
        doc.add_text(F_FIELD_WORDS, text)
    for name, values in entry.text_fields.items():
        for value in values:
            doc.add_text(name, value)
            doc.add_text(exact_field(name), normalise_keyword(value))
    for name, days in entry.dates.items():
        for day in days:
            doc.add_date(name, day_start(day))
            doc.add_date(F_ANY_DATE, day_start(day))
    for name, numbers in entry.amounts.items():
        for number in numbers:
            doc.add_float(name, number)
    doc.add_date(F_CREATED_AT, entry.created_at.astimezone(timezone.utc))
    record = {
        "id": entry.id,
        "sha256": entry.sha256,
        "source": entry.source,
        "doc_type": entry.doc_type,
        "fields": entry.fields,
        "pages": entry.pages,
        "tags": entry.tags,
        "review": entry.review,
    }
    doc.add_bytes(F_RECORD, json.dumps(record, ensure_ascii=False).encode("utf-8"))
    return doc
