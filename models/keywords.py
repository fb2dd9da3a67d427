"""Topic keywords by class-based TF-IDF, English stop words, jieba for Chinese, and labels."""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

_LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z0-9\-+.]*[A-Za-z0-9+]|[A-Za-z]")
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_SPLIT = re.compile(r"[\u3400-\u9fff]+|[A-Za-z][A-Za-z0-9\-+.]*[A-Za-z0-9+]|[A-Za-z]|[^\s]")
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


@lru_cache(maxsize=8)
def _jieba(user_terms: tuple[str, ...]) -> object:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    for term in user_terms:
        tokenizer.add_word(term, freq=20000)
    return tokenizer


def tokenize(text: str, user_terms: tuple[str, ...] = ()) -> list[str]:
    """Unigrams and adjacent bigrams of English words; jieba words of two or more Chinese chars."""
    tokens: list[str] = []
    previous: str | None = None
    for piece in _SPLIT.findall(text):
        if _CJK_RUN.fullmatch(piece):
            previous = None
            segmenter = _jieba(user_terms)
            words = segmenter.lcut(piece)  # type: ignore[attr-defined]
            tokens.extend(w for w in words if len(w) >= 2 and w not in CHINESE_STOP_WORDS)
            continue
        word = piece.lower().strip(".-")
        if not _LATIN_RUN.fullmatch(piece) or len(word) < 2 or word in STOP_WORDS \
                or word.isdigit():
            previous = None
            continue
        tokens.append(word)
        if previous is not None:
            tokens.append(f"{previous} {word}")
        previous = word
    return tokens


def class_tfidf(class_texts: Sequence[Iterable[str]], user_terms: tuple[str, ...] = (),
                top_n: int = 10) -> list[list[tuple[str, float]]]:
    """c-TF-IDF: term frequency in a class times log(1 + mean class size / term frequency)."""
    counts = [Counter(tok for text in texts for tok in tokenize(text, user_terms))
              for texts in class_texts]
    total = Counter[str]()
    for counter in counts:
        total.update(counter)
    mean_words = sum(total.values()) / max(len(counts), 1)
    ranked: list[list[tuple[str, float]]] = []
    for counter in counts:
        size = max(sum(counter.values()), 1)
        scored = [
            (term, (n / size) * math.log(1 + mean_words / total[term]))
            for term, n in counter.items() if n >= 2 or len(counts) == 1
        ]
        scored.sort(key=lambda item: (-item[1], item[0]))
        ranked.append(_diverse(scored, top_n))
    return ranked


def _diverse(scored: list[tuple[str, float]], top_n: int) -> list[tuple[str, float]]:
    """Skip a term whose words are already covered by a better one (a cheap, stable MMR)."""
    kept: list[tuple[str, float]] = []
    covered: set[str] = set()
    for term, score in scored:
        words = set(term.split())
        if len(words) == 1 and term in covered:
            continue
        if len(words) > 1 and words <= covered:
            continue
        kept.append((term, round(score, 6)))
        covered |= words
        if len(kept) == top_n:
            break
    return kept


def make_label(keywords: Sequence[str], size: int = 3) -> str:
    """A short readable label from the best keywords."""
    return " · ".join(keywords[:size]) if keywords else "(no keywords)"
