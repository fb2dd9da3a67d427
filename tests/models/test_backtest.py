"""Backtest: the detection rule on hand-made flags, and a replay of a tiny synthetic corpus."""

import json
import random
import re

import pytest

from models.backtest import format_table, run_backtest, write_result
from models.embed import HashingEncoder
from models.engine import EngineParams
from models.evaluate import (
    Event,
    FlaggedTopic,
    History,
    TopicRow,
    evaluate_event,
    flag_topics,
    matches_rule,
    parse_event,
    precision_at_10,
)
from pipeline.errors import InputError

THEMES = {
    "sport": "football match goal team league coach player season stadium referee",
    "food": "recipe kitchen cooking flavour sauce baking oven dinner spice chef",
    "weather": "storm rain forecast wind snow temperature cloud flood heatwave drought",
    "money": "market stocks bank inflation interest rates bonds investor trading price",
}
BURST = "zorblax battery lithium anode charge cell electrolyte cathode energy storage"
MONTHS = [f"2021-{m:02d}" for m in range(1, 9)]


def make_corpus(path, burst_from=5):
    rng = random.Random(7)
    lines, n = [], 0

    def doc(month, words, extra=""):
        nonlocal n
        n += 1
        picked = rng.sample(words.split(), 6)
        return {"id": f"syn:{n}", "source": "synthetic", "kind": "news",
                "date": f"{month}-{1 + n % 27:02d}", "title": f"docmark {' '.join(picked[:3])}",
                "text": " ".join(picked) + extra, "lang": "en"}

    for index, month in enumerate(MONTHS):
        for words in THEMES.values():
            lines += [doc(month, words) for _ in range(12)]
        lines.append(doc(month, THEMES["food"], " zebra"))
        if index >= burst_from:
            lines += [doc(month, BURST) for _ in range(15)]
    lines.sort(key=lambda d: d["date"])
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


def event(term, regex, role="event", emergence="2021-06", corpus="synthetic", **extra):
    return {"corpus": corpus, "series": "month", "term": term, "regex": regex,
            "period_granularity": "month", "emergence_period": emergence, "role": role, **extra}


@pytest.fixture
def corpus(tmp_path):
    return make_corpus(tmp_path / "syn.jsonl")


@pytest.fixture
def events(tmp_path):
    path = tmp_path / "events.json"
    path.write_text(json.dumps([
        event("zorblax", r"\bzorblax\b"),
        event("zebra (control)", r"\bzebras?\b", role="negative_control", emergence=None),
        event("elsewhere", r"x", corpus="other"),
    ]))
    return path


class CountingEncoder(HashingEncoder):
    def __init__(self):
        super().__init__()
        self.texts = []

    def encode(self, texts):
        self.texts += list(texts)
        return super().encode(texts)


def flagged(period, texts, topic="t"):
    return FlaggedTopic(period, topic, "weak", 1.0, tuple(texts))


def test_rule_needs_three_documents_and_a_fifth():
    pattern = re.compile(r"\bgan\b", re.IGNORECASE)
    assert matches_rule(["gan"] * 3 + ["x"] * 7, pattern)
    assert not matches_rule(["gan"] * 2 + ["x"], pattern)
    assert not matches_rule(["gan"] * 3 + ["x"] * 17, pattern)


def test_case_sensitive_parts_of_a_regex_stay_case_sensitive():
    spec = parse_event("e", event("GAN", r"(?-i:\bGANs?\b)|\bgenerative adversarial\b"), "month")
    assert spec.pattern().search("a GAN model") and spec.pattern().search("Generative Adversarial")
    assert not spec.pattern().search("GaN transistors")


def test_lead_is_positive_when_flagged_before_the_oracle():
    spec = Event("c", "s", "t", r"\bfoo\b", "event", "2021-06", None, 2)
    hits = [flagged("2021-04", ["foo"] * 3), flagged("2021-07", ["foo"] * 3)]
    outcome = evaluate_event(spec, hits, MONTHS)
    assert (outcome.first_flag_period, outcome.lead_periods) == ("2021-04", 2)


def test_warm_up_and_series_start_are_not_scored():
    spec = Event("c", "s", "t", r"\bfoo\b", "event", "2021-06", "2021-02", 3)
    early = [flagged("2021-04", ["foo"] * 3), flagged("2021-05", ["foo"] * 3)]
    assert evaluate_event(spec, early, MONTHS).first_flag_period == "2021-05"


def test_event_periods_are_normalised_to_the_granularity():
    spec = parse_event("e", event("c", "x", emergence="2020-03-20",
                                  period_granularity="week"), "week")
    assert spec.emergence_period == "2020-W12"
    assert parse_event("e", event("c", "x", emergence="2020Q1"), "quarter").emergence_period \
        == "2020-Q1"


def test_top_ten_by_score_are_flagged_and_zero_scores_are_not():
    rows = [TopicRow("p", f"t{i:02d}", 5, "noise", float(i)) for i in range(12)]
    rows.append(TopicRow("p", "w", 5, "weak", 0.0))
    keys = flag_topics(rows)
    assert {t for _, t in keys} == {f"t{i:02d}" for i in range(2, 12)} | {"w"}


def test_precision_counts_topics_that_double_their_share():
    periods = tuple(MONTHS[:4])
    rows = (TopicRow("2021-01", "a", 1, "weak", 1.0), TopicRow("2021-01", "b", 5, "weak", 1.0),
            TopicRow("2021-02", "a", 2, "weak", 1.0),
            TopicRow("2021-02", "b", 5, "weak", 1.0), TopicRow("2021-03", "a", 8, "weak", 1.0),
            TopicRow("2021-03", "b", 1, "weak", 1.0))
    history = History(periods, dict.fromkeys(periods, 10), rows, 0)
    assert precision_at_10(history, {("2021-02", "a"), ("2021-02", "b")}) == 0.5


def test_backtest_detects_the_burst_and_not_the_control(tmp_path, corpus, events,
                                                        mini_taxonomy):
    result = run_backtest(corpus, events, "month", None, HashingEncoder(),
                          EngineParams(), taxonomy=mini_taxonomy, repeat=2)
    by_term = {e.term: e for e in result.events}
    assert by_term["zorblax"].detected and by_term["zorblax"].lead_periods >= -1
    assert not by_term["zebra (control)"].detected
    assert "elsewhere" not in by_term
    summary = result.summary
    assert summary["recall"] == 1.0 and summary["false_alarm_controls"] == 0
    assert summary["run_to_run_identical"] is True
    assert {"ingest", "embed", "cluster", "process"} <= set(result.timings)
    assert result.n_periods == 8 and result.peak_rss_mb > 0
    write_result(result, tmp_path / "RESULT.json")
    written = json.loads((tmp_path / "RESULT.json").read_text())
    assert {"corpus", "granularity", "n_docs", "n_periods", "params", "model", "code_version",
            "events", "summary", "timings", "peak_rss_mb"} <= set(written)
    assert format_table(result).row_count > len(result.events)


def test_a_second_run_reads_vectors_from_the_cache(tmp_path, corpus, events, mini_taxonomy):
    cache = tmp_path / "cache.duckdb"
    first, second = CountingEncoder(), CountingEncoder()
    run_backtest(corpus, events, "month", None, first, EngineParams(), mini_taxonomy,
                 embeddings_cache=cache)
    run_backtest(corpus, events, "month", None, second, EngineParams(), mini_taxonomy,
                 embeddings_cache=cache)
    assert any("docmark" in text for text in first.texts)
    assert not any("docmark" in text for text in second.texts)


def test_given_database_keeps_the_replay(tmp_path, corpus, events, mini_taxonomy):
    db_path = tmp_path / "kept.duckdb"
    run_backtest(corpus, events, "month", db_path, HashingEncoder(), EngineParams(),
                 mini_taxonomy)
    assert db_path.exists()


def bad_events(tmp_path, entries):
    path = tmp_path / "bad.json"
    path.write_text(entries if isinstance(entries, str) else json.dumps(entries))
    return path


@pytest.mark.parametrize(("granularity", "entries", "message"), [
    ("fortnight", [event("z", "z")], "granularity"),
    ("month", "[{", "not valid JSON"),
    ("month", {"corpus": "synthetic"}, "expected a JSON list"),
    ("month", [event("z", "z"), {"corpus": "synthetic", "term": "t"}], "entry 1: field 'regex'"),
    ("month", [event("z", "(")], "entry 0: field 'regex'"),
    ("month", [event("z", "z", role="maybe")], "entry 0: field 'role'"),
    ("month", [event("z", "z", emergence="soon")], "entry 0: field 'emergence_period'"),
    ("month", [event("z", "z", corpus="other")], "no events for corpus synthetic"),
    ("month", [event("z", "z", emergence="1999-01")], "no event period falls inside"),
    ("month", [event("z", "z", period_granularity="year")], "no events at granularity month"),
])
def test_bad_inputs_give_one_line(tmp_path, corpus, granularity, entries, message):
    with pytest.raises(InputError, match=re.escape(message)) as error:
        run_backtest(corpus, bad_events(tmp_path, entries), granularity, None, HashingEncoder(),
                     EngineParams())
    assert "\n" not in str(error.value) and error.value.exit_code == 2


def test_corpus_without_documents_is_refused(tmp_path, events):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(InputError, match="no dated documents"):
        run_backtest(empty, events, "month", None, HashingEncoder(), EngineParams())
