"""Receiving uploaded files: a streaming ``multipart/form-data`` reader that writes each file
straight into the batch's inbox folder under a safe name, and stops as soon as the request is
larger than the limit (nothing is held in memory, nothing over the limit reaches the disk).

The form's ``csrf`` field must come before its first file (the page puts it first; fetch calls
send the ``X-CSRF-Token`` header instead), so no file is written for a forged request.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator, Callable
from pathlib import Path, PurePosixPath

from python_multipart.multipart import MultipartParser, parse_options_header

__all__ = ["UploadError", "UploadTooLarge", "UploadNeedsCsrf", "safe_name", "receive_files", "MAX_FILES"]

MAX_FILES = 1000
MAX_FIELD_BYTES = 1000
_UNSAFE = re.compile(r"[^\w.()+ -]")


class UploadError(Exception):
    """The upload cannot be accepted; the message says why, for the person uploading."""

    status = 400


class UploadTooLarge(UploadError):
    status = 413


class UploadNeedsCsrf(UploadError):
    status = 403


def safe_name(name: str) -> str:
    """A file name safe to create in a folder: the last path part, no control characters or
    separators, no leading dot, at most 120 characters (keeping the extension)."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/"))
    name = PurePosixPath(name).name
    name = _UNSAFE.sub("_", "".join(c for c in name if c.isprintable())).strip(" .")
    if len(name) > 120:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 120 - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else name[:120]
    return name or "upload"


class _Receiver:
    def __init__(self, folder: Path, csrf_ok: Callable[[str], bool], csrf_given: bool):
        self.folder = folder
        self.csrf_ok = csrf_ok
        self.csrf_verified = csrf_given
        self.files: list[tuple[str, str, int]] = []
        self._header_field = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._field: bytearray | None = None
        self._field_name = ""
        self._out = None
        self._name = ""
        self._path: Path | None = None
        self._size = 0

    # header callbacks
    def on_part_begin(self) -> None:
        self._headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field = self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        field = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if filename is None:
            self._field, self._field_name = bytearray(), field
            return
        name = filename.decode("utf-8", "replace")
        if not name:  # a file input left empty
            self._out = None
            self._name = ""
            return
        if not self.csrf_verified:
            raise UploadNeedsCsrf("The upload form had expired (its security token was missing); reload the page.")
        if len(self.files) >= MAX_FILES:
            raise UploadError(f"Too many files in one upload (at most {MAX_FILES}); split it into several batches.")
        folder = self.folder / f"{len(self.files) + 1:04d}"
        folder.mkdir(parents=True)
        self._name, self._path, self._size = name, folder / safe_name(name), 0
        self._out = self._path.open("xb")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._field is not None:
            if len(self._field) + (end - start) > MAX_FIELD_BYTES:
                raise UploadError("A form field was too long.")
            self._field += data[start:end]
        elif self._out is not None:
            self._out.write(data[start:end])
            self._size += end - start

    def on_part_end(self) -> None:
        if self._field is not None:
            if self._field_name == "csrf" and not self.csrf_verified:
                if not self.csrf_ok(self._field.decode("utf-8", "replace")):
                    raise UploadNeedsCsrf("The upload form had expired; reload the page and try again.")
                self.csrf_verified = True
            self._field = None
        elif self._out is not None:
            self._out.close()
            self._out = None
            self.files.append((self._name, str(self._path), self._size))

    def close(self) -> None:
        if self._out is not None:
            self._out.close()


async def receive_files(chunks: AsyncIterator[bytes], content_type: str, folder: Path, limit_bytes: int,
                        csrf_ok: Callable[[str], bool], csrf_given: bool) -> list[tuple[str, str, int]]:
    """Read a multipart body from ``chunks`` into ``folder``; ``(name as uploaded, path, size)``
    for each file. Raises ``UploadError`` (and its kinds); the caller removes ``folder`` then."""
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        if not csrf_given:
            raise UploadNeedsCsrf("The upload form had expired (its security token was missing); reload the page.")
        raise UploadError("Send the files as multipart/form-data (the upload form does).")
    receiver = _Receiver(folder, csrf_ok, csrf_given)
    callbacks = {name: getattr(receiver, name) for name in (
        "on_part_begin", "on_part_data", "on_part_end", "on_header_field", "on_header_value",
        "on_header_end", "on_headers_finished")}
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    received = 0
    limit_mb = limit_bytes / 2**20
    try:
        async for chunk in chunks:
            received += len(chunk)
            if received > limit_bytes:
                raise UploadTooLarge(f"The upload is larger than the limit of {limit_mb:g} MB ([web] max_upload_mb); "
                                     "send fewer or smaller files per batch.")
            parser.write(chunk)
        parser.finalize()
    except UploadError:
        raise
    except Exception as err:  # noqa: BLE001 - a malformed body from the client
        raise UploadError(f"The upload could not be read ({type(err).__name__}); try again.") from err
    finally:
        receiver.close()
    if not receiver.csrf_verified:
        raise UploadNeedsCsrf("The upload form had expired (its security token was missing); reload the page.")
    return receiver.files
