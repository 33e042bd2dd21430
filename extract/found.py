"""A value found in a document, and how it becomes a FieldValue with provenance."""

from __future__ import annotations

from dataclasses import dataclass

from ecm.document import FieldValue, Word
from extract.layout import mean_conf, union_box
from extract.rules import Rules

__all__ = ["Found", "to_field_value"]

# How a value was found -> the FieldValue.source suffix.
SOURCES = {"label_right": "layout", "label_below": "layout", "pattern": "patterns",
           "position": "position", "ner": "ner", "fallback": "fallback"}


@dataclass
class Found:
    value: str | list[str]
    words: list[Word]
    page: int
    method: str  # a key of [confidence] in labels.toml
    score: float = 1.0  # how good the evidence was within its method (label weight etc.), 0..1


def to_field_value(found: Found, rules: Rules) -> FieldValue:
    # Confidence: the method's base (labelled + layout > pattern > position > NER guess),
    # scaled by the evidence quality and lowered when OCR was unsure of the words.
    ocr = mean_conf(found.words) if found.words else 1.0
    confidence = rules.confidence[found.method] * max(0.0, min(1.0, found.score)) * (0.6 + 0.4 * ocr)
    return FieldValue(
        value=found.value,
        confidence=round(max(0.0, min(1.0, confidence)), 4),
        page=found.page,
        bbox=union_box(found.words) if found.words else None,
        source=f"extract.{SOURCES.get(found.method, found.method)}",
    )
