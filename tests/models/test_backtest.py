"""Backtest: the detection rule on hand-made flags, and a replay of a tiny synthetic corpus."""

import json
import random
import re

import pytest

from models.backtest import format_table, run_backtest, write_result
from models.embed import HashingEncoder
from models.engine import EngineParams
from models.evaluate import (
    Cut,
    Event,
    History,
    RankedItem,
    choose_cut,
    evaluate_event,
    matches_rule,
    parse_budget,
    parse_event,
    precision_at_k,
    score_budgets,
    top_k,
)
from pipeline.errors import InputError

THEMES = {
    "sport": "football match goal team league coach player season stadium referee",
    "food": "recipe kitchen cooking flavour sauce baking oven dinner spice chef",
    "weather": "storm rain forecast wind snow temperature cloud flood heatwave drought",
    "money": "market stocks bank inflation interest rates bonds investor trading price",
}
# A steady theme that says "zebra": the negative control the rule can detect (a topic of it
# has every document matching), so flagging it is a false alarm a detector can make.
STEADY = "zebra savanna herd grazing stripes waterhole safari ranger wildlife migration"
BURST = "zorblax battery lithium anode charge cell electrolyte cathode energy storage"
MONTHS = [f"2021-{m:02d}" for m in range(1, 9)]


def make_corpus(path, burst_from=5):
    rng = random.Random(7)
    lines, n = [], 0

    def doc(month, words, extra=""):
        nonlocal n
        n += 1
        picked = rng.sample(words.split(), 6)
        return {
            "id": f"syn:{n}",
            "source": "synthetic",
            "kind": "news",
            "date": f"{month}-{1 + n % 27:02d}",
            "title": f"docmark {' '.join(picked[:3])}",
            "text": " ".join(picked) + extra,
            "lang": "en",
        }

    for index, month in enumerate(MONTHS):
        for words in THEMES.values():
            lines += [doc(month, words) for _ in range(12)]
        lines += [doc(month, STEADY) for _ in range(10)]
        if index >= burst_from:
            lines += [doc(month, BURST) for _ in range(15)]
    lines.sort(key=lambda d: d["date"])
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


def event(term, regex, role="event", emergence="2021-06", corpus="synthetic", **extra):
    return {
        "corpus": corpus,
        "series": "month",
        "term": term,
        "regex": regex,
        "period_granularity": "month",
        "emergence_period": emergence,
        "role": role,
        **extra,
    }


@pytest.fixture
def corpus(tmp_path):
    return make_corpus(tmp_path / "syn.jsonl")


@pytest.fixture
def events(tmp_path):
    path = tmp_path / "events.json"
    path.write_text(
        json.dumps(
            [
                event("zorblax", r"\bzorblax\b"),
                event("zebra (control)", r"\bzebras?\b", role="negative_control", emergence=None),
                event("elsewhere", r"x", corpus="other"),
            ]
        )
    )
    return path


class CountingEncoder(HashingEncoder):
    def __init__(self):
        super().__init__()
        self.texts = []

    def encode(self, texts):
        self.texts += list(texts)
        return super().encode(texts)


def flagged(period, texts, topic="t"):
    return RankedItem(period, topic, "topic", 1.0, len(texts), tuple(texts))


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
    spec = parse_event(
        "e", event("c", "x", emergence="2020-03-20", period_granularity="week"), "week"
    )
    assert spec.emergence_period == "2020-W12"
    assert (
        parse_event("e", event("c", "x", emergence="2020Q1"), "quarter").emergence_period
        == "2020-Q1"
    )


def test_top_k_takes_the_first_k_of_each_period_and_nothing_else():
    ranked = {"p1": [flagged("p1", [], f"a{i}") for i in range(5)], "p2": [flagged("p2", [], "b0")]}
    assert [i.item_id for i in top_k(ranked, 3)] == ["a0", "a1", "a2", "b0"]


def test_precision_counts_flags_that_double_their_share():
    periods = tuple(MONTHS[:4])
    counts = {
        ("2021-01", "a"): 1,
        ("2021-01", "b"): 5,
        ("2021-02", "a"): 2,
        ("2021-02", "b"): 5,
        ("2021-03", "a"): 8,
        ("2021-03", "b"): 1,
    }
    flags = [flagged("2021-02", ["x"], "a"), flagged("2021-02", ["x"], "b")]
    docs = dict.fromkeys(periods, 10)
    assert precision_at_k(periods, docs, counts, flags, 10) == 0.5
    assert precision_at_k(periods, docs, counts, flags, 1) == 1.0
    # its future cut off (the tuning side ends before 2021-03): no value
    assert precision_at_k(periods, docs, counts, flags, 10, end=2) is None


@pytest.mark.parametrize("text", ["0", "3,x", "3.5", "", "3,,5", "-1"])
def test_a_bad_budget_names_the_flag(text):
    with pytest.raises(InputError, match="--budget: expected positive whole numbers") as error:
        parse_budget(text)
    assert error.value.exit_code == 2


def test_budget_and_cut_are_parsed():
    assert parse_budget("10, 3,5,3") == (3, 5, 10)
    assert choose_cut(MONTHS, None) == Cut("2021-05", 4)  # 60 % of 8 periods
    assert choose_cut(MONTHS, "2021-03-15") == Cut("2021-03", 2)
    for bad in ("2022-01", "2020-12", "soon"):
        with pytest.raises(InputError, match=r"--cut: expected a period from 2021-01 to 2021-08"):
            choose_cut(MONTHS, bad)


def planted_history():
    """Ten periods of five steady topics; from 2021-07 a small new topic about 'qubit'."""
    periods = tuple(f"2021-{m:02d}" for m in range(1, 11))
    items = []
    for index, period in enumerate(periods):
        for t in range(5):
            items.append(
                RankedItem(
                    period,
                    f"steady{t}",
                    "topic",
                    0.0,
                    30 + t,
                    ("plain words",) * (30 + t),
                    periods[0],
                )
            )
        if index >= 6:
            size = 4 * (index - 5)
            items.append(
                RankedItem(
                    period, "planted", "topic", 0.0, size, ("a qubit chip",) * size, "2021-07"
                )
            )
    return History(periods, dict.fromkeys(periods, 200), tuple(items), 0)


def planted_events():
    return [
        Event("c", "month", "qubit", r"\bqubit\b", "event", "2021-07", None, 3),
        Event("c", "month", "plain (control)", r"\bplain\b", "negative_control", None, None, 3),
    ]


def test_flagging_everything_loses_at_k3_to_ranking_the_planted_emergence_first():
    history = planted_history()
    cut = Cut("2021-05", 4)
    groups: dict[str, list[RankedItem]] = {}
    for item in history.items:
        groups.setdefault(item.period, []).append(item)
    # Flags everything, in its own (size) order: the new topic is never in its top 3.
    everything = {p: sorted(g, key=lambda i: -i.n_docs) for p, g in groups.items()}
    # Ranks the planted topic first when it is there, and nothing else.
    planted = {p: [i for i in g if i.item_id == "planted"] for p, g in groups.items()}
    lose, _ = score_budgets(history, everything, planted_events(), [3], cut)
    win, outcomes = score_budgets(history, planted, planted_events(), [3], cut)
    check_lose, check_win = lose["3"]["check"]["detector"], win["3"]["check"]["detector"]
    assert check_lose["recall_within_1"] == 0.0 and check_lose["false_alarm_controls"] == 1
    assert check_win["recall_within_1"] == 1.0 and check_win["false_alarm_controls"] == 0
    assert check_win["precision_at_k"] > check_lose["precision_at_k"]
    # Without a budget flagging everything finds it: all-topics is the ceiling, not a detector.
    assert lose["3"]["check"]["all_topics"]["recall_within_1"] == 1.0
    assert outcomes["3"][0].first_flag_period == "2021-07"


def test_baselines_are_drawn_from_the_same_topics_by_the_same_rule():
    figures, _ = score_budgets(planted_history(), {}, planted_events(), [1, 3], Cut("2021-05", 4))
    check = figures["1"]["check"]
    assert check["biggest"]["recall"] == 0.0  # the new topic is the smallest
    assert check["newest"]["recall_within_1"] == 1.0  # and the youngest
    assert 0.0 < check["random"]["recall"] < 1.0  # a mean over 20 seeded draws
    assert check["detector"]["flags_per_period"] == 0.0
    # the control is steady and big: biggest@k flags it on both sides
    assert figures["1"]["tuning"]["biggest"]["false_alarm_controls"] == 1
    assert (
        figures["3"]
        == score_budgets(planted_history(), {}, planted_events(), [3], Cut("2021-05", 4))[0]["3"]
    )  # seeded: repeatable


def test_tuning_figures_never_read_a_period_after_the_cut():
    history = planted_history()
    events = [Event("c", "month", "qubit", r"\bqubit\b", "event", "2021-04", None, 3)]
    early = {
        p: [i for i in history.items if i.period == p and i.item_id == "planted"]
        for p in history.periods
    }
    figures, _ = score_budgets(history, early, events, [3], Cut("2021-05", 4))
    # an event of the tuning side found only after the cut is a miss on the tuning side
    assert figures["3"]["tuning"]["detector"]["recall"] == 0.0
    assert figures["3"]["check"]["detector"]["events_scored"] == 0


def test_backtest_scores_per_k_beside_the_baselines(tmp_path, corpus, events, mini_taxonomy):
    result = run_backtest(
        corpus,
        events,
        "month",
        None,
        HashingEncoder(),
        EngineParams(),
        taxonomy=mini_taxonomy,
        repeat=2,
        budgets=(1, 3),
    )
    assert result.budget == (1, 3) and result.cut["period"] == "2021-05"
    assert set(result.figures) == {"1", "3"}
    for sides in result.figures.values():
        assert set(sides) == {"tuning", "check"}
        for systems in sides.values():
            assert set(systems) == {
                "detector",
                "biggest",
                "random",
                "newest",
                "all_topics",
                "frequent_terms",
                "rising_terms",
            }
    check = result.figures["3"]["check"]
    # the burst (2021-06) is on the check side; the clustering can find it
    assert check["all_topics"]["events_scored"] == 1 and check["all_topics"]["recall"] == 1.0
    # the control is detectable: flagging every topic flags it on both sides
    assert check["all_topics"]["false_alarm_controls"] == 1
    assert result.figures["3"]["tuning"]["all_topics"]["false_alarm_controls"] == 1
    by_term = {e["term"]: e for e in result.events}
    assert by_term["zorblax"]["set"] == "check" and by_term["zebra (control)"]["set"] == "both"
    assert "elsewhere" not in by_term
    assert result.headline["k"] == 3 and "detector" in result.headline["check"]
    assert result.summary["run_to_run_identical"] is True
    assert {"ingest", "embed", "cluster", "process"} <= set(result.timings)
    assert result.n_periods == 8 and result.peak_rss_mb > 0
    assert result.params["engine"]["terms"]["seed_taxonomy"] is False  # corpus terms only
    # The ranked list holds topics and term signals, flagged ones only.
    assert sum(p["n_ranked"] for p in result.periods) > 0
    write_result(result, tmp_path / "RESULT.json")
    written = json.loads((tmp_path / "RESULT.json").read_text())
    assert {
        "corpus",
        "granularity",
        "system",
        "budget",
        "cut",
        "headline",
        "figures",
        "events",
        "summary",
        "timings",
        "peak_rss_mb",
        "model",
        "code_version",
    } <= set(written)
    assert format_table(result).row_count > len(result.events)


def test_backtest_scores_the_word_count_baselines_beside_the_detector(
    tmp_path, corpus, events, mini_taxonomy
):
    result = run_backtest(
        corpus,
        events,
        "month",
        None,
        HashingEncoder(),
        EngineParams(),
        taxonomy=mini_taxonomy,
        budgets=(3,),
    )
    check = result.figures["3"]["check"]
    # zorblax appears from 2021-06 out of nothing: counting words finds it on time
    assert check["rising_terms"]["recall_within_1"] == 1.0
    assert check["rising_terms"]["events_scored"] == 1
    assert check["frequent_terms"]["events_scored"] == 1


def test_no_period_reads_a_later_document(tmp_path, corpus, events, mini_taxonomy, monkeypatch):
    """What each period's processing was given, and what the store held when it ran."""
    import models.process as process
    from pipeline.db import session
    from pipeline.periods import next_period, period_start

    read: dict[str, list] = {}
    real = process.compute_period

    def recording(period, docs, *rest):
        read[str(period)] = [d.published for d in docs]
        # the history the period is scored against (however the engine passes it) is earlier
        for arg in rest:
            history = getattr(arg, "history", arg)
            assert all(p < period for p in getattr(history, "periods", ()))
        return real(period, docs, *rest)

    monkeypatch.setattr(process, "compute_period", recording)
    db_path = tmp_path / "kept.duckdb"
    original = process.documents_between
    latest_in_store: dict[str, object] = {}

    def documents_between(con, first, last):
        latest_in_store[str(first)] = con.execute(
            "SELECT max(published) FROM documents"
        ).fetchall()[0][0]
        return original(con, first, last)

    monkeypatch.setattr(process, "documents_between", documents_between)
    run_backtest(corpus, events, "month", db_path, HashingEncoder(), EngineParams(), mini_taxonomy)
    assert list(read) == MONTHS
    for period, days in read.items():
        end = period_start(next_period(period))
        assert days and all(period_start(period) <= day < end for day in days)
        # nothing later than the period had even been ingested when it was processed
        assert latest_in_store[str(period_start(period))] < end
    with session(db_path, read_only=True) as con:
        stored = con.execute("SELECT count(*) FROM documents").fetchall()[0][0]
    assert sum(len(days) for days in read.values()) == stored  # each read once, all read


def test_a_second_run_reads_vectors_from_the_cache(tmp_path, corpus, events, mini_taxonomy):
    cache = tmp_path / "cache.duckdb"
    first, second = CountingEncoder(), CountingEncoder()
    run_backtest(
        corpus, events, "month", None, first, EngineParams(), mini_taxonomy, embeddings_cache=cache
    )
    run_backtest(
        corpus, events, "month", None, second, EngineParams(), mini_taxonomy, embeddings_cache=cache
    )
    # Documents are title + newline + text; short term labels (signals) are embedded anew.
    assert any("docmark" in text and "\n" in text for text in first.texts)
    assert not any("docmark" in text and "\n" in text for text in second.texts)


def test_given_database_keeps_the_replay(tmp_path, corpus, events, mini_taxonomy):
    db_path = tmp_path / "kept.duckdb"
    run_backtest(corpus, events, "month", db_path, HashingEncoder(), EngineParams(), mini_taxonomy)
    assert db_path.exists()


def bad_events(tmp_path, entries):
    path = tmp_path / "bad.json"
    path.write_text(entries if isinstance(entries, str) else json.dumps(entries))
    return path


@pytest.mark.parametrize(
    ("granularity", "entries", "message"),
    [
        ("fortnight", [event("z", "z")], "granularity"),
        ("month", "[{", "not valid JSON"),
        ("month", {"corpus": "synthetic"}, "expected a JSON list"),
        (
            "month",
            [event("z", "z"), {"corpus": "synthetic", "term": "t"}],
            "entry 1: field 'regex'",
        ),
        ("month", [event("z", "(")], "entry 0: field 'regex'"),
        ("month", [event("z", "z", role="maybe")], "entry 0: field 'role'"),
        ("month", [event("z", "z", emergence="soon")], "entry 0: field 'emergence_period'"),
        ("month", [event("z", "z", corpus="other")], "no events for corpus synthetic"),
        ("month", [event("z", "z", emergence="1999-01")], "no event period falls inside"),
        ("month", [event("z", "z", period_granularity="year")], "no events at granularity month"),
    ],
)
def test_bad_inputs_give_one_line(tmp_path, corpus, granularity, entries, message):
    with pytest.raises(InputError, match=re.escape(message)) as error:
        run_backtest(
            corpus,
            bad_events(tmp_path, entries),
            granularity,
            None,
            HashingEncoder(),
            EngineParams(),
        )
    assert "\n" not in str(error.value) and error.value.exit_code == 2


def test_corpus_without_documents_is_refused(tmp_path, events):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(InputError, match="no dated documents"):
        run_backtest(empty, events, "month", None, HashingEncoder(), EngineParams())


def cli(*args):
    from typer.testing import CliRunner

    from observatory.cli import app

    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_observatory_backtest_writes_per_k_figures(
    tmp_path, corpus, events, mini_taxonomy, monkeypatch
):
    monkeypatch.setenv("OBSERVATORY_TAXONOMY", mini_taxonomy)
    out = tmp_path / "RESULT.json"
    result = cli(
        "backtest",
        corpus,
        "--events",
        events,
        "-g",
        "month",
        "--budget",
        "2,4",
        "--cut",
        "2021-04",
        "--encoder",
        "hashing-256",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text())
    assert written["budget"] == [2, 4] and written["cut"]["period"] == "2021-04"
    assert set(written["figures"]) == {"2", "4"}
    assert written["figures"]["4"]["check"]["biggest"]["events_scored"] == 1


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--budget", "0"], "--budget: expected positive whole numbers"),
        (["--budget", "3,five"], "--budget: expected positive whole numbers"),
        (["--cut", "2030-01"], "--cut: expected a period from 2021-01 to 2021-08"),
    ],
)
def test_observatory_backtest_refuses_a_bad_budget_or_cut(tmp_path, corpus, events, flags, message):
    out = tmp_path / "RESULT.json"
    result = cli(
        "backtest",
        corpus,
        "--events",
        events,
        "-g",
        "month",
        "--encoder",
        "hashing-256",
        "--out",
        out,
        *flags,
    )
    assert result.exit_code == 2
    # (the progress bar's line may precede it when stderr is not a terminal)
    lines = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.output and not out.exists()
