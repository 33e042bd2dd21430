"""Known vendors, learned from accepted documents: fuzzy normalisation of OCR-misspelled names,
their addresses, their invoice-number shapes and the (vendor, number, total) already stored.

A ``VendorBook`` is a plain object: the pipeline builds it from the store (documents a person
accepted or corrected) and passes it to ``extract.extract`` and ``extract.validate``. It is
never built from gold files; the bench simulates it with the other folds' documents.

    book = VendorBook()
    book.learn(doc)                       # an accepted invoice/receipt Document (or its fields)
    book.match_name("MR D.1.Y. (M) SON BHD")   # -> VendorMatch("MR. D.I.Y. (M) SDN BHD", 0.93)
    book.number_shapes("MR. D.I.Y. (M) SDN BHD")  # Counter({"AA-DDDDD": 4})
    book.seen("MR. D.I.Y. (M) SDN BHD", "CS-00123", "12.50")  # -> doc id or None
    book.save(path); VendorBook.load(path)
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from rapidfuzz import fuzz

__all__ = ["VendorBook", "VendorMatch", "name_key", "number_shape"]

# A known name matches an OCR reading when rapidfuzz's ratio of their keys is at least this
# (0..100). 85 accepts 2-3 misread characters in a 20-character name ("SON BHD" for "SDN BHD").
MIN_NAME_RATIO = 85.0
MIN_ADDRESS_RATIO = 80.0


def name_key(text: str) -> str:
    """Upper-case, punctuation to spaces, spaces collapsed: what names are compared on."""
    return " ".join(re.sub(r"[^0-9A-Za-z&]+", " ", text).upper().split())


def number_shape(number: str) -> str:
    """``INV-00123`` -> ``AAA-DDDDD``: letters become A, digits D, other characters kept."""
    return re.sub(r"\d", "D", re.sub(r"[A-Za-z]", "A", number.strip()))


def _amount_key(total: str | None) -> str | None:
    if total is None:
        return None
    try:
        return f"{Decimal(str(total).replace(',', '')).quantize(Decimal('0.01')):.2f}"
    except (InvalidOperation, ValueError):
        return None


@dataclass(frozen=True)
class VendorMatch:
    name: str  # the known (accepted) spelling
    score: float  # 0..1 similarity of the reading to it


@dataclass
class _Vendor:
    name: str
    count: int = 0
    addresses: Counter = field(default_factory=Counter)
    shapes: Counter = field(default_factory=Counter)


@dataclass
class VendorBook:
    """Vendors seen on accepted documents. Build with ``learn``; query with ``match_name``,
    ``match_address``, ``number_shapes`` and ``seen``."""

    vendors: dict[str, _Vendor] = field(default_factory=dict)  # name_key -> vendor
    invoices: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (vendor key, number, total) -> doc id

    # ------------------------------------------------------------ learning

    def learn(self, doc_or_fields, doc_id: str | None = None) -> None:
        """Remember the vendor of an accepted document (a Document or a ``{name: value}`` dict)."""
        fields = _values(doc_or_fields)
        doc_id = doc_id or getattr(doc_or_fields, "id", None)
        name = fields.get("vendor_name")
        if not isinstance(name, str) or not name_key(name):
            return
        key = name_key(name)
        vendor = self.vendors.setdefault(key, _Vendor(name=name.strip()))
        vendor.count += 1
        address = fields.get("vendor_address")
        if isinstance(address, str) and address.strip():
            vendor.addresses[" ".join(address.split())] += 1
        number = fields.get("invoice_number")
        if isinstance(number, str) and number.strip():
            vendor.shapes[number_shape(number)] += 1
            total = _amount_key(fields.get("total_amount"))
            if total is not None and doc_id:
                self.invoices.setdefault((key, _number_key(number), total), doc_id)

    @classmethod
    def from_documents(cls, docs) -> "VendorBook":
        book = cls()
        for doc in docs:
            book.learn(doc)
        return book

    # ------------------------------------------------------------ queries

    def __len__(self) -> int:
        return len(self.vendors)

    def match_name(self, text: str, min_ratio: float = MIN_NAME_RATIO) -> VendorMatch | None:
        """The known vendor ``text`` is a (possibly OCR-damaged) reading of, if any.

        ``text`` may carry more than the name (a registration number after it): a known name
        that is a close part of a longer reading matches too, a little less strongly.
        """
        key = name_key(text)
        if len(key) < 3 or not self.vendors:
            return None
        best: VendorMatch | None = None
        for vkey, vendor in self.vendors.items():
            score = fuzz.ratio(key, vkey)
            if len(key) > len(vkey) + 3 and len(vkey) >= 8:
                # "GARDENIA BAKERIES (KL) SDN BHD (139386 X)": the name is the reading's prefix.
                score = max(score, fuzz.ratio(key[: len(vkey)], vkey) * 0.97)
            if score >= min_ratio and (best is None or score / 100 > best.score):
                best = VendorMatch(vendor.name, round(score / 100, 4))
        return best

    def match_address(self, vendor_name: str, text: str, min_ratio: float = MIN_ADDRESS_RATIO) -> VendorMatch | None:
        """The known address of ``vendor_name`` closest to ``text`` (an OCR reading), if close enough."""
        vendor = self.vendors.get(name_key(vendor_name))
        if vendor is None or not text.strip():
            return None
        key = name_key(text)
        best: VendorMatch | None = None
        for address in vendor.addresses:
            score = fuzz.ratio(key, name_key(address))
            if score >= min_ratio and _misread(key, name_key(address)) and (best is None or score / 100 > best.score):
                best = VendorMatch(address, round(score / 100, 4))
        return best

    def addresses(self, vendor_name: str) -> list[str]:
        vendor = self.vendors.get(name_key(vendor_name))
        return [a for a, _ in vendor.addresses.most_common()] if vendor else []

    def number_shapes(self, vendor_name: str) -> Counter:
        """Shapes (``number_shape``) of this vendor's past invoice numbers, with counts."""
        vendor = self.vendors.get(name_key(vendor_name))
        return Counter(vendor.shapes) if vendor else Counter()

    def seen(self, vendor_name: str, number: str, total: str) -> str | None:
        """The id of a stored document with the same vendor, invoice number and total."""
        amount = _amount_key(total)
        if amount is None:
            return None
        return self.invoices.get((name_key(vendor_name), _number_key(number), amount))

    # ------------------------------------------------------------ persistence

    def to_json(self) -> dict:
        return {
            "vendors": [{"name": v.name, "count": v.count, "addresses": dict(v.addresses),
                         "shapes": dict(v.shapes)} for v in self.vendors.values()],
            "invoices": [[k[0], k[1], k[2], doc_id] for k, doc_id in self.invoices.items()],
        }

    @classmethod
    def from_json(cls, data: dict) -> "VendorBook":
        book = cls()
        for v in data.get("vendors", []):
            book.vendors[name_key(v["name"])] = _Vendor(v["name"], int(v.get("count", 0)),
                                                         Counter(v.get("addresses", {})), Counter(v.get("shapes", {})))
        for vkey, number, total, doc_id in data.get("invoices", []):
            book.invoices[(vkey, number, total)] = doc_id
        return book

    def save(self, path: Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_json(), ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "VendorBook":
        path = Path(path)
        if not path.is_file():
            return cls()
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))


def _misread(reading: str, known: str) -> bool:
    """``reading`` can be ``known`` with letters misread: word for word alike, or, when OCR
    split or joined words, alike as a whole. Another branch's address ("... 1032 SUBANG
    PERDANA" for "... 1237 TMN INDAH PERDANA") differs in whole words and is not."""
    a, b = reading.split(), known.split()
    if len(a) == len(b):
        return all(x == y or fuzz.ratio(x, y) >= 50 for x, y in zip(a, b))
    return fuzz.ratio(reading, known) >= 90


def _number_key(number: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", number).upper()


def _values(doc_or_fields) -> dict:
    fields = getattr(doc_or_fields, "fields", doc_or_fields)
    return {k: getattr(v, "value", v) for k, v in (fields or {}).items()}
