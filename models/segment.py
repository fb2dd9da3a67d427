"""Chinese word segmentation shared by topic keywords and candidate terms.

Both cut every Chinese run of a period's texts, which was most of their cost on Chinese
sources. The cutter is jieba's algorithm (prefix dictionary, DAG, HMM for unknown words) as
implemented in Rust by jieba-rs, through its binding `rjieba` (MIT): on the 90,902 distinct
Chinese runs of the weekly digest it gives exactly the words of the Python `jieba` 0.42.1
that the observatory used before, with and without the taxonomy's user dictionary, about ten
times faster (`python benchmarks/segment_check.py`, docs/benchmarks.md). Each distinct run is
still cut once per process and dictionary, so the second and third reader of a text
(keywords, labels, terms) find its words already cut.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

CACHE_LIMIT = 500_000  # distinct runs kept per dictionary before the cache starts again
# A user term's frequency in the prefix dictionary: high enough that 脑机接口 stays one word
# (what `jieba.add_word(term, freq=20000)` did before; the same number gives the same cuts).
USER_TERM_FREQUENCY = 20_000
_CJK = re.compile(r"[\u3400-\u9fff]")
_CUTS: dict[tuple[str, ...], dict[str, list[str]]] = {}


@lru_cache(maxsize=8)
def dictionary_terms(user_terms: tuple[str, ...]) -> tuple[str, ...]:
    """The user terms the cutter must know as words: the Chinese ones (a Latin word never
    matches inside a run of Chinese characters). Cached: a taxonomy has thousands of terms."""
    return tuple(sorted({term for term in user_terms if _CJK.search(term)}))


@lru_cache(maxsize=8)
def _cutter(terms: tuple[str, ...]) -> Callable[[str, bool], list[str]]:
    import rjieba

    jieba = rjieba.Jieba()  # its own dictionary: user terms never leak between cutters
    for term in terms:
        jieba.add_word(term, USER_TERM_FREQUENCY, None)
    cut: Callable[[str, bool], list[str]] = jieba.cut
    return cut


def segmenter(user_terms: tuple[str, ...] = ()) -> Callable[[str], list[str]]:
    """A function from a run of Chinese characters to its words (shared lists: read only)."""
    terms = dictionary_terms(tuple(user_terms))
    cuts = _CUTS.setdefault(terms, {})
    if len(cuts) > CACHE_LIMIT:
        cuts.clear()

    def cut(run: str) -> list[str]:
        words = cuts.get(run)
        if words is None:
            words = cuts[run] = _cutter(terms)(run, True)  # True: HMM for unknown words
        return words

    return cut
