"""Field extraction: ``extract(doc) -> doc`` with ``doc.fields`` set for the document's type.

Invoices and receipts: labelled values found by layout (value right of / below its label, from
word boxes), patterns and position (``labels.toml``). Contracts: sentence patterns
(``contract.toml``) with spaCy entities as a fallback. Every value carries its page, the union
box of the words it came from, a 0..1 confidence and ``source = "extract.<method>"``.
"""

from __future__ import annotations

from ecm.document import Document, FieldValue
from extract.contract import extract_contract_fields
from extract.found import Found, to_field_value
from extract.invoice import extract_invoice_fields
from extract.rules import load_rules

__all__ = ["extract", "extract_fields"]


def extract_fields(doc: Document, doc_type: str) -> dict[str, FieldValue]:
    """The fields of ``doc`` read as a ``doc_type`` document (no fields for other types)."""
    rules = load_rules()
    found: dict[str, Found]
    if doc_type in ("invoice", "receipt"):
        found = extract_invoice_fields(doc, rules, is_receipt=doc_type == "receipt")
    elif doc_type == "contract":
        found = extract_contract_fields(doc, rules)
    else:
        found = {}
    return {name: to_field_value(f, rules) for name, f in found.items()}


def extract(doc: Document) -> Document:
    if doc.status != "ok" or doc.doc_type is None or not any(p.words for p in doc.pages):
        return doc
    fields = extract_fields(doc, doc.doc_type.label)
    # Values a person set are kept; extraction only fills or refreshes machine values.
    kept = {k: v for k, v in doc.fields.items() if v.source.startswith("user:")}
    return doc.model_copy(update={"fields": {**fields, **kept}})
