"""The document-type model: TF-IDF over word and character n-grams + a few layout numbers,
into a multinomial logistic regression (its probabilities are the confidence).

Character n-grams (3-5, within word boundaries) keep OCR-mangled words ("T0TAL", "lnvoice")
close to their clean spelling; word uni/bigrams carry phrases ("governed by", "amount due").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from ecm.document import DOC_TYPES

__all__ = ["DocTypeModel", "fit_model"]


@dataclass
class DocTypeModel:
    word_vectorizer: TfidfVectorizer
    char_vectorizer: TfidfVectorizer
    layout_scaler: StandardScaler
    classifier: LogisticRegression
    layout_weight: float = 1.0
    trained_on: dict = field(default_factory=dict)  # label -> number of training documents

    def _matrix(self, texts: list[str], layouts: list[list[float]]):
        layout = self.layout_scaler.transform(np.asarray(layouts, dtype=float)) * self.layout_weight
        return sparse.hstack(
            [self.word_vectorizer.transform(texts), self.char_vectorizer.transform(texts),
             sparse.csr_matrix(layout)]
        ).tocsr()

    @property
    def labels(self) -> list[str]:
        return [str(c) for c in self.classifier.classes_]

    def predict_proba(self, texts: list[str], layouts: list[list[float]]) -> list[dict[str, float]]:
        """Per document, a probability for every canonical type (0 for types never trained on)."""
        proba = self.classifier.predict_proba(self._matrix(texts, layouts))
        out = []
        for row in proba:
            scores = {label: 0.0 for label in DOC_TYPES}
            scores.update({label: float(p) for label, p in zip(self.labels, row)})
            out.append(scores)
        return out


def fit_model(texts: list[str], layouts: list[list[float]], labels: list[str],
              sample_weight: list[float] | None = None, C: float = 20.0) -> DocTypeModel:
    if len(set(labels)) < 2:
        raise ValueError("training needs documents of at least two types")
    word = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=2, max_features=8000,
                           sublinear_tf=True, token_pattern=r"(?u)\b\w\w+\b")
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2, max_features=25000,
                           sublinear_tf=True)
    if len(texts) < 10:  # tiny corpora (tests): min_df=2 could leave no vocabulary at all
        word.min_df = char.min_df = 1
    word.fit(texts)
    char.fit(texts)
    # The vectorizers keep every pruned n-gram in stop_words_; it is only for introspection
    # and would make the model file 10x bigger.
    for vec in (word, char):
        if hasattr(vec, "stop_words_"):
            delattr(vec, "stop_words_")
    scaler = StandardScaler().fit(np.asarray(layouts, dtype=float))
    model = DocTypeModel(word, char, scaler, LogisticRegression(C=C, max_iter=2000))
    model.classifier.fit(model._matrix(texts, layouts), labels, sample_weight=sample_weight)
    model.trained_on = {label: labels.count(label) for label in sorted(set(labels))}
    return model
