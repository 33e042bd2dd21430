"""The pipeline: the only place that knows the order of stages.

    open (sha256, type, text layer) -> OCR pages without text (executor) -> assemble
        -> [split batch scans] -> classify -> extract -> validate -> [store -> index]

Every stage is a function from a Document to a new Document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path

import classify
import extract
import ingest
from ecm.config import Config
from ecm.document import Document
from ecm.executor import Executor
from ecm.errors import BadInput
from ingest.split import split_batch
from search import Index
from store import Archive, doc_id_for

__all__ = ["stages", "classifier_path", "vendors_path", "readings_path", "learn_vendor", "expand_paths", "process", "ingest_paths", "IngestOutcome"]

Stage = Callable[[Document], Document]


def classifier_path(config: Config) -> Path:
    """Where ``ecm train`` puts a retrained classifier (used instead of the shipped one)."""
    return Path(config.home) / "models" / "classifier.joblib"


def vendors_path(config: Config) -> Path:
    """Known vendors, learned from documents a person accepted (``extract.VendorBook``)."""
    return Path(config.home) / "models" / "vendors.json"


def readings_path(config: Config) -> Path:
    """The machine readings of vendor names and addresses of every stored invoice/receipt
    (``extract.consensus``): one JSON line per document, appended by ingest."""
    return Path(config.home) / "models" / "readings.jsonl"


def stages(config: Config, vendors: extract.VendorBook | None = None,
           readings: extract.Readings | None = None) -> tuple[Stage, ...]:
    """After the pages are read, a document goes through these, in this order."""
    trained = classifier_path(config)
    model = classify.load_model(trained) if trained.is_file() else None
    if vendors is None:
        vendors = extract.VendorBook.load(vendors_path(config))  # empty when there is none yet
    if readings is None:
        readings = extract.ReadingLog(readings_path(config)).load()
    return (partial(classify.classify, model=model),
            partial(extract.extract, vendors=vendors, readings=readings),
            partial(extract.validate, vendors=vendors))


def learn_vendor(config: Config, doc: Document) -> None:
    """Call when a person accepts or corrects an invoice/receipt: its vendor, address,
    invoice-number shape and (vendor, number, total) become known to later documents."""
    if doc.doc_type is None or doc.doc_type.label not in ("invoice", "receipt"):
        return
    book = extract.VendorBook.load(vendors_path(config))
    book.learn(doc, doc_id=doc.id)
    book.save(vendors_path(config))


def expand_paths(paths: Iterable[Path]) -> Iterator[Path]:
    """Files as given, folders walked (sorted, hidden files and folders skipped)."""
    for path in paths:
        path = Path(path)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path).parts
                if child.is_file() and not any(part.startswith(".") for part in rel):
                    yield child
        else:
            yield path


def _run_stages(doc: Document, steps: tuple[Stage, ...]) -> Document:
    for stage in steps:
        if doc.status != "ok":
            break
        doc = stage(doc)
    return doc


def process(paths: Iterable[Path], config: Config, executor: Executor,
            skip: Callable[[Document], bool] = lambda doc: False,
            split: bool = False) -> Iterator[tuple[Path, Document]]:
    """Read and understand each file; yields ``(path, document)`` in input order.

    ``skip(doc)`` is asked after the cheap opening step (sha256 known): documents it
    returns True for are yielded as opened, without OCR (used to skip duplicates).
    ``split``: batch scans (PDF, TIFF) are split into documents at separator pages
    (blank, separator, barcode and patch-code sheets) and at pages that start a document
    ("Page 1 of N", a new invoice number, a title page); each part is yielded as a
    document of its own.
    """
    for path, doc, _ in _process(paths, config, executor, skip, split):
        yield path, doc


def _process(paths: Iterable[Path], config: Config, executor: Executor,
             skip: Callable[[Document], bool], split: bool) -> Iterator[tuple[Path, Document, str | None]]:
    """``process``, with the reason each part of a split batch starts where it does."""
    def opened() -> Iterator[tuple[tuple[Path, Document, bool], list]]:
        for path in expand_paths(paths):
            if not path.exists():
                doc = Document(source=str(path), sha256="0" * 64).quarantine("file not found")
                yield (path, doc, True), []
                continue
            doc, jobs = ingest.open_document(path, config.limits, config.ocr, barcodes=split)
            skipped = doc.status == "ok" and skip(doc)
            yield (path, doc, skipped), ([] if skipped else jobs)

    # The archive's readings, and this run's as it goes: a vendor read several times is read
    # by the majority (extract.consensus). ``ingest_paths`` appends stored documents' to the log.
    readings = extract.ReadingLog(readings_path(config)).load()
    steps = stages(config, readings=readings)
    for (path, doc, skipped), results in executor.map_groups(opened(), ingest.ocr_page):
        if skipped or doc.status != "ok":
            yield path, doc, None
            continue
        if isinstance(results, BaseException):
            reason = str(results) if isinstance(results, BadInput) else f"could not be read: {results}"
            yield path, doc.quarantine(reason.splitlines()[0] if reason else "could not be read"), None
            continue
        doc = ingest.assemble(doc, path, results)
        parts = split_batch(doc, path, ingest.load_split_rules()) if split else [(doc, None)]
        for part, split_reason in parts:
            part = _run_stages(part, steps)
            readings.add_fields(extract.raw_readings(part))
            yield path, part, split_reason


def _readable_bytes(path: Path, config: Config) -> bytes | None:
    """The input's bytes to keep with its quarantine record, unless unreadable or over the size limit."""
    try:
        if path.stat().st_size <= config.limits.max_file_mb * 2**20:
            return path.read_bytes()
    except OSError:
        pass
    return None


class IngestOutcome:
    """What happened to one input in ``ingest_paths``: stored, duplicate or quarantined
    (``split_reason``: why a part of a split batch starts where it does)."""

    def __init__(self, doc: Document, status: str, split_reason: str | None = None):
        self.doc = doc
        self.status = status
        self.split_reason = split_reason

    def contract_line(self) -> dict:
        """One line of ``ecm ingest --json`` (shared/contract/ingest.schema.json)."""
        line = {"source": self.doc.source, "id": self.doc.id, "sha256": self.doc.sha256, "status": self.status}
        if self.status == "quarantined":
            line["id"] = None
            line["reason"] = self.doc.reason or "quarantined"
        elif self.status == "duplicate":
            line["reason"] = f"already stored as {self.doc.id}; nothing changed"
        return line


def ingest_paths(paths: Iterable[Path], config: Config, executor: Executor, archive: Archive,
                 index: Index, actor: str = "system", split: bool = False) -> Iterator[IngestOutcome]:
    """Process, store and index. The same bytes twice is a reported no-op."""
    def is_duplicate(doc: Document) -> bool:
        return archive.exists(doc_id_for(doc.sha256))

    log = extract.ReadingLog(readings_path(config))
    for path, doc, split_reason in _process(paths, config, executor, is_duplicate, split):
        if doc.status != "ok":
            archive.quarantine(doc, _readable_bytes(path, config), actor)
            yield IngestOutcome(doc, "quarantined")
        elif is_duplicate(doc):
            doc = doc.model_copy(update={"id": doc_id_for(doc.sha256)})
            archive.audit_action(actor, "duplicate", doc.id, source=doc.source)
            yield IngestOutcome(doc, "duplicate", split_reason)
        else:
            if doc.origin is not None and not archive.has_original(doc.origin.sha256):
                archive.put_original(doc.origin.sha256, path.read_bytes())  # split: keep the batch file too
            archive.put_original(doc.sha256, doc.original if doc.original is not None else path.read_bytes())
            doc = archive.save(doc, actor=actor, action="ingest")
            if doc.origin is not None and split_reason:
                # Why the batch was cut here, for whoever finds half a document (`ecm audit --action split`).
                archive.audit_action(actor, "split", doc.id, batch=doc.origin.source, pages=doc.origin.pages,
                                     reason=split_reason)
            index.add([doc])
            log.append(doc.id, extract.raw_readings(doc))
            yield IngestOutcome(doc, "stored", split_reason)
