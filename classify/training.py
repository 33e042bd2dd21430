"""Training, saving and cross-validating the document-type model.

``seed_texts.jsonl`` holds a few hand-written example texts for types the dev data lacks
(``letter`` has no real examples at all, ``form``/``other`` very few); they are always part of
the training set and never of an evaluation fold. Real examples should replace them.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable
from pathlib import Path

import joblib

from classify.corpus import cached_document, read_manifest
from classify.features import document_text, layout_vector, normalise_text
from classify.model import DocTypeModel, fit_model
from ecm.document import DOC_TYPES, Document

__all__ = ["SEED_TEXTS", "train", "save_model", "load_model", "train_from_folder",
           "cross_validate", "folder_examples"]

SEED_TEXTS = Path(__file__).with_name("seed_texts.jsonl")
NEUTRAL_LAYOUT = [1.4 / 4.0, 0.05, 0.01, 0.5]  # layout of a plain text page, for text-only examples
SEED_WEIGHT = 0.5  # synthetic examples count less than real ones


def _example(item: Document | str) -> tuple[str, list[float]]:
    if isinstance(item, Document):
        return document_text(item), layout_vector(item)
    return normalise_text(item), list(NEUTRAL_LAYOUT)


def _seed_examples() -> list[tuple[str, str]]:
    rows = [json.loads(l) for l in SEED_TEXTS.read_text(encoding="utf-8").splitlines() if l.strip()]
    return [(r["text"], r["label"]) for r in rows]


def train(examples: Iterable[tuple[Document | str, str]], use_seed_texts: bool = True) -> DocTypeModel:
    """Fit a model on (document or plain text, label) pairs; labels must be canonical types."""
    texts, layouts, labels, weights = [], [], [], []
    pairs = list(examples)
    seeds = _seed_examples() if use_seed_texts else []
    for (item, label), weight in [(p, 1.0) for p in pairs] + [(s, SEED_WEIGHT) for s in seeds]:
        if isinstance(item, Document) and not any(p.words for p in item.pages):
            continue  # nothing to learn from (a quarantined or blank document)
        if label not in DOC_TYPES:
            raise ValueError(f"unknown document type {label!r}; expected one of {', '.join(DOC_TYPES)}")
        text, layout = _example(item)
        texts.append(text)
        layouts.append(layout)
        labels.append(label)
        weights.append(weight)
    return fit_model(texts, layouts, labels, sample_weight=weights)


def save_model(model: DocTypeModel, path: Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, path, compress=3)


def load_model(path: Path) -> DocTypeModel:
    return joblib.load(path)


def folder_examples(folder: Path, cache_dir: Path | None) -> tuple[list[Document], list[str], list[str]]:
    """Documents, labels and CV groups of a folder in the layout of the dev data set."""
    entries = read_manifest(folder)
    docs = [cached_document(folder, e, cache_dir) for e in entries]
    return docs, [e.doc_type for e in entries], [e.group for e in entries]


def train_from_folder(folder: Path, out: Path, cache_dir: Path | None = None) -> dict:
    """Train on every document of ``folder/manifest.jsonl`` and write the model to ``out``.

    ``cache_dir`` is a page cache as written by ``bench/build_cache.py`` (documents not in it
    are read and OCR'd with ``ingest.read_document``). Returns a short summary for the CLI.
    """
    docs, labels, _ = folder_examples(Path(folder), cache_dir)
    model = train(zip(docs, labels))
    save_model(model, Path(out))
    return {"documents": len(docs), "trained_on": model.trained_on, "model": str(out)}


def cross_validate(docs: list[Document], labels: list[str], groups: list[str], folds: int = 5,
                   seed: int = 0) -> list[tuple[str, str, float]]:
    """Grouped k-fold: a scan derivative always sits in the same fold as its original.

    Returns (gold, predicted, confidence) per document, in input order.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    from classify import classify  # the same decision the pipeline makes, empty documents included

    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    results: list[tuple[str, str, float] | None] = [None] * len(docs)
    with warnings.catch_warnings():
        # Classes with fewer members than folds (form, other) are expected here.
        warnings.simplefilter("ignore", UserWarning)
        splits = list(splitter.split(docs, labels, groups))
    for train_idx, test_idx in splits:
        model = train((docs[i], labels[i]) for i in train_idx)
        for i in test_idx:
            doc_type = classify(docs[i].model_copy(update={"status": "ok"}), model).doc_type
            results[i] = (labels[i], doc_type.label, doc_type.confidence)
    return results  # type: ignore[return-value]
