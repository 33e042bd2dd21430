"""Document type + confidence: ``classify(doc) -> doc`` with ``doc.doc_type`` set.

A trained text model (``model.joblib``, see ``classify.training``), loaded once on first use.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from classify.features import document_text, layout_vector
from classify.model import DocTypeModel
from classify.training import cross_validate, load_model, save_model, train, train_from_folder
from ecm.document import DocType, Document

__all__ = ["classify", "predict_scores", "train", "train_from_folder", "cross_validate",
           "load_model", "save_model", "MODEL_PATH", "DocTypeModel"]

MODEL_PATH = Path(__file__).with_name("model.joblib")
EMPTY_CONFIDENCE = 0.3  # a document without words is "other" only because nothing says otherwise


@lru_cache(maxsize=4)
def _model_at(path: str) -> DocTypeModel:
    return load_model(Path(path))


def predict_scores(doc: Document, model: DocTypeModel | None = None) -> dict[str, float]:
    """Probability per canonical type (types the model never saw, e.g. ``letter``, get 0)."""
    model = model or _model_at(str(MODEL_PATH))
    return model.predict_proba([document_text(doc)], [layout_vector(doc)])[0]


def classify(doc: Document, model: DocTypeModel | None = None, calibrate: bool = True) -> Document:
    if doc.status != "ok":
        return doc
    if not any(p.words for p in doc.pages):
        return doc.model_copy(update={"doc_type": DocType(label="other", confidence=EMPTY_CONFIDENCE,
                                                          source="classify.empty")})
    scores = predict_scores(doc, model)
    label = max(scores, key=scores.get)
    confidence = scores[label]
    source = "classify.model"
    if doc.form_fields and label == "other":
        # A PDF with fillable fields was made to be filled in: a form, unless its text says it is
        # a business document the model knows. Its form may carry little text of its own.
        label, confidence, source = "form", scores["form"] + scores["other"], "classify.form_fields"
    if calibrate:
        # The model's probability mapped to P(label right), fitted on cross-validated dev predictions.
        from extract.calibration import load_calibration

        confidence = load_calibration().doc_class(confidence)
    return doc.model_copy(update={"doc_type": DocType(label=label, confidence=round(confidence, 4),
                                                      source=source)})
