"""The hot folder (``ecm watch``): scanners drop files into a shared folder; each file is
ingested once, through the same pipeline as ``ecm ingest``, and then moved out of the way.

    DIR/scan0001.pdf                      dropped by a scanner
    DIR/.ecm/done/scan0001.pdf            stored (or already stored: a duplicate)
    DIR/.ecm/quarantine/bad.pdf           refused, and beside it
    DIR/.ecm/quarantine/bad.pdf.reason.txt    why

A file is read only once it has stopped changing: the same size and modification time at
two polls in a row (scanners write big batches slowly, and over SMB/NFS). The folder is
polled, not watched with inotify: inotify sees no changes made by other machines on a
network share. Moving a file out is what marks it handled, so nothing is read twice and a
restart picks up exactly the files still waiting. Hidden files and names that say they are
still being written (``.tmp``, ``.part``, ...) are left alone.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ecm.config import Config
from ecm.document import Document
from ecm.errors import BadInput, EcmError
from ecm.executor import Executor
from ecm.pipeline import IngestOutcome, ingest_paths
from ingest import sha256_file
from search import Index
from store import Archive

__all__ = ["HotFolder", "WatchEvent", "watch", "stop_on_signals", "PARTIAL_SUFFIXES"]

# Names of files still being written by their program (renamed when complete).
PARTIAL_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".filepart", ".download", ".swp")

Signature = tuple[int, int]  # (size, modification time in ns)


@dataclass(frozen=True)
class WatchEvent:
    """Something that happened to one dropped file."""

    file: Path
    outcome: IngestOutcome | None = None  # one document read from the file (a batch gives several)
    moved_to: Path | None = None  # where the file went once handled
    note: str | None = None  # something a person should know (a file left where it was, and why)


class HotFolder:
    """One watched folder: which files are ready to read, and where handled files go."""

    def __init__(self, root: Path, exclude: Iterable[Path] = ()):
        self.root = Path(root)
        self.done_dir = self.root / ".ecm" / "done"
        self.quarantine_dir = self.root / ".ecm" / "quarantine"
        self._exclude = {Path(p).resolve() for p in exclude}
        self._last: dict[Path, Signature] = {}
        self._stuck: dict[Path, Signature] = {}  # handled but could not be moved: not read again

    def files(self) -> dict[Path, Signature]:
        """Every candidate file under the folder now, with its size and modification time."""
        found: dict[Path, Signature] = {}
        for folder, dirs, names in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                             and (Path(folder) / d).resolve() not in self._exclude)
            for name in names:
                if name.startswith((".", "~")) or name.lower().endswith(PARTIAL_SUFFIXES):
                    continue
                path = Path(folder) / name
                try:
                    stat = path.stat()
                except OSError:  # gone between listing and looking: a later poll sees what became of it
                    continue
                found[path] = (stat.st_size, stat.st_mtime_ns)
        return found

    def ready(self) -> list[Path]:
        """The files unchanged since the previous call (none on the first), in name order."""
        now = self.files()
        stable = [p for p, sig in now.items() if self._last.get(p) == sig and self._stuck.get(p) != sig]
        self._last = now
        return sorted(stable)

    def move_done(self, path: Path) -> Path:
        return self._move(path, self.done_dir)

    def move_quarantined(self, path: Path, reason: str) -> Path:
        target = self._move(path, self.quarantine_dir)
        at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        target.with_name(target.name + ".reason.txt").write_text(
            f"{reason}\n\nfile: {path.relative_to(self.root)}\nquarantined: {at}\n"
            "Fix the file and drop it into the folder again, or delete it.\n", encoding="utf-8")
        return target

    def remember_stuck(self, path: Path) -> None:
        """A handled file that could not be moved: do not read it again while it is unchanged."""
        try:
            stat = path.stat()
        except OSError:
            return
        self._stuck[path] = (stat.st_size, stat.st_mtime_ns)

    def _move(self, path: Path, folder: Path) -> Path:
        target = folder / path.relative_to(self.root)
        target.parent.mkdir(parents=True, exist_ok=True)
        stem, suffix, n = target.stem, target.suffix, 1
        while target.exists() or target.with_name(target.name + ".reason.txt").exists():
            n += 1  # scanners reuse names (scan0001.pdf every morning): keep both
            target = target.with_name(f"{stem}-{n}{suffix}")
        os.replace(path, target)  # same file system: atomic
        return target


def watch(folder: HotFolder, config: Config, executor: Executor, archive: Archive, index: Index,
          stop: threading.Event, *, interval: float = 5.0, once: bool = False, split: bool = False,
          actor: str = "watch") -> Iterator[WatchEvent]:
    """Ingest every file that appears in ``folder`` until ``stop`` is set (or, with ``once``,
    what is there now). Yields an event per document and per handled file.

    Bad files are quarantined, never raised; only a failing store or index (``EcmError``)
    ends the watch, leaving unhandled files where they are for the next run.
    """
    def ingest(paths: Iterable[Path]) -> Iterator[IngestOutcome]:
        return ingest_paths(paths, config, executor, archive, index, actor=actor, split=split)

    folder.ready()  # the first look: sizes to compare with at the next
    while not stop.is_set():
        stop.wait(interval)
        if stop.is_set():
            break
        files = folder.ready()
        if files:
            yield from _handle(files, folder, ingest, archive, stop, actor)
        if once:
            break


def _handle(files: list[Path], folder: HotFolder, ingest: Callable[[Iterable[Path]], Iterator[IngestOutcome]],
            archive: Archive, stop: threading.Event, actor: str) -> Iterator[WatchEvent]:
    """Ingest ``files`` in one stream (so the executor keeps every core busy), moving each
    file as soon as its last document is through."""
    def until_stopped() -> Iterator[Path]:
        for path in files:  # read lazily by the pipeline: after a stop request no new file is opened
            if stop.is_set():
                return
            yield path

    finished: set[Path] = set()
    current: Path | None = None
    outcomes: list[IngestOutcome] = []
    try:
        for outcome in ingest(until_stopped()):
            doc = outcome.doc
            path = Path(doc.origin.source if doc.origin is not None else doc.source)
            if current is not None and path != current:
                finished.add(current)
                yield from _finish(current, outcomes, folder, stop.is_set())
                outcomes = []
            current = path
            outcomes.append(outcome)
            yield WatchEvent(path, outcome=outcome)
        if current is not None:
            finished.add(current)
            yield from _finish(current, outcomes, folder, stop.is_set())
        return
    except KeyboardInterrupt:
        if stop.is_set():  # workers interrupted by the same Ctrl-C: unfinished files wait for the next run
            return
        raise
    except EcmError as err:
        if not isinstance(err, BadInput):
            raise  # the store or index is failing: stop, leave the files for the next run
    except Exception:  # noqa: BLE001 - a bug on one file must not stop the mailroom
        pass
    # Something unexpected broke the stream: go on one file at a time, so the file that breaks
    # it is found and quarantined, and the others are read.
    for path in files:
        if path in finished or stop.is_set():
            continue
        try:
            outcomes = list(ingest([path]))
        except KeyboardInterrupt:
            if stop.is_set():
                return
            raise
        except Exception as err:  # noqa: BLE001
            if isinstance(err, EcmError) and not isinstance(err, BadInput):
                raise
            broken = f"{type(err).__name__}: {err}".splitlines()[0][:200]
            outcomes = [_quarantine_unreadable(path, f"could not be processed ({broken})", archive, actor)]
        for outcome in outcomes:
            yield WatchEvent(path, outcome=outcome)
        yield from _finish(path, outcomes, folder, stop.is_set())


def _finish(path: Path, outcomes: list[IngestOutcome], folder: HotFolder, stopping: bool) -> Iterator[WatchEvent]:
    """Move a file whose documents are all through: quarantined if any was refused, else done."""
    refused = [o for o in outcomes if o.status == "quarantined"]
    if refused and stopping:
        # Stopping interrupts OCR (Ctrl-C reaches the workers too): the refusal may be ours.
        yield WatchEvent(path, note="left in the folder: stopped while it was being read; it is read again next time")
        return
    if not path.exists():
        yield WatchEvent(path, note="disappeared from the folder before it could be moved")
        return
    try:
        if refused:
            moved = folder.move_quarantined(path, refused[0].doc.reason or "quarantined")
        else:
            moved = folder.move_done(path)
    except OSError as err:
        folder.remember_stuck(path)
        yield WatchEvent(path, note=f"handled, but could not be moved out of the folder ({err.strerror or err}); "
                                    "it will not be read again while it is unchanged")
        return
    yield WatchEvent(path, moved_to=moved)


def _quarantine_unreadable(path: Path, reason: str, archive: Archive, actor: str) -> IngestOutcome:
    """A file the pipeline itself failed on: recorded in the store's quarantine like any bad file."""
    try:
        sha256, size = sha256_file(path)
        data = path.read_bytes()
    except (OSError, BadInput):
        sha256, size, data = "0" * 64, 0, None
    doc = Document(source=str(path), sha256=sha256, size=size).quarantine(reason)
    archive.quarantine(doc, data, actor)
    return IngestOutcome(doc, "quarantined")


@contextmanager
def stop_on_signals(stop: threading.Event, announce: Callable[[str], None] = lambda message: None) -> Iterator[None]:
    """Ctrl-C or SIGTERM sets ``stop``: the file being read is finished, then the watch ends.
    A second Ctrl-C stops at once (``KeyboardInterrupt``)."""
    def handler(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        announce("stopping after the current file (Ctrl-C again to stop at once)")

    previous = {}
    try:
        for number in (signal.SIGINT, signal.SIGTERM):
            previous[number] = signal.signal(number, handler)
    except ValueError:  # not the main thread: the caller stops the watch through ``stop``
        pass
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)
