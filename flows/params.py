"""Engine parameters from settings, in one place for the CLI and every flow."""

from __future__ import annotations

from models.cluster import ClusterParams
from models.engine import EngineParams
from models.score import ScoreParams
from models.signals import SignalParams
from models.terms import TermParams
from models.terms_score import TermScoreParams
from observatory.settings import Settings
from pipeline.periods import check_granularity


def engine_params(settings: Settings, granularity: str | None = None) -> EngineParams:
    """The engine's knobs as the settings give them."""
    chosen = check_granularity(granularity or settings.granularity)
    return EngineParams(
        granularity=chosen,
        cluster=ClusterParams(
            min_cluster_size=settings.min_cluster_size, min_samples=settings.min_samples,
            reduce_dims=settings.reduce_dims, selection=settings.cluster_selection,
            reattach_threshold=settings.outlier_reattach_threshold, seed=settings.seed,
            reducer=settings.cluster_reducer, algorithm=settings.cluster_algorithm,
        ),
        score=ScoreParams(
            decay=settings.decay, decay_power=settings.decay_power,
            weak_percentile=settings.weak_percentile,
            strong_percentile=settings.strong_percentile,
            burst_s=settings.burst_s, burst_gamma=settings.burst_gamma,
            weight_growth=settings.weight_growth, weight_novelty=settings.weight_novelty,
            weight_burst=settings.weight_burst, weight_porter=settings.weight_porter,
            weight_cross_source=settings.weight_cross_source,
            min_docs_to_flag=settings.min_docs_to_flag, novelty_min=settings.novelty_min,
            # Porter's score is meant for yearly data; weeks and days are too noisy for it.
            porter=chosen in ("month", "quarter", "year"), flag_growth=settings.flag_growth,
        ),
        terms=TermParams(seed_taxonomy=settings.seed_taxonomy),
        term_score=TermScoreParams(porter=chosen in ("month", "quarter", "year"),
                                   burst_s=settings.burst_s, burst_gamma=settings.burst_gamma),
        signals=SignalParams(enabled=settings.signals, term_weight=settings.term_weight),
        drift_end=settings.drift_end,
        match_threshold=settings.match_threshold,
        outlier_min_cluster_size=settings.outlier_min_cluster_size,
        outlier_min_cohesion=settings.outlier_min_cohesion,
        outlier_reduce_dims=settings.outlier_reduce_dims,
        split_share=settings.split_share, split_min=settings.split_min,
        split_inherits_history=settings.split_inherits_history,
        direction_threshold=settings.direction_threshold,
        direction_margin=settings.direction_margin,
        embed_batch_size=settings.embed_batch_size,
        grace_days=settings.grace_days,
    )
