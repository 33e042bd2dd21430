"""A value found in a document, and how it becomes a FieldValue with provenance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ecm.document import FieldValue, Word
from extract.layout import union_box
from extract.rules import Rules

if TYPE_CHECKING:
    from extract.calibration import Calibration

__all__ = ["Found", "to_field_value", "raw_confidence"]

# How a value was found -> the FieldValue.source suffix.
SOURCES = {"label_right": "layout", "label_below": "layout", "pattern": "patterns",
           "position": "position", "ner": "ner", "fallback": "fallback",
           "vendorbook": "vendorbook", "consensus": "consensus"}


@dataclass
class Found:
    value: str | list[str]
    words: list[Word]
    page: int
    method: str  # a key of [confidence] in labels.toml
    score: float = 1.0  # how good the evidence was within its method (label weight etc.), 0..1
    read_as: str | None = None  # what the words said, when the value is a known or agreed spelling of them


def raw_confidence(found: Found, rules: Rules) -> float:
    """The method's base (known vendor > labelled + layout > pattern > position > NER guess),
    scaled by the evidence quality and lowered when OCR was unsure of any of the words (one
    misread word makes the whole value wrong, so the least sure word counts, not the average)."""
    ocr = min(w.conf for w in found.words) if found.words else 1.0
    confidence = rules.confidence[found.method] * max(0.0, min(1.0, found.score)) * (0.6 + 0.4 * ocr)
    return round(max(0.0, min(1.0, confidence)), 4)


def to_field_value(found: Found, rules: Rules, name: str | None = None,
                   calibration: "Calibration | None" = None) -> FieldValue:
    # The raw confidence ranks values; the calibration (fitted on cross-validated dev
    # predictions) turns it into the probability that the value is right.
    confidence = raw_confidence(found, rules)
    if calibration is not None and name is not None:
        confidence = calibration.field(name, SOURCES.get(found.method, found.method), confidence)
    return FieldValue(
        value=found.value,
        confidence=confidence,
        page=found.page,
        bbox=union_box(found.words) if found.words else None,
        source=f"extract.{SOURCES.get(found.method, found.method)}",
        read_as=found.read_as,
    )
