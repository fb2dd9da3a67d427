"""Candidate terms of a period: n-grams, stems, Chinese compounds, and bad input."""

from datetime import date

import numpy as np

from models.terms import TermParams, period_terms
from pipeline.records import Document

PARAMS = TermParams(seed_taxonomy=False)


def doc(i, text, lang="en", kind="paper", source="s", venue=None):
    return Document(
        doc_id=f"d{i}",
        source=source,
        kind=kind,
        title="",
        text=text,
        lang=lang,
        published=date(2020, 1, 1),
        venue=venue,
    )


def terms_of(texts, **kw):
    found = period_terms([doc(i, t, **kw) for i, t in enumerate(texts)], PARAMS)
    return dict(zip(found.labels, found.documents.tolist(), strict=True)), found


def test_english_ngrams_are_stemmed_counted_by_document_and_labelled_readably():
    counts, found = terms_of(
        [
            "Perovskite solar cells reach record efficiency.",
            "A perovskite solar cell for cheap power; perovskite solar cells again.",
            "Silicon wafers are cheap.",
        ]
    )
    assert counts["perovskite solar cells"] == 2  # two documents, whatever the repeats
    assert "perovskit solar cell" in found.terms  # the key is stemmed, the same across forms
    assert "a" not in counts and "for" not in counts  # stop words end phrases
    assert "cheap" in counts and "silicon" not in counts  # at least two documents


def test_a_fragment_of_a_longer_term_is_dropped():
    counts, _ = terms_of(["convolutional neural network wins"] * 3 + ["neural network"] * 2)
    assert "convolutional neural network" in counts
    assert "convolutional neural" not in counts  # never seen outside the trigram
    assert "neural network" in counts  # seen on its own too


def test_chinese_compounds_kept_when_cohesive():
    texts = [
        "钙钛矿电池效率创新高",
        "研究人员改进钙钛矿电池",
        "钙钛矿电池成本下降",
        "锂电池价格上涨",
        "新的电池技术",
        "钙钛矿材料",
    ]
    filler = [f"城市交通{i}号线开通运营" for i in range(30)]
    counts, _ = terms_of(texts + filler, lang="zh")
    assert counts.get("钙钛矿电池") == 3
    assert all(len(term) >= 2 for term in counts)  # no single characters
    assert "池效" not in counts and "电池效率" not in counts  # no fragments, no one-offs


def test_spread_counts_sources_kinds_and_languages():
    docs = [
        doc(0, "quantum sensing", source="a", kind="paper"),
        doc(1, "quantum sensing", source="b", kind="news", lang="zh"),
        doc(2, "quantum sensing", source="b", kind="news", venue="x"),
    ]
    found = period_terms(docs, PARAMS)
    i = found.labels.index("quantum sensing")
    assert found.sources[i] == 2 and found.outlets[i] == 3
    assert found.kinds[i] == ("news", "paper") and found.languages[i] == ("en", "zh")


def test_bad_input_gives_no_error_and_no_junk():
    long_text = ("lorem ipsum " * 90_000)[:1_000_000]
    texts = [
        "",
        "x",
        "\u3000",
        long_text,
        long_text,
        "Ｇｒａｐｈｅｎｅ　ｂａｔｔｅｒｉｅｓ！ 石墨烯电池。",
        "Graphene batteries! 石墨烯电池",
        "混合 scripts: 量子计算 quantum computing，２０２４年",
        "量子计算 quantum computing",
        "!!! ??? 。。。 ——",
        "!!! ??? 。。。 ——",
        "12345 67890",
        "12345 67890",
    ]
    counts, found = terms_of(texts)
    assert found.matrix.shape == (len(texts), len(found))
    assert "graphene batteries" in counts  # full-width letters read as plain ones
    assert "quantum computing" in counts and "量子计算" in counts
    for term in counts:
        assert any(c.isalnum() for c in term), term  # no punctuation-only terms
        assert not term.replace(" ", "").isdigit(), term  # no numbers
        assert len(term) < 60
    assert period_terms([], PARAMS).terms == ()
    empty = period_terms([doc(0, ""), doc(1, "a")], PARAMS)
    assert empty.matrix.shape == (2, 0) and np.asarray(empty.documents).size == 0
