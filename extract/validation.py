"""Validation of extracted fields: ``validate(doc, vendors=None, today=None) -> doc``.

Each failed rule appends one message to ``doc.problems`` (a person then looks at the document,
see ``extract.review``). Rules (thresholds and label words in ``validation.toml``):

* total = subtotal + tax, within a cent (subtotal and tax read from their labelled lines;
  a printed rounding adjustment may explain a few cents; a tax-inclusive subtotal equal to
  the total passes);
* every date field is a real calendar date, not in the future (relative to ``today``), not
  implausibly old; the due date is not before the invoice date;
* the invoice number has the shape of the vendor's past numbers (``VendorBook.number_shapes``:
  ``INV-00123`` has shape ``AAA-DDDDD``), once the vendor has a history;
* no stored document has the same vendor, invoice number and total (``VendorBook.seen``, or a
  ``duplicate_of(vendor, number, total) -> doc id | None`` lookup the caller passes).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

from ecm.document import Document
from extract.amounts import amount_words
from extract.layout import doc_lines, find_label, words_right_of
from extract.rules import FieldRule, Label, load_rules, tokens
from extract.vendors import VendorBook, number_shape

__all__ = ["VALIDATION_RULES_PATH", "validate", "check_fields"]

VALIDATION_RULES_PATH = Path(__file__).with_name("validation.toml")

DuplicateLookup = Callable[[str, str, str], "str | None"]


@lru_cache(maxsize=2)
def _rules(path: str = str(VALIDATION_RULES_PATH)) -> dict:
    return tomllib.loads(Path(path).read_text(encoding="utf-8"))


def _label_rule(name: str, labels: list[str]) -> FieldRule:
    ls = tuple(sorted((Label(t, 1.0, tuple(tokens(t))) for t in labels), key=lambda l: -len(l.tokens)))
    return FieldRule(name=name, kind="amount", labels=ls, exclude=frozenset())


def _labelled_amounts(doc: Document, labels: list[str]) -> list[Decimal]:
    """Amounts printed right of any of ``labels`` (all pages)."""
    rules = load_rules()
    rule = _label_rule("_", labels)
    lines = doc_lines(doc)
    out = []
    for line in lines:
        hit = find_label(line, rule, rules.min_ratio)
        if hit is None:
            continue
        found = amount_words(words_right_of(hit, lines), need_decimals=True)
        if found:
            out.append(found[0])
    return out


def _decimal(value) -> Decimal | None:
    try:
        return Decimal(str(value).replace(",", ""))
    except (InvalidOperation, ValueError):
        return None


def _check_sum(doc: Document, fields: dict, cfg: dict) -> list[str]:
    total = _decimal(fields.get("total_amount"))
    tax = _decimal(fields.get("tax_amount"))
    if total is None or tax is None:
        return []
    subtotals = _labelled_amounts(doc, cfg["subtotal_labels"])
    if not subtotals:
        return []
    tol = Decimal(str(cfg["tolerance"]))
    rounding = [r for r in _labelled_amounts(doc, cfg["rounding_labels"]) if r <= Decimal(str(cfg["max_rounding"]))]
    for sub in subtotals:
        if abs(sub + tax - total) <= tol or abs(sub - total) <= tol:
            return []  # adds up, or the subtotal already includes the tax
        if any(abs(abs(sub + tax - total) - r) <= tol for r in rounding):
            return []
    sub = subtotals[-1]
    return [f"total_amount {total}, tax_amount {tax} and subtotal {sub} do not add up (subtotal + tax = {sub + tax})"]


def _check_dates(fields: dict, today: date, cfg: dict) -> list[str]:
    problems = []
    parsed: dict[str, date] = {}
    for name in cfg["fields"]:
        value = fields.get(name)
        if value is None:
            continue
        try:
            d = date.fromisoformat(str(value))
        except ValueError:
            problems.append(f"{name} {value!r} is not a calendar date")
            continue
        if d > today:
            problems.append(f"{name} {d.isoformat()} is in the future (today is {today.isoformat()})")
        elif d.year < cfg["earliest_year"]:
            problems.append(f"{name} {d.isoformat()} is implausibly old")
        parsed[name] = d
    due, issued = parsed.get("due_date"), parsed.get(cfg["due_after"])
    if due and issued and due < issued:
        problems.append(f"due_date {due.isoformat()} is before {cfg['due_after']} {issued.isoformat()}")
    return problems


def _check_number(fields: dict, vendors: VendorBook | None, cfg: dict) -> list[str]:
    vendor, number = fields.get("vendor_name"), fields.get("invoice_number")
    if not vendors or not isinstance(vendor, str) or not isinstance(number, str):
        return []
    shapes = vendors.number_shapes(vendor)
    if sum(shapes.values()) < cfg["min_history"]:
        return []
    shape = number_shape(number)
    if shape in shapes:
        return []
    usual = ", ".join(s for s, _ in shapes.most_common(3))
    return [f"invoice_number {number!r} (shape {shape}) does not look like {vendor}'s past numbers ({usual})"]


def _check_duplicate(fields: dict, vendors: VendorBook | None, duplicate_of: DuplicateLookup | None,
                     self_id: str | None) -> list[str]:
    vendor, number, total = fields.get("vendor_name"), fields.get("invoice_number"), fields.get("total_amount")
    if not all(isinstance(v, str) and v for v in (vendor, number, total)):
        return []
    for lookup in (duplicate_of, vendors.seen if vendors else None):
        if lookup is None:
            continue
        other = lookup(vendor, number, total)
        if other and other != self_id:
            return [f"possible duplicate of document {other} (same vendor, invoice number {number} and total {total})"]
    return []


def check_fields(doc: Document, vendors: VendorBook | None = None, today: date | None = None,
                 duplicate_of: DuplicateLookup | None = None) -> list[str]:
    """Every validation problem of ``doc``'s fields, as messages (nothing is changed)."""
    cfg = _rules()
    fields = {k: v.value for k, v in doc.fields.items()}
    today = today or date.today()
    problems = _check_dates(fields, today, cfg["dates"])
    if doc.doc_type is None or doc.doc_type.label in ("invoice", "receipt"):
        problems += _check_sum(doc, fields, cfg["amounts"])
        problems += _check_number(fields, vendors, cfg["numbers"])
        problems += _check_duplicate(fields, vendors, duplicate_of, doc.id)
    return problems


def validate(doc: Document, vendors: VendorBook | None = None, today: date | None = None,
             duplicate_of: DuplicateLookup | None = None) -> Document:
    """The stage: ``doc`` with its validation problems appended to ``doc.problems``."""
    if doc.status != "ok":
        return doc
    new = [p for p in check_fields(doc, vendors, today, duplicate_of) if p not in doc.problems]
    if not new:
        return doc
    return doc.model_copy(update={"problems": [*doc.problems, *new]})
