"""Sending stored files to a browser: safe names and media types for downloads."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from urllib.parse import quote

__all__ = ["DOWNLOAD_TYPES", "download_name", "content_disposition", "download_media_type"]

# Only types ingest accepts are sent as themselves; anything else is sent as opaque bytes.
DOWNLOAD_TYPES = {"application/pdf", "image/jpeg", "image/png", "image/tiff"}

_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9._ ()+-]")


def download_name(source: str, fallback: str = "document") -> str:
    """The file name part of a source path (Windows or POSIX), without control characters."""
    name = PurePosixPath(source.replace("\\", "/")).name
    name = "".join(c for c in name if c.isprintable()).strip().lstrip(".")
    return name[:200] or fallback


def content_disposition(filename: str) -> str:
    """An ``attachment`` header that no file name can break: an ASCII-only ``filename`` for old
    clients and the exact name as RFC 5987 ``filename*`` (quotes, semicolons, CR/LF and
    non-ASCII letters are all percent-encoded there)."""
    ascii_name = _UNSAFE_ASCII.sub("_", filename).strip() or "document"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download_media_type(media_type: str) -> str:
    return media_type if media_type in DOWNLOAD_TYPES else "application/octet-stream"
