"""The ``ecm`` command line (a stable contract: see DESIGN.md). Only this module turns errors
into exit codes; everything it prints for machines is one JSON document or one JSON line each."""

from __future__ import annotations

import csv
import html
import json
import sys
from contextlib import contextmanager
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Annotated, Iterator, Optional

import click
import typer

import classify
from extract import ReadingLog, raw_readings
from extract.review import needs_review
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ecm import __version__
from ecm.backends import open_archive, open_executor, open_index
from ecm.config import Config
from ecm.document import FIELD_NAMES
from ecm.errors import EcmError, ExitCode
from ecm.pipeline import classifier_path, expand_paths, ingest_paths, process, readings_path
from ecm.settings import command_config
from ecm.tags import tag_document
from search.review_state import NEEDS_REVIEW, queued
from store import Archive, FsBlobStore, S3BlobStore
from store.migrate import copy_store
from web.cli import users_app  # cheap: web/__init__ does not import FastAPI

__all__ = ["app", "main"]

app = typer.Typer(
    name="ecm",
    help=(
        "Document capture and ECM: OCR, classification, field extraction, storage and search.\n\n"
        "Data lives in ECM_HOME (default ./ecm-data). Start with:\n\n"
        "  ecm ingest ~/scans        store, classify, extract and index a folder\n\n"
        '  ecm search \'vendor:acme date:2024\'   find it again\n\n'
        "  ecm serve                 open the web UI"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True)


class State:
    """The configuration of the command being run, from the root command's --home/--config
    (read from click's context, so nothing carries over between invocations in one process),
    with the admin's stored settings applied (ecm.settings: the web's review threshold)."""

    def config(self) -> Config:
        return command_config()


state = State()
app.add_typer(users_app, name="user")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ecm {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    home: Annotated[Optional[Path], typer.Option("--home", envvar="ECM_HOME", help="Data folder (ECM_HOME).")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", envvar="ECM_CONFIG", help="TOML config file (default: ECM_HOME/ecm.toml).")] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = False,
) -> None:
    """Options for every command (State.config reads --home and --config from the context)."""


def _emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


@contextmanager
def _progress(total: int, label: str, enabled: bool) -> Iterator[callable]:
    """A progress bar on stderr, only for people: off with --json or when stderr is not a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield lambda description="": None
        return
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.fields[current]}"))
    with Progress(*columns, console=err_console, transient=False) as bar:
        task = bar.add_task(label, total=total, current="")
        yield lambda description="": bar.update(task, advance=1, current=description[-50:])


@contextmanager
def _errors() -> Iterator[None]:
    """Typed errors become one red line and an exit code; never a traceback."""
    try:
        yield
    except EcmError as err:
        err_console.print(f"[red]error:[/red] {err}", highlight=False)
        raise typer.Exit(int(err.exit_code))
    except KeyboardInterrupt:
        err_console.print("interrupted")
        raise typer.Exit(130)


def _check_inputs(files: list[Path]) -> list[Path]:
    paths = list(expand_paths(files))
    if not paths:
        raise typer.BadParameter("no files found in the given paths")
    return paths


@app.command("process")
def process_cmd(
    files: Annotated[list[Path], typer.Argument(help="Files or folders to read.", show_default=False)],
    json_out: Annotated[bool, typer.Option("--json", help="One JSON line per input (the contract format).")] = False,
) -> None:
    """Read, classify and extract fields WITHOUT storing anything.

    One JSON line per input with --json: source, sha256, status (ok | quarantined),
    reason, pages, doc_type {label, confidence}, fields {NAME: {value, confidence, page, bbox}}.
    Exit 0 when every input was handled, quarantined ones included.
    """
    with _errors():
        config = state.config()
        paths = _check_inputs(files)
        with open_executor(config) as executor, _progress(len(paths), "processing", not json_out) as tick:
            for path, doc in process(paths, config, executor):
                tick(path.name)
                if json_out:
                    _emit(doc.contract_line())
                else:
                    _print_summary(doc)


def _print_summary(doc) -> None:
    if doc.status != "ok":
        typer.echo(f"{doc.source}: QUARANTINED: {doc.reason}")
        return
    label = doc.doc_type.label if doc.doc_type else "?"
    conf = doc.doc_type.confidence if doc.doc_type else 0
    typer.echo(f"{doc.source}: {label} ({conf:.2f}), {len(doc.pages)} page(s)")
    for name, field in doc.fields.items():
        value = ", ".join(field.value) if isinstance(field.value, list) else field.value
        typer.echo(f"    {name:16} {value}   ({field.confidence:.2f}, page {field.page})")


@app.command("ingest")
def ingest_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Files, folders or batch PDFs.", show_default=False)],
    json_out: Annotated[bool, typer.Option("--json", help="One JSON line per document: source, id, sha256, status.")] = False,
    split: Annotated[bool, typer.Option("--split", help="Split batch scans into documents at blank pages, separator, barcode and patch-code sheets, and at pages that start a document ('Page 1 of N', a new invoice number, a contract title page). Each cut is audited with its reason.")] = False,
) -> None:
    """Store, classify, extract and index documents.

    Re-ingesting the same bytes is a no-op reported as "duplicate". Bad files are
    quarantined with a reason (see `ecm audit --action quarantine`); the batch goes on.
    With --split, a batch scan becomes one document per part (source "FILE#pages=3-5");
    the rules are in ingest/separators.toml.
    """
    with _errors():
        config = state.config()
        files = _check_inputs(paths)
        archive, index = open_archive(config), open_index(config)
        counts = {"stored": 0, "duplicate": 0, "quarantined": 0}
        with open_executor(config) as executor, _progress(len(files), "ingesting", not json_out) as tick:
            for outcome in ingest_paths(files, config, executor, archive, index, actor="cli", split=split):
                counts[outcome.status] += 1
                tick(Path(outcome.doc.source).name)
                if json_out:
                    _emit(outcome.contract_line())
                else:
                    line = outcome.contract_line()
                    typer.echo(f"{line['status']:12} {line['id'] or '-':17} {line['source']}"
                               + (f"  ({line['reason']})" if line.get("reason") else ""))
        if not json_out:
            err_console.print(f"{counts['stored']} stored, {counts['duplicate']} duplicate, "
                              f"{counts['quarantined']} quarantined; data in {config.home}", highlight=False)


@app.command("watch")
def watch_cmd(
    folder: Annotated[Path, typer.Argument(help="The hot folder scanners drop files into.", show_default=False)],
    split: Annotated[bool, typer.Option("--split", help="Split batch scans into documents, as `ecm ingest --split` does.")] = False,
    interval: Annotated[float, typer.Option("--interval", min=0, help="Seconds between looks at the folder. A file is read once it is unchanged for one interval: raise it for slow scanners or busy network shares.")] = 5.0,
    once: Annotated[bool, typer.Option("--once", help="Handle the files there now (after one interval), then exit: for cron and scripts.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON line per document, as `ecm ingest --json` prints.")] = False,
) -> None:
    """Watch a hot folder: ingest every file dropped into it, once.

    Subfolders are watched too. A file is read when it has stopped changing
    (the same size and time at two looks in a row), then moved to
    FOLDER/.ecm/done/, or, when refused, to FOLDER/.ecm/quarantine/ with
    NAME.reason.txt beside it saying why. Nothing is lost and nothing is
    read twice, across restarts too; a file dropped again after it was
    stored is reported "duplicate". Hidden files and names still being
    written (*.tmp, *.part, ...) are left alone.

    The folder is polled, not watched with inotify: inotify does not see
    files that other machines write to a network share (SMB, NFS), which
    is where scanners put them.

    Ctrl-C or SIGTERM stops after the files being read; a second Ctrl-C
    stops at once (unfinished files stay in the folder for the next run).

    As a service: ecm watch /srv/scans --split

    From cron:    ecm watch /srv/scans --once --json
    """
    with _errors():
        import threading

        from ecm.hotfolder import HotFolder, stop_on_signals, watch  # loaded only by this command

        if not folder.is_dir():
            raise typer.BadParameter(f"{folder} is not a folder")
        config = state.config()
        archive, index = open_archive(config), open_index(config)
        hot = HotFolder(folder, exclude=[Path(config.home)])
        stop = threading.Event()
        counts = {"stored": 0, "duplicate": 0, "quarantined": 0}
        if not json_out and not once:
            err_console.print(f"watching {folder} (every {interval:g} s; Ctrl-C to stop)", highlight=False)
        announce = lambda message: err_console.print(message, highlight=False)  # noqa: E731
        with open_executor(config) as executor, stop_on_signals(stop, announce):
            for event in watch(hot, config, executor, archive, index, stop, interval=interval, once=once, split=split):
                if event.outcome is not None:
                    counts[event.outcome.status] += 1
                    line = event.outcome.contract_line()
                    if json_out:
                        _emit(line)
                    else:
                        typer.echo(f"{line['status']:12} {line['id'] or '-':17} {line['source']}"
                                   + (f"  ({line['reason']})" if line.get("reason") else "")
                                   + (f"  [{event.outcome.split_reason}]" if event.outcome.split_reason else ""))
                elif event.moved_to is not None and not json_out:
                    err_console.print(f"  moved to {event.moved_to}", highlight=False, style="dim", soft_wrap=True)
                if event.note:
                    err_console.print(f"[yellow]{event.file}:[/yellow] {event.note}", highlight=False)
        if not json_out:
            err_console.print(f"{'stopped: ' if stop.is_set() else ''}{counts['stored']} stored, "
                              f"{counts['duplicate']} duplicate, {counts['quarantined']} quarantined; "
                              f"handled files are in {hot.done_dir.parent}", highlight=False, soft_wrap=True)


@app.command("search")
def search_cmd(
    query: Annotated[str, typer.Argument(help='Query, e.g. \'vendor:acme "net 30" date:2024 amount:>100\'.', show_default=False)],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000, help="Hits to return.")] = 10,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Hits to skip (paging).")] = 0,
    json_out: Annotated[bool, typer.Option("--json", help="Print {total, hits:[...]} as JSON.")] = False,
) -> None:
    """Full-text and fielded search. See `ecm search --help` and the README for the query language:

    words (all must match), "quoted phrases", OR, NOT/-word, field:value (vendor:, number:,
    party:, law:, title:), type:invoice, date:2024-01..2024-03, amount:>100. Tolerates OCR errors.
    """
    with _errors():
        config = state.config()
        result = open_index(config).search(query, limit=limit, offset=offset)
        if json_out:
            _emit(result.model_dump(mode="json"))
            return
        typer.echo(f"{result.total} hit(s) in {result.took_ms:.0f} ms")
        for hit in result.hits:
            typer.echo(f"{hit.id}  {hit.doc_type or '?':8} {hit.score:6.2f}  {hit.source}")
            if hit.snippet:
                typer.echo("    " + _plain_snippet(hit.snippet))


def _plain_snippet(snippet: str) -> str:
    return html.unescape(snippet.replace("<mark>", "[").replace("</mark>", "]")).replace("\n", " ")


@app.command("show")
def show_cmd(
    doc_id: Annotated[str, typer.Argument(help="Document id (from ingest or search).", show_default=False)],
    json_out: Annotated[bool, typer.Option("--json", help="The whole record as JSON (pages and words included).")] = False,
    version: Annotated[Optional[int], typer.Option("--version", help="A past version of the record.")] = None,
    text: Annotated[bool, typer.Option("--text", help="Print the document's text.")] = False,
) -> None:
    """Show one document's record: type, fields with confidence and provenance, versions."""
    with _errors():
        config = state.config()
        archive = open_archive(config)
        doc = archive.get(doc_id, version)
        archive.audit_action("cli", "view", doc.id)
        if json_out:
            _emit(doc.model_dump(mode="json"))
            return
        typer.echo(f"id        {doc.id}  (version {doc.version} of {len(archive.versions(doc.id))})")
        typer.echo(f"source    {doc.source}\nsha256    {doc.sha256}\npages     {len(doc.pages)}")
        if doc.doc_type:
            typer.echo(f"type      {doc.doc_type.label} ({doc.doc_type.confidence:.2f}, by {doc.doc_type.source})")
        for name, field in doc.fields.items():
            value = ", ".join(field.value) if isinstance(field.value, list) else field.value
            typer.echo(f"  {name:16} {value}   ({field.confidence:.2f}, page {field.page}, {field.source})")
        for problem in doc.problems:
            typer.echo(f"  problem: {problem}")
        if text:
            typer.echo("\n" + doc.text)


_REVIEW_LIST_MAX = 10_000  # the deepest page both index backends serve


@app.command("review")
def review_cmd(
    threshold: Annotated[Optional[float], typer.Option("--threshold", help="Preview another threshold: judge every stored record at it (reads the whole store) instead of asking the index.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON line per document: id, source, doc_type, reasons.")] = False,
) -> None:
    """List the stored documents that need a person, with the reasons (low confidence, missing
    required fields, validation problems).

    The list is the search `review:needs-review` (at most the first 10,000), so documents a
    reviewer accepted are left out. The index computed each document's state with the threshold
    in force when it was indexed: after changing the threshold, run `ecm reindex`.
    """
    with _errors():
        config = state.config()
        archive = open_archive(config)

        def show(doc, reasons: list[str]) -> None:
            label = doc.doc_type.label if doc.doc_type else None
            if json_out:
                _emit({"id": doc.id, "source": doc.source, "doc_type": label, "reasons": reasons})
            else:
                typer.echo(f"{doc.id}  {label or '-':9} {doc.source}")
                for reason in reasons:
                    typer.echo(f"    {reason}")

        if threshold is not None:
            for doc_id in archive.ids():
                doc = archive.get(doc_id)
                reasons = needs_review(doc, threshold)
                if reasons and doc.accepted is None:
                    show(doc, reasons)
            return
        index = open_index(config)
        offset, total, stale = 0, 0, 0
        while offset < _REVIEW_LIST_MAX:
            limit = min(500, _REVIEW_LIST_MAX - offset)
            page, total = queued(index, archive, config.review.threshold, offset, limit)
            for doc, reasons in page:
                if reasons:
                    show(doc, reasons)
                else:
                    stale += 1
            offset += limit
            if offset >= total:
                break
        offset = min(offset, total)
        if total > offset:
            err_console.print(f"listed the first {offset} of {total}; narrow them with "
                              f"`ecm search 'review:{NEEDS_REVIEW} ...'`", highlight=False)
        if stale:
            err_console.print(f"{stale} document(s) indexed as needing review pass at the current threshold "
                              f"({config.review.threshold:g}); run `ecm reindex` to recompute the review state",
                              highlight=False)


@app.command("tag")
def tag_cmd(
    doc_id: Annotated[str, typer.Argument(help="Document id.", show_default=False)],
    add: Annotated[Optional[list[str]], typer.Option("--add", help="A tag to add (repeat for more).", show_default=False)] = None,
    remove: Annotated[Optional[list[str]], typer.Option("--remove", help="A tag to remove (repeat for more).", show_default=False)] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print {id, version, tags, added, removed} as JSON.")] = False,
) -> None:
    """Add or remove a document's tags, then print its tags (one per line); without --add or
    --remove, just print them.

    A tag is a short label such as urgent or audit-2026: letters a-z, digits and - _ . inside,
    at most 40 characters (upper case is lowered). A change is a new record version and an audit
    event, and the document is re-indexed at once: `ecm search tag:urgent` finds it.
    """
    with _errors():
        config = state.config()
        archive = open_archive(config)
        doc = archive.get(doc_id)
        added: list[str] = []
        removed: list[str] = []
        if add or remove:
            doc, added, removed = tag_document(archive, open_index(config), doc, add or [], remove or [], actor="cli")
        if json_out:
            _emit({"id": doc.id, "version": doc.version, "tags": doc.tags, "added": added, "removed": removed})
            return
        for tag in doc.tags:
            typer.echo(tag)
        if not doc.tags:
            err_console.print(f"{doc.id} has no tags", highlight=False)


@app.command("reindex")
def reindex_cmd() -> None:
    """Rebuild the search index, and the vendor readings extraction agrees on, from the store
    alone (the store is the truth)."""
    with _errors():
        config = state.config()
        archive, index = open_archive(config), open_index(config)
        ids = list(archive.ids())
        readings = readings_path(config)
        fresh = ReadingLog(readings.with_suffix(".rebuild"))
        fresh.path.unlink(missing_ok=True)
        with _progress(len(ids), "reindexing", True) as tick:

            def documents():
                for doc_id in ids:
                    doc = archive.get(doc_id)
                    fresh.append(doc.id, raw_readings(doc))
                    yield doc
                    tick(doc_id)

            rebuild = getattr(index, "rebuild", None)
            if rebuild is not None:
                # Zero downtime: a new index is loaded beside the old one, then swapped in at once.
                rebuild(documents())
            else:
                index.clear()
                batch = []
                for doc in documents():
                    batch.append(doc)
                    if len(batch) >= 200:
                        index.add(batch)
                        batch = []
                index.add(batch)
        if fresh.path.is_file():
            fresh.path.replace(readings)
        else:
            readings.unlink(missing_ok=True)
        archive.audit_action("cli", "reindex", None, documents=len(ids))
        err_console.print(f"reindexed {len(ids)} document(s)")


@app.command("audit")
def audit_cmd(
    doc_id: Annotated[Optional[str], typer.Option("--id", help="Only events of this document.")] = None,
    action: Annotated[Optional[str], typer.Option("--action", help="Only this action (ingest, duplicate, quarantine, view, edit, reindex).")] = None,
    since: Annotated[Optional[str], typer.Option("--since", help="Only events on or after this date (YYYY-MM-DD).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON line per event.")] = False,
) -> None:
    """The append-only audit trail: who did what to which document, and when."""
    with _errors():
        config = state.config()
        try:
            since_date = date.fromisoformat(since) if since else None
        except ValueError:
            raise typer.BadParameter("--since takes a date like 2026-01-31")
        for event in open_archive(config).events(doc_id=doc_id, since=since_date):
            if action and event.action != action:
                continue
            if json_out:
                _emit(event.model_dump(mode="json"))
            else:
                detail = " ".join(f"{k}={v}" for k, v in event.detail.items())
                typer.echo(f"{event.at:%Y-%m-%d %H:%M:%S} {event.actor:8} {event.action:10} {event.doc_id or '-':17} {detail}")


@app.command("export")
def export_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write (.csv or .jsonl).")] = Path("export.jsonl"),
    production: Annotated[Optional[Path], typer.Option("--production", help="Write a production volume ZIP of the coded documents instead (DAT and OPT load files, TIFF images, natives, text).", show_default=False)] = None,
    batch: Annotated[Optional[int], typer.Option("--batch", help="With --production: only this coding batch (default: every coded document).", show_default=False)] = None,
    volume: Annotated[str, typer.Option("--volume", help="With --production: the volume name.")] = "VOL001",
) -> None:
    """Export every record's type and fields as JSON lines or CSV (by the file name's ending).

    With --production ZIP: a production volume of the legal coding that Relativity or
    Concordance loads as is (VOL001/DATA, IMAGES, NATIVES, TEXT). Responsive documents only;
    privileged ones are withheld behind slip sheets; the leftovers and any Bates gaps are listed.
    """
    with _errors():
        config = state.config()
        archive = open_archive(config)
        if production is None and (batch is not None or volume != "VOL001"):
            raise typer.BadParameter("--batch and --volume go with --production ZIP")
        if production is not None:
            from web.coding.production import produce  # rendering is only loaded when used
            from web.coding.store import CodingStore
            from ecm.db import database_path

            report = produce(CodingStore(database_path(config.home)), archive, production, batch_id=batch,
                             volume=volume, workdir=production.resolve().parent)
            archive.audit_action("cli", "export", None, batch=batch, file=str(production), **report.audit_detail())
            err_console.print(f"{report.summary()}\nwritten to {production}", highlight=False)
            return
        count = 0
        with out.open("w", newline="", encoding="utf-8") as fh:
            writer = None
            if out.suffix.lower() == ".csv":
                writer = csv.writer(fh)
                writer.writerow(["id", "sha256", "source", "doc_type", "confidence", *FIELD_NAMES])
            for doc_id in archive.ids():
                doc = archive.get(doc_id)
                values = {n: ("; ".join(f.value) if isinstance(f.value, list) else f.value) for n, f in doc.fields.items()}
                label = doc.doc_type.label if doc.doc_type else ""
                conf = round(doc.doc_type.confidence, 4) if doc.doc_type else ""
                if writer:
                    writer.writerow([doc.id, doc.sha256, doc.source, label, conf, *(values.get(n, "") for n in FIELD_NAMES)])
                else:
                    fh.write(json.dumps({"id": doc.id, "sha256": doc.sha256, "source": doc.source, "doc_type": label,
                                         "confidence": conf, "fields": values}, ensure_ascii=False) + "\n")
                count += 1
        archive.audit_action("cli", "export", None, documents=count, file=str(out))
        err_console.print(f"exported {count} document(s) to {out}")


def _parse_day(value: str, option: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(value), time.min, tzinfo=timezone.utc)
    except ValueError:
        raise typer.BadParameter(f"{option} takes a date like 2031-12-31, not {value!r}")


@app.command("hold")
def hold_cmd(
    doc_id: Annotated[str, typer.Argument(help="Document id.", show_default=False)],
    release: Annotated[bool, typer.Option("--release", help="Lift the legal hold instead.")] = False,
) -> None:
    """Put a document under legal hold: nobody can delete it until it is released.

    On S3 with [store] object_lock = true, the hold is also an S3 object-lock legal hold on
    every stored part, so the storage server refuses deletes made around ecm too.
    """
    with _errors():
        archive = open_archive(state.config())
        archive.hold(doc_id, not release, actor="cli")
        typer.echo(f"{doc_id}: legal hold {'released' if release else 'on'}")


@app.command("retain")
def retain_cmd(
    doc_id: Annotated[str, typer.Argument(help="Document id.", show_default=False)],
    until: Annotated[str, typer.Option("--until", help="Keep until this date (YYYY-MM-DD).", show_default=False)],
) -> None:
    """Keep a document from deletion until a date (retention can be extended, never shortened).

    On S3 with object lock this is COMPLIANCE-mode retention: not even the bucket owner can
    delete the objects before the date.
    """
    with _errors():
        archive = open_archive(state.config())
        archive.retain(doc_id, _parse_day(until, "--until"), actor="cli")
        typer.echo(f"{doc_id}: retained until {until}")


@app.command("delete")
def delete_cmd(
    doc_id: Annotated[str, typer.Argument(help="Document id.", show_default=False)],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a document from the store and the index (refused while held or retained)."""
    with _errors():
        config = state.config()
        archive = open_archive(config)
        doc = archive.get(doc_id)
        if not yes and not typer.confirm(f"delete {doc_id} ({doc.source})?"):
            raise typer.Exit(1)
        archive.delete(doc_id, actor="cli")
        open_index(config).delete([doc_id])
        typer.echo(f"{doc_id}: deleted")


@app.command("verify")
def verify_cmd() -> None:
    """Fixity check: re-read every stored document and compare it with its checksums.

    Exit 0 when everything matches, 5 when anything is missing or changed (each problem is printed).
    """
    with _errors():
        archive = open_archive(state.config())
        ids = list(archive.ids())
        problems: list[str] = []
        with _progress(len(ids), "verifying", True) as tick:
            for doc_id in ids:
                problems += archive.verify(doc_id)
                tick(doc_id)
        archive.audit_action("cli", "verify", None, documents=len(ids), problems=len(problems))
        for problem in problems:
            typer.echo(f"PROBLEM {problem}")
        typer.echo(f"verified {len(ids)} document(s): {len(problems)} problem(s)")
        if problems:
            raise typer.Exit(int(ExitCode.store))


@app.command("migrate")
def migrate_cmd(
    to: Annotated[str, typer.Option("--to", help='Target store kind (only "s3").', show_default=False)],
) -> None:
    """Copy the embedded store (ECM_HOME/store) to S3 and verify every object's checksum.

    S3 endpoint and keys come from ECM_S3_ENDPOINT, ECM_S3_ACCESS_KEY, ECM_S3_SECRET_KEY
    (ECM_S3_SECURE=false for plain http); the bucket from [store] bucket. Safe to run again
    after an interruption. Afterwards set [store] kind = "s3".
    """
    with _errors():
        if to != "s3":
            raise typer.BadParameter('only --to s3 is supported')
        config = state.config()
        source = FsBlobStore(Path(config.home) / "store")
        target = S3BlobStore.from_env(config.store.bucket, sse=config.store.sse, object_lock=config.store.object_lock)
        keys = sum(1 for _ in source.keys(""))
        failed = 0
        with _progress(keys, "migrating", True) as tick:
            for result in copy_store(source, target):
                tick(result.key)
                if not result.ok:
                    failed += 1
                    typer.echo(f"FAILED {result.key}: {result.problem}")
        typer.echo(f"copied and verified {keys - failed} of {keys} object(s) to s3 bucket {config.store.bucket}")
        if failed:
            raise typer.Exit(int(ExitCode.store))
        Archive(target).audit_action("cli", "migrate", None, objects=keys, to="s3")


@app.command("worker")
def worker_cmd(
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", min=0, help="OCR processes (0 = one per core).")] = 0,
    loglevel: Annotated[str, typer.Option("--loglevel", help="DEBUG, INFO, WARNING or ERROR.")] = "INFO",
) -> None:
    """Take OCR work off the Redis queue (for [queue] kind = "celery"); run one per machine.

    The broker is ECM_REDIS_URL (default redis://127.0.0.1:6379/0). Pages arrive with their
    own bytes, so workers need no shared disk. Stop with Ctrl-C (the page in progress is
    finished first; an unfinished page goes back to the queue if the worker dies).
    """
    with _errors():
        from ecm.distributed import redis_url, run_worker  # Celery is only loaded when used

        run_worker(redis_url(), concurrency, loglevel.upper())


@app.command("train")
def train_cmd(
    folder: Annotated[Path, typer.Argument(help="Labelled folder: manifest.jsonl (doc_type per path) + the files.", show_default=False)],
    out: Annotated[Optional[Path], typer.Option("--out", help="Model file (default: ECM_HOME/models/classifier.joblib, used from then on).")] = None,
) -> None:
    """Retrain the document-type classifier from a labelled folder.

    The folder has the layout of the evaluation data: manifest.jsonl with one JSON object per
    document ({"path", "doc_type", ...}) and the files it names. Documents are read (OCR
    included) once and cached beside the model. The new model is used by every later
    `ecm process` / `ecm ingest` of this ECM_HOME; delete the file to go back to the shipped one.
    """
    with _errors():
        config = state.config()
        if not (folder / "manifest.jsonl").is_file():
            raise typer.BadParameter(f"{folder} has no manifest.jsonl")
        target = out or classifier_path(config)
        target.parent.mkdir(parents=True, exist_ok=True)
        summary = classify.train_from_folder(folder, target, cache_dir=target.parent / "train-cache")
        err_console.print(f"trained on {summary}; model written to {target}", highlight=False)


@app.command("serve")
def serve_cmd(
    host: Annotated[Optional[str], typer.Option("--host", help="Address to listen on (default 127.0.0.1).")] = None,
    port: Annotated[Optional[int], typer.Option("--port", help="Port (default 8000).")] = None,
) -> None:
    """Serve the web UI and HTTP API.

    Prints the address; on the first start (no users yet) creates the user `admin` with a
    random password and prints it once. Add people with `ecm user add NAME --role ROLE`.
    """
    with _errors():
        from web.server import serve  # imported here: FastAPI would slow every other command

        config = state.config()
        serve(config, host or config.web.host, port or config.web.port)


def main() -> None:  # pragma: no cover
    app()
