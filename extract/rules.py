"""The extraction rules (``labels.toml``), loaded once."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["RULES_PATH", "Label", "FieldRule", "Rules", "load_rules", "tokens"]

RULES_PATH = Path(__file__).with_name("labels.toml")
_TOKEN = re.compile(r"[^\W_]+|[#%]")


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens, punctuation dropped except ``#`` and ``%`` (they carry meaning)."""
    return _TOKEN.findall(text.lower())


@dataclass(frozen=True)
class Label:
    text: str
    weight: float
    tokens: tuple[str, ...]


@dataclass(frozen=True)
class FieldRule:
    name: str
    kind: str
    labels: tuple[Label, ...]
    exclude: frozenset[str]
    lifted_by: frozenset[str] = frozenset()  # words that cancel the veto of ``liftable`` words
    liftable: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Rules:
    min_ratio: float
    below_max_lines: float
    doc_type_fields: dict[str, tuple[str, ...]]
    confidence: dict[str, float]
    fields: dict[str, FieldRule]
    vendor: dict[str, list[str]]
    currency_codes: tuple[str, ...]
    currency_symbols: dict[str, str]
    currency_ambiguous: frozenset[str]  # symbols several currencies print ("$")
    dollar_places: dict[str, tuple[str, ...]]  # currency -> phrases saying a bare "$" means it
    day_first_hints: tuple[str, ...]
    month_first_hints: tuple[str, ...]


def _field(name: str, raw: dict) -> FieldRule:
    labels = tuple(
        Label(text=l["text"], weight=float(l["weight"]), tokens=tuple(tokens(l["text"])))
        for l in raw.get("labels", [])
    )
    # Longest labels first: "grand total" must be tried before "total".
    labels = tuple(sorted(labels, key=lambda l: -len(l.tokens)))
    exclude = frozenset(t for e in raw.get("exclude", []) for t in [" ".join(tokens(e)) or e])
    return FieldRule(name=name, kind=raw["kind"], labels=labels, exclude=exclude,
                     lifted_by=frozenset(raw.get("lifted_by", [])), liftable=frozenset(raw.get("liftable", [])))


@lru_cache(maxsize=4)
def load_rules(path: str = str(RULES_PATH)) -> Rules:
    raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    return Rules(
        min_ratio=float(raw["matching"]["min_ratio"]),
        below_max_lines=float(raw["matching"]["below_max_lines"]),
        doc_type_fields={k: tuple(v) for k, v in raw["doc_types"].items()},
        confidence={k: float(v) for k, v in raw["confidence"].items()},
        fields={name: _field(name, spec) for name, spec in raw["fields"].items()},
        vendor=raw["vendor"],
        currency_codes=tuple(raw["currency"]["codes"]),
        currency_symbols=dict(raw["currency"]["symbols"]),
        currency_ambiguous=frozenset(raw["currency"].get("ambiguous", [])),
        dollar_places={k: tuple(v) for k, v in raw["currency"].get("dollar_places", {}).items()},
        day_first_hints=tuple(raw["dates"]["day_first_hints"]),
        month_first_hints=tuple(raw["dates"]["month_first_hints"]),
    )
