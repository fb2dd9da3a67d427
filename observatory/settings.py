"""Typed settings: defaults, then `OBSERVATORY_*` environment variables, then CLI flags."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything a run can be tuned by; the CLI builds one and passes values down."""

    model_config = SettingsConfigDict(env_prefix="OBSERVATORY_", extra="ignore")

    db: Path = Field(default=Path("observatory.duckdb"), description="DuckDB file")
    reports_dir: Path = Field(default=Path("reports_out"), description="where reports go")
    encoder: str = Field(default="use-multilingual-v3",
                         description="use-multilingual-v3, hashing-256, minilm-offline, "
                                     "or a sentence-transformers name or path")
    encoder_threads: int = 1
    workers: int = Field(default=0, ge=0, description="local Dask worker processes for "
                         "embedding and clustering; 0: everything in this process")
    dask_address: str | None = Field(default=None, description="scheduler of a running Dask "
                                     "cluster, tcp://HOST:8786 (instead of local workers)")
    embed_batch_size: int = 64
    granularity: str = "week"
    grace_days: float = Field(
        default=1.0, ge=0, description="days after a period ends (UTC) before it is processed")
    seed: int = 42
    min_cluster_size: int = 0  # 0: scaled to the period's size
    min_samples: int = 0  # 0: derived from min_cluster_size
    reduce_dims: int = 5
    cluster_selection: str = "leaf"
    cluster_reducer: str = Field(default="pca", description="pca, umap (seeded) or none")
    cluster_algorithm: str = Field(default="hdbscan", description="hdbscan or fast_hdbscan")
    match_threshold: float = 0.6
    outlier_reattach_threshold: float = 0.35
    outlier_min_cluster_size: int = Field(
        default=0, description="second clustering pass over outliers; 0 turns it off")
    outlier_min_cohesion: float = 0.45
    outlier_reduce_dims: int = 20
    split_share: float = Field(
        default=0.01, description="split clusters above this share of the period; 0: never")
    split_min: int = 40
    split_inherits_history: bool = True
    novelty_min: float = 0.4
    decay: float = 0.01
    decay_power: float = 2.0
    weak_percentile: float = 10.0
    strong_percentile: float = Field(
        default=50.0, description="BERTrend's paper uses 10/50, its code 10/75")
    burst_s: float = 2.0
    burst_gamma: float = 1.0
    weight_growth: float = 1.0
    weight_novelty: float = 1.0
    weight_burst: float = 0.5
    weight_porter: float = 0.25
    weight_cross_source: float = 0.25
    min_docs_to_flag: int = 3
    flag_growth: float = Field(
        default=0.693147, description="growth (ln) from which a rise is emergence evidence")
    drift_end: float = Field(
        default=0.25, description="end a topic farther than this from its birth centroid "
                                 "whose keywords share nothing with its last ones; 2: never")
    signals: bool = Field(default=True, description="terms and term signals each period")
    seed_taxonomy: bool = Field(
        default=True, description="taxonomy terms may create candidate terms (off in "
                                  "backtests)")
    term_weight: float = Field(
        default=1.0, description="term signals' scores against topics' in the ranked list")
    direction_threshold: float = 0.25
    direction_margin: float = 0.0
    taxonomy: str = "v1"
    contact: str = "observatory@example.org"
    user_agent: str = "FutureIndustryObservatory/0.1 (+https://example.org/observatory)"
    sources_file: Path | None = None
    crawl_source_timeout_s: float = Field(
        default=300.0, ge=0, description="each source's deadline in a crawl; 0: none")
    crawl_timeout_s: float = Field(
        default=1800.0, ge=0, description="the whole crawl's deadline; 0: none")
    crawl_probe_timeout_s: float = Field(
        default=3.0, ge=0, description="TCP probe of each source's host before a crawl; "
                                       "0: no probe")
    patentsview_api_key: str | None = None
    epo_ops_key: str | None = None
    epo_ops_secret: str | None = None
    openalex_mailto: str | None = None
