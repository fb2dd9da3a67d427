"""BERTrend (the peer) replayed on our corpus, periods and USE vectors; same rule, same RESULT.json.

Its ranked list in a period is its weak and strong signals, most popular first; per k of the
budget its top k are scored beside the same four baselines (drawn from its own topics) on each
side of the same time cut, exactly as `observatory backtest` scores ours.

Run it with the peer's own venv (benchmarks/make_peer_venv.sh), after our backtest has filled the
embeddings cache:

    $PEER_VENV/bin/python benchmarks/peer_bertrend.py CORPUS --events EVENTS --granularity G \
        --embeddings-cache CACHE.duckdb --out RESULT.json [--budget 3,5,10] [--cut PERIOD]

BERTrend runs with its published defaults (bertrend_default_config.toml: merge cosine >= 0.7,
decay 0.01, power 2, noise/weak/strong at the 10th/75th popularity percentiles; BERTopic
defaults from bertopic_default_config.toml: UMAP 5 neighbours/5 dims, HDBSCAN eom 5/5, MMR,
outliers reduced by c-TF-IDF) with three adaptations, all needed to compare like with like:
- period i is given BERTrend the timestamp 2000-01-01 + 2*i days, so its default `granularity`
  of 2 days is one of our periods and its day-based constants (7-day window, 14-day rising test)
  mean 3.5 and 7 periods whatever the corpus's real period is;
- the periods are fed one at a time and signals are classified after each, as a scheduled job
  would, so period t never sees later documents;
- vectors come from our cache, and the MMR word embeddings from the same USE model (its default
  would download all-MiniLM-L6-v2), stopwords are BERTrend's English list.
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from models.backtest import (  # noqa: E402
    BacktestResult,
    format_table,
    history_summary,
    period_rows,
    score_replay,
    write_result,
)
from models.backtest_inputs import load_corpus, load_events  # noqa: E402
from models.evaluate import (  # noqa: E402
    History,
    RankedItem,
    choose_cut,
    headline,
    parse_budget,
)
from models.stopwatch import Stopwatch  # noqa: E402
from pipeline.db import session  # noqa: E402
from pipeline.errors import ObservatoryError  # noqa: E402
from pipeline.periods import check_granularity  # noqa: E402
from pipeline.provenance import code_version  # noqa: E402
from pipeline.records import Document  # noqa: E402
from pipeline.store import load_embeddings, missing_embeddings  # noqa: E402

# pandas (and bertrend) live in the peer's venv only: imported where BERTrend is driven, so the
# conversion of its output into our ranked items can be tested in the project's venv.
BASE = datetime(2000, 1, 1)
STEP_DAYS = 2
WINDOW_DAYS = 7
MODEL = "use-multilingual-v3"
Signal = tuple[str, int, float]
"""(weak | strong, BERTrend topic, latest popularity)."""


def use_backend(threads: int = 1) -> Any:
    """Our USE encoder as a BERTopic backend, for MMR's word embeddings."""
    from bertopic.backend import BaseEmbedder

    from models.embed import build_encoder

    encoder = build_encoder("use-multilingual-v3", threads=threads)

    class UseBackend(BaseEmbedder):  # type: ignore[misc]
        def embed(self, documents: Sequence[str], verbose: bool = False) -> np.ndarray:
            return np.asarray(encoder.encode(list(documents)))

    return UseBackend()


def make_bertrend(backend: Any, language: str) -> Any:
    """A default BERTrend whose BERTopic model is given our backend for MMR."""
    from bertrend.BERTopicModel import BERTopicModel
    from bertrend.BERTrend import BERTrend

    class OfflineBERTopicModel(BERTopicModel):  # type: ignore[misc]
        def fit(self, docs: list[str], embeddings: np.ndarray, **kwargs: Any) -> Any:
            return super().fit(docs=docs, embeddings=embeddings, embedding_model=backend)

    return BERTrend(topic_model=OfflineBERTopicModel({"global": {"language": language}}))


def stored_only(cache: Path, by_period: dict[str, list[Document]]) -> dict[str, list[Document]]:
    """The documents our store kept (it drops repeated ids and canonical URLs, unembedded)."""
    hashes = [d.content_hash for docs in by_period.values() for d in docs]
    with session(cache, read_only=True) as con:
        missing = set(missing_embeddings(con, hashes, MODEL))
    return {p: [d for d in docs if d.content_hash not in missing] for p, docs in by_period.items()}


def vectors_of(cache: Path, docs: Sequence[Document]) -> np.ndarray:
    """Our stored USE vectors, in corpus order."""
    with session(cache, read_only=True) as con:
        return load_embeddings(con, [d.content_hash for d in docs], MODEL)


def stamp_of(index: int) -> datetime:
    """The timestamp period `index` is given: BASE + STEP_DAYS * index days."""
    from datetime import timedelta

    return BASE + timedelta(days=STEP_DAYS * index)


def index_of(when: Any) -> int:
    """The period index of a BERTrend timestamp (a pandas Timestamp is a datetime)."""
    return int((when - BASE).days // STEP_DAYS)


def ranked_signals(
    period: str, signals: Iterable[Signal], docs_of: Callable[[int], Sequence[str]]
) -> list[RankedItem]:
    """BERTrend's weak and strong signals of a period as its ranked list, by popularity.

    The peer's list an analyst would read: its signals, most popular first (topic id breaks
    ties), each with its documents of this period.
    """
    ordered = sorted(signals, key=lambda s: (-s[2], s[1]))
    return [
        RankedItem(period, f"bt{topic}", "topic", popularity, len(texts), tuple(texts))
        for _, topic, popularity in ordered
        for texts in [list(docs_of(topic))]
    ]


def history_of(
    periods: Sequence[str],
    period_docs: Mapping[str, int],
    topic_sizes: Mapping[Any, Mapping[str, Any]],
    n_outliers: int,
) -> History:
    """Every BERTrend topic of every period with its documents: the baselines' pool.

    `topic_sizes` is BERTrend's own record: topic -> {"Documents": [(timestamp, [text, ...])]};
    a topic is born in the first period it has documents.
    """
    items = []
    for topic, data in topic_sizes.items():
        entries = [
            (index_of(when), docs) for when, docs in data["Documents"] if isinstance(docs, list)
        ]
        entries = [(i, docs) for i, docs in entries if 0 <= i < len(periods)]
        if not entries:
            continue
        born = periods[min(i for i, _ in entries)]
        merged: dict[int, list[str]] = {}
        for i, docs in entries:
            merged.setdefault(i, []).extend(d for d in docs if isinstance(d, str))
        items += [
            RankedItem(periods[i], f"bt{int(topic)}", "topic", 0.0, len(docs), tuple(docs), born)
            for i, docs in merged.items()
        ]
    items.sort(key=lambda item: (periods.index(item.period), item.item_id))
    return History(tuple(periods), dict(period_docs), tuple(items), n_outliers)


def replay_peer(
    by_period: dict[str, list[Document]],
    vectors: np.ndarray,
    bertrend: Any,
    backend: Any,
    stopwatch: Stopwatch,
) -> tuple[History, dict[str, list[RankedItem]]]:
    """Feed BERTrend one period at a time and read its ranked signals after each."""
    import pandas as pd

    ranked: dict[str, list[RankedItem]] = {}
    n_outliers, offset = 0, 0
    for index, (period, docs) in enumerate(by_period.items()):
        stamp = pd.Timestamp(stamp_of(index))
        frame = pd.DataFrame(
            {
                "text": [d.full_text for d in docs],
                "document_id": [d.doc_id for d in docs],
                "source": [d.source for d in docs],
                "url": [d.url for d in docs],
            },
            index=range(offset, offset + len(docs)),
        )
        offset += len(docs)
        if not docs:
            continue
        with stopwatch.stage("fit"):
            bertrend.train_topic_models(
                {stamp: frame}, embedding_model=backend, embeddings=vectors, save_topic_models=False
            )
        if bertrend.last_topic_model_timestamp == stamp:
            n_outliers += int((bertrend.last_topic_model.doc_info_df["Topic"] == -1).sum())
        history = bertrend.all_merge_histories_df
        # No merge yet (empty table, no columns): BERTrend has no signal to classify.
        if history is None or history.empty or len(bertrend.doc_groups) < 2:
            continue
        with stopwatch.stage("signals"):
            bertrend.calculate_signal_popularity()
            _, weak, strong = bertrend.classify_signals(WINDOW_DAYS, stamp)
        signals = [
            (label, int(row.Topic), float(row.Latest_Popularity))
            for label, frame_ in (("weak", weak), ("strong", strong))
            for row in frame_.itertuples()
        ]
        ranked[period] = ranked_signals(
            period, signals, functools.partial(_docs_at, bertrend, stamp=stamp)
        )
    history_ = history_of(
        list(by_period), {p: len(d) for p, d in by_period.items()}, bertrend.topic_sizes, n_outliers
    )
    return history_, ranked


def _docs_at(bertrend: Any, topic: int, stamp: Any) -> list[str]:
    entries = bertrend.topic_sizes[topic]["Documents"]
    return [doc for when, docs in entries if when == stamp for doc in docs if isinstance(doc, str)]


def main(argv: list[str] | None = None) -> int:
    """Replay the peer and write its RESULT.json and table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--events", type=Path, required=True)
    parser.add_argument("--granularity", required=True)
    parser.add_argument("--embeddings-cache", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--language", default="English")
    parser.add_argument("--budget", default="3,5,10", help="flags per period, e.g. 3,5,10")
    parser.add_argument("--cut", help="time cut period (default: 60%% of the span)")
    args = parser.parse_args(argv)
    start, stopwatch = time.perf_counter(), Stopwatch()
    version = code_version()  # the code the replay starts with, before others commit
    try:
        budgets = parse_budget(args.budget)
        unit = check_granularity(args.granularity)
        with stopwatch.stage("load"):
            corpus = load_corpus(args.corpus, unit)
            cut = choose_cut(list(corpus), args.cut)
            sources = {d.source for docs in corpus.values() for d in docs}
            events, notes = load_events(args.events, sources, unit, list(corpus))
    except ObservatoryError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    by_period = stored_only(args.embeddings_cache, corpus)
    vectors = vectors_of(args.embeddings_cache, [d for docs in by_period.values() for d in docs])
    backend = use_backend()
    bertrend = make_bertrend(backend, args.language)
    history, ranked = replay_peer(by_period, vectors, bertrend, backend, stopwatch)
    with stopwatch.stage("evaluate"):
        cut_block, figures, rows = score_replay(history, ranked, events, budgets, cut.period)
    summary = history_summary(history, ranked)
    summary["run_to_run_identical"] = None
    stopwatch.seconds["total"] = time.perf_counter() - start
    result = BacktestResult(
        corpus=args.corpus.name,
        granularity=unit,
        system="BERTrend",
        n_docs=len(vectors),
        n_periods=len(by_period),
        params=_params(bertrend),
        model=_model_name(),
        code_version=version,
        budget=budgets,
        cut=cut_block,
        headline=headline(figures),
        figures=figures,
        events=rows,
        summary=summary,
        timings={k: round(v, 3) for k, v in stopwatch.seconds.items()},
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        notes=(*notes, f"period i = {BASE.date()} + {STEP_DAYS}*i days; window {WINDOW_DAYS} days"),
        periods=period_rows(history, ranked),
    )
    write_result(result, args.out)
    from rich.console import Console

    Console(stderr=True, width=160).print(format_table(result))
    return 0


def _params(bertrend: Any) -> dict[str, Any]:
    bertopic = json.loads(json.dumps(bertrend.topic_model.config, default=str))
    words = bertopic["vectorizer_model"].get("stop_words")
    if isinstance(words, list):
        bertopic["vectorizer_model"]["stop_words"] = f"{len(words)} BERTrend stopwords"
    return {
        "bertrend": dict(bertrend.config),
        "bertopic": bertopic,
        "window_days": WINDOW_DAYS,
        "step_days": STEP_DAYS,
    }


def _model_name() -> str:
    from importlib.metadata import version

    return (
        f"bertrend {version('bertrend')} / bertopic {version('bertopic')} on "
        "use-multilingual-v3 vectors"
    )


if __name__ == "__main__":
    sys.exit(main())
