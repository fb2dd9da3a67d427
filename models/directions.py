"""Mapping topics to the six directions: a trained classifier, with zero-shot similarity beside it.

With a classifier for the encoder (`models/direction_classifier/<encoder>.json`), a topic's
distribution over the six directions and "none" is the mean of its documents' class
probabilities and its centroid's; the primary direction is the argmax and the topic is unmapped
only when "none" wins. Without one (another encoder, a test's hashing encoder), the zero-shot
rule applies: the best track's cosine similarity must pass a threshold and a margin. Either way
the track within the direction is the one most similar to the centroid, with the taxonomy's EN
and ZH terms found in the topic's documents as evidence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from models.cluster import unit
from models.direction_model import CLASSES, NONE, DirectionClassifier, load_classifier
from models.embed import Encoder
from models.taxonomy import DIRECTION_IDS, Taxonomy, Track

UNMAPPED = "unmapped"
# A track's share of documents naming one of its terms adds this much to its similarity when
# the track within a direction is chosen: ten of ten documents saying 钙钛矿 outweigh a 0.05
# lead in cosine, one stray mention does not.
TERM_WEIGHT = 0.1


@dataclass(frozen=True)
class DirectionMatch:
    """A topic's best direction (or unmapped), its best track and the spread over directions.

    `distribution` holds the six directions; `none_weight` is the "not a future industry" share
    (zero-shot: one minus the best direction's weight). `evidence` says which terms were found.
    """

    direction: str
    track: str | None
    similarity: float
    margin: float
    distribution: dict[str, float]
    none_weight: float = 0.0
    evidence: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class TrackVectors:
    """The taxonomy embedded once per encoder: one unit vector per track (mean of EN and ZH),
    and the trained classifier when one exists for this encoder and taxonomy."""

    taxonomy: Taxonomy
    vectors: NDArray[np.float32]
    classifier: DirectionClassifier | None = None


def embed_taxonomy(
    taxonomy: Taxonomy, encoder: Encoder, with_classifier: bool = True
) -> TrackVectors:
    texts = [text for track in taxonomy.tracks for text in track.texts()]
    pairs = encoder.encode(texts).reshape(len(taxonomy.tracks), 2, -1)
    vectors = unit(pairs.mean(axis=1))
    classifier = load_classifier(encoder.name, taxonomy, vectors) if with_classifier else None
    return TrackVectors(taxonomy, vectors, classifier)


@dataclass(frozen=True)
class _TermIndex:
    """One regex over every term of the taxonomy and, per lower-cased term, its tracks."""

    pattern: re.Pattern[str] | None
    tracks_of: dict[str, tuple[int, ...]]


_INDEXES: dict[int, _TermIndex] = {}


def _trie_regex(words: Sequence[str]) -> str:
    """One alternation shaped as a prefix tree: a flat alternation of 700 terms made Python's
    regex engine try each at every position (11 s for 2,000 abstracts); the tree is ~100x
    faster. Longer matches win because each branch's continuation is tried first."""
    trie: dict[str, dict] = {}  # type: ignore[type-arg]
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict) -> str:  # type: ignore[type-arg]
        ends = "" in node
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    return "(?:" + build(trie) + ")"


def _term_index(taxonomy: Taxonomy) -> _TermIndex:
    key = id(taxonomy)
    if key not in _INDEXES:
        tracks_of: dict[str, list[int]] = {}
        for i, track in enumerate(taxonomy.tracks):
            for term in (*track.terms_en, *track.terms_zh):
                if term.strip():
                    tracks_of.setdefault(term.lower(), []).append(i)
        words = sorted(tracks_of)
        # Latin terms must not match inside a longer word ("ion" in "station"); Chinese ones
        # have no word boundaries to respect.
        pattern = (
            re.compile(r"(?<![a-z])" + _trie_regex(words) + r"(?![a-z])", re.IGNORECASE)
            if words
            else None
        )
        _INDEXES[key] = _TermIndex(pattern, {t: tuple(v) for t, v in tracks_of.items()})
    return _INDEXES[key]


def term_counts(texts: Sequence[str], taxonomy: Taxonomy) -> list[dict[str, int]]:
    """Per track: how many of `texts` name each of its EN/ZH terms (one count per document)."""
    counts: list[dict[str, int]] = [{} for _ in taxonomy.tracks]
    index = _term_index(taxonomy)
    if index.pattern is None:
        return counts
    for text in texts:
        for term in {m.group(0).lower() for m in index.pattern.finditer(text)}:
            for i in index.tracks_of.get(term, ()):
                counts[i][term] = counts[i].get(term, 0) + 1
    return counts


def direction_mentions(texts: Sequence[str], taxonomy: Taxonomy) -> NDArray[np.bool_]:
    """Rows of `texts` x the six directions: does the text name a term of that direction?"""
    index = _term_index(taxonomy)
    column = {d: i for i, d in enumerate(DIRECTION_IDS)}
    found = np.zeros((len(texts), len(DIRECTION_IDS)), dtype=bool)
    if index.pattern is None:
        return found
    for row, text in enumerate(texts):
        for match in index.pattern.finditer(text):
            for track in index.tracks_of.get(match.group(0).lower(), ()):
                found[row, column[taxonomy.tracks[track].direction]] = True
    return found


def _evidence(track: Track, found: dict[str, int], n_docs: int) -> tuple[str, ...]:
    if not found:
        return ()
    ranked = sorted(found.items(), key=lambda item: (-item[1], item[0]))[:2]
    said = " and ".join(f"{term} in {count}" for term, count in ranked)
    return (f"{track.name_en} ({track.name_zh}): mentions {said} of {n_docs} documents",)


def _best_track(
    direction: str,
    sims: NDArray[np.float32],
    tracks: TrackVectors,
    counts: list[dict[str, int]],
    n_docs: int,
) -> tuple[int, float]:
    """The direction's track with the highest similarity plus term share."""
    best, best_score = -1, -np.inf
    for i, track in enumerate(tracks.taxonomy.tracks):
        if track.direction != direction:
            continue
        mentioned = max(counts[i].values(), default=0) / max(n_docs, 1)
        score = float(sims[i]) + TERM_WEIGHT * mentioned
        if score > best_score:
            best, best_score = i, score
    return best, float(sims[best])


def map_direction(
    centroid: NDArray[np.float32],
    tracks: TrackVectors,
    threshold: float,
    margin: float,
    temperature: float = 0.05,
    members: NDArray[np.float32] | None = None,
    texts: Sequence[str] = (),
) -> DirectionMatch:
    """The topic's direction from its centroid and, when given, its documents' vectors and texts.

    With a classifier: mean class probabilities of the documents and the centroid; primary =
    argmax, unmapped when "none" wins; `threshold` and `margin` are not used. Without one: the
    best direction when its best track passes `threshold` and beats other directions by
    `margin`; the distribution is a softmax over each direction's best-track similarity.
    """
    sims = tracks.vectors @ unit(centroid[None, :])[0]
    counts = term_counts(texts, tracks.taxonomy) if texts else [{} for _ in tracks.taxonomy.tracks]
    if tracks.classifier is not None:
        return _classify(centroid, sims, tracks, tracks.classifier, members, counts, texts)
    per_direction: dict[str, tuple[float, str]] = {}
    for track, sim in zip(tracks.taxonomy.tracks, sims.tolist(), strict=True):
        if track.direction not in per_direction or sim > per_direction[track.direction][0]:
            per_direction[track.direction] = (sim, track.id)
    ranked = sorted(per_direction.items(), key=lambda item: (-item[1][0], item[0]))
    best_direction, (best_sim, best_track) = ranked[0]
    second = ranked[1][1][0] if len(ranked) > 1 else -1.0
    logits = np.asarray([value[0] for _, value in ranked]) / temperature
    weights = np.exp(logits - logits.max())
    weights /= weights.sum()
    distribution = {name: round(float(w), 6) for (name, _), w in zip(ranked, weights, strict=True)}
    mapped = best_sim >= threshold and best_sim - second >= margin
    index = next(i for i, t in enumerate(tracks.taxonomy.tracks) if t.id == best_track)
    return DirectionMatch(
        direction=best_direction if mapped else UNMAPPED,
        track=best_track if mapped else None,
        similarity=round(best_sim, 6),
        margin=round(best_sim - second, 6),
        distribution=distribution,
        none_weight=round(1 - max(distribution.values()), 6),
        evidence=_evidence(tracks.taxonomy.tracks[index], counts[index], len(texts))
        if mapped
        else (),
    )


def _classify(
    centroid: NDArray[np.float32],
    sims: NDArray[np.float32],
    tracks: TrackVectors,
    classifier: DirectionClassifier,
    members: NDArray[np.float32] | None,
    counts: list[dict[str, int]],
    texts: Sequence[str],
) -> DirectionMatch:
    n_docs = len(texts)
    rows = (
        unit(centroid[None, :])
        if members is None or not len(members)
        else np.vstack([members, unit(centroid[None, :])])
    )
    mentions = lexical = None
    aligned = bool(texts) and len(texts) == len(rows) - 1
    if aligned and (classifier.term_bonus or classifier.mention_features):
        # The centroid row names what its documents name, in their proportion.
        found = direction_mentions(texts, tracks.taxonomy).astype(np.float64)
        mentions = np.vstack([found, found.mean(axis=0, keepdims=True)])
    scores = classifier.lexical_scores(texts) if aligned else None
    if scores is not None:
        # The centroid has no text of its own: it reads as its documents read on average.
        lexical = np.vstack([scores, scores.mean(axis=0, keepdims=True)])
    mean = classifier.probabilities(rows.astype(np.float32), mentions, lexical).mean(axis=0)
    order = np.argsort(-mean, kind="stable")
    winner = CLASSES[int(order[0])]
    distribution = {
        name: round(float(mean[i]), 6) for i, name in enumerate(CLASSES) if name != NONE
    }
    best_direction = max(distribution, key=lambda name: (distribution[name], name))
    index, similarity = _best_track(best_direction, sims, tracks, counts, n_docs)
    mapped = winner != NONE
    return DirectionMatch(
        direction=best_direction if mapped else UNMAPPED,
        track=tracks.taxonomy.tracks[index].id if mapped else None,
        similarity=round(similarity, 6),
        margin=round(float(mean[order[0]] - mean[order[1]]), 6),
        distribution=distribution,
        none_weight=round(float(mean[CLASSES.index(NONE)]), 6),
        evidence=_evidence(tracks.taxonomy.tracks[index], counts[index], n_docs) if mapped else (),
    )
