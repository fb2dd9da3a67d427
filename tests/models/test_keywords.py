import math
from collections import Counter

import pytest

from models import keywords
from models.keywords import class_tfidf, make_label, tokenize, topic_labels


def test_english_stop_words_dropped_and_bigrams_kept():
    tokens = tokenize("The solid-state battery and the new electrolyte")
    assert "the" not in tokens and "new" not in tokens
    assert "solid-state battery" in tokens


def test_user_dictionary_keeps_chinese_technology_terms_whole():
    assert "脑机接口" not in tokenize("脑机接口技术取得突破")
    assert "脑机接口" in tokenize("脑机接口技术取得突破", ("脑机接口",))


def test_class_tfidf_ranks_distinctive_terms():
    ranked = class_tfidf(
        [
            ["humanoid robot walks", "humanoid robot hands", "robot grasping"],
            ["solid-state battery electrolyte", "battery anode", "solid-state battery cell"],
        ]
    )
    assert ranked[0][0][0] in {"robot", "humanoid", "humanoid robot"}
    assert "battery" in [term for term, _ in ranked[1]]
    label = make_label(["battery", "solid-state", "anode", "cell"])
    assert label == "battery · solid-state · anode"


def test_same_input_same_keywords():
    texts = [["量子计算机 实现 突破", "量子计算机 纠错"], ["6G 通信 试验", "6G 卫星 通信"]]
    assert class_tfidf(texts) == class_tfidf(texts)


OTHER_TOPIC = ["humanoid robot walks", "robot hands grasp", "robot arm control"]
SOLID_STATE = [
    "solid state electrolyte",
    "solid state cell",
    "solid state cathode",
    "solid state anode",
    "sulfide electrolyte",
    "sulfide cathode",
]


def words(term):
    return set(term.split())


def plain_ctfidf(class_texts, user_terms=(), top_n=10):
    """The c-TF-IDF order without MMR, written out from the documented formula."""
    counts = [
        Counter(tok for text in texts for tok in tokenize(text, user_terms))
        for texts in class_texts
    ]
    total = sum(counts, Counter())
    mean_words = sum(total.values()) / len(counts)
    ranked = []
    for counter in counts:
        size = sum(counter.values())
        scored = sorted(
            (
                (term, (n / size) * math.log(1 + mean_words / total[term]))
                for term, n in counter.items()
                if n >= 2 or len(counts) == 1
            ),
            key=lambda item: (-item[1], item[0]),
        )
        ranked.append([(term, round(score, 6)) for term, score in scored[:top_n]])
    return ranked


def test_mmr_prefers_a_different_term_to_a_fragment_of_the_first():
    ranked = class_tfidf([SOLID_STATE, OTHER_TOPIC], top_n=5)[0]
    terms = [term for term, _ in ranked]
    # "solid", "state" and "solid state" share the best c-TF-IDF score ...
    plain = [term for term, _ in plain_ctfidf([SOLID_STATE, OTHER_TOPIC], top_n=5)[0]]
    assert plain[:3] == ["solid", "solid state", "state"]
    # ... but after the first of them MMR picks a term that shares none of its words.
    assert terms[0] == "solid"
    assert not words(terms[1]) & words(terms[0])
    assert terms[1] == "sulfide"
    # The fragments are still candidates: with nothing better left they come back, later.
    assert set(terms) == {"solid", "sulfide", "solid state", "state", "cathode"}
    assert dict(ranked) == {
        term: score
        for term, score in plain_ctfidf([SOLID_STATE, OTHER_TOPIC], top_n=50)[0]
        if term in terms
    }


def test_mmr_penalises_terms_that_occur_in_the_same_documents():
    # "wafer" always comes with "graphene" (document cosine 1, no shared word): MMR picks the
    # less frequent but separate "sensor" second; the plain order keeps "wafer" second.
    texts = [
        ["graphene, wafer"] * 4 + ["sensor, foundry", "sensor, lidar", "sensor, radar"],
        OTHER_TOPIC,
    ]
    assert [t for t, _ in class_tfidf(texts, top_n=3)[0]] == ["graphene", "sensor", "wafer"]
    assert [t for t, _ in plain_ctfidf(texts, top_n=3)[0]] == ["graphene", "wafer", "sensor"]


def test_a_bigram_is_a_near_duplicate_of_its_words_even_in_other_documents():
    # "state" is in six documents, "solid state" in two of them (document cosine 0.58): the
    # shared word makes their similarity 1, so "solid" (cosine 0.58 too) comes before it.
    texts = [
        ["solid state"] * 2 + [f"state, w{i}" for i in range(4)] + ["lidar"] * 2,
        ["solid, rock"] * 2 + ["robot arm", "robot hand"],
    ]
    assert [t for t, _ in class_tfidf(texts, top_n=3)[0]] == ["state", "lidar", "solid"]
    assert [t for t, _ in plain_ctfidf(texts, top_n=3)[0]] == ["state", "lidar", "solid state"]


def test_chinese_term_inside_another_counts_as_a_near_duplicate():
    texts = [["芯片设计"] * 3 + ["芯片"] * 3 + ["光刻机"] * 2, OTHER_TOPIC]
    terms = [t for t, _ in class_tfidf(texts, ("芯片设计",), top_n=3)[0]]
    assert terms == ["芯片", "光刻机", "芯片设计"]


def test_lambda_one_is_the_plain_ctfidf_order():
    corpora = [
        [SOLID_STATE, OTHER_TOPIC],
        [["graphene, wafer"] * 4 + ["sensor, foundry", "sensor, lidar"], OTHER_TOPIC],
        [
            ["量子计算机 实现 突破", "量子计算机 纠错", "量子 纠错 芯片"],
            ["6G 通信 试验", "6G 卫星 通信"],
        ],
    ]
    for texts in corpora:
        for top_n in (1, 3, 10):
            assert class_tfidf(texts, (), top_n, mmr_lambda=1.0) == plain_ctfidf(texts, (), top_n)
    assert class_tfidf(corpora[0], mmr_lambda=1.0) != class_tfidf(corpora[0])


def test_lambda_out_of_range_is_refused():
    with pytest.raises(ValueError):
        class_tfidf([SOLID_STATE], mmr_lambda=1.5)


def test_mmr_is_deterministic_and_breaks_ties_by_term():
    assert [t for t, _ in class_tfidf([["gamma, beta, alpha"]])[0]] == ["alpha", "beta", "gamma"]
    texts = [SOLID_STATE, OTHER_TOPIC, ["battery, cell", "cell, anode", "anode, battery"]]
    first = class_tfidf(texts, (), 4)
    assert all(class_tfidf(texts, (), 4) == first for _ in range(3))
    assert class_tfidf([list(reversed(group)) for group in texts], (), 4) == first


def test_chinese_keywords_keep_user_dictionary_terms_whole():
    texts = [
        ["脑机接口技术取得突破", "脑机接口公司完成融资"],
        ["量子计算机实现突破", "量子计算机纠错"],
    ]
    with_terms = [t for t, _ in class_tfidf(texts, ("脑机接口",))[0]]
    assert with_terms[0] == "脑机接口"
    assert "脑机接口" not in [t for t, _ in class_tfidf(texts)[0]]


@pytest.fixture
def tokenised(monkeypatch):
    """The texts `_Tokenizer.tokens` is called with from here on, in call order."""
    calls = []
    original = keywords._Tokenizer.tokens

    def counting(self, text):
        calls.append(text)
        return original(self, text)

    monkeypatch.setattr(keywords._Tokenizer, "tokens", counting)
    return calls


def test_each_document_is_tokenised_once_and_clipped(tokenised):
    calls = tokenised
    long_text = "battery anode " + "x " * keywords.CLIP_CHARS + "graphene graphene"
    texts = [["battery anode", "battery cell", long_text], ["robot arm", "robot hand"]]
    ranked = class_tfidf(texts)
    assert len(calls) == 5 and all(len(text) <= keywords.CLIP_CHARS for text in calls)
    assert "graphene" not in [t for t, _ in ranked[0]]
    calls.clear()
    class_tfidf([["robot arm", "robot arm"], ["robot arm", "battery cell"]])
    assert len(calls) == 2  # the same text is tokenised once


def test_keywords_and_labels_share_one_tokenisation_with_the_same_results(tokenised):
    texts = [
        ["Solid-state batteries with sulfide electrolytes", "Solid-state battery anodes fail"],
        ["固态电池的电解质", "固态电池量产", "Solid-state battery news"],
        ["Robot arm grasping", "Robot hand grasping objects", "Robot arm control"],
    ]
    titles = [[text.split(" ", 2)[0] for text in group] for group in texts]
    user_terms = ("固态电池",)
    alone = (class_tfidf(texts, user_terms, 5), keywords.topic_labels(texts, titles, user_terms))
    calls = tokenised
    calls.clear()  # count only the shared path below
    shared = keywords.class_tokens(texts, ("固态电池",))
    together = (
        class_tfidf(texts, ("固态电池",), 5, tokens=shared),
        keywords.topic_labels(texts, titles, ("固态电池",), tokens=shared),
    )
    assert together == alone
    assert len(calls) == 8  # each of the eight texts once, for both


def test_markup_contractions_and_ordinals_never_become_keywords():
    tokens = tokenize(
        "The <em>COVID-19</em> film wasn't shown &amp; they're 19th; "
        "Google's 5G, 2D and $W^{55+}$ in {\\it tungsten} https://x.org/a"
    )
    assert {"em", "wasn", "th", "amp", "re", "it", "55", "x.org", "https"}.isdisjoint(tokens)
    assert {"covid-19", "film", "google", "5g", "2d", "tungsten"} <= set(tokens)


PEROVSKITE = [
    "Efficient perovskite solar cells with a hole transport layer",
    "Stable perovskite solar cells under illumination",
    "Hysteresis in perovskite solar cells",
    "Lead-free perovskite solar cells and tandem devices",
    "Charge carriers in halide films",
]
MIMO = [
    "Pilot contamination in massive MIMO systems",
    "Energy efficiency of massive MIMO downlink",
    "Massive MIMO with low-resolution ADCs",
    "Beam training for millimetre-wave links",
]


def test_a_topic_is_named_by_its_best_phrase_extended_and_written_as_the_texts_do():
    labels = topic_labels([PEROVSKITE, MIMO], [PEROVSKITE, MIMO])
    assert labels == ["Perovskite solar cells", "Massive MIMO"]


def test_without_a_shared_phrase_the_label_is_a_representative_title_cut_short():
    texts = [
        "Graphene sensor arrays for gas detection in humid air at room temperature today",
        "Sensor drift",
        "Graphene oxide membranes",
    ]
    [label] = topic_labels([texts], [texts])
    assert label == "Graphene sensor arrays for gas detection in humid…"
    assert len(label) <= 51


def test_chinese_topics_get_a_chinese_phrase_without_official_boilerplate():
    texts = [
        "国务院关于加快新能源汽车推广应用的指导意见 各省、自治区、直辖市人民政府",
        "关于完善新能源汽车推广应用补贴政策的通知 各省、自治区、直辖市人民政府",
        "新能源汽车产业发展规划 各省、自治区、直辖市人民政府",
    ]
    [label] = topic_labels([texts], [texts])
    assert label in {"新能源汽车", "推广应用"}
    words = [t for t, _ in class_tfidf([texts])[0]]
    assert {"直辖市", "人民政府", "关于", "国务院"}.isdisjoint(words)


def test_stop_words_are_scikit_learns_list_read_without_importing_it():
    import subprocess
    import sys

    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from models.keywords import EXTRA_STOP_WORDS, STOP_WORDS

    assert frozenset(ENGLISH_STOP_WORDS) | EXTRA_STOP_WORDS == STOP_WORDS
    # every command imports the settings, which name the engine's parameters: no scikit-learn
    code = "import sys, observatory.cli; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
