"""The document record: one typed, versioned model with provenance.

Every stage takes a Document and returns a new one (``doc.model_copy(update=...)``);
nothing reaches back. Coordinates: a page's ``unit`` says whether word and field boxes
are in PDF points (born-digital pages, origin top-left) or in pixels of the rendered
image at ``dpi`` (OCR'd pages). Boxes are ``[x0, y0, x1, y1]`` with y growing downwards.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = [
    "DOC_TYPES",
    "INVOICE_FIELDS",
    "CONTRACT_FIELDS",
    "FIELD_NAMES",
    "Word",
    "Page",
    "DocType",
    "FieldValue",
    "Origin",
    "Coding",
    "Acceptance",
    "Document",
    "utcnow",
]

SCHEMA_VERSION = 1

DOC_TYPES = ("invoice", "receipt", "contract", "form", "letter", "other")
INVOICE_FIELDS = (
    "vendor_name",
    "vendor_address",
    "invoice_number",
    "invoice_date",
    "due_date",
    "total_amount",
    "tax_amount",
    "currency",
    "po_number",
)
CONTRACT_FIELDS = ("title", "parties", "effective_date", "governing_law", "term")
FIELD_NAMES = INVOICE_FIELDS + CONTRACT_FIELDS

Box = tuple[float, float, float, float]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Word(BaseModel):
    """One word on a page: its text, its box and the OCR confidence (0..1; 1 for text layers)."""

    text: str
    bbox: Box
    conf: float = 1.0
    line: int = 0  # line number on the page, so layout code can rebuild lines


class Page(BaseModel):
    number: int  # 1-based
    width: float
    height: float
    unit: Literal["pt", "px"]
    dpi: int | None = None  # for unit == "px": the render resolution
    source: Literal["text", "ocr", "none"]  # where the words came from
    rotation: int = 0  # degrees the page was turned (clockwise) before reading it
    words: list[Word] = Field(default_factory=list)
    barcodes: list[str] = Field(default_factory=list)  # values of barcodes found on the page (when asked)

    @property
    def text(self) -> str:
        """The page's text, one output line per layout line."""
        lines: list[str] = []
        current = None
        for w in self.words:
            if w.line != current:
                lines.append(w.text)
                current = w.line
            else:
                lines[-1] += " " + w.text
        return "\n".join(lines)


class DocType(BaseModel):
    label: Literal["invoice", "receipt", "contract", "form", "letter", "other"]
    confidence: float
    source: str = "classify"  # stage or person that decided


class FieldValue(BaseModel):
    value: str | list[str]
    confidence: float
    page: int | None = None
    bbox: Box | None = None
    source: str = "extract"  # stage (extract.patterns, extract.layout, extract.ner) or "user:NAME"
    read_as: str | None = None  # what OCR read, when the value is a known (vendor book) or agreed (consensus) spelling of it


class Origin(BaseModel):
    """Where a document split out of a batch scan came from."""

    sha256: str  # of the batch file (kept in the store too)
    source: str
    pages: list[int]  # the batch's page numbers that make up this document


class Coding(BaseModel):
    """The final legal coding of a document (web.coding): values keyed by the schema's field names."""

    schema_name: str
    values: dict[str, Any]
    coder: str  # "user:NAME"
    batch: int | None = None
    kind: Literal["code", "resolved"] = "code"
    at: datetime = Field(default_factory=utcnow)


class Acceptance(BaseModel):
    """A person checked the document's type and fields and accepted them (web review).

    Kept in the record, so the review state (``search.review_state``) is derived from the store
    alone. Cleared when a person later saves corrections without accepting again."""

    by: str  # "user:NAME"
    version: int  # the record version the person was shown and accepted (corrections go in the next one)
    at: datetime = Field(default_factory=utcnow)


class Document(BaseModel):
    """The record of one document. ``id`` is derived from the sha256 of the original bytes."""

    schema_version: int = SCHEMA_VERSION
    id: str | None = None
    source: str  # the input path (or upload name) as given
    sha256: str
    size: int = 0
    media_type: str = "application/octet-stream"
    status: Literal["ok", "quarantined"] = "ok"
    reason: str | None = None  # one human line, set when quarantined
    pages: list[Page] = Field(default_factory=list)
    form_fields: int = 0  # fillable fields of a PDF form (AcroForm): a form made to be filled in
    doc_type: DocType | None = None
    fields: dict[str, FieldValue] = Field(default_factory=dict)
    problems: list[str] = Field(default_factory=list)  # validation messages for reviewers
    origin: Origin | None = None  # set when split out of a batch scan
    coding: Coding | None = None  # set by legal coding; None until a coder saves
    tags: list[str] = Field(default_factory=list)  # people's labels, normalised by ecm.tags (sorted, unique)
    accepted: Acceptance | None = None  # set when a reviewer accepts (see Acceptance)
    version: int = 0  # record version in the store (0 = not stored yet)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # The searchable PDF made by OCR (bytes), carried to the store; never serialised.
    searchable_pdf: bytes | None = Field(default=None, exclude=True, repr=False)
    # The original's bytes when they are not the input file (a document split out of a batch).
    original: bytes | None = Field(default=None, exclude=True, repr=False)

    @property
    def text(self) -> str:
        return "\n\f".join(p.text for p in self.pages)

    def quarantine(self, reason: str) -> "Document":
        return self.model_copy(update={"status": "quarantined", "reason": reason, "pages": []})

    def contract_line(self) -> dict:
        """The one JSON line of ``ecm process --json`` (see shared/contract/process.schema.json)."""
        line: dict = {"source": self.source, "sha256": self.sha256, "status": self.status}
        if self.status == "quarantined":
            line["reason"] = self.reason or "quarantined"
            return line
        line["pages"] = len(self.pages)
        dt = self.doc_type or DocType(label="other", confidence=0.0)
        line["doc_type"] = {"label": dt.label, "confidence": round(dt.confidence, 4)}
        line["fields"] = {
            name: {
                "value": f.value,
                "confidence": round(f.confidence, 4),
                "page": f.page,
                "bbox": [round(c, 1) for c in f.bbox] if f.bbox else None,
            }
            for name, f in self.fields.items()
            if name in FIELD_NAMES
        }
        if self.problems:
            line["problems"] = self.problems
        return line
