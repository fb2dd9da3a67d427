"""Scoring the direction mapper on a hand-labelled sample and calibrating its threshold and margin.

Labels are the six direction ids plus "none"; the mapper's "unmapped" counts as "none". Macro-F1
is the unweighted mean of the seven per-label F1 scores, so the small directions weigh as much as
the large "none" bucket. `python -m models.direction_eval` runs the study (docs/directions.md).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from models.directions import UNMAPPED, TrackVectors, embed_taxonomy, map_direction
from models.embed import DEFAULT_ENCODER, Encoder, build_encoder
from models.taxonomy import DIRECTION_IDS, load_taxonomy
from pipeline.errors import InputError

NONE = "none"
LABELS = (*DIRECTION_IDS, NONE)
DEFAULT_SAMPLE = Path("data/direction_sample/sample.jsonl")
DEFAULT_SETTING = (0.25, 0.02)
THRESHOLDS = tuple(round(0.10 + 0.025 * step, 3) for step in range(17))
MARGINS = (0.0, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1)
_REQUIRED = ("id", "source", "lang", "title", "text", "label")


@dataclass(frozen=True)
class LabelledDoc:
    """One sample document with the annotator's label (a direction id or "none")."""

    id: str
    source: str
    lang: str
    title: str
    text: str
    label: str
    note: str = ""

    @property
    def full_text(self) -> str:
        """What gets embedded: title and text, as for stored documents."""
        return f"{self.title}\n{self.text}".strip()


@dataclass(frozen=True)
class LabelScores:
    """Precision, recall and F1 of one label; support is its number of gold documents."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class MapperScores:
    """The mapper's scores at one setting; confusion rows are gold labels, columns predictions."""

    threshold: float
    margin: float
    n_docs: int
    accuracy: float
    macro_f1: float
    per_label: tuple[LabelScores, ...]
    confusion: tuple[tuple[int, ...], ...]
    labels: tuple[str, ...] = LABELS


@dataclass(frozen=True)
class GridPoint:
    """Accuracy and macro-F1 at one (threshold, margin) of the calibration grid."""

    threshold: float
    margin: float
    accuracy: float
    macro_f1: float


def _parse_line(line: str, where: str) -> LabelledDoc:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        raise InputError(f"{where}: not valid JSON ({error})") from None
    if not isinstance(row, dict):
        raise InputError(f"{where}: expected a JSON object")
    for key in _REQUIRED:
        if not isinstance(row.get(key), str):
            raise InputError(f"{where}: field '{key}': expected a string, got {row.get(key)!r}")
    if row["label"] not in LABELS:
        raise InputError(
            f"{where}: field 'label': expected one of {', '.join(LABELS)}, got {row['label']!r}"
        )
    return LabelledDoc(**{key: row[key] for key in _REQUIRED}, note=str(row.get("note", "")))


def load_sample(path: Path | str) -> list[LabelledDoc]:
    """Read a labelled sample from JSON lines (id, source, lang, title, text, label, note)."""
    sample_path = Path(path)
    if not sample_path.exists():
        raise InputError(f"sample: no such file {sample_path}")
    lines = sample_path.read_text(encoding="utf-8").splitlines()
    docs = [
        _parse_line(line, f"{sample_path}:{number}")
        for number, line in enumerate(lines, start=1)
        if line.strip()
    ]
    if not docs:
        raise InputError(f"{sample_path}: no documents")
    return docs


def predict(
    vectors: NDArray[np.float32], tracks: TrackVectors, threshold: float, margin: float
) -> list[str]:
    """The mapper's label for each row of `vectors`, with "unmapped" reported as "none"."""
    directions = (map_direction(row, tracks, threshold, margin).direction for row in vectors)
    return [NONE if direction == UNMAPPED else direction for direction in directions]


def score_predictions(
    gold: Sequence[str], predicted: Sequence[str], threshold: float = 0.0, margin: float = 0.0
) -> MapperScores:
    """Accuracy, macro-F1 over the seven labels, per-label scores and the confusion matrix."""
    if len(gold) != len(predicted) or not gold:
        raise InputError(
            f"scores: need equal, non-empty label lists, got {len(gold)} gold "
            f"and {len(predicted)} predicted"
        )
    labels = list(LABELS)
    matrix = confusion_matrix(gold, predicted, labels=labels)
    # zero_division=0: a label never predicted (or never gold) scores 0, as the study reports.
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=labels, zero_division=0
    )
    per_label = tuple(
        LabelScores(label, float(p), float(r), float(f), int(n))
        for label, p, r, f, n in zip(LABELS, precision, recall, f1, support, strict=True)
    )
    return MapperScores(
        threshold=threshold,
        margin=margin,
        n_docs=len(gold),
        accuracy=float(accuracy_score(gold, predicted)),
        macro_f1=float(np.mean(f1)),
        per_label=per_label,
        confusion=tuple(tuple(int(v) for v in row) for row in matrix),
    )


def _check_aligned(sample: Sequence[LabelledDoc], vectors: NDArray[np.float32]) -> None:
    if len(sample) != len(vectors):
        raise InputError(f"sample has {len(sample)} documents but {len(vectors)} vectors")


def evaluate_mapper(
    sample: Sequence[LabelledDoc],
    vectors: NDArray[np.float32],
    tracks: TrackVectors,
    threshold: float,
    margin: float,
) -> MapperScores:
    """Score `map_direction` at one setting; row i of `vectors` embeds sample[i]."""
    _check_aligned(sample, vectors)
    predicted = predict(vectors, tracks, threshold, margin)
    return score_predictions([doc.label for doc in sample], predicted, threshold, margin)


def calibrate(
    sample: Sequence[LabelledDoc],
    vectors: NDArray[np.float32],
    tracks: TrackVectors,
    thresholds: Sequence[float] = THRESHOLDS,
    margins: Sequence[float] = MARGINS,
) -> list[GridPoint]:
    """Accuracy and macro-F1 at every (threshold, margin), thresholds outer, in the given order."""
    _check_aligned(sample, vectors)
    grid = []
    for threshold in thresholds:
        for margin in margins:
            scores = evaluate_mapper(sample, vectors, tracks, threshold, margin)
            grid.append(GridPoint(threshold, margin, scores.accuracy, scores.macro_f1))
    return grid


def best_setting(grid: Sequence[GridPoint]) -> GridPoint:
    """Highest macro-F1, then highest accuracy; on a full tie the earliest point in the grid."""
    if not grid:
        raise InputError("calibration: empty grid")
    return max(grid, key=lambda point: (round(point.macro_f1, 9), round(point.accuracy, 9)))


def render_grid(grid: Sequence[GridPoint]) -> str:
    """Macro-F1 (accuracy) as a table: one row per threshold, one column per margin."""
    margins = sorted({point.margin for point in grid})
    lines = ["threshold | " + " | ".join(f"m={margin:<11g}" for margin in margins)]
    for threshold in sorted({point.threshold for point in grid}):
        cells = {p.margin: p for p in grid if p.threshold == threshold}
        row = [
            f"{cells[m].macro_f1:.3f} ({cells[m].accuracy:.3f})" if m in cells else " " * 13
            for m in margins
        ]
        lines.append(f"{threshold:9.3f} | " + " | ".join(row))
    return "\n".join(lines)


def render_scores(scores: MapperScores) -> str:
    """Headline figures, the confusion matrix (rows gold, columns predicted) and per-label P/R."""
    width = max(len(label) for label in scores.labels)
    header = " " * width + " | " + " ".join(f"{label[:5]:>5}" for label in scores.labels)
    rows = [
        f"{label:<{width}} | " + " ".join(f"{count:>5}" for count in counts)
        for label, counts in zip(scores.labels, scores.confusion, strict=True)
    ]
    details = [
        f"{s.label:<{width}}  P={s.precision:.2f} R={s.recall:.2f} F1={s.f1:.2f} n={s.support}"
        for s in scores.per_label
    ]
    title = (
        f"threshold={scores.threshold:g} margin={scores.margin:g}: n={scores.n_docs} "
        f"accuracy={scores.accuracy:.3f} macro-F1={scores.macro_f1:.3f}"
    )
    return "\n".join([title, header, *rows, "", *details])


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m models.direction_eval",
        description="Score the direction classifier on the hand-labelled sample and on the "
        "held-out split of the code-labelled set (zero-shot grid with --zero-shot).",
    )
    parser.add_argument("--taxonomy", default="v1", help="taxonomy version or TOML path")
    parser.add_argument(
        "--sample", type=Path, default=DEFAULT_SAMPLE, help="labelled sample (JSON lines)"
    )
    parser.add_argument("--encoder", default=DEFAULT_ENCODER, help="encoder spec for build_encoder")
    parser.add_argument("--shared", default=None, help="the shared data folder (../shared)")
    parser.add_argument(
        "--demo-db",
        type=Path,
        default=None,
        help="also score the topics of a database processed from the demo "
        "corpus against its selection hints",
    )
    parser.add_argument(
        "--zero-shot",
        action="store_true",
        help="score the zero-shot rule (threshold/margin grid) instead",
    )
    return parser.parse_args(argv)


def _zero_shot(
    args: argparse.Namespace, sample: Sequence[LabelledDoc], encoder: Encoder, tracks: TrackVectors
) -> None:
    """The zero-shot rule: the grid, the best setting and both confusion matrices."""
    vectors = encoder.encode([doc.full_text for doc in sample])
    grid = calibrate(sample, vectors, tracks)
    best = best_setting(grid)
    print(
        f"sample {args.sample}: {len(sample)} documents; encoder {encoder.name}; "
        f"taxonomy {tracks.taxonomy.version}; zero-shot rule"
    )
    print("\nmacro-F1 (accuracy) by threshold and margin\n" + render_grid(grid))
    print(
        f"\nbest: threshold={best.threshold:g} margin={best.margin:g} "
        f"macro-F1={best.macro_f1:.3f} accuracy={best.accuracy:.3f}"
    )
    for threshold, margin in ((best.threshold, best.margin), DEFAULT_SETTING):
        scores = evaluate_mapper(sample, vectors, tracks, threshold, margin)
        print("\n" + render_scores(scores))


def _targets(scores: MapperScores) -> str:
    """The issue's document-level targets, each marked met or missed."""
    recalls = {s.label: s.recall for s in scores.per_label if s.support}
    weakest = (
        min((r, label) for label, r in recalls.items() if label != NONE)
        if any(label != NONE for label in recalls)
        else (1.0, "-")
    )
    none_recall = recalls.get(NONE)
    checks = [
        ("accuracy >= 0.85", scores.accuracy >= 0.85),
        ("macro-F1 >= 0.80", scores.macro_f1 >= 0.80),
        (
            f"every direction recall >= 0.7 (lowest {weakest[1]} {weakest[0]:.2f})",
            weakest[0] >= 0.7,
        ),
    ]
    if none_recall is not None:
        checks.append((f">= 95% off-topic unmapped ({none_recall:.1%})", none_recall >= 0.95))
    return "targets: " + "; ".join(f"{text} {'MET' if ok else 'MISSED'}" for text, ok in checks)


def _report(name: str, langs: Sequence[str], gold: Sequence[str], predicted: Sequence[str]) -> None:
    print(f"\n=== {name} ===")
    for lang in ("all", "en", "zh"):
        keep = [i for i, value in enumerate(langs) if lang in ("all", value)]
        if not keep:
            continue
        scores = score_predictions([gold[i] for i in keep], [predicted[i] for i in keep])
        print(f"\n--- {name}, {lang} ---\n{render_scores(scores)}")
        if lang == "all":
            print(_targets(scores))


def _topic_check(tracks: TrackVectors, encoder: Encoder, shared: Path) -> None:
    """Off-topic topics: HuffPost politics, sports and entertainment items never trained on,
    grouped by category and quarter into topics of 10-40 documents, mapped as the engine maps
    a topic (documents' and centroid's probabilities). Also the mapping's cost."""
    import gzip
    import time
    from collections import defaultdict

    from models.cluster import unit
    from models.direction_data import LABELS_FILE
    from models.direction_vectors import cached_vectors
    from models.directions import map_direction

    used = {json.loads(line).get("id") for line in LABELS_FILE.read_text("utf-8").splitlines()}
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    with gzip.open(shared / "corpora" / "huffpost.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row["venue"] in ("POLITICS", "SPORTS", "ENTERTAINMENT") and row["id"] not in used:
                quarter = f"{row['date'][:4]}Q{(int(row['date'][5:7]) - 1) // 3 + 1}"
                groups[(row["venue"], quarter)].append(
                    f"{row['title']}\n{row['text'] or ''}".strip()
                )
    topics = [(key, texts[:40]) for key, texts in sorted(groups.items()) if len(texts) >= 10]
    vectors = cached_vectors([t for _, texts in topics for t in texts], encoder)
    unmapped, offset = 0, 0
    by_category: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    started = time.perf_counter()
    wrong = []
    for (category, quarter), texts in topics:
        members = vectors[offset : offset + len(texts)]
        offset += len(texts)
        match = map_direction(
            unit(members.mean(axis=0)[None, :])[0], tracks, 0.25, 0.0, members=members, texts=texts
        )
        by_category[category][1] += 1
        if match.direction == UNMAPPED:
            unmapped += 1
            by_category[category][0] += 1
        else:
            wrong.append(f"{category} {quarter} -> {match.direction} ({match.track})")
    seconds = time.perf_counter() - started
    print(
        "\n=== off-topic topics: HuffPost POLITICS / SPORTS / ENTERTAINMENT, never trained on ==="
    )
    print(
        f"{unmapped} of {len(topics)} topics unmapped ({unmapped / max(len(topics), 1):.1%}; "
        f"target >= 95%: {'MET' if unmapped >= 0.95 * len(topics) else 'MISSED'})"
    )
    for category, (hit, total) in sorted(by_category.items()):
        print(f"  {category:<14} {hit}/{total} unmapped")
    for line in wrong:
        print(f"  mapped: {line}")
    print(
        f"mapping {len(topics)} topics of {offset} documents took {seconds:.3f} s "
        f"({1000 * seconds / max(offset, 1):.2f} ms per document)"
    )


def demo_topic_check(
    db_path: Path, shared: Path, tracks: TrackVectors | None = None
) -> MapperScores:
    """Topics of a database processed from the demo corpus against the demo's selection hints:
    each topic's gold is the majority hint of its documents (a hint is the keyword rule that
    selected a document, never a training label here); the demo is not in the training set.
    With `tracks`, each topic is mapped again from its stored document vectors and texts (so
    the current classifier is scored, not the one the database was processed with)."""
    import csv

    import duckdb

    hints_path = shared / "demo" / "demo_candidates_selection_hints.csv"
    with hints_path.open(encoding="utf-8") as handle:
        hints = {row["id"]: row["direction_hint"] for row in csv.DictReader(handle)}
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        rows = con.execute(
            "SELECT dt.topic_id, dt.period, list(dt.doc_id), "
            "any_value(coalesce(d.direction, 'unmapped')) FROM doc_topics dt "
            "LEFT JOIN v_topic_directions d USING (topic_id, period) "
            "WHERE dt.topic_id IS NOT NULL GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()
    remapped: dict[tuple[str, str], str] = {}
    if tracks is not None:
        remapped = _remap_topics(db_path, tracks)
    gold, predicted = [], []
    for topic_id, period, doc_ids, direction in rows:
        votes = [hints[d] for d in doc_ids if hints.get(d) in LABELS]
        if not votes:
            continue
        direction = remapped.get((topic_id, period), direction)
        gold.append(max(sorted(set(votes)), key=votes.count))
        predicted.append(NONE if direction == UNMAPPED else direction)
    return score_predictions(gold, predicted)


def _remap_topics(db_path: Path, tracks: TrackVectors) -> dict[tuple[str, str], str]:
    import duckdb

    from models.cluster import unit
    from models.directions import map_direction

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        rows = con.execute(
            "SELECT dt.topic_id, dt.period, d.title || chr(10) || d.text, e.vector "
            "FROM doc_topics dt JOIN documents d USING (doc_id) "
            "JOIN embeddings e ON e.content_hash = d.content_hash AND e.model = ? "
            "WHERE dt.topic_id IS NOT NULL ORDER BY dt.topic_id, dt.period, dt.doc_id",
            [tracks.classifier.encoder if tracks.classifier else ""],
        ).fetchall()
    finally:
        con.close()
    groups: dict[tuple[str, str], list[tuple[str, list[float]]]] = {}
    for topic_id, period, text, vector in rows:
        groups.setdefault((topic_id, period), []).append((text.strip(), vector))
    mapped = {}
    for key, members in groups.items():
        vectors = np.asarray([v for _, v in members], dtype=np.float32)
        match = map_direction(
            unit(vectors.mean(axis=0)[None, :])[0],
            tracks,
            0.25,
            0.0,
            members=vectors,
            texts=[t for t, _ in members],
        )
        mapped[key] = match.direction
    return mapped


def main(argv: Sequence[str] | None = None) -> None:
    """Score the classifier on both test sets (all, EN, ZH) and the off-topic topics."""
    args = _arguments(argv)
    from threadpoolctl import threadpool_limits

    # One BLAS thread, as in the engine: on a busy machine a multi-threaded BLAS made the
    # small products of the mapping hundreds of times slower.
    threadpool_limits(1)
    sample = load_sample(args.sample)
    encoder = build_encoder(args.encoder)
    tracks = embed_taxonomy(load_taxonomy(args.taxonomy), encoder)
    if args.zero_shot or tracks.classifier is None:
        if tracks.classifier is None:
            print(
                f"no classifier for encoder {encoder.name} and taxonomy "
                f"{tracks.taxonomy.version}: scoring the zero-shot rule"
            )
        _zero_shot(args, sample, encoder, tracks)
        return
    from models.direction_data import find_shared, load_labelled
    from models.direction_model import predict_labels
    from models.direction_vectors import cached_vectors
    from models.directions import direction_mentions

    classifier = tracks.classifier
    print(
        f"classifier {encoder.name} / {tracks.taxonomy.version}: C={classifier.meta.get('C')} "
        f"none bias {classifier.none_bias:g}, trained on {classifier.meta.get('n_train')} "
        f"documents (labels sha256 {str(classifier.meta.get('labels_sha256'))[:12]})"
    )
    vectors = cached_vectors([doc.full_text for doc in sample], encoder)
    _report(
        f"hand-labelled sample ({args.sample}, {len(sample)} documents)",
        [doc.lang for doc in sample],
        [doc.label for doc in sample],
        predict_labels(
            classifier,
            vectors,
            direction_mentions([doc.full_text for doc in sample], tracks.taxonomy),
            [doc.full_text for doc in sample],
        ),
    )
    try:
        shared = find_shared(args.shared)
    except InputError as error:
        print(f"\nheld-out code-labelled split: skipped ({error})")
        return
    held_out = [doc for doc in load_labelled(shared) if doc.split == "test"]
    test_vectors = cached_vectors([doc.text for doc in held_out], encoder)
    _report(
        f"held-out split of the code-labelled set ({len(held_out)} documents, never trained on)",
        [doc.lang for doc in held_out],
        [doc.label for doc in held_out],
        predict_labels(
            classifier,
            test_vectors,
            direction_mentions([doc.text for doc in held_out], tracks.taxonomy),
            [doc.text for doc in held_out],
        ),
    )
    _topic_check(tracks, encoder, shared)
    if args.demo_db is not None:
        scores = demo_topic_check(args.demo_db, shared, tracks)
        print(
            f"\n=== demo topics ({args.demo_db}, mapped again by this classifier) against "
            "the demo's selection hints (majority hint of each topic's documents; the demo "
            "is never trained on) ==="
        )
        print(render_scores(scores))


if __name__ == "__main__":
    main()
