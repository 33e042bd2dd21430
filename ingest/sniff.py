"""Decide what a file is from its first bytes, never from its name."""

from __future__ import annotations

from ecm.errors import BadInput

__all__ = ["sniff", "PDF", "JPEG", "PNG", "TIFF", "WEBP", "IMAGE_TYPES"]

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
TIFF = "image/tiff"
WEBP = "image/webp"
IMAGE_TYPES = (JPEG, PNG, TIFF, WEBP)

_SIGNATURES = (
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
)


def sniff(head: bytes) -> str:
    """The media type of a file from (at least) its first 1024 bytes; raises BadInput if unsupported."""
    if not head:
        raise BadInput("empty file (0 bytes)")
    # PDF readers accept the header anywhere in the first 1024 bytes (junk before it is common).
    if b"%PDF-" in head[:1024]:
        return PDF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    for signature, media_type in _SIGNATURES:
        if head.startswith(signature):
            return media_type
    text = head[:512].lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")):
        raise BadInput("not a document: an HTML/XML page (often a failed download); fetch the real file")
    if head.startswith((b"PK\x03\x04", b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf")):
        raise BadInput("not a document: an archive (zip/gzip/rar/7z); unpack it and ingest the files inside")
    raise BadInput("not a supported document: expected PDF, JPEG, PNG, TIFF or WebP content")
