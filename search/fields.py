"""The searchable fields: which query prefixes exist, what they mean, and how document fields
are typed for indexing.

Shared by the query parser and every backend, so ``vendor:`` means the same thing in the
embedded index and in Elasticsearch. Canonical field names come from ``ecm.document``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ecm.document import CONTRACT_FIELDS, INVOICE_FIELDS

__all__ = [
    "FieldKind",
    "QueryField",
    "DATE_FIELDS",
    "AMOUNT_FIELDS",
    "TEXT_FIELDS",
    "ANY_DATE",
    "CREATED_AT",
    "SOURCE",
    "DOC_TYPE",
    "ID",
    "SHA256",
    "TAGS",
    "REVIEW",
    "REVIEW_STATES",
    "QUERY_FIELDS",
    "lookup_query_field",
    "query_field_names",
]

DATE_FIELDS = ("invoice_date", "due_date", "effective_date")
AMOUNT_FIELDS = ("total_amount", "tax_amount")
# Every other canonical field is text: searchable by its words and by its whole value.
TEXT_FIELDS = tuple(
    name for name in INVOICE_FIELDS + CONTRACT_FIELDS if name not in DATE_FIELDS + AMOUNT_FIELDS
)

# Pseudo and record-level field names used in the AST.
ANY_DATE = "date"  # any of the document's DATE_FIELDS
CREATED_AT = "created_at"  # when the record was made (not a date printed on the document)
SOURCE = "source"  # the input path / upload name, searchable by its words
DOC_TYPE = "doc_type"
ID = "id"
SHA256 = "sha256"
TAGS = "tags"  # people's labels (ecm.tags), matched whole
REVIEW = "review"  # the review state computed at index time (search.review_state)
REVIEW_STATES = ("needs-review", "accepted", "auto")  # the values of REVIEW


class FieldKind(Enum):
    TEXT = "text"  # words (analysed) plus the exact whole value
    KEYWORD = "keyword"  # exact value only
    DATE = "date"  # ranges of days
    NUMBER = "number"  # ranges of amounts


@dataclass(frozen=True)
class QueryField:
    """What a ``prefix:`` in a query refers to: the canonical field and how to match it."""

    name: str  # canonical field name as used in the AST (e.g. "vendor_name", "date")
    kind: FieldKind


def _build_query_fields() -> dict[str, QueryField]:
    fields: dict[str, QueryField] = {}
    for name in TEXT_FIELDS:
        fields[name] = QueryField(name, FieldKind.TEXT)
    for name in DATE_FIELDS:
        fields[name] = QueryField(name, FieldKind.DATE)
    for name in AMOUNT_FIELDS:
        fields[name] = QueryField(name, FieldKind.NUMBER)
    short_names = {
        "vendor": QueryField("vendor_name", FieldKind.TEXT),
        "address": QueryField("vendor_address", FieldKind.TEXT),
        "number": QueryField("invoice_number", FieldKind.TEXT),
        "po": QueryField("po_number", FieldKind.TEXT),
        "party": QueryField("parties", FieldKind.TEXT),
        "law": QueryField("governing_law", FieldKind.TEXT),
        SOURCE: QueryField(SOURCE, FieldKind.TEXT),
        "type": QueryField(DOC_TYPE, FieldKind.KEYWORD),
        DOC_TYPE: QueryField(DOC_TYPE, FieldKind.KEYWORD),
        ID: QueryField(ID, FieldKind.KEYWORD),
        SHA256: QueryField(SHA256, FieldKind.KEYWORD),
        "tag": QueryField(TAGS, FieldKind.KEYWORD),
        TAGS: QueryField(TAGS, FieldKind.KEYWORD),
        REVIEW: QueryField(REVIEW, FieldKind.KEYWORD),
        ANY_DATE: QueryField(ANY_DATE, FieldKind.DATE),
        "created": QueryField(CREATED_AT, FieldKind.DATE),
        CREATED_AT: QueryField(CREATED_AT, FieldKind.DATE),
        "amount": QueryField("total_amount", FieldKind.NUMBER),
        "total": QueryField("total_amount", FieldKind.NUMBER),
        "tax": QueryField("tax_amount", FieldKind.NUMBER),
    }
    fields.update(short_names)
    return fields


# Query prefix (lower case) -> what it means. Read-only by convention.
QUERY_FIELDS: dict[str, QueryField] = _build_query_fields()


def lookup_query_field(prefix: str) -> QueryField | None:
    return QUERY_FIELDS.get(prefix.lower())


def query_field_names() -> str:
    """The prefixes a user can write, for error messages."""
    return ", ".join(f"{name}:" for name in sorted(QUERY_FIELDS))
