"""The direction classifier's lexical block: TF-IDF over words and Chinese characters, linear.

The vector model sees a document through one 512-dimensional sentence vector, which blurs what
its words say ("welding robot with a neural network" and "neural network" land close together).
This block reads the words themselves: English word unigrams and bigrams, and Chinese character
unigrams and bigrams (no segmenter needed, and a bigram catches most two-character words),
weighted by sublinear TF-IDF and scored by a multinomial logistic regression over the seven
classes. Its log-probabilities are added to the vector model's logits with a weight chosen by
cross-validation (models/direction_model.py). Inference is plain Python and numpy (no
scikit-learn); the model is stored in the classifier's JSON artefact, the vocabulary pruned by
document frequency so the file stays small.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

_LATIN = re.compile(r"[a-z][a-z0-9]*(?:[-'][a-z0-9]+)*")
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
# A term must occur in at least MIN_DF training documents (rarer ones are names and typos
# that only memorise their document) and at most MAX_DF_SHARE of them (function words); the
# most frequent MAX_FEATURES remain, which keeps the artefact near 2 MB.
MIN_DF = 2
MAX_DF_SHARE = 0.5
MAX_FEATURES = 15000


def tokens(text: str) -> list[str]:
    """English words (two letters or more) and word bigrams, lower-cased; Chinese characters
    and character bigrams of each run of Chinese text."""
    words = [word for word in _LATIN.findall(text.lower()) if len(word) > 1]
    found = [*words, *(f"{a} {b}" for a, b in pairwise(words))]
    for run in _CJK_RUN.findall(text):
        found += [*run, *(run[i : i + 2] for i in range(len(run) - 1))]
    return found


@dataclass(frozen=True)
class LexicalModel:
    """Vocabulary (term -> column), idf per column, and a linear model: rows of `coef` and
    `intercept` follow the classifier's classes. `weight` scales its log-probabilities when
    they are added to the vector model's logits."""

    vocabulary: dict[str, int]
    idf: NDArray[np.float64]
    coef: NDArray[np.float64]
    intercept: NDArray[np.float64]
    weight: float = 1.0

    def log_probabilities(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """One row of class log-probabilities per text (an empty text: the intercepts)."""
        logits = np.tile(self.intercept, (len(texts), 1))
        for row, text in enumerate(texts):
            columns, values = tfidf_row(text, self.vocabulary, self.idf)
            if len(columns):
                logits[row] += self.coef[:, columns] @ values
        logits -= logits.max(axis=1, keepdims=True)
        return np.asarray(logits - np.log(np.exp(logits).sum(axis=1, keepdims=True)))

    def to_dict(self) -> dict[str, object]:
        terms = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        return {
            "weight": self.weight,
            "terms": terms,
            "idf": np.round(self.idf, 5).tolist(),
            "intercept": np.round(self.intercept, 6).tolist(),
            # Five decimals: the coefficients are O(0.1-10), so rounding moves a logit by
            # at most ~1e-4 over a document's few hundred terms.
            "coef": np.round(self.coef, 5).tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, object], n_classes: int) -> LexicalModel:
        from pipeline.errors import InputError

        terms = data.get("terms")
        if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
            raise InputError("lexical: field 'terms': expected a list of strings")
        idf = np.asarray(data.get("idf"), dtype=np.float64)
        coef = np.asarray(data.get("coef"), dtype=np.float64)
        intercept = np.asarray(data.get("intercept"), dtype=np.float64)
        if idf.shape != (len(terms),) or coef.shape != (n_classes, len(terms)):
            raise InputError(
                f"lexical: fields 'idf' {idf.shape} and 'coef' {coef.shape} do not fit "
                f"{len(terms)} terms and {n_classes} classes"
            )
        if intercept.shape != (n_classes,):
            raise InputError(f"lexical: field 'intercept': expected {n_classes} values")
        weight = data.get("weight", 1.0)
        if not isinstance(weight, int | float):
            raise InputError(f"lexical: field 'weight': expected a number, got {weight!r}")
        return cls({t: i for i, t in enumerate(terms)}, idf, coef, intercept, float(weight))


def tfidf_row(
    text: str, vocabulary: dict[str, int], idf: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Columns and unit-length weights (1 + log tf) x idf of one text's known terms."""
    counts = Counter(term for term in tokens(text) if term in vocabulary)
    if not counts:
        return np.zeros(0, np.int64), np.zeros(0)
    columns = np.fromiter((vocabulary[t] for t in counts), np.int64, len(counts))
    values = (1 + np.log(np.fromiter(counts.values(), np.float64, len(counts)))) * idf[columns]
    return columns, values / np.linalg.norm(values)


def build_vocabulary(
    texts: Sequence[str], max_features: int = MAX_FEATURES
) -> tuple[dict[str, int], NDArray[np.float64]]:
    """Terms kept by document frequency (ties by the term, so the choice is deterministic),
    in alphabetical column order, with smoothed idf."""
    df: Counter[str] = Counter()
    for text in texts:
        df.update(set(tokens(text)))
    n = len(texts)
    kept = sorted(
        (term for term, count in df.items() if MIN_DF <= count <= MAX_DF_SHARE * n),
        key=lambda term: (-df[term], term),
    )[:max_features]
    vocabulary = {term: i for i, term in enumerate(sorted(kept))}
    idf = np.asarray([np.log((1 + n) / (1 + df[t])) + 1 for t in sorted(kept)], np.float64)
    return vocabulary, idf


def fit_lexical(
    texts: Sequence[str],
    labels: Sequence[int],
    n_classes: int,
    c: float,
    weights: NDArray[np.float64] | None = None,
    max_features: int = MAX_FEATURES,
) -> LexicalModel:
    """Vocabulary from `texts`, then a multinomial logistic regression (fixed seed) on their
    TF-IDF rows; `labels` are class indices, all of range(n_classes) present."""
    import scipy.sparse as sparse
    from sklearn.linear_model import LogisticRegression

    vocabulary, idf = build_vocabulary(texts, max_features)
    rows, columns, values = [], [], []
    for row, text in enumerate(texts):
        cols, vals = tfidf_row(text, vocabulary, idf)
        rows += [row] * len(cols)
        columns += cols.tolist()
        values += vals.tolist()
    matrix = sparse.csr_matrix((values, (rows, columns)), shape=(len(texts), len(vocabulary)))
    model = LogisticRegression(C=c, max_iter=3000, random_state=0)
    model.fit(matrix, list(labels), sample_weight=weights)
    if list(model.classes_) != list(range(n_classes)):
        raise ValueError(f"lexical: training labels cover {list(model.classes_)}, not all classes")
    coef, intercept = model.coef_.astype(np.float64), model.intercept_.astype(np.float64)
    if n_classes == 2:  # scikit-learn keeps one row for two classes: the second's logit
        coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept])
    return LexicalModel(vocabulary, idf, coef, intercept)
