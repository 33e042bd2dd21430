"""Tags: short labels people put on documents (``urgent``, ``audit-2026``, ``disputed``).

Tags live in the record (``Document.tags``), so ``ecm reindex`` rebuilds them into the index
like everything else. A change is a new record version (action ``edit``) plus a ``tag`` audit
event naming what was added and removed, and the document is re-indexed at once. The web UI,
the JSON API and ``ecm tag`` all go through ``tag_document``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ecm.document import Document
from ecm.errors import EcmError, ExitCode

__all__ = ["TagError", "MAX_TAG_CHARS", "MAX_TAGS", "normalise_tag", "split_tags", "retag", "tag_document"]

MAX_TAG_CHARS = 40
MAX_TAGS = 50  # per document: more is a coding scheme, not labels
# Lower-case ASCII letters and digits, with - _ . inside: safe in a query (tag:audit-2026),
# a URL and a file name, and the same in every index backend (no accent folding needed).
_TAG = re.compile(r"[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?")


class TagError(EcmError):
    """A tag that cannot be used; the message says what would be accepted."""

    exit_code = ExitCode.usage


def normalise_tag(raw: str) -> str:
    """``"  Audit-2026 "`` -> ``"audit-2026"``; raises ``TagError`` for anything else."""
    tag = raw.strip().lower() if isinstance(raw, str) else ""
    if not tag:
        raise TagError("a tag cannot be empty: write a short label such as urgent or audit-2026")
    if len(tag) > MAX_TAG_CHARS:
        raise TagError(f"the tag {tag[:MAX_TAG_CHARS]!r}... is {len(tag)} characters long; "
                       f"use at most {MAX_TAG_CHARS}")
    if not _TAG.fullmatch(tag):
        hint = " (use - instead of spaces)" if " " in tag else ""
        raise TagError(f"the tag {tag!r} may use only letters a-z, digits and - _ . inside{hint}, "
                       f"e.g. urgent or audit-2026")
    return tag


def split_tags(text: str) -> list[str]:
    """Tags typed in one box, separated by commas (``urgent, audit-2026``); not yet checked."""
    return [part for part in (p.strip() for p in text.split(",")) if part]


def retag(doc: Document, add: Iterable[str] = (), remove: Iterable[str] = ()) -> tuple[Document, list[str], list[str]]:
    """``doc`` with the tags added and removed (nothing stored), and what actually changed
    (added, removed). Removing a tag the document does not have is not an error."""
    adding = [normalise_tag(t) for t in add]
    removing = [normalise_tag(t) for t in remove]
    both = sorted(set(adding) & set(removing))
    if both:
        raise TagError(f"cannot add and remove the same tag at once: {', '.join(both)}")
    current = set(doc.tags)
    tags = (current | set(adding)) - set(removing)
    if len(tags) > MAX_TAGS:
        raise TagError(f"a document can have at most {MAX_TAGS} tags (this would make {len(tags)}); "
                       "remove some first")
    added, removed = sorted(tags - current), sorted(current - tags)
    return doc.model_copy(update={"tags": sorted(tags)}), added, removed


def tag_document(archive: Any, index: Any, doc: Document, add: Iterable[str] = (), remove: Iterable[str] = (),
                 *, actor: str) -> tuple[Document, list[str], list[str]]:
    """Change the tags of ``doc`` (the latest version, as read from ``archive``): a new version,
    a ``tag`` audit event, re-indexed in ``index``. Returns the document as stored and what was
    added and removed; when nothing changes, nothing is written (no version, no event)."""
    changed, added, removed = retag(doc, add, remove)
    if not added and not removed:
        return doc, [], []
    saved = archive.save(changed, actor=actor, action="edit")
    archive.audit_action(actor, "tag", saved.id, version=saved.version, added=added, removed=removed)
    index.add([saved])
    return saved, added, removed
