"""Field extraction: ``extract(doc, vendors=None) -> doc`` with ``doc.fields`` set for the document's type.

Invoices and receipts: labelled values found by layout (value right of / below its label, from
word boxes), patterns and position (``labels.toml``); a ``VendorBook`` of vendors accepted
before turns an OCR-misspelled vendor name (and address) into its known spelling, and the
archive's own readings of a vendor outvote one document's misreading (``extract.consensus``). Contracts:
sentence patterns (``contract.toml``) with spaCy entities as a fallback. Every value carries its
page, the union box of the words it came from, a 0..1 confidence (calibrated to the probability
of being right when ``calibration.json`` is present, see ``extract.calibration``) and
``source = "extract.<method>"``. ``validate`` checks the values (``extract.validation``);
``needs_review`` says why a document must be looked at (``extract.review``).
"""

from __future__ import annotations

from ecm.document import Document, FieldValue
from extract.calibration import Calibration, load_calibration
from extract.consensus import ReadingLog, Readings, raw_readings
from extract.contract import extract_contract_fields
from extract.found import Found, to_field_value
from extract.invoice import extract_invoice_fields
from extract.review import needs_review
from extract.rules import load_rules
from extract.validation import validate
from extract.vendors import VendorBook

__all__ = ["extract", "extract_fields", "validate", "needs_review", "VendorBook", "Readings", "ReadingLog",
           "raw_readings", "Calibration", "load_calibration"]


def extract_fields(doc: Document, doc_type: str, vendors: VendorBook | None = None,
                   calibration: Calibration | None = None,
                   readings: Readings | None = None) -> dict[str, FieldValue]:
    """The fields of ``doc`` read as a ``doc_type`` document (no fields for other types)."""
    rules = load_rules()
    found: dict[str, Found]
    if doc_type in ("invoice", "receipt"):
        found = extract_invoice_fields(doc, rules, is_receipt=doc_type == "receipt", vendors=vendors,
                                       readings=readings)
    elif doc_type == "contract":
        found = extract_contract_fields(doc, rules)
    else:
        found = {}
    calibration = calibration if calibration is not None else load_calibration()
    return {name: to_field_value(f, rules, name, calibration) for name, f in found.items()}


def extract(doc: Document, vendors: VendorBook | None = None, calibration: Calibration | None = None,
            readings: Readings | None = None) -> Document:
    """``vendors``: known vendors (built by the caller from accepted documents in the store);
    ``readings``: the archive's machine readings of vendor names and addresses (``extract.consensus``)."""
    if doc.status != "ok" or doc.doc_type is None or not any(p.words for p in doc.pages):
        return doc
    fields = extract_fields(doc, doc.doc_type.label, vendors, calibration, readings)
    # Values a person set are kept; extraction only fills or refreshes machine values.
    kept = {k: v for k, v in doc.fields.items() if v.source.startswith("user:")}
    return doc.model_copy(update={"fields": {**fields, **kept}})
