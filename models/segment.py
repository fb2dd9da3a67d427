"""Chinese word segmentation shared by topic keywords and candidate terms.

Both cut every Chinese run of a period's texts with jieba, which is most of their cost on
Chinese sources. Each distinct run is cut once per process and dictionary here, so the second
and third reader of a text (keywords, labels, terms) find its words already cut.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import lru_cache

CACHE_LIMIT = 500_000  # distinct runs kept per dictionary before the cache starts again
_CJK = re.compile(r"[\u3400-\u9fff]")
_CUTS: dict[tuple[str, ...], dict[str, list[str]]] = {}


@lru_cache(maxsize=8)
def dictionary_terms(user_terms: tuple[str, ...]) -> tuple[str, ...]:
    """The user terms jieba must know as words: the Chinese ones (a Latin word never matches
    inside a run of Chinese characters). Cached: a taxonomy has thousands of terms."""
    return tuple(sorted({term for term in user_terms if _CJK.search(term)}))


@lru_cache(maxsize=8)
def _tokenizer(terms: tuple[str, ...]) -> object:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    for term in terms:
        tokenizer.add_word(term, freq=20000)
    return tokenizer


def segmenter(user_terms: tuple[str, ...] = ()) -> Callable[[str], list[str]]:
    """A function from a run of Chinese characters to its jieba words (shared lists: read only)."""
    terms = dictionary_terms(tuple(user_terms))
    cuts = _CUTS.setdefault(terms, {})
    if len(cuts) > CACHE_LIMIT:
        cuts.clear()

    def cut(run: str) -> list[str]:
        words = cuts.get(run)
        if words is None:
            words = cuts[run] = _tokenizer(terms).lcut(run)  # type: ignore[attr-defined]
        return words

    return cut
