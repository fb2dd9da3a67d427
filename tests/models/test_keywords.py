from models.keywords import class_tfidf, make_label, tokenize


def test_english_stop_words_dropped_and_bigrams_kept():
    tokens = tokenize("The solid-state battery and the new electrolyte")
    assert "the" not in tokens and "new" not in tokens
    assert "solid-state battery" in tokens


def test_user_dictionary_keeps_chinese_technology_terms_whole():
    assert "脑机接口" not in tokenize("脑机接口技术取得突破")
    assert "脑机接口" in tokenize("脑机接口技术取得突破", ("脑机接口",))


def test_class_tfidf_ranks_distinctive_terms():
    ranked = class_tfidf([
        ["humanoid robot walks", "humanoid robot hands", "robot grasping"],
        ["solid-state battery electrolyte", "battery anode", "solid-state battery cell"],
    ])
    assert ranked[0][0][0] in {"robot", "humanoid", "humanoid robot"}
    assert "battery" in [term for term, _ in ranked[1]]
    label = make_label(["battery", "solid-state", "anode", "cell"])
    assert label == "battery · solid-state · anode"


def test_same_input_same_keywords():
    texts = [["量子计算机 实现 突破", "量子计算机 纠错"], ["6G 通信 试验", "6G 卫星 通信"]]
    assert class_tfidf(texts) == class_tfidf(texts)
