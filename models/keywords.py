"""Topic keywords: class-based TF-IDF candidates picked by MMR; English stop words, jieba for
Chinese, and labels."""

from __future__ import annotations

import ast
import importlib.util
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, pairwise
from pathlib import Path

from models.segment import segmenter


def _english_stop_words() -> frozenset[str]:
    """scikit-learn's English stop-word list, read from its data module without importing
    scikit-learn: that import costs about 2 s, which every command paid through the settings
    (they name the engine's parameters, whose modules use this list)."""
    spec = importlib.util.find_spec("sklearn")
    if spec is not None and spec.origin is not None:
        source = Path(spec.origin).parent / "feature_extraction" / "_stop_words.py"
        if source.is_file():
            for node in ast.parse(source.read_text(encoding="utf-8")).body:
                if (
                    isinstance(node, ast.Assign)
                    and getattr(node.targets[0], "id", "") == "ENGLISH_STOP_WORDS"
                    and isinstance(node.value, ast.Call)
                    and node.value.args
                ):
                    return frozenset(ast.literal_eval(node.value.args[0]))
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # layout changed: import

    return frozenset(ENGLISH_STOP_WORDS)


_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
# A Chinese run (group 1), an English word (group 2: starting with a letter, or a digit and a
# letter as in 5G, 2D, 3D-printed), or any other non-space character. A word never starts
# inside another (the "th" of "19th", the "em" of "<em>").
_PIECES = re.compile(
    r"([\u3400-\u9fff]+)|(?<![A-Za-z0-9])([A-Za-z][A-Za-z0-9\-+.]*[A-Za-z0-9+]|[A-Za-z]"
    r"|[0-9]+[A-Za-z][A-Za-z0-9\-]*)|[^\s]"
)
# Markup that is no text: TeX math and commands (arXiv abstracts), HTML tags and entities
# (feeds, headlines), URLs.
_MARKUP = re.compile(
    r"\$[^$]{0,200}\$|\\[A-Za-z]+\*?|</?[A-Za-z][^<>]{0,200}>|&#?\w{1,8};"
    r"|https?://\S+|www\.\S+"
)
# Contractions are function words ("wasn't", "they're"); a possessive keeps its noun.
_CONTRACTION = re.compile(r"\b[A-Za-z]+(?:n['’]t|['’](?:re|ve|ll|d|m))\b|['’]s\b")
# Ordinals and plain numbers with a unit-like tail are no terms ("19th", "2nd", "3rd").
_ORDINAL = re.compile(r"[0-9]+(?:st|nd|rd|th|s)")
EXTRA_STOP_WORDS = frozenset(
    {
        "new",
        "use",
        "used",
        "using",
        "based",
        "said",
        "says",
        "also",
        "one",
        "two",
        "may",
        "can",
        "will",
        "would",
        "could",
        "via",
        "within",
        "method",
        "methods",
        "paper",
        "approach",
        "propose",
        "proposed",
        "present",
        "presents",
        "show",
        "shows",
        "results",
        "result",
        "first",
        "including",
        "includes",
        "include",
        "wherein",
        "thereof",
        "least",
        "plurality",
        "according",
        "provided",
        "provides",
        "embodiment",
        "embodiments",
        "et",
        "al",
        "le",
        "la",
        "just",
        "like",
        "get",
        "got",
        "make",
        "made",
        "year",
        "years",
        "day",
        "week",
        "time",
        "people",
        "things",
        "thing",
        "way",
        "want",
        "know",
        "really",
        "going",
        "don",
        "didn",
        "isn",
        "doesn",
        "ve",
        "ll",
        "re",
        "s",
        "t",
        "vs",
        "http",
        "https",
        "www",
        "com",
        # Filler of abstracts and patents: frequent in every topic, naming none.
        "study",
        "studies",
        "work",
        "novel",
        "different",
        "various",
        "several",
        "important",
        "existing",
        "recent",
        "recently",
        "significantly",
        "demonstrate",
        "demonstrates",
        "demonstrated",
        "shown",
        "able",
        "allows",
        "given",
        "well",
        "however",
        "thus",
        "therefore",
        "respectively",
        "furthermore",
        "moreover",
        "e.g",
        "i.e",
        "etc",
        "investigate",
        "investigated",
        "obtained",
        "proposes",
        "considered",
        "consider",
        "discussed",
    }
)
CHINESE_STOP_WORDS = frozenset(
    {
        "的",
        "了",
        "和",
        "是",
        "在",
        "我们",
        "一个",
        "可以",
        "这个",
        "没有",
        "什么",
        "就是",
        "以及",
        "进行",
        "通过",
        "其中",
        "这些",
        "那些",
        "他们",
        "如果",
        "因为",
        "所以",
        "但是",
        "一些",
        "还是",
        "已经",
        "可能",
        "自己",
        "这样",
        "目前",
        "如何",
        "为什么",
        "时候",
        "问题",
        "使用",
        "支持",
        "提供",
        "需要",
        "本周",
        "文章",
        "作者",
        "我们的",
        "大家",
        "今天",
        "现在",
        "这种",
        "之后",
        "之前",
        "一种",
        "方面",
        "不是",
        "非常",
        "一下",
        "也是",
        "还有",
        "不会",
        # Boilerplate of official documents: issuers, addressees and document types, no topic.
        "关于",
        "印发",
        "通知",
        "意见",
        "若干",
        "各省",
        "自治区",
        "直辖市",
        "人民政府",
        "国务院",
        "办公厅",
        "各部委",
        "直属机构",
        "国务院各部委",
        "各直属机构",
        "现将",
        "印发给",
        "你们",
        "认真",
        "贯彻执行",
        "贯彻",
        "执行",
        "请认真",
        "中华人民共和国",
    }
)
STOP_WORDS = _english_stop_words() | EXTRA_STOP_WORDS


# Texts are clipped at this many characters before tokenising: the default encoder
# (`models.embed.UniversalSentenceEncoder`, max_chars=2000) embeds only the first 2,000
# characters too, so keywords describe the text the clusters were made from, and jieba (the
# main keyword cost) never runs on a whole long patent or paper.
CLIP_CHARS = 2000
# MMR looks at this many c-TF-IDF candidates per requested keyword.
CANDIDATES_PER_KEYWORD = 5
DEFAULT_MMR_LAMBDA = 0.7


class _Tokenizer:
    """`tokenize` for many texts: one jieba lookup; each distinct Chinese run is segmented, and
    each distinct English piece normalised, once."""

    def __init__(self, user_terms: tuple[str, ...]) -> None:
        self.user_terms = user_terms
        self._cut = segmenter(user_terms)
        self._cjk: dict[str, list[str]] = {}
        self._latin: dict[str, str] = {}  # piece -> its word, or "" when it is no token

    def _chinese(self, run: str) -> list[str]:
        words = self._cjk.get(run)
        if words is None:
            words = [w for w in self._cut(run) if len(w) >= 2 and w not in CHINESE_STOP_WORDS]
            self._cjk[run] = words
        return words

    def __call__(self, text: str) -> list[str]:
        return self.tokens(clean_text(text))

    def tokens(self, cleaned: str) -> list[str]:
        """The tokens of a text already through `clean_text`."""
        tokens: list[str] = []
        previous: str | None = None
        known = self._latin
        for chinese, latin in _PIECES.findall(cleaned):
            if chinese:
                previous = None
                tokens.extend(self._chinese(chinese))
                continue
            word = known.get(latin)
            if word is None:
                word = latin.lower().strip(".-")
                if (
                    len(word) < 2
                    or word in STOP_WORDS
                    or word.isdigit()
                    or _ORDINAL.fullmatch(word)
                ):
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


def clean_text(text: str) -> str:
    """The text without markup (TeX, HTML tags and entities, URLs) and contractions."""
    return _CONTRACTION.sub(" ", _MARKUP.sub(" ", text))


def tokenize(text: str, user_terms: tuple[str, ...] = ()) -> list[str]:
    """Unigrams and adjacent bigrams of English words; jieba words of two or more Chinese chars."""
    return _Tokenizer(user_terms)(text)


def class_tfidf(
    class_texts: Sequence[Iterable[str]],
    user_terms: tuple[str, ...] = (),
    top_n: int = 10,
    *,
    mmr_lambda: float = DEFAULT_MMR_LAMBDA,
    tokens: ClassTokens | None = None,
) -> list[list[tuple[str, float]]]:
    """Keywords of each class (topic): c-TF-IDF candidates, picked by Maximal Marginal Relevance.

    Texts are clipped at `CLIP_CHARS` characters and tokenised once each (`tokenize`);
    `tokens`, when given, is `class_tokens` of these texts already computed (the engine shares
    it with `topic_labels`).

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
    if tokens is None:
        tokens = class_tokens(class_texts, user_terms)
    ranked: list[list[tuple[str, float]]] = []
    for scored, docs in zip(tokens.scored, tokens.docs, strict=True):
        candidates = scored[: CANDIDATES_PER_KEYWORD * max(top_n, 0)]
        ranked.append(
            [(term, round(score, 6)) for term, score in _mmr(candidates, docs, top_n, mmr_lambda)]
        )
    return ranked


@dataclass(frozen=True)
class ClassTokens:
    """What keywords and labels both read, computed once per period: each class's texts
    clipped at `CLIP_CHARS` and cleaned, their tokens, and the class's c-TF-IDF ranking
    (tokenising was half of the two stages' cost when each did it for itself)."""

    cleaned: list[list[str]]
    docs: list[list[list[str]]]
    scored: list[list[tuple[str, float]]]
    tokenizer: _Tokenizer


def class_tokens(
    class_texts: Iterable[Iterable[str]], user_terms: tuple[str, ...] = ()
) -> ClassTokens:
    """Per class, each text clipped, cleaned and tokenised (each distinct text once)."""
    tokenizer = _Tokenizer(user_terms)
    seen: dict[str, tuple[str, list[str]]] = {}
    class_cleaned: list[list[str]] = []
    class_docs: list[list[list[str]]] = []
    for texts in class_texts:
        cleaned: list[str] = []
        docs: list[list[str]] = []
        for text in texts:
            clipped = text[:CLIP_CHARS]
            known = seen.get(clipped)
            if known is None:
                clean = clean_text(clipped)
                known = seen[clipped] = (clean, tokenizer.tokens(clean))
            cleaned.append(known[0])
            docs.append(known[1])
        class_cleaned.append(cleaned)
        class_docs.append(docs)
    return ClassTokens(class_cleaned, class_docs, _ctfidf(class_docs), tokenizer)


def _ctfidf(class_docs: Sequence[Sequence[Sequence[str]]]) -> list[list[tuple[str, float]]]:
    """Per class, every term seen twice (or any term of a single class) with its c-TF-IDF,
    best first, ties by term (formula in `class_tfidf`)."""
    counts = [Counter(chain.from_iterable(docs)) for docs in class_docs]
    total: Counter[str] = Counter()
    for counter in counts:
        total.update(counter)
    mean_words = sum(total.values()) / max(len(counts), 1)
    ranked: list[list[tuple[str, float]]] = []
    for counter in counts:
        size = max(sum(counter.values()), 1)
        scored = [
            (term, (n / size) * math.log(1 + mean_words / total[term]))
            for term, n in counter.items()
            if n >= 2 or len(counts) == 1
        ]
        scored.sort(key=lambda item: (-item[1], item[0]))
        ranked.append(scored)
    return ranked


def _mmr(
    candidates: list[tuple[str, float]],
    docs: Sequence[Sequence[str]],
    top_n: int,
    mmr_lambda: float,
) -> list[tuple[str, float]]:
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
                similarity = max(
                    similarity, len(words[i] & pick_words) / min(len(words[i]), len(pick_words))
                )
            elif (
                chinese[i]
                and chinese[pick]
                and (term in candidates[i][0] or candidates[i][0] in term)
            ):
                similarity = 1.0
            if similarity > closest[i]:
                closest[i] = similarity
    return picked


def make_label(keywords: Sequence[str], size: int = 3) -> str:
    """Keywords joined, for a topic without documents to name it (see `topic_labels`)."""
    return " · ".join(keywords[:size]) if keywords else "(no keywords)"


# A phrase names a topic when at least this share of its documents (and two) contain it
# (measured on the demo: 0.15 left a third of the topics to titles, 0.10 a sixth).
PHRASE_MIN_SHARE = 0.10
# An adjacent word joins the phrase when at least this share of the phrase's documents have it
# there ("solar cells" -> "perovskite solar cells").
EXTEND_MIN_SHARE = 0.5
TITLE_CHARS = 50
CHINESE_TITLE_CHARS = 24
_WORD = r"[A-Za-z0-9][A-Za-z0-9\-+]*"


def topic_labels(
    class_texts: Sequence[Sequence[str]],
    class_titles: Sequence[Sequence[str]],
    user_terms: tuple[str, ...] = (),
    *,
    tokens: ClassTokens | None = None,
) -> list[str]:
    """A short phrase naming each class (topic), in the language of most of its documents.

    The phrase is the class's best multi-word term by c-TF-IDF (`class_tfidf`'s candidates)
    that at least `PHRASE_MIN_SHARE` of its documents (and two) contain, extended by one
    adjacent word that at least `EXTEND_MIN_SHARE` of those documents have there, written as
    the documents most often write it (so "MIMO" and "UAV" keep their capitals). Chinese
    classes take the two adjacent jieba words most documents share (新能源 + 汽车). Without such
    a phrase the label is the title that holds most of the best terms, cut to a word boundary.
    `tokens`: `class_tokens` of `class_texts`, when the caller already has them.
    """
    if tokens is None:
        tokens = class_tokens(class_texts, user_terms)
    tokenizer = tokens.tokenizer
    labels: list[str] = []
    for clipped, titles, docs, scored in zip(
        tokens.cleaned, class_titles, tokens.docs, tokens.scored, strict=True
    ):
        chinese = sum(_is_chinese(text) for text in clipped) * 2 > len(clipped)
        phrase = (
            _chinese_phrase(clipped, tokenizer)
            if chinese
            else _english_phrase(clipped, docs, scored)
        )
        labels.append(phrase or _title_label(titles, [t for t, _ in scored[:10]], chinese))
    return labels


def _is_chinese(text: str) -> bool:
    cjk = sum(len(run) for run in _CJK_RUN.findall(text))
    return cjk * 2 > len(text.replace(" ", ""))


def _english_phrase(
    texts: Sequence[str], docs: Sequence[Sequence[str]], scored: Sequence[tuple[str, float]]
) -> str | None:
    need = max(2, math.ceil(PHRASE_MIN_SHARE * len(docs)))
    doc_sets = [set(tokens) for tokens in docs]
    for term, _ in scored:
        if " " in term and sum(term in tokens for tokens in doc_sets) >= need:
            phrase = _extended(_extended(term, texts), texts)
            return _capitalised(_written(phrase, texts))
    return None


def _extended(phrase: str, texts: Sequence[str]) -> str:
    """The phrase with the adjacent word most of its documents have, if most do."""
    pattern = re.compile(rf"(?:({_WORD})\s+)?{re.escape(phrase)}(?:\s+({_WORD}))?", re.IGNORECASE)
    having, before, after = 0, Counter[str](), Counter[str]()
    forms: Counter[str] = Counter()
    for text in texts:
        found = list(pattern.finditer(text))
        if not found:
            continue
        having += 1
        # Singular and plural count as one word ("network", "networks").
        before.update({_singular(m.group(1)) for m in found if _joins(m.group(1))})
        after.update({_singular(m.group(2)) for m in found if _joins(m.group(2))})
        forms.update(w.lower() for m in found for w in m.groups() if _joins(w))
    best = max(
        [(n, 1, w) for w, n in before.items()] + [(n, 0, w) for w, n in after.items()], default=None
    )
    if best is None or best[0] < max(2, EXTEND_MIN_SHARE * having):
        return phrase
    word = max(sorted(f for f in forms if _singular(f) == best[2]), key=lambda f: forms[f])
    return f"{word} {phrase}" if best[1] else f"{phrase} {word}"


def _singular(word: str) -> str:
    lowered = word.lower()
    return lowered[:-1] if lowered.endswith("s") and not lowered.endswith("ss") else lowered


def _joins(word: str | None) -> bool:
    return (
        word is not None
        and len(word) > 1
        and word.lower() not in STOP_WORDS
        and not word.isdigit()
        and not _ORDINAL.fullmatch(word.lower())
    )


def _written(phrase: str, texts: Sequence[str]) -> str:
    """The phrase as the texts most often write it, preferring forms not in Title Case."""
    pattern = re.compile(rf"(?<![A-Za-z0-9]){re.escape(phrase)}(?![A-Za-z0-9])", re.IGNORECASE)
    forms = Counter(m.group(0) for text in texts for m in pattern.finditer(text))
    if not forms:
        return phrase
    plain = {form: n for form, n in forms.items() if not form.istitle()} or dict(forms)
    return max(sorted(plain), key=lambda form: plain[form])


def _capitalised(phrase: str) -> str:
    first = phrase.split(" ", 1)[0]
    plain = first.replace("-", "").isalpha() and first.islower()
    return phrase[:1].upper() + phrase[1:] if plain else phrase


def _chinese_phrase(texts: Sequence[str], tokenizer: _Tokenizer) -> str | None:
    """Two adjacent jieba words (no stop words) that most texts contain, longer on ties."""
    pairs: set[str] = set()
    for text in texts:
        for run in _CJK_RUN.findall(text):
            words = tokenizer._chinese(run)
            pairs.update(a + b for a, b in pairwise(words) if a + b in run)
    # Counted as substrings: jieba may cut the same phrase differently in another sentence.
    counts = {pair: sum(pair in text for text in texts) for pair in pairs}
    need = max(2, math.ceil(PHRASE_MIN_SHARE * len(texts)))
    best = sorted(counts.items(), key=lambda item: (-item[1], -len(item[0]), item[0]))
    return best[0][0] if best and best[0][1] >= need else None


def _title_label(titles: Sequence[str], best_terms: Sequence[str], chinese: bool) -> str:
    """The title holding most of the best terms (then the shortest), cut at a word boundary."""
    candidates = [" ".join(clean_text(t).split()) for t in titles if t and t.strip()]
    if not candidates:
        return make_label(best_terms)

    def held(title: str) -> int:
        lowered = title.lower()
        return sum(term in lowered for term in best_terms)

    title = min(candidates, key=lambda t: (-held(t), len(t), t))
    limit = CHINESE_TITLE_CHARS if chinese else TITLE_CHARS
    if len(title) <= limit:
        return title
    cut = title[:limit]
    if not chinese and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-–") + "…"
