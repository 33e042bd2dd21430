"""The blob store interface (a Protocol of four methods) and its filesystem implementation.

Keys are relative, slash-separated paths (``originals/ab/cd/<sha256>``). The filesystem store
writes atomically (temporary file, fsync, rename), so a crash never leaves a half-written object.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from ecm.errors import NotFound, StoreError

__all__ = ["BlobStore", "Deletable", "RetentionControl", "FsBlobStore", "check_key"]


@runtime_checkable
class BlobStore(Protocol):
    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...
    def keys(self, prefix: str) -> Iterator[str]: ...
    def exists(self, key: str) -> bool: ...


@runtime_checkable
class Deletable(Protocol):
    def delete(self, key: str) -> None: ...


@runtime_checkable
class RetentionControl(Protocol):
    """What a store needs to enforce `ecm hold` / `ecm retain` itself: S3BlobStore on an
    object-lock bucket has it; a folder on disk cannot stop anyone deleting a file."""

    def set_legal_hold(self, key: str, on: bool) -> None: ...
    def set_retention(self, key: str, until: datetime) -> None: ...
    def delete(self, key: str) -> None: ...


def check_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise StoreError(f"invalid object key {key!r}")
    return key


class FsBlobStore:
    """Objects as files under ``root``."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as err:
            raise StoreError(f"cannot write {path}: {err.strerror or err}; check free space and permissions") from err

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError as err:
            raise NotFound(f"no object {key!r} in the store at {self.root}") from err
        except OSError as err:
            raise StoreError(f"cannot read {path}: {err.strerror or err}") from err

    def keys(self, prefix: str) -> Iterator[str]:
        """Keys starting with ``prefix`` (a folder prefix ending in '/' or a full key), in key order."""
        base = self.root.joinpath(*[p for p in prefix.split("/") if p])
        if base.is_file():
            yield prefix
        elif base.is_dir():
            yield from self._walk(base)

    def _walk(self, folder: Path) -> Iterator[str]:
        # A subfolder sorts as "name/", so keys come out in plain string order ("a-c" < "a/b" < "a0"),
        # as S3 lists them; os.walk would give all of a folder's files before any of its subfolders.
        with os.scandir(folder) as entries:
            ordered = sorted(entries, key=lambda e: e.name + "/" if e.is_dir(follow_symlinks=False) else e.name)
        for entry in ordered:
            if entry.is_dir(follow_symlinks=False):
                yield from self._walk(Path(entry.path))
            elif entry.is_file(follow_symlinks=False) and not entry.name.startswith(".tmp-"):
                yield Path(entry.path).relative_to(self.root).as_posix()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except FileNotFoundError as err:
            raise NotFound(f"no object {key!r} in the store at {self.root}") from err
        except OSError as err:
            raise StoreError(f"cannot delete {key}: {err.strerror or err}") from err
