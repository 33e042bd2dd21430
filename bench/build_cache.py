"""Build the dev cache of page words, so classifier training and extraction work don't re-OCR.

Usage: ``python bench/build_cache.py DATA_DIR [--out bench/.cache] [--workers 2] [--force]``

For every document of ``DATA_DIR/manifest.jsonl`` it writes ``<out>/pages/<id>.json``:
``{"id", "source", "file_sha256", "status", "reason", "form_fields", "pages": [Page, ...]}`` (the ``ecm.document.Page``
model, words with boxes). An entry whose ``file_sha256`` is not the file's (another folder reusing
an id, a replaced file) is read again.

When the real ingest exists (``ingest.read_document``) it is used, so the cache holds exactly
what the pipeline will see. Until then a stand-in with the same output shape is used:
born-digital PDF pages through ``pdftotext -bbox-layout`` (points), images and image-only pages
through pdf2image (300 dpi, grey) + ``pytesseract.image_to_data`` (pixels), one Tesseract
thread per process (``OMP_THREAD_LIMIT=1``: otherwise OpenMP oversubscribes and it is 8x slower).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from html import unescape
from pathlib import Path

# Must be set before Tesseract starts in any worker.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from classify.corpus import cache_is_current  # noqa: E402
from ingest.reader import pdf_form_fields, sha256_file  # noqa: E402
from ecm.document import Page, Word  # noqa: E402

__all__ = ["read_pages", "build_cache", "cache_path", "main"]

MIN_TEXT_CHARS = 20  # a text layer with fewer characters on a page counts as absent
OCR_DPI = 300
MAX_OCR_PIXELS = 12_000_000  # big A4 scans of small receipts: downscale before OCR (speed)
MIN_OCR_LONG_SIDE = 1600  # smaller images are upscaled 2x before OCR (boxes stay in original px)


def cache_path(cache_dir: Path, doc_id: str) -> Path:
    return cache_dir / "pages" / f"{doc_id}.json"


# ---------------------------------------------------------------- stand-in reader

_PAGE_RE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)
_LINE_RE = re.compile(r"<line [^>]*>(.*?)</line>", re.S)
_WORD_RE = re.compile(
    r'<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)">(.*?)</word>', re.S
)


def _text_layer_pages(pdf: Path) -> list[Page]:
    out = subprocess.run(
        ["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = []
    for n, m in enumerate(_PAGE_RE.finditer(out), start=1):
        words: list[Word] = []
        for li, line in enumerate(_LINE_RE.finditer(m.group(3))):
            for w in _WORD_RE.finditer(line.group(1)):
                text = unescape(w.group(5)).strip()
                if text:
                    box = tuple(float(w.group(i)) for i in range(1, 5))
                    words.append(Word(text=text, bbox=box, conf=1.0, line=li))
        pages.append(
            Page(number=n, width=float(m.group(1)), height=float(m.group(2)), unit="pt",
                 source="text", words=words)
        )
    return pages


def _ocr_image(image, number: int, dpi: int | None) -> Page:
    import pytesseract

    image = image.convert("L")
    scale = 1.0
    if image.width * image.height > MAX_OCR_PIXELS:
        scale = (MAX_OCR_PIXELS / (image.width * image.height)) ** 0.5
    elif max(image.width, image.height) < MIN_OCR_LONG_SIDE:
        # Small low-resolution receipt photos: Tesseract reads them far better at 2x.
        scale = 2.0
    if scale != 1.0:
        from PIL import Image

        image = image.resize((int(image.width * scale), int(image.height * scale)), Image.LANCZOS)
    data = pytesseract.image_to_data(image, output_type=pytesseract.Output.DICT)
    words: list[Word] = []
    line_ids: dict[tuple, int] = {}
    for i, text in enumerate(data["text"]):
        text = (text or "").strip()
        conf = float(data["conf"][i])
        if not text or conf < 0:
            continue
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        line = line_ids.setdefault(key, len(line_ids))
        x, y, w, h = (data[k][i] / scale for k in ("left", "top", "width", "height"))
        words.append(Word(text=text, bbox=(x, y, x + w, y + h), conf=conf / 100.0, line=line))
    width, height = round(image.width / scale), round(image.height / scale)
    return Page(number=number, width=width, height=height, unit="px", dpi=dpi,
                source="ocr", words=words)


def _pdf_pages(pdf: Path, max_ocr_pages: int | None) -> list[Page]:
    from pdf2image import convert_from_path

    pages = _text_layer_pages(pdf)
    ocr_done = 0
    for i, page in enumerate(pages):
        if sum(len(w.text) for w in page.words) >= MIN_TEXT_CHARS:
            continue
        if max_ocr_pages is not None and ocr_done >= max_ocr_pages:
            pages[i] = page.model_copy(update={"words": [], "source": "none"})
            continue
        img = convert_from_path(str(pdf), dpi=OCR_DPI, grayscale=True, first_page=i + 1,
                                last_page=i + 1)[0]
        ocr = _ocr_image(img, i + 1, OCR_DPI)
        # Keep the box units of the rendered image: that is what OCR saw.
        pages[i] = ocr
        ocr_done += 1
    return pages


def _standin_read_pages(path: Path, max_ocr_pages: int | None) -> list[Page]:
    if path.suffix.lower() == ".pdf":
        return _pdf_pages(path, max_ocr_pages)
    from PIL import Image

    with Image.open(path) as img:
        dpi = img.info.get("dpi", (None,))[0]
        return [_ocr_image(img, 1, int(dpi) if dpi else None)]


# ---------------------------------------------------------------- OCR variants (measurement only)

def parse_variant(spec: str) -> dict:
    """``"upscale=1200,psm=6"`` -> {"upscale": 1200, "psm": 6}. ``upscale=N``: images whose short
    side is below N px are read at 2x; ``psm``: Tesseract page segmentation mode (ingest uses 3)."""
    out = {"upscale": 0, "psm": 3}
    for part in filter(None, spec.split(",")):
        key, _, value = part.partition("=")
        if key not in out:
            raise SystemExit(f"unknown OCR variant key {key!r} (known: {', '.join(out)})")
        out[key] = int(value)
    return out


def _variant_pages(path: Path, spec: str) -> tuple[list[Page], str, str | None]:
    """Like ``ingest.read_document``, but OCR'd pages go through ``ingest.ocr`` with the variant's
    upscaling / page segmentation (to measure an OCR change before proposing it to ingest)."""
    from PIL import Image
    from pytesseract.pytesseract import run_tesseract

    import tempfile
    from ecm.config import LimitsConfig, OcrConfig
    from ingest import open_document
    from ingest import ocr as ingest_ocr

    opts = parse_variant(spec)
    doc, jobs = open_document(path, LimitsConfig(), OcrConfig())
    if doc.status != "ok":
        return [], doc.status, doc.reason
    pages = {p.number: p for p in doc.pages}
    for job in jobs:
        image, dpi = ingest_ocr.load_page_image(job)
        image, dpi = ingest_ocr._scaled(image, dpi)
        if opts["upscale"] and min(image.size) < opts["upscale"]:
            image = image.resize((image.width * 2, image.height * 2), Image.Resampling.LANCZOS)
            dpi *= 2
        with tempfile.TemporaryDirectory(prefix="ecm-ocrvar-") as tmp:
            src = Path(tmp) / "page.jpg"
            image.save(src, format="JPEG", quality=80, dpi=(dpi, dpi))
            base = str(Path(tmp) / "out")
            run_tesseract(str(src), base, extension="pdf", lang=job.language, timeout=job.timeout,
                          config=f"--psm {opts['psm']} --dpi {dpi} -c tessedit_create_tsv=1")
            words = ingest_ocr._parse_tsv(Path(base + ".tsv").read_text(encoding="utf-8", errors="replace"))
        pages[job.number] = Page(number=job.number, width=image.width, height=image.height, unit="px",
                                 dpi=dpi, source="ocr" if words else "none", words=words)
    return [pages[n] for n in sorted(pages)], "ok", None


def read_pages(path: Path, max_ocr_pages: int | None = None,
               ocr_variant: str | None = None) -> tuple[list[Page], str, str | None]:
    """Pages, status and quarantine reason of one file: through ``ingest.read_document`` when
    it exists, else the stand-in. ``ocr_variant`` (see ``parse_variant``) measures an OCR change."""
    if ocr_variant is not None:
        return _variant_pages(path, ocr_variant)
    try:
        from ingest import read_document  # type: ignore[attr-defined]
    except ImportError:
        return _standin_read_pages(path, max_ocr_pages), "ok", None
    doc = read_document(path)
    return list(doc.pages), doc.status, doc.reason


# ---------------------------------------------------------------- driver

def _build_one(data_dir: str, entry: dict, out_dir: str, max_ocr_pages: int | None,
               ocr_variant: str | None = None) -> tuple[str, float, int]:
    start = time.monotonic()
    cpu0 = os.times()
    pages, status, reason = read_pages(Path(data_dir) / entry["path"], max_ocr_pages, ocr_variant)
    cpu1 = os.times()
    # CPU seconds of this process and the Tesseract/poppler processes it ran (robust to a busy machine).
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system) + \
        (cpu1.children_user - cpu0.children_user) + (cpu1.children_system - cpu0.children_system)
    target = cache_path(Path(out_dir), entry["id"])
    tmp = target.with_suffix(".tmp")
    source = Path(data_dir) / entry["path"]
    form_fields = pdf_form_fields(source) if source.suffix.lower() == ".pdf" else 0
    tmp.write_text(json.dumps({"id": entry["id"], "source": entry["path"],
                               "file_sha256": sha256_file(source)[0], "status": status,
                               "reason": reason, "cpu_s": round(cpu, 3), "ocr_variant": ocr_variant,
                               "form_fields": form_fields, "pages": [p.model_dump(mode="json") for p in pages]}))
    tmp.replace(target)
    return entry["id"], time.monotonic() - start, len(pages)


def build_cache(data_dir: Path, out_dir: Path, workers: int = 2, force: bool = False,
                max_ocr_pages: int | None = None, ocr_variant: str | None = None,
                doc_types: set[str] | None = None) -> int:
    entries = [json.loads(l) for l in (data_dir / "manifest.jsonl").read_text().splitlines() if l.strip()]
    if doc_types:
        entries = [e for e in entries if e.get("doc_type") in doc_types]
    (out_dir / "pages").mkdir(parents=True, exist_ok=True)
    # A cached id read from other bytes (another folder, a replaced file) is read again.
    todo = [e for e in entries if force or cache_is_current(cache_path(out_dir, e["id"]), data_dir / e["path"]) is None]
    print(f"{len(entries)} documents, {len(todo)} to read", file=sys.stderr)
    failed = 0
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(_build_one, str(data_dir), e, str(out_dir), max_ocr_pages, ocr_variant): e["id"] for e in todo}
        for i, fut in enumerate(as_completed(futures), start=1):
            try:
                doc_id, secs, npages = fut.result()
                print(f"[{i}/{len(todo)}] {doc_id}: {npages} pages, {secs:.1f}s", file=sys.stderr)
            except Exception as exc:  # keep going: one bad file must not stop the cache
                failed += 1
                print(f"[{i}/{len(todo)}] {futures[fut]}: FAILED {exc!r}", file=sys.stderr)
    return failed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / ".cache")
    ap.add_argument("--workers", type=int, default=max(1, len(os.sched_getaffinity(0))))
    ap.add_argument("--force", action="store_true", help="re-read documents already cached")
    ap.add_argument("--max-ocr-pages", type=int, default=None,
                    help="stand-in reader only: OCR at most this many pages per document")
    ap.add_argument("--ocr-variant", default=None, metavar="SPEC",
                    help='measure an OCR change, e.g. "upscale=1200,psm=6" (write to a separate --out)')
    ap.add_argument("--types", default=None, help="only these doc types, comma-separated (e.g. receipt)")
    args = ap.parse_args(argv)
    if args.ocr_variant is not None:
        parse_variant(args.ocr_variant)
    failed = build_cache(args.data_dir, args.out, args.workers, args.force, args.max_ocr_pages,
                         args.ocr_variant, set(args.types.split(",")) if args.types else None)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
