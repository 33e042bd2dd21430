"""Exports of coding: CSV and JSON, the Concordance DAT and Opticon OPT load files that review
platforms import, and a privilege log. Pure functions from rows to bytes.

Concordance DAT (the de facto standard, as Concordance and Relativity write it):
  - UTF-8 with a byte order mark; records end with CR LF; the first record is the header;
  - every value is wrapped in the text qualifier þ (U+00FE) and values are separated by the
    field delimiter U+0014 (shown as ¶ by Concordance's code page);
  - a line break inside a value becomes ® (U+00AE), the newline placeholder; the delimiter and
    qualifier characters cannot occur inside a value (U+0014 is dropped, þ written as "th",
    its usual transliteration);
  - lists (authors, recipients, issues) are joined with "; "; dates are YYYYMMDD (00 for an
    unknown month or day).
Opticon OPT (page-level image cross-reference), one line per page, CR LF, no BOM:
  ``IMAGEKEY,VOLUME,IMAGEPATH,DOCBREAK,FOLDERBREAK,BOXBREAK,PAGECOUNT``: the image key is the
  page's Bates number; DOCBREAK is ``Y`` on a document's first page (with its page count) and
  blank on the others, which leave PAGECOUNT blank too.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from web.coding.bates import bates_pages

__all__ = [
    "ExportRow",
    "DAT_FIELDS",
    "DAT_DELIMITER",
    "DAT_QUOTE",
    "DAT_NEWLINE",
    "dat_file",
    "dat_table",
    "parse_dat",
    "opt_file",
    "privilege_log",
    "coding_csv",
    "coding_json",
    "NOT_PRIVILEGED",
]

DAT_DELIMITER = "\u0014"
DAT_QUOTE = "\u00fe"
DAT_NEWLINE = "\u00ae"
BOM = "\ufeff"
DAT_FIELDS = ("BEGBATES", "ENDBATES", "DOCTYPE", "DOCDATE", "TITLE", "AUTHOR", "RECIPIENTS", "CC", "PRIVILEGE",
              "RESPONSIVENESS", "ISSUES", "SHA256", "NATIVE")
NOT_PRIVILEGED = "Not Privileged"
PRIVILEGE_LOG_COLUMNS = ("Bates Range", "Date", "Author", "Recipients", "Document Type", "Privilege", "Basis",
                         "Description")


@dataclass(frozen=True)
class ExportRow:
    """One coded document as the exports see it."""

    doc_id: str
    sha256: str
    bates_begin: str
    bates_end: str
    native_ext: str  # ".pdf", ".png", ... ("" when unknown)
    values: Mapping[str, Any]
    coder: str = ""
    version: int = 0
    saved_at: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def page_count(self) -> int:
        return len(bates_pages(self.bates_begin, self.bates_end))

    @property
    def native_path(self) -> str:
        return f"NATIVES\\{self.bates_begin}{self.native_ext}"


def _joined(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


def _dat_date(value: Any) -> str:
    return str(value).replace("-", "") if value else ""


def _dat_value(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", DAT_NEWLINE)
    return text.replace(DAT_DELIMITER, "").replace(DAT_QUOTE, "th")


def _dat_line(values: Sequence[str]) -> str:
    return DAT_DELIMITER.join(f"{DAT_QUOTE}{_dat_value(v)}{DAT_QUOTE}" for v in values) + "\r\n"


def dat_table(header: Sequence[str], records: Sequence[Sequence[Any]]) -> bytes:
    """A DAT file of any fields: ``header`` then one record per row (values as ``dat_file``
    writes them: lists joined with "; ", booleans Y/N, None empty)."""
    return "".join([BOM, _dat_line(header), *(_dat_line([_joined(v) for v in r]) for r in records)]).encode("utf-8")


def dat_file(rows: Sequence[ExportRow]) -> bytes:
    out = [BOM, _dat_line(DAT_FIELDS)]
    for r in rows:
        v = r.values
        out.append(_dat_line([
            r.bates_begin, r.bates_end, _joined(v.get("document_type")), _dat_date(v.get("document_date")),
            _joined(v.get("title")), _joined(v.get("author")), _joined(v.get("recipients")), _joined(v.get("cc")),
            _joined(v.get("privilege")), _joined(v.get("responsiveness")), _joined(v.get("issues")), r.sha256,
            r.native_path,
        ]))
    return "".join(out).encode("utf-8")


def parse_dat(data: bytes) -> list[dict[str, str]]:
    """The records of a DAT file as dicts keyed by the header (what an importer does; used by
    the tests and handy for checking a file by hand)."""
    text = data.decode("utf-8")
    if text.startswith(BOM):
        text = text[1:]
    lines = text.split("\r\n")
    if lines and lines[-1] == "":
        lines.pop()

    def cells(line: str) -> list[str]:
        if not (line.startswith(DAT_QUOTE) and line.endswith(DAT_QUOTE)):
            raise ValueError(f"not a DAT record: {line[:60]!r}")
        return [c.replace(DAT_NEWLINE, "\n") for c in line[1:-1].split(DAT_QUOTE + DAT_DELIMITER + DAT_QUOTE)]

    header = cells(lines[0])
    return [dict(zip(header, cells(line), strict=True)) for line in lines[1:]]


def opt_file(rows: Sequence[ExportRow], volume: str = "VOL001", image_ext: str = ".tif",
             image_path: Callable[[str], str] | None = None) -> bytes:
    """``image_path`` gives a page's image path from its Bates number (default
    ``IMAGES\\<BATES><image_ext>``)."""
    path = image_path or (lambda page: f"IMAGES\\{page}{image_ext}")
    lines = []
    for r in rows:
        pages = bates_pages(r.bates_begin, r.bates_end)
        for i, page in enumerate(pages):
            first = i == 0
            lines.append(f"{page},{volume},{path(page)},{'Y' if first else ''},,,"
                         f"{len(pages) if first else ''}\r\n")
    return "".join(lines).encode("utf-8")


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (values can come from OCR)."""
    text = _joined(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([[_cell(v) for v in row] for row in rows])
    return (BOM + buffer.getvalue()).encode("utf-8")


def privilege_log(rows: Sequence[ExportRow]) -> bytes:
    """Every document coded as privileged (anything but Not Privileged), in Bates order."""
    out = []
    for r in sorted(rows, key=lambda r: r.bates_begin):
        v = r.values
        if not v.get("privilege") or v.get("privilege") == NOT_PRIVILEGED:
            continue
        span = r.bates_begin if r.bates_begin == r.bates_end else f"{r.bates_begin} - {r.bates_end}"
        day = v.get("document_date") or ""
        if day and v.get("document_date_estimated"):
            day += " (estimated)"
        recipients = list(v.get("recipients") or []) + [f"cc: {p}" for p in v.get("cc") or []]
        out.append([span, day, v.get("author") or [], recipients, v.get("document_type"), v.get("privilege"),
                    v.get("privilege_basis"), v.get("privilege_description") or v.get("title")])
    return _csv(PRIVILEGE_LOG_COLUMNS, out)


def coding_csv(rows: Sequence[ExportRow], names: Sequence[str]) -> bytes:
    header = ["doc_id", "bates_begin", "bates_end", "sha256", "coder", "version", "saved_at", *names]
    return _csv(header, [[r.doc_id, r.bates_begin, r.bates_end, r.sha256, r.coder, r.version, r.saved_at,
                          *[r.values.get(n) for n in names]] for r in rows])


def coding_json(rows: Sequence[ExportRow], meta: Mapping[str, Any]) -> bytes:
    return json.dumps({**meta, "documents": [{
        "doc_id": r.doc_id, "bates_begin": r.bates_begin, "bates_end": r.bates_end, "sha256": r.sha256,
        "coder": r.coder, "version": r.version, "saved_at": r.saved_at, "coding": dict(r.values),
    } for r in rows]}, ensure_ascii=False, indent=2).encode("utf-8")
