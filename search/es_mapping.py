"""The Elasticsearch index layout of ``search.ElasticsearchIndex``: analysis settings, the explicit
mapping, and how an IndexEntry becomes an Elasticsearch document.

It mirrors the embedded (tantivy) layout in ``search.tantivy_schema`` so both backends answer the
same queries the same way: one Elasticsearch document per Document, page texts as the values of
the ``body`` array (a phrase does not run across a page break: ``position_increment_gap``), the
whole-value twin of every text field as a ``.exact`` keyword subfield, real ``date`` and
``scaled_float`` fields for ranges, and the values a hit shows kept in ``_source``.

Mapping and settings are written as the Elasticsearch 8/9 reference documents them, so the same
body creates the index on a real cluster.
"""

from __future__ import annotations

from datetime import timezone
from typing import Any

from search.entry import IndexEntry, source_name
from search.fields import AMOUNT_FIELDS, ANY_DATE, CREATED_AT, DATE_FIELDS, TEXT_FIELDS
from search.tantivy_schema import normalise_keyword

__all__ = [
    "WORDS_ANALYZER",
    "KEYWORD_NORMALIZER",
    "F_ID",
    "F_SHA256",
    "F_DOC_TYPE",
    "F_TAGS",
    "F_REVIEW",
    "F_SOURCE",
    "F_SOURCE_EXACT",
    "F_BODY",
    "F_PAGE_NUMBERS",
    "F_FIELD_WORDS",
    "F_FIELDS",
    "F_ANY_DATE",
    "F_CREATED_AT",
    "F_YEARS",
    "HIT_SOURCE_FIELDS",
    "exact_subfield",
    "facet_subfield",
    "index_settings",
    "index_mappings",
    "es_document",
]

WORDS_ANALYZER = "ecm_words"
KEYWORD_NORMALIZER = "ecm_keyword"
_WORDS_TOKENIZER = "ecm_letters_and_digits"
_MAX_TOKEN_CHARS = 64  # longer "words" are OCR garbage or base64 (as in the embedded index)
_MAX_KEYWORD_CHARS = 512  # whole values longer than this are not worth an exact match
AMOUNT_SCALING = 1000  # amounts are stored as integer thousandths: exact for 3-decimal currencies (BHD, KWD)

F_ID = "id"  # keyword, case-sensitive (the document id)
F_SHA256 = "sha256"
F_DOC_TYPE = "doc_type"
F_TAGS = "tags"  # people's labels (lower-case already)
F_REVIEW = "review"  # the review state computed at index time (search.review_state)
F_SOURCE = "source"  # words of the path
F_SOURCE_EXACT = "source_exact"  # the whole path and the file name
F_BODY = "body"  # page texts, one array value per page
F_PAGE_NUMBERS = "page_numbers"  # the page number of each body value (not indexed)
F_FIELD_WORDS = "field_words"  # every extracted value as words (normalised values, e.g. ISO dates)
F_FIELDS = "fields"  # extracted values as a hit shows them (stored, not indexed)
F_ANY_DATE = ANY_DATE  # every date printed on the document
F_CREATED_AT = CREATED_AT
F_YEARS = "years"  # years of the invoice / effective dates, for the year facet

# What a hit is rendered from: everything else in _source is there only for matching.
HIT_SOURCE_FIELDS = [F_ID, F_SHA256, F_SOURCE, F_DOC_TYPE, F_FIELDS, F_BODY, F_PAGE_NUMBERS, F_TAGS, F_REVIEW]


def exact_subfield(name: str) -> str:
    """The keyword twin of a text field: its whole value, lower-cased and accent-folded."""
    return f"{name}.exact"


def facet_subfield(name: str) -> str:
    """The value as written (case kept), for facet buckets a person reads."""
    return f"{name}.facet"


def index_settings(shards: int = 1, replicas: int | None = None) -> dict[str, Any]:
    """Index settings: analysis that splits words like the embedded index.

    Words are runs of letters and digits (QUERY.md: "words are split at anything that is not a
    letter or digit"). The ``standard`` tokenizer would keep ``acme_march.pdf``, ``13.50`` and
    ``domino's`` as single tokens, so ``march`` would not find a file named ``acme_march.pdf``;
    hence a ``pattern`` tokenizer on ``[^\\p{L}\\p{N}]+``, then lowercase and asciifolding
    (``societe`` finds ``Société``). OCR errors are handled at query time (fuzzy), not here."""
    settings: dict[str, Any] = {
        "number_of_shards": shards,
        "analysis": {
            "tokenizer": {_WORDS_TOKENIZER: {"type": "pattern", "pattern": "[^\\p{L}\\p{N}]+"}},
            "filter": {"ecm_max_token": {"type": "length", "max": _MAX_TOKEN_CHARS}},
            "char_filter": {"ecm_collapse_spaces": {"type": "pattern_replace", "pattern": "\\s+", "replacement": " "}},
            "analyzer": {
                WORDS_ANALYZER: {
                    "type": "custom",
                    "tokenizer": _WORDS_TOKENIZER,
                    "filter": ["ecm_max_token", "lowercase", "asciifolding"],
                }
            },
            "normalizer": {
                KEYWORD_NORMALIZER: {
                    "type": "custom",
                    "char_filter": ["ecm_collapse_spaces"],
                    "filter": ["lowercase", "asciifolding"],
                }
            },
        },
    }
    if replicas is not None:
        settings["number_of_replicas"] = replicas
    return settings


def _words() -> dict[str, Any]:
    return {"type": "text", "analyzer": WORDS_ANALYZER}


def _keyword(normalised: bool = True) -> dict[str, Any]:
    mapping: dict[str, Any] = {"type": "keyword", "ignore_above": _MAX_KEYWORD_CHARS}
    if normalised:
        mapping["normalizer"] = KEYWORD_NORMALIZER
    return mapping


def index_mappings() -> dict[str, Any]:
    """The explicit mapping. ``dynamic: strict``: a document with a field not listed here is an
    error, not a silently guessed mapping that differs between indexes."""
    properties: dict[str, Any] = {
        F_ID: {"type": "keyword"},  # raw: ids are case-sensitive
        F_SHA256: _keyword(),
        F_DOC_TYPE: _keyword(),
        F_TAGS: _keyword(),
        F_REVIEW: _keyword(),
        F_SOURCE: _words(),
        F_SOURCE_EXACT: _keyword(),
        # 100 positions between pages (the default gap, stated because phrases rely on it).
        F_BODY: {**_words(), "position_increment_gap": 100},
        F_PAGE_NUMBERS: {"type": "integer", "index": False, "doc_values": False},
        F_FIELD_WORDS: _words(),
        F_FIELDS: {"type": "object", "enabled": False},
        F_ANY_DATE: {"type": "date", "format": "strict_date"},
        F_CREATED_AT: {"type": "date"},
        F_YEARS: {"type": "short"},
    }
    for name in TEXT_FIELDS:
        properties[name] = {**_words(), "fields": {"exact": _keyword()}}
    properties["vendor_name"]["fields"]["facet"] = _keyword(normalised=False)
    for name in DATE_FIELDS:
        properties[name] = {"type": "date", "format": "strict_date"}
    for name in AMOUNT_FIELDS:
        properties[name] = {"type": "scaled_float", "scaling_factor": AMOUNT_SCALING}
    return {"dynamic": "strict", "properties": properties}


_YEAR_FIELDS = ("invoice_date", "effective_date")


def es_document(entry: IndexEntry) -> dict[str, Any]:
    """The ``_source`` of one entry."""
    doc: dict[str, Any] = {
        F_ID: entry.id,
        F_SHA256: entry.sha256,
        F_DOC_TYPE: entry.doc_type,
        F_TAGS: list(entry.tags),
        F_REVIEW: entry.review,
        F_SOURCE: entry.source,
        F_SOURCE_EXACT: [normalise_keyword(entry.source), normalise_keyword(source_name(entry.source))],
        F_BODY: [text for _, text in entry.pages],
        F_PAGE_NUMBERS: [number for number, _ in entry.pages],
        F_FIELD_WORDS: list(entry.field_texts),
        F_FIELDS: entry.fields,
        F_ANY_DATE: sorted({day.isoformat() for day in entry.all_dates}),
        F_CREATED_AT: entry.created_at.astimezone(timezone.utc).isoformat(),
        F_YEARS: sorted({day.year for name in _YEAR_FIELDS for day in entry.dates.get(name, ())}),
    }
    for name, values in entry.text_fields.items():
        # Whitespace collapsed here too, so the .exact subfield holds what a query's value becomes.
        doc[name] = [" ".join(value.split()) for value in values]
    for name, days in entry.dates.items():
        doc[name] = [day.isoformat() for day in days]
    for name, numbers in entry.amounts.items():
        doc[name] = list(numbers)
    return doc
