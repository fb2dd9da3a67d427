"""Candidate terms of one period, from its own documents: English 1-3-word n-grams (stemmed
keys, readable labels) and Chinese jieba words plus cohesive 2-3-word compounds (pure).

A period's terms are the columns of a sparse binary document x term matrix (scipy), so
document frequencies, spread across sources and merges of spellings are sparse matrix
products, never loops over terms x documents. (scikit-learn's `CountVectorizer` with this
analyzer gave the same matrix in twice the time: it builds the vocabulary of every n-gram,
singletons included, before pruning.)
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby, pairwise

import numpy as np
import scipy.sparse as sp
import Stemmer  # PyStemmer: the Snowball stemmers in C
from numpy.typing import NDArray

from models.keywords import CHINESE_STOP_WORDS, STOP_WORDS
from models.segment import segmenter
from pipeline.records import Document

# A Chinese run (group 1), an English/alphanumeric word (group 2), or anything else, which
# ends a phrase (punctuation, symbols).
_PIECES = re.compile(
    r"([\u3400-\u9fff]+)|([a-z0-9][a-z0-9\-+]*[a-z0-9+]|[a-z])|[^\sa-z0-9\u3400-\u9fff]"
)
_LATIN = re.compile(r"[a-z0-9][a-z0-9\-+]*[a-z0-9+]|[a-z]|[^\sa-z0-9]")
# Words that open or close no phrase of their own in papers, patents and news (boilerplate),
# on top of the keyword stop words.
BOILERPLATE = frozenset(
    {
        "abstract",
        "paper",
        "papers",
        "article",
        "study",
        "studies",
        "work",
        "works",
        "problem",
        "problems",
        "task",
        "tasks",
        "novel",
        "different",
        "various",
        "several",
        "important",
        "existing",
        "recent",
        "recently",
        "significantly",
        "significant",
        "effective",
        "efficient",
        "performance",
        "experiments",
        "experimental",
        "demonstrate",
        "demonstrates",
        "shown",
        "show",
        "able",
        "allows",
        "allow",
        "provide",
        "provided",
        "process",
        "system",
        "systems",
        "device",
        "apparatus",
        "invention",
        "present",
        "disclosed",
        "comprising",
        "comprises",
        "configured",
        "associated",
        "related",
        "thereby",
        "therein",
        "herein",
        "said",
        "wherein",
        "first",
        "second",
        "third",
        "set",
        "number",
        "order",
        "given",
        "well",
        "high",
        "low",
        "large",
        "small",
        "good",
        "better",
        "best",
        "many",
        "much",
        "often",
        "still",
        "even",
        "every",
        "another",
        "other",
        "others",
        "however",
        "thus",
        "therefore",
        "according",
        "respectively",
        "furthermore",
        "moreover",
        "e.g",
        "i.e",
        "etc",
        "per",
        "mr",
        "mrs",
        "ms",
        "told",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "monday",
        "saturday",
        "sunday",
        "pm",
        "am",
        "percent",
    }
)
_STOP = STOP_WORDS | BOILERPLATE
MAX_WORD_CHARS = 40  # longer "words" are hashes, URLs or base64, never terms
_CJK = re.compile(r"[\u3400-\u9fff]")
CACHE_LIMIT = 500_000
_STEMS: dict[str, str] = {}
_FORMS: dict[str, list[str]] = {}
# Below this many documents a period is too small to call a common term boilerplate.
MIN_DOCS_FOR_CEILING = 50


@dataclass(frozen=True)
class TermParams:
    """Knobs of candidate terms, recorded with every run."""

    enabled: bool = True
    min_docs: int = 2
    max_words: int = 3
    # Texts are clipped like the encoder's input: terms describe what the clusters saw, and a
    # 1 MB text costs no more than a long abstract.
    clip_chars: int = 2000
    # The taxonomy's terms enter jieba's dictionary, so they can become candidates; off in
    # backtests, where no vocabulary from outside the corpus may create a candidate.
    seed_taxonomy: bool = True
    # A Chinese compound is kept when its normalised pointwise mutual information (over the
    # period's document frequencies) is at least this, at its weakest split.
    min_npmi: float = 0.5
    # An n-gram is a fragment of a longer one that holds at least this share of its
    # documents ("convolutional neural" inside "convolutional neural network"): dropped.
    fragment_share: float = 0.9
    # Terms in more than this share of a period's documents are boilerplate of the source.
    max_share: float = 0.5


@dataclass(frozen=True)
class PeriodTerms:
    """The period's terms: stable keys, readable labels, binary document x term matrix and
    per-term spread.

    A key is what a term is known by across periods: English stems ("neural network" ->
    "neural network", "batteries" -> "batteri"), Chinese words as written. The label is the
    commonest surface form in this period ("batteries"), for people and for embedding.
    """

    terms: tuple[str, ...]
    labels: tuple[str, ...]
    matrix: sp.csr_matrix  # documents x terms, 1 where the document holds the term
    documents: NDArray[np.int64]
    sources: NDArray[np.int64]
    outlets: NDArray[np.int64]
    kinds: tuple[tuple[str, ...], ...]
    languages: tuple[tuple[str, ...], ...]

    def __len__(self) -> int:
        return len(self.terms)

    def index(self) -> dict[str, int]:
        return {term: i for i, term in enumerate(self.terms)}


class TermAnalyzer:
    """Per text, the set of its candidate keys; English words stemmed once per distinct word.

    English keys are space-joined stems ("neural network"); the most frequent surface form of
    each stem is remembered for labels. Chinese words are keys as they are; a compound of
    adjacent words is "钙钛矿\x1f电池" until cohesion is checked, then joined.
    """

    SEP = "\x1f"

    def __init__(self, params: TermParams, user_terms: tuple[str, ...] = ()) -> None:
        self.params = params
        self.user_terms = user_terms if params.seed_taxonomy else ()
        self._stemmer = Stemmer.Stemmer("english")
        # Shared by every period of the process (stems and segmentations never change, and
        # each period met most of its words before): word -> stem ("" when the word ends a
        # phrase), stem -> the words that gave it, Chinese run -> jieba words.
        self._stems, self._forms = _STEMS, _FORMS
        self._cut = segmenter(self.user_terms)  # shared with the keywords (models/segment.py)
        if len(_STEMS) > CACHE_LIMIT:
            _STEMS.clear()
            _FORMS.clear()
        self._words: Counter[str] = Counter()  # documents per word this period, for labels

    def _stem(self, word: str) -> str:
        usable = (
            2 <= len(word) <= MAX_WORD_CHARS
            and word not in _STOP
            and not word.replace("-", "").isdigit()
            and any(c.isalpha() for c in word)
        )
        stem: str = self._stemmer.stemWord(word) if usable else ""
        self._stems[word] = stem
        if stem:
            self._forms.setdefault(stem, []).append(word)
        return stem

    def _chinese(self, run: str) -> list[str]:
        return self._cut(run)

    def __call__(self, text: str) -> list[str]:
        clipped = text[: self.params.clip_chars]
        if not clipped.isascii():
            clipped = unicodedata.normalize("NFKC", clipped)
        clipped = clipped.lower()
        if not _CJK.search(clipped):
            return self._latin_only(clipped)
        keys: set[str] = set()
        run: list[str] = []
        stems, stem_of = self._stems, self._stem
        pieces = _PIECES.findall(clipped)
        self._words.update({latin for _, latin in pieces if latin})
        for chinese, latin in pieces:
            if chinese:
                self._phrase(run, keys)
                run = []
                self._chinese_keys(self._chinese(chinese), keys)
                continue
            stem = stems.get(latin) if latin else ""
            if stem is None:
                stem = stem_of(latin)
            if stem:
                run.append(stem)
            elif run:
                self._phrase(run, keys)
                run = []
        self._phrase(run, keys)
        return list(keys)

    def _latin_only(self, text: str) -> list[str]:
        """The same keys for a text without Chinese, phrases cut by `groupby` (most texts)."""
        words = _LATIN.findall(text)
        self._words.update(set(words))
        stems = self._stems
        seq = [stems.get(w) for w in words]
        if None in seq:
            seq = [self._stem(w) if s is None else s for s, w in zip(seq, words, strict=True)]
        keys: set[str] = set()
        for kept, run in groupby(seq, bool):
            if kept:
                self._phrase(list(run), keys)  # type: ignore[arg-type]
        return list(keys)

    def _phrase(self, run: list[str], keys: set[str]) -> None:
        keys.update(run)
        n = len(run)
        if n > 1:
            keys.update([f"{a} {b}" for a, b in pairwise(run)])
        if n > 2 and self.params.max_words >= 3:
            keys.update([f"{a} {b} {c}" for a, b, c in zip(run, run[1:], run[2:], strict=False)])

    def _chinese_keys(self, words: list[str], keys: set[str]) -> None:
        # Single characters and stop words are kept as keys only so that compounds' PMI can
        # read their frequencies; they never become terms (see `_keep`).
        keys.update(words)
        n = len(words)
        for size in range(2, min(self.params.max_words, n) + 1):
            for start in range(n - size + 1):
                parts = words[start : start + size]
                if not CHINESE_STOP_WORDS.isdisjoint(parts):
                    continue
                keys.add(self.SEP.join(parts))

    def label(self, key: str) -> str:
        """A readable name: Chinese compounds joined, English stems as their commonest word."""
        if _CJK.search(key):
            return key.replace(self.SEP, "")
        return " ".join(self._word(stem) for stem in key.split(" "))

    def _word(self, stem: str) -> str:
        forms = self._forms.get(stem)
        if not forms:
            return stem
        return min(forms, key=lambda word: (-self._words[word], word))


def period_terms(
    docs: Sequence[Document], params: TermParams, user_terms: tuple[str, ...] = ()
) -> PeriodTerms:
    """The period's candidate terms with their document frequencies and spread."""
    analyzer = TermAnalyzer(params, user_terms)
    per_doc = [analyzer(d.full_text) for d in docs]
    frequency: Counter[str] = Counter()
    for keys in per_doc:
        frequency.update(keys)
    ceiling = params.max_share * len(docs) if len(docs) >= MIN_DOCS_FOR_CEILING else len(docs)
    vocabulary = sorted(key for key, n in frequency.items() if params.min_docs <= n <= ceiling)
    if not vocabulary:
        return _empty(len(docs))
    keys, df = vocabulary, np.asarray([frequency[k] for k in vocabulary], np.int64)
    keep = _keep(keys, df, frequency, len(docs), params)
    raw = _binary_matrix(per_doc, [keys[i] for i in keep])
    matrix, names = _merge_keys(raw, [keys[i].replace(TermAnalyzer.SEP, "") for i in keep])
    return _with_spread(docs, matrix, names, [analyzer.label(name) for name in names])


def _binary_matrix(per_doc: list[list[str]], columns: list[str]) -> sp.csc_matrix:
    """Documents x columns, 1 where the document produced the key (the nonzeros, once each)."""
    index = {key: j for j, key in enumerate(columns)}
    rows = [[index[k] for k in keys if k in index] for keys in per_doc]
    indptr = np.cumsum([0, *map(len, rows)])
    indices = np.fromiter((j for row in rows for j in row), np.int32, int(indptr[-1]))
    return sp.csr_matrix(
        (np.ones(len(indices), np.int32), indices, indptr), shape=(len(per_doc), len(columns))
    ).tocsc()


def _keep(
    keys: list[str], df: NDArray[np.int64], frequency: Counter[str], n_docs: int, params: TermParams
) -> list[int]:
    """Keys that are terms: not boilerplate, cohesive, not a fragment (frequent enough
    already)."""
    where = {key: i for i, key in enumerate(keys)}
    keep = []
    for i, key in enumerate(keys):
        if _CJK.search(key):
            if TermAnalyzer.SEP in key:
                if (
                    _npmi(key.split(TermAnalyzer.SEP), int(df[i]), frequency, n_docs)
                    < params.min_npmi
                ):
                    continue
            elif len(key) < 2 or key in CHINESE_STOP_WORDS:
                continue
        keep.append(i)
    return _drop_fragments(keep, keys, where, df, params.fragment_share)


def _npmi(parts: list[str], joint: int, frequency: Counter[str], n_docs: int) -> float:
    """Normalised PMI of a compound at its weakest two-way split, from document frequencies:
    ln(p(ab) / (p(a) p(b))) / -ln p(ab), 1 when the parts only ever occur together, 0 when
    independent. Normalised because plain PMI rewards rare pairs whatever they are."""

    def freq(words: list[str]) -> int:
        key = words[0] if len(words) == 1 else TermAnalyzer.SEP.join(words)
        return max(frequency.get(key, joint), joint)

    if joint >= n_docs:
        return 1.0
    scores = [
        math.log(joint * n_docs / (freq(parts[:cut]) * freq(parts[cut:])))
        for cut in range(1, len(parts))
    ]
    return min(scores) / -math.log(joint / n_docs)


def _drop_fragments(
    keep: list[int], keys: list[str], where: dict[str, int], df: NDArray[np.int64], share: float
) -> list[int]:
    """Drop an n-gram when a longer kept n-gram that begins or ends with it holds most of its
    documents: "convolutional neural" is only ever part of "convolutional neural network"."""
    kept = set(keep)
    fragment: set[int] = set()
    for i in keep:
        key = keys[i]
        sep = TermAnalyzer.SEP if TermAnalyzer.SEP in key else " "
        parts = key.split(sep)
        if len(parts) < 2 and sep == " ":
            continue
        for part in (sep.join(parts[:-1]), sep.join(parts[1:])):
            j = where.get(part)
            if (
                j is not None
                and j in kept
                and (" " in part or TermAnalyzer.SEP in part)
                and df[i] >= share * df[j]
            ):
                fragment.add(j)
    return [i for i in keep if i not in fragment]


def _merge_keys(matrix: sp.csc_matrix, labels: list[str]) -> tuple[sp.csr_matrix, list[str]]:
    """One column per key: a jieba word and a compound of the same characters are one term."""
    names = sorted(set(labels))
    if len(names) == len(labels):
        order = sorted(range(len(labels)), key=labels.__getitem__)
        return matrix[:, order].tocsr(), [labels[i] for i in order]
    column = {name: j for j, name in enumerate(names)}
    merge = sp.csr_matrix(
        (
            np.ones(len(labels), np.int32),
            ([*range(len(labels))], [column[name] for name in labels]),
        ),
        shape=(len(labels), len(names)),
    )
    merged = (matrix @ merge).tocsr()
    merged.data[:] = 1
    return merged, names


def _with_spread(
    docs: Sequence[Document], matrix: sp.csr_matrix, names: list[str], labels: list[str]
) -> PeriodTerms:
    """Distinct sources, outlets, kinds and languages per term: the distinct (term, value)
    pairs among the matrix's nonzeros, found with one `np.unique` per attribute."""
    coo = matrix.tocoo()
    term_of, doc_of = coo.col.astype(np.int64), coo.row.astype(np.int64)
    n_terms = matrix.shape[1]

    def distinct(values: list[str]) -> tuple[NDArray[np.int64], NDArray[np.int64], list[str]]:
        levels, codes = np.unique(np.asarray(values, dtype=object), return_inverse=True)
        pairs = np.unique(term_of * len(levels) + codes.astype(np.int64)[doc_of])
        return pairs, np.bincount(pairs // len(levels), minlength=n_terms), list(levels)

    _, sources, _ = distinct([d.source for d in docs])
    _, outlets, _ = distinct([d.venue or d.source for d in docs])
    return PeriodTerms(
        terms=tuple(names),
        labels=tuple(labels),
        matrix=matrix,
        documents=np.asarray(matrix.sum(axis=0)).ravel().astype(np.int64),
        sources=sources.astype(np.int64),
        outlets=outlets.astype(np.int64),
        kinds=_levels_per_term(*distinct([d.kind for d in docs])),
        languages=_levels_per_term(*distinct([d.lang for d in docs])),
    )


def _levels_per_term(
    pairs: NDArray[np.int64], counts: NDArray[np.int64], levels: list[str]
) -> tuple[tuple[str, ...], ...]:
    """Each term's values in level order, from the sorted (term, level) pair codes."""
    names = [levels[code] for code in (pairs % max(len(levels), 1)).tolist()]
    bounds = np.cumsum(counts).tolist()
    return tuple(tuple(names[a:b]) for a, b in zip([0, *bounds[:-1]], bounds, strict=True))


def _empty(n_docs: int) -> PeriodTerms:
    none = np.zeros(0, np.int64)
    return PeriodTerms((), (), sp.csr_matrix((n_docs, 0), dtype=np.int32), none, none, none, (), ())
