"""Choosing the direction classifier's settings on the training and validation splits only.

Sample weights balance the classes and, within a class, the languages; the regularisation C is
chosen by stratified cross-validation on the training split; the bias of the "none" class and
the term bonus on the validation split. The lexical block's C and weight are chosen by
cross-validation on the training split like C. The test split and the hand-labelled sample are never
seen here. Scores weigh English and Chinese equally (the mean of their macro-F1), since the
observatory reads both and Chinese documents are a seventh of the labelled set.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import numpy as np
from numpy.typing import NDArray

NONE = "none"
C_GRID = (0.003, 0.01, 0.03)
# The lexical model sees sparse unit-length TF-IDF rows: it needs far weaker regularisation.
LEXICAL_C_GRID = (1.0, 3.0, 10.0)
BLEND_WEIGHT_GRID = (0.0, 0.5, 1.0, 1.5, 2.0)
FOLDS = 5
NONE_BIAS_GRID = tuple(round(-1.0 + 0.25 * step, 2) for step in range(17))
TERM_BONUS_GRID = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)
OFFTOPIC_TARGET = 0.95

Predictor = Callable[[NDArray[np.int64]], list[str]]


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Unweighted mean F1 over the labels present in `gold`."""
    from sklearn.metrics import f1_score  # imported when used: sklearn costs ~2 s

    labels = sorted(set(gold))
    if not labels:
        return 0.0
    return float(
        f1_score(list(gold), list(predicted), labels=labels, average="macro", zero_division=0)
    )


def bilingual_f1(gold: Sequence[str], predicted: Sequence[str], langs: Sequence[str]) -> float:
    """Mean of the per-language macro-F1 over the languages present."""
    scores = []
    for lang in sorted(set(langs)):
        keep = [i for i, value in enumerate(langs) if value == lang]
        scores.append(macro_f1([gold[i] for i in keep], [predicted[i] for i in keep]))
    return float(np.mean(scores)) if scores else 0.0


def sample_weights(labels: Sequence[str], langs: Sequence[str]) -> NDArray[np.float64]:
    """Class-balanced weights; within a class each language's share is moved halfway (square
    root) towards an equal share, so the few Chinese examples of a class are not drowned by its
    English ones (and the many Chinese off-topic ones do not make Chinese mean "none")."""
    label_arr, lang_arr = np.asarray(labels), np.asarray(langs)
    weights = np.zeros(len(label_arr))
    for label in np.unique(label_arr):
        in_class = label_arr == label
        weights[in_class] = len(label_arr) / (len(np.unique(label_arr)) * in_class.sum())
        present = np.unique(lang_arr[in_class])
        for lang in present:
            cell = in_class & (lang_arr == lang)
            weights[cell] *= np.sqrt(in_class.sum() / (len(present) * cell.sum()))
    return np.asarray(weights / weights.mean(), dtype=np.float64)


def folds(
    labels: Sequence[str], langs: Sequence[str], k: int = FOLDS
) -> list[tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """Stratified (label and language) folds with a fixed seed."""
    from sklearn.model_selection import StratifiedKFold

    strata = [f"{label}:{lang}" for label, lang in zip(labels, langs, strict=True)]
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=0)
    return [
        (np.asarray(a), np.asarray(b)) for a, b in splitter.split(np.zeros(len(strata)), strata)
    ]


def cross_val_scores(
    fit_scores: Callable[[NDArray[np.int64], NDArray[np.int64]], NDArray[np.float64]],
    labels: Sequence[str],
    langs: Sequence[str],
) -> NDArray[np.float64]:
    """Out-of-fold class scores: `fit_scores(train_rows, test_rows)` fits on the first rows
    and returns one row of scores (classes as columns) per test row."""
    scores: NDArray[np.float64] | None = None
    for train_rows, test_rows in folds(labels, langs):
        held = fit_scores(train_rows, test_rows)
        if scores is None:
            scores = np.zeros((len(labels), held.shape[1]))
        scores[test_rows] = held
    assert scores is not None
    return scores


def _argmax_labels(scores: NDArray[np.float64], classes: Sequence[str]) -> list[str]:
    return [classes[i] for i in scores.argmax(axis=1)]


def choose_c(
    fit_scores: Callable[[float, NDArray[np.int64], NDArray[np.int64]], NDArray[np.float64]],
    labels: Sequence[str],
    langs: Sequence[str],
    grid: Sequence[float],
    classes: Sequence[str],
    name: str = "",
) -> float:
    """The C with the best cross-validated bilingual macro-F1 of the argmax (ties: the smaller
    C). `fit_scores(c, train_rows, test_rows)` fits on the first rows and scores the second."""
    results = []
    for c in grid:
        scores = cross_val_scores(partial(fit_scores, c), labels, langs)
        predicted = _argmax_labels(scores, classes)
        score = bilingual_f1(labels, predicted, langs)
        print(
            f"{name} C={c:g}: {FOLDS}-fold bilingual macro-F1 {score:.3f} "
            f"(all {macro_f1(labels, predicted):.3f})"
        )
        results.append((round(score, 4), -c))
    return -max(results)[1]


def choose_weight(
    base: NDArray[np.float64],
    added: NDArray[np.float64],
    labels: Sequence[str],
    langs: Sequence[str],
    classes: Sequence[str],
    grid: Sequence[float] = BLEND_WEIGHT_GRID,
) -> float:
    """The weight w whose `base + w * added` (out-of-fold log-probabilities of two models) has
    the best bilingual macro-F1 (ties: the smaller w; 0 keeps the base model alone)."""
    results = []
    for weight in grid:
        predicted = _argmax_labels(base + weight * added, classes)
        score = bilingual_f1(labels, predicted, langs)
        print(
            f"lexical weight {weight:g}: {FOLDS}-fold bilingual macro-F1 {score:.3f} "
            f"(all {macro_f1(labels, predicted):.3f})"
        )
        results.append((round(score, 4), -weight))
    return -max(results)[1]


def _none_recall(gold: Sequence[str], predicted: Sequence[str]) -> float:
    nones = [p for g, p in zip(gold, predicted, strict=True) if g == NONE]
    return sum(p == NONE for p in nones) / max(len(nones), 1)


def choose_setting(
    predict: Callable[[float], list[str]],
    gold: Sequence[str],
    langs: Sequence[str],
    grid: Sequence[float],
    name: str,
) -> float:
    """Best validation bilingual macro-F1 among the values that keep >= 95 % of off-topic
    documents unmapped (the highest off-topic recall when none does); ties go to the value
    nearest zero."""
    results = []
    for value in grid:
        predicted = predict(value)
        recall = _none_recall(gold, predicted)
        score = bilingual_f1(gold, predicted, langs)
        print(
            f"{name} {value:g}: validation bilingual macro-F1 {score:.3f}, "
            f"off-topic unmapped {recall:.1%}"
        )
        reached = recall >= OFFTOPIC_TARGET
        results.append((reached, round(score, 4) if reached else recall, -abs(value), value))
    return max(results)[-1]
