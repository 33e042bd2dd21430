"""A production volume: one ZIP that a vendor or opposing counsel loads into Relativity or
Concordance as it is.

    VOL001/DATA/VOL001.dat             Concordance DAT (the conventions of web.coding.loadfiles)
    VOL001/DATA/VOL001.opt             Opticon OPT: one line per page image
    VOL001/IMAGES/0001/ABC000001.tif   one single-page image per Bates number, 1000 per folder
    VOL001/NATIVES/ABC000001.pdf       the original file, named by the document's first number
    VOL001/TEXT/ABC000001.txt          the document's text (text layer or OCR), UTF-8

What goes out, and why:
  - documents whose final coding is Responsive (or that carry no responsiveness, for a schema
    without that field). Non-Responsive, Needs Further Review and uncoded documents stay home:
    producing them is over-production. They are listed in the report, with the Bates gaps they
    leave;
  - privileged documents (any privilege but Not Privileged; Partially Privileged too, as there
    is no redaction yet) are withheld: a slip sheet "Document withheld — privileged" for each of
    their Bates numbers, so the numbers run on and match the privilege log's ranges; no native,
    no text, and only their numbers in the DAT;
  - the DAT carries objective coding (type, date, title, people), the hash and the links. The
    team's subjective coding (responsiveness, issues, hot, privilege basis) is work product and
    never leaves.
Images are black-and-white Group IV TIFF at 300 dpi (what review platforms expect of document
images; a text page is tens of KB), each endorsed with its Bates number at the bottom right.
Paths in the DAT and OPT are relative to the folder the ZIP is unpacked into, with backslashes
(``VOL001\\IMAGES\\0001\\ABC000001.tif``): name that folder as the import's root.

Memory: one page image at a time. Pages are rendered by poppler (``pdftoppm``, one process per
page, so nothing is shared with the web's page views), from the searchable PDF when there is one
(its pages are the pages as read, turned upright), else from the original; the ZIP is written to
a file as it grows and only moved to ``target`` when it is complete.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import time
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from PIL import Image, ImageDraw, ImageFont, ImageOps

from ecm.document import Document, Page
from ecm.errors import ConfigError, EcmError, ExitCode, NotFound, StoreError
from web.coding.bates import bates_pages
from web.coding.loadfiles import NOT_PRIVILEGED, ExportRow, dat_table, opt_file
from web.coding.store import Batch, CodingStore

__all__ = [
    "ProductionError",
    "ProductionSource",
    "ProductionReport",
    "PRODUCTION_FIELDS",
    "RESPONSIVE",
    "SLIP_SHEET_TEXT",
    "export_rows",
    "coded_rows",
    "write_production",
    "produce",
    "slip_sheet",
]

PRODUCTION_FIELDS = ("BEGBATES", "ENDBATES", "PAGECOUNT", "PRODVOL", "DOCTYPE", "DOCDATE", "TITLE", "AUTHOR",
                     "RECIPIENTS", "CC", "FILEEXT", "SHA256", "WITHHELD", "NATIVELINK", "TEXTLINK")
RESPONSIVE = "Responsive"
SLIP_SHEET_TEXT = "Document withheld — privileged"
VOLUME_NAME = re.compile(r"^[A-Z][A-Z0-9_-]{0,19}$")
IMAGES_PER_FOLDER = 1000
DPI = 300
MAX_PAGE_PIXELS = 60_000_000  # a poster-sized page is rendered at a lower dpi rather than exceed this
BLACK_BELOW = 160  # grey levels under this become black: light-grey text stays, paper tint goes
RENDER_TIMEOUT = 120  # seconds per page
LETTER = (8.5, 11.0)  # inches: slip sheets and placeholders


class ProductionError(EcmError):
    """A production that cannot be made as asked; the message says what to change."""

    exit_code = ExitCode.usage


class ProductionSource(Protocol):
    """Where documents come from (``store.Archive`` is one)."""

    def get(self, doc_id: str) -> Document: ...
    def searchable_pdf(self, doc_id: str) -> bytes | None: ...
    def get_original(self, sha256: str) -> bytes: ...


@dataclass(frozen=True)
class ProductionReport:
    volume: str
    documents: int  # DAT records: produced + withheld
    withheld: int
    pages: int  # images, slip sheets included
    natives: int
    first_bates: str
    last_bates: str
    size: int  # bytes of the ZIP
    seconds: float
    doc_ids: list[str]
    left_out: dict[str, list[str]] = field(default_factory=dict)  # reason -> document ids
    gaps: list[str] = field(default_factory=list)  # Bates ranges with no document in this volume

    def audit_detail(self) -> dict[str, Any]:
        return {"what": "coding-production", "volume": self.volume, "documents": self.documents,
                "pages": self.pages, "withheld": self.withheld, "natives": self.natives,
                "bates": f"{self.first_bates}-{self.last_bates}", "doc_ids": self.doc_ids,
                "left_out": {reason: len(ids) for reason, ids in self.left_out.items()}}

    def summary(self) -> str:
        lines = [f"{self.volume}: {self.documents} document(s), {self.pages} page image(s), {self.withheld} withheld "
                 f"as privileged, Bates {self.first_bates}-{self.last_bates}, {self.size / 1e6:.1f} MB "
                 f"in {self.seconds:.1f} s"]
        lines += [f"left out ({reason}): {len(ids)}" for reason, ids in self.left_out.items()]
        if self.gaps:
            lines.append(f"Bates gaps (numbers of documents left out): {', '.join(self.gaps[:10])}"
                         + (" …" if len(self.gaps) > 10 else ""))
        return "\n".join(lines)


# ----------------------------------------------------------------------------- which documents


def export_rows(store: CodingStore, batch: Batch) -> list[ExportRow]:
    """The coded documents of ``batch`` with their final coding, in batch order."""
    rows = []
    for d in store.docs(batch.id):
        final = store.final(batch.id, d.doc_id)
        if final is None:
            continue
        rows.append(ExportRow(doc_id=d.doc_id, sha256=d.sha256, bates_begin=d.bates_begin, bates_end=d.bates_end,
                              native_ext=d.native_ext, values=final.values, coder=final.coder, version=final.version,
                              saved_at=datetime.fromtimestamp(final.saved_at, timezone.utc).isoformat(timespec="seconds")))
    return rows


def coded_rows(store: CodingStore, batch_id: int | None = None) -> tuple[list[ExportRow], list[str]]:
    """(coded documents, ids of uncoded ones) of one batch, or of every batch. A document coded
    in several batches counts once, with its latest coding (the highest record version)."""
    if batch_id is not None:
        batch = store.batch(batch_id)
        if batch is None:
            raise NotFound(f"There is no coding batch {batch_id}; the batch numbers are on the coding page.")
        batches = [batch]
    else:
        batches = store.batches()
    latest: dict[str, ExportRow] = {}
    listed: set[str] = set()
    for batch in batches:
        listed.update(d.doc_id for d in store.docs(batch.id))
        for row in export_rows(store, batch):
            if row.doc_id not in latest or row.version > latest[row.doc_id].version:
                latest[row.doc_id] = row
    return list(latest.values()), sorted(listed - set(latest))


def _withheld(values: Mapping[str, Any]) -> bool:
    privilege = values.get("privilege")
    return bool(privilege) and privilege != NOT_PRIVILEGED


def _number(bates: str) -> tuple[str, int]:
    m = re.fullmatch(r"(.*?)(\d+)", bates)
    if not m:
        raise ProductionError(f"{bates!r} is not a Bates number")
    return m.group(1), int(m.group(2))


def _select(rows: Sequence[ExportRow]) -> tuple[list[ExportRow], dict[str, list[str]]]:
    produced, left_out = [], {}
    for r in rows:
        responsiveness = r.values.get("responsiveness")
        if responsiveness and responsiveness != RESPONSIVE:
            left_out.setdefault(f"coded {responsiveness}", []).append(r.doc_id)
        else:
            produced.append(r)
    return sorted(produced, key=lambda r: _number(r.bates_begin)[1]), left_out


def _gaps(rows: Sequence[ExportRow]) -> list[str]:
    """Bates ranges between the documents; refuses overlaps and mixed prefixes."""
    prefixes = sorted({_number(r.bates_begin)[0] for r in rows})
    if len(prefixes) > 1:
        raise ProductionError(f"The documents carry Bates numbers under several prefixes ({', '.join(prefixes)}) and a "
                              "volume is numbered under one: produce one batch at a time.")
    gaps = []
    for before, after in zip(rows, rows[1:]):
        prefix, end = _number(before.bates_end)
        width = len(before.bates_end) - len(prefix)
        begin = _number(after.bates_begin)[1]
        if begin <= end:
            raise ProductionError(f"Bates ranges overlap: {before.bates_begin}-{before.bates_end} and "
                                  f"{after.bates_begin}-{after.bates_end}.")
        if begin > end + 1:
            first, last = f"{prefix}{end + 1:0{width}d}", f"{prefix}{begin - 1:0{width}d}"
            gaps.append(first if first == last else f"{first}-{last}")
    return gaps


# ----------------------------------------------------------------------------- images


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    for name in ("DejaVuSans.ttf", "LiberationSans-Regular.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)  # Pillow's own font; it has no dash, see _text


def _text(font: Any, text: str) -> str:
    return text if getattr(font, "path", None) else text.replace("—", "-")


def _bw(gray: Image.Image) -> Image.Image:
    return gray.point([0] * BLACK_BELOW + [255] * (256 - BLACK_BELOW), "1")


def _endorse(image: Image.Image, bates: str, dpi: int) -> Image.Image:
    """The Bates number at the bottom right, on a white patch so it reads over anything."""
    draw = ImageDraw.Draw(image)
    font = _font(max(12, round(dpi * 10 / 72)))  # 10 pt
    left, top, right, bottom = draw.textbbox((0, 0), bates, font=font)
    margin, pad = round(dpi * 0.2), round(dpi * 0.03)
    x = max(pad - left, image.width - margin - right)
    y = max(pad - top, image.height - margin - bottom)
    draw.rectangle((x + left - pad, y + top - pad, x + right + pad, y + bottom + pad), fill=255)
    draw.text((x, y), bates, font=font, fill=0)
    return image


def slip_sheet(bates: str, lines: Sequence[str], dpi: int = DPI) -> Image.Image:
    """A letter page (1-bit) with ``lines`` centred, the first large, and the Bates number."""
    image = Image.new("1", (round(LETTER[0] * dpi), round(LETTER[1] * dpi)), 255)
    draw = ImageDraw.Draw(image)
    y = image.height * 0.38
    for i, line in enumerate(lines):
        font = _font(round(dpi * (24 if i == 0 else 14) / 72))
        line = _text(font, line)
        left, top, right, bottom = draw.textbbox((0, 0), line, font=font)
        draw.text(((image.width - (right - left)) / 2 - left, y), line, font=font, fill=0)
        y += (bottom - top) * 2.2
    return _endorse(image, bates, dpi) if bates else image


def _tiff(image: Image.Image, dpi: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="TIFF", compression="group4", dpi=(dpi, dpi))
    return buffer.getvalue()


def _pdf_page_sizes(path: Path) -> list[tuple[float, float]]:
    import pikepdf

    try:
        with pikepdf.open(path) as pdf:
            sizes = []
            for page in pdf.pages:
                box = page.mediabox
                sizes.append((abs(float(box[2]) - float(box[0])), abs(float(box[3]) - float(box[1]))))
            return sizes
    except pikepdf.PdfError as err:
        raise StoreError(f"the stored PDF cannot be read ({str(err).splitlines()[0][:160]})") from err


def _pdf_images(path: Path, sizes: Sequence[tuple[float, float]], dpi: int) -> Iterator[tuple[Image.Image, int]]:
    from pdf2image import convert_from_path
    from pdf2image.exceptions import (
        PDFInfoNotInstalledError, PDFPageCountError, PDFPopplerTimeoutError, PDFSyntaxError,
    )

    for number, (width, height) in enumerate(sizes, start=1):
        area = max(width, 1.0) * max(height, 1.0) / (72.0 * 72.0)
        page_dpi = max(36, min(dpi, int((MAX_PAGE_PIXELS / area) ** 0.5)))
        try:
            images = convert_from_path(str(path), dpi=page_dpi, first_page=number, last_page=number, grayscale=True,
                                       timeout=RENDER_TIMEOUT)
        except PDFInfoNotInstalledError as err:
            raise ConfigError("poppler is not installed (pdftoppm); install poppler-utils") from err
        except PDFPopplerTimeoutError as err:
            raise StoreError(f"page {number} took longer than {RENDER_TIMEOUT} s to render") from err
        except (PDFPageCountError, PDFSyntaxError) as err:
            raise StoreError(f"page {number} cannot be rendered: {str(err).splitlines()[0][:160]}") from err
        if not images:
            raise StoreError(f"page {number} cannot be rendered (poppler returned no image)")
        yield images[0], page_dpi


def _image_frames(data: bytes) -> int:
    try:
        with Image.open(io.BytesIO(data)) as im:
            return getattr(im, "n_frames", 1)
    except (OSError, EOFError, ValueError, Image.DecompressionBombError) as err:
        raise StoreError(f"the stored image cannot be decoded: {err}".splitlines()[0]) from err


def _frame_images(data: bytes, pages: Sequence[Page], dpi: int) -> Iterator[tuple[Image.Image, int]]:
    try:
        with Image.open(io.BytesIO(data)) as im:
            for index in range(getattr(im, "n_frames", 1)):
                im.seek(index)
                declared = round((im.info.get("dpi") or (0, 0))[0] or 0)
                page = pages[index] if index < len(pages) else None
                # 72/96 dpi is a placeholder cameras and scanners write; the page's dpi is what OCR used.
                source_dpi = declared if 150 <= declared <= 1200 else (page.dpi if page and page.dpi else DPI)
                image = ImageOps.exif_transpose(im).convert("L")
                if page is not None and page.rotation:
                    image = image.rotate(-page.rotation, expand=True, fillcolor=255)  # PIL turns counter-clockwise
                if source_dpi > dpi:  # a 600 dpi scan goes out at 300; a 200 dpi one stays 200 (nothing to gain)
                    factor = dpi / source_dpi
                    image = image.resize((max(1, round(image.width * factor)), max(1, round(image.height * factor))),
                                         Image.Resampling.LANCZOS)
                    source_dpi = dpi
                yield image, source_dpi
    except (OSError, EOFError, ValueError, Image.DecompressionBombError) as err:
        raise StoreError(f"the stored image cannot be decoded: {err}".splitlines()[0]) from err


def _page_images(doc: Document, source: ProductionSource, work: Path, dpi: int,
                 expected: int) -> Iterator[tuple[Image.Image, int]]:
    """The document's pages as grey images with their dpi, one at a time; exactly ``expected``
    of them (its Bates numbers) or an error before the first."""
    searchable = source.searchable_pdf(doc.id or "")
    data = searchable if searchable is not None else source.get_original(doc.sha256)
    if searchable is not None or doc.media_type == "application/pdf":
        path = work / "document.pdf"
        path.write_bytes(data)
        del data
        sizes = _pdf_page_sizes(path)
        count, images = len(sizes), _pdf_images(path, sizes, dpi)
    elif doc.media_type.startswith("image/"):
        count, images = _image_frames(data), _frame_images(data, doc.pages, dpi)
    else:
        count, images = 0, iter(())
    if count == 0 and expected == 1:  # nothing to draw (a native-only file): a placeholder says so
        yield slip_sheet("", ["Document produced in native format only"], dpi).convert("L"), dpi
        return
    if count != expected:
        raise ProductionError(f"{doc.id} has {count} page(s) but {expected} Bates number(s); it changed after its "
                              "batch was made: put it in a new batch under a new prefix.")
    yield from images


# ----------------------------------------------------------------------------- the volume


def _native_ext(row: ExportRow, doc: Document) -> str:
    if row.native_ext:
        return row.native_ext
    suffix = PurePosixPath(doc.source.replace("\\", "/")).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ""


def _text_file(doc: Document) -> bytes:
    return doc.text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def write_production(target: Path | str, rows: Sequence[ExportRow], source: ProductionSource, *,
                     volume: str = "VOL001", dpi: int = DPI, not_coded: Sequence[str] = (),
                     workdir: Path | str | None = None) -> ProductionReport:
    """Write the production volume of ``rows`` (coded documents with their Bates ranges) to the
    ZIP file ``target``. ``not_coded``: ids of documents left out for want of a coding (for the
    report). ``workdir``: where temporary files go (a page at a time; default the system's)."""
    started = time.monotonic()
    if not VOLUME_NAME.fullmatch(volume):
        raise ProductionError(f"The volume name must be 1-20 capital letters, digits, '_' or '-' (VOL001), not "
                              f"{volume[:30]!r}.")
    produced, left_out = _select(rows)
    if not_coded:
        left_out = {"not coded": list(not_coded), **left_out}
    if not produced:
        raise ProductionError("Nothing to produce: no document is coded Responsive"
                              + (f" ({sum(len(v) for v in left_out.values())} left out)" if left_out else "")
                              + ". Code the documents first.")
    gaps = _gaps(produced)
    target = Path(target)
    if not target.parent.is_dir():
        raise ProductionError(f"The folder {target.parent} does not exist: create it, or write the volume elsewhere.")
    partial = target.with_name(target.name + ".part")
    root = f"{volume}/"
    link = lambda path: path.replace("/", "\\")  # noqa: E731 - load files name paths the Windows way
    image_paths: dict[str, str] = {}
    records: list[list[Any]] = []
    withheld = natives = 0
    try:
        with tempfile.TemporaryDirectory(prefix="production-", dir=workdir) as tmp, \
                zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            work = Path(tmp)

            def add_image(bates: str, image: Image.Image, image_dpi: int) -> None:
                folder = f"{len(image_paths) // IMAGES_PER_FOLDER + 1:04d}"
                path = f"{root}IMAGES/{folder}/{bates}.tif"
                zf.writestr(path, _tiff(_endorse(image, bates, image_dpi), image_dpi),
                            compress_type=zipfile.ZIP_STORED)  # Group IV is compressed already
                image_paths[bates] = link(path)

            for row in produced:
                numbers = bates_pages(row.bates_begin, row.bates_end)
                base = [row.bates_begin, row.bates_end, len(numbers), volume]
                if _withheld(row.values):
                    withheld += 1
                    for bates in numbers:
                        add_image(bates, slip_sheet(bates, [SLIP_SHEET_TEXT, f"Privilege log: {row.bates_begin}"
                                                            + (f" - {row.bates_end}" if len(numbers) > 1 else "")]),
                                  DPI)
                    records.append([*base, "", "", "", [], [], [], "", "", "Privileged", "", ""])
                    continue
                try:
                    doc = source.get(row.doc_id)
                    for bates, (image, image_dpi) in zip(numbers, _page_images(doc, source, work, dpi, len(numbers)),
                                                         strict=True):
                        add_image(bates, _bw(image), image_dpi)
                        image.close()
                    ext = _native_ext(row, doc)
                    native = f"{root}NATIVES/{row.bates_begin}{ext}"
                    zf.writestr(native, source.get_original(doc.sha256))
                except EcmError as err:
                    if isinstance(err, ProductionError):
                        raise
                    raise type(err)(f"{row.bates_begin} (document {row.doc_id}): {err}") from err
                natives += 1
                text = f"{root}TEXT/{row.bates_begin}.txt"
                zf.writestr(text, _text_file(doc))
                v = row.values
                records.append([*base, v.get("document_type"), str(v.get("document_date") or "").replace("-", ""),
                                v.get("title"), v.get("author"), v.get("recipients"), v.get("cc"), ext.lstrip("."),
                                doc.sha256, "", link(native), link(text)])
            zf.writestr(f"{root}DATA/{volume}.dat", dat_table(PRODUCTION_FIELDS, records))
            zf.writestr(f"{root}DATA/{volume}.opt", opt_file(produced, volume, image_path=image_paths.__getitem__))
        os.replace(partial, target)
    except OSError as err:  # a full disk, a folder we may not write to
        raise StoreError(f"cannot write the production volume {target}: {err.strerror or err}") from err
    finally:
        partial.unlink(missing_ok=True)
    return ProductionReport(
        volume=volume, documents=len(produced), withheld=withheld, pages=len(image_paths), natives=natives,
        first_bates=produced[0].bates_begin, last_bates=produced[-1].bates_end, size=target.stat().st_size,
        seconds=round(time.monotonic() - started, 2), doc_ids=[r.doc_id for r in produced], left_out=left_out,
        gaps=gaps)


def produce(store: CodingStore, source: ProductionSource, target: Path | str, *, batch_id: int | None = None,
            volume: str = "VOL001", workdir: Path | str | None = None) -> ProductionReport:
    """The production volume of one coding batch, or of every coded document (``batch_id`` None)."""
    rows, not_coded = coded_rows(store, batch_id)
    return write_production(target, rows, source, volume=volume, not_coded=not_coded, workdir=workdir)
