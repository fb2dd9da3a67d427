"""Topic keywords: class-based TF-IDF candidates picked by MMR; English stop words, jieba for
Chinese, and labels."""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import chain

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
# A Chinese run (group 1), an English word (group 2), or any other non-space character.
_PIECES = re.compile(
    r"([\u3400-\u9fff]+)|([A-Za-z][A-Za-z0-9\-+.]*[A-Za-z0-9+]|[A-Za-z])|[^\s]")
EXTRA_STOP_WORDS = frozenset({
    "new", "use", "used", "using", "based", "said", "says", "also", "one", "two", "may",
    "can", "will", "would", "could", "via", "within", "method", "methods", "paper", "approach",
    "propose", "proposed", "present", "presents", "show", "shows", "results", "result",
    "first", "including", "includes", "include", "wherein", "thereof", "least", "plurality",
    "according", "provided", "provides", "embodiment", "embodiments", "et", "al", "le", "la",
    "just", "like", "get", "got", "make", "made", "year", "years", "day", "week", "time",
    "people", "things", "thing", "way", "want", "know", "really", "going", "don", "didn",
    "isn", "doesn", "ve", "ll", "re", "s", "t", "vs", "http", "https", "www", "com",
})
CHINESE_STOP_WORDS = frozenset({
    "的", "了", "和", "是", "在", "我们", "一个", "可以", "这个", "没有", "什么", "就是",
    "以及", "进行", "通过", "其中", "这些", "那些", "他们", "如果", "因为", "所以", "但是",
    "一些", "还是", "已经", "可能", "自己", "这样", "目前", "如何", "为什么", "时候", "问题",
    "使用", "支持", "提供", "需要", "本周", "文章", "作者", "我们的", "大家", "今天", "现在",
    "这种", "之后", "之前", "一种", "方面", "不是", "非常", "一下", "也是", "还有", "不会",
})
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS) | EXTRA_STOP_WORDS


# Texts are clipped at this many characters before tokenising: the default encoder
# (`models.embed.UniversalSentenceEncoder`, max_chars=2000) embeds only the first 2,000
# characters too, so keywords describe the text the clusters were made from, and jieba (the
# main keyword cost) never runs on a whole long patent or paper.
CLIP_CHARS = 2000
# MMR looks at this many c-TF-IDF candidates per requested keyword.
CANDIDATES_PER_KEYWORD = 5
DEFAULT_MMR_LAMBDA = 0.7


@lru_cache(maxsize=8)
def _jieba(user_terms: tuple[str, ...]) -> object:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    for term in user_terms:
        tokenizer.add_word(term, freq=20000)
    return tokenizer


class _Tokenizer:
    """`tokenize` for many texts: one jieba lookup; each distinct Chinese run is segmented, and
    each distinct English piece normalised, once."""

    def __init__(self, user_terms: tuple[str, ...]) -> None:
        self.user_terms = user_terms
        self._segmenter: object | None = None
        self._cjk: dict[str, list[str]] = {}
        self._latin: dict[str, str] = {}  # piece -> its word, or "" when it is no token

    def _chinese(self, run: str) -> list[str]:
        words = self._cjk.get(run)
        if words is None:
            if self._segmenter is None:
                self._segmenter = _jieba(self.user_terms)
            words = [w for w in self._segmenter.lcut(run)  # type: ignore[attr-defined]
                     if len(w) >= 2 and w not in CHINESE_STOP_WORDS]
            self._cjk[run] = words
        return words

    def __call__(self, text: str) -> list[str]:
        tokens: list[str] = []
        previous: str | None = None
        known = self._latin
        for chinese, latin in _PIECES.findall(text):
            if chinese:
                previous = None
                tokens.extend(self._chinese(chinese))
                continue
            word = known.get(latin)
            if word is None:
                word = latin.lower().strip(".-")
                if len(word) < 2 or word in STOP_WORDS or word.isdigit():
                    word = ""
                known[latin] = word
            if not word:
                previous = None
                continue
            tokens.append(word)
            if previous is not None:
                tokens.append(f"{previous} {word}")
            previous = word
        return tokens


def tokenize(text: str, user_terms: tuple[str, ...] = ()) -> list[str]:
    """Unigrams and adjacent bigrams of English words; jieba words of two or more Chinese chars."""
    return _Tokenizer(user_terms)(text)


def class_tfidf(class_texts: Sequence[Iterable[str]], user_terms: tuple[str, ...] = (),
                top_n: int = 10, *, mmr_lambda: float = DEFAULT_MMR_LAMBDA,
                ) -> list[list[tuple[str, float]]]:
    """Keywords of each class (topic): c-TF-IDF candidates, picked by Maximal Marginal Relevance.

    Texts are clipped at `CLIP_CHARS` characters and tokenised once each (`tokenize`).

    c-TF-IDF of term t in class c: ``(n / size) * log(1 + mean_words / total[t])``, with n the
    count of t in c, size the number of tokens of c, total[t] the count of t in all classes and
    mean_words the mean number of tokens per class. A term must occur at least twice in its
    class (unless there is a single class).

    MMR, per class: the candidates are the class's `CANDIDATES_PER_KEYWORD * top_n` best terms
    by c-TF-IDF (ties by term). rel(t) = c-TF-IDF(t) / the best candidate's c-TF-IDF, in (0, 1].
    The similarity of two terms a and b is::

        sim(a, b) = max(cos(a, b), overlap(a, b))
        cos(a, b) = |D(a) & D(b)| / sqrt(|D(a)| * |D(b)|)
        overlap(a, b) = |W(a) & W(b)| / min(|W(a)|, |W(b)|)

    D(t) is the set of the class's documents containing t (the cosine of the binary document
    occurrence vectors) and W(t) the set of t's space-separated words, so a bigram and a
    unigram it contains ("solid state", "state") have similarity 1 and two bigrams sharing a
    word 0.5. For two Chinese terms, overlap is 1 when one contains the other (芯片, 芯片设计).
    Starting from nothing, the candidate maximising
    ``mmr_lambda * rel(t) - (1 - mmr_lambda) * max(sim(t, p) for p already picked)`` is picked
    (the first pick is the best c-TF-IDF term), until `top_n` are picked; ties go to the higher
    c-TF-IDF, then to the term string. `mmr_lambda` = 1.0 gives the plain c-TF-IDF order.

    Returns, per class, up to `top_n` ``(term, c-TF-IDF rounded to 6 decimals)``.
    """
    if not 0.0 <= mmr_lambda <= 1.0:
        raise ValueError(f"mmr_lambda must be in [0, 1], got {mmr_lambda}")
    tokenizer = _Tokenizer(user_terms)
    seen: dict[str, list[str]] = {}
    class_docs: list[list[list[str]]] = []  # per class, the tokens of each document
    for texts in class_texts:
        docs: list[list[str]] = []
        for text in texts:
            clipped = text[:CLIP_CHARS]
            tokens = seen.get(clipped)
            if tokens is None:
                tokens = seen[clipped] = tokenizer(clipped)
            docs.append(tokens)
        class_docs.append(docs)
    counts = [Counter(chain.from_iterable(docs)) for docs in class_docs]
    total = Counter(chain.from_iterable(chain.from_iterable(class_docs)))
    mean_words = sum(total.values()) / max(len(counts), 1)
    ranked: list[list[tuple[str, float]]] = []
    for counter, docs in zip(counts, class_docs, strict=True):
        size = max(sum(counter.values()), 1)
        scored = [
            (term, (n / size) * math.log(1 + mean_words / total[term]))
            for term, n in counter.items() if n >= 2 or len(counts) == 1
        ]
        scored.sort(key=lambda item: (-item[1], item[0]))
        candidates = scored[:CANDIDATES_PER_KEYWORD * max(top_n, 0)]
        ranked.append([(term, round(score, 6))
                       for term, score in _mmr(candidates, docs, top_n, mmr_lambda)])
    return ranked


def _mmr(candidates: list[tuple[str, float]], docs: Sequence[Sequence[str]], top_n: int,
         mmr_lambda: float) -> list[tuple[str, float]]:
    """Greedy Maximal Marginal Relevance over candidates ranked by (-c-TF-IDF, term).

    See `class_tfidf` for the formulas. Ties go to the earlier candidate, that is to the higher
    c-TF-IDF, then to the term string.
    """
    if top_n <= 0 or not candidates:
        return []
    if mmr_lambda == 1.0:
        return candidates[:top_n]
    index = {term: i for i, (term, _) in enumerate(candidates)}
    occurs = [0] * len(candidates)  # bit d set: document d of the class contains the term
    for d, tokens in enumerate(docs):
        bit = 1 << d
        for term in index.keys() & tokens:
            occurs[index[term]] |= bit
    norm = [1.0 / math.sqrt(max(bits.bit_count(), 1)) for bits in occurs]
    words = [frozenset(term.split()) for term, _ in candidates]
    chinese = [_CJK_RUN.fullmatch(term) is not None for term, _ in candidates]
    best = candidates[0][1] or 1.0
    relevance = [mmr_lambda * score / best for _, score in candidates]
    penalty = 1.0 - mmr_lambda

    closest = [0.0] * len(candidates)  # max similarity to the terms picked so far
    left = list(range(len(candidates)))  # in candidate order, so index() breaks ties
    picked: list[tuple[str, float]] = []
    while left:
        values = [relevance[i] - penalty * closest[i] for i in left]
        pick = left.pop(values.index(max(values)))
        picked.append(candidates[pick])
        if len(picked) == top_n:
            break
        term, bits, scale, pick_words = candidates[pick][0], occurs[pick], norm[pick], words[pick]
        for i in left:
            similarity = (occurs[i] & bits).bit_count() * norm[i] * scale
            if not words[i].isdisjoint(pick_words):
                similarity = max(similarity, len(words[i] & pick_words)
                                 / min(len(words[i]), len(pick_words)))
            elif chinese[i] and chinese[pick] and (term in candidates[i][0]
                                                   or candidates[i][0] in term):
                similarity = 1.0
            if similarity > closest[i]:
                closest[i] = similarity
    return picked


def make_label(keywords: Sequence[str], size: int = 3) -> str:
    """A short readable label from the best keywords."""
    return " · ".join(keywords[:size]) if keywords else "(no keywords)"
