"""Quality control of coding: which documents a second coder checks, how far two codings
agree, and how fast a coder works. Pure functions; the web layer stores the results."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["QcError", "qc_sample", "field_agreement", "Agreement", "docs_per_hour", "IDLE_GAP_SECONDS", "same_value"]

IDLE_GAP_SECONDS = 15 * 60  # a longer pause between two saves is a break, not coding time


class QcError(ValueError):
    """QC cannot be arranged as asked (no second coder, a bad share)."""


def qc_sample(docs_by_coder: Mapping[str, Sequence[str]], share: float, qc_coders: Sequence[str],
              seed: int | str) -> dict[str, str]:
    """Document id -> the QC coder who checks it: ``ceil(share * n)`` of each coder's ``n``
    documents, drawn with a seeded generator (the same inputs always give the same sample),
    each given to one of ``qc_coders`` other than the document's coder, in turn."""
    if not 0 <= share <= 1:
        raise QcError(f"the QC share must be between 0 and 1, not {share}")
    out: dict[str, str] = {}
    for coder in sorted(docs_by_coder):
        docs = list(docs_by_coder[coder])
        count = math.ceil(share * len(docs) - 1e-9)
        if not count:
            continue
        checkers = sorted({q for q in qc_coders if q != coder})
        if not checkers:
            raise QcError(f"QC needs a second coder for {coder}'s documents (nobody checks their own work)")
        rng = random.Random(f"{seed}:{coder}")
        picked = rng.sample(docs, count)
        for i, doc_id in enumerate(sorted(picked, key=docs.index)):
            out[doc_id] = checkers[i % len(checkers)]
    return out


def same_value(a: Any, b: Any) -> bool:
    """Two coded values agree: text ignoring case and spacing, lists as sets of such texts,
    empty values alike."""
    def norm(v: Any) -> Any:
        if v is None or v == "" or v == []:
            return None
        if isinstance(v, str):
            return " ".join(v.split()).casefold()
        if isinstance(v, list):
            return frozenset(" ".join(str(x).split()).casefold() for x in v)
        return v
    return norm(a) == norm(b)


@dataclass(frozen=True)
class Agreement:
    compared: int  # fields where at least one coder put a value
    agreed: int
    disagreements: tuple[str, ...]

    @property
    def rate(self) -> float | None:
        return self.agreed / self.compared if self.compared else None


def field_agreement(first: Mapping[str, Any], second: Mapping[str, Any], names: Iterable[str]) -> Agreement:
    """Field-level agreement of two codings. A field that both left empty (or unticked) says
    nothing about agreement and is not counted."""
    compared = agreed = 0
    disagreements = []
    for name in names:
        a, b = first.get(name), second.get(name)
        if a in (None, "", [], False) and b in (None, "", [], False):
            continue
        compared += 1
        if same_value(a, b):
            agreed += 1
        else:
            disagreements.append(name)
    return Agreement(compared, agreed, tuple(disagreements))


def docs_per_hour(save_times: Iterable[float], idle_gap: float = IDLE_GAP_SECONDS) -> float | None:
    """Documents per hour from a coder's save timestamps (seconds): each gap between two saves
    is the time one document took, unless it is longer than ``idle_gap`` (a break). None when
    there is no such gap yet."""
    times = sorted(save_times)
    gaps = [b - a for a, b in zip(times, times[1:]) if 0 < b - a <= idle_gap]
    if not gaps:
        return None
    return len(gaps) * 3600 / sum(gaps)
