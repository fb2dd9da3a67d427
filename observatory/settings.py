"""Typed settings: the stages' own parameter models, nested; then `OBSERVATORY_*` variables.

Each default lives beside its stage (`models.engine.EngineParams` and the models it nests,
`crawlers.params.CrawlParams`); this class only composes them. Nested values are set with
`__` between the levels, the same path as in a run's stored parameters:
`OBSERVATORY_ENGINE__CLUSTER__REDUCER=umap`, `OBSERVATORY_CRAWL__TIMEOUT_S=600`. The flat
names of the previous release still work for one release, with a line on stderr
(`observatory.legacy_names`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import (
    Field,
    PrivateAttr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from crawlers.params import CrawlParams
from models.engine import EngineParams
from observatory.legacy_names import FlatEnvSource, FlatInitSource, env_name, given_paths
from pipeline.errors import InputError
from pipeline.periods import Granularity, check_granularity

# Porter's score is meant for yearly data; weeks and days are too noisy for it.
PORTER_GRANULARITIES = ("month", "quarter", "year")


class Settings(BaseSettings):
    """Everything a run can be tuned by; the CLI builds one per command and hands parts down."""

    model_config = SettingsConfigDict(
        env_prefix="OBSERVATORY_", env_nested_delimiter="__", extra="ignore"
    )

    db: Path = Field(default=Path("observatory.duckdb"), description="DuckDB file")
    reports_dir: Path = Field(default=Path("reports_out"), description="where reports go")
    encoder: str = Field(
        default="use-multilingual-v3",
        description="use-multilingual-v3, hashing-256, minilm-offline, "
        "or a sentence-transformers name or path",
    )
    encoder_threads: int = 1
    workers: int = Field(
        default=0,
        ge=0,
        description="local Dask worker processes for "
        "embedding and clustering; 0: everything in this process",
    )
    dask_address: str | None = Field(
        default=None,
        description="scheduler of a running Dask "
        "cluster, tcp://HOST:8786 (instead of local workers)",
    )
    granularity: str | None = Field(
        default=None,
        description="day, week, month, quarter or year; unset: the one the "
        "database was processed with, else engine.granularity",
    )
    taxonomy: str = "v1"
    engine: EngineParams = Field(
        default_factory=EngineParams, description="processing (models/engine.py and the stages)"
    )
    crawl: CrawlParams = Field(
        default_factory=CrawlParams, description="crawling (crawlers/params.py)"
    )
    _given: frozenset[str] = PrivateAttr(default=frozenset())

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Arguments first, then the nested variables, then last release's flat ones.
        return (
            FlatInitSource(settings_cls, init_settings),
            env_settings,
            FlatEnvSource(settings_cls),
            dotenv_settings,
            file_secret_settings,
        )

    @model_validator(mode="wrap")
    @classmethod
    def _remember_given(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Settings:
        settings: Settings = handler(data)
        if isinstance(data, dict):
            settings._given = frozenset(given_paths(data))
        return settings

    def given(self, path: str) -> bool:
        """Whether a value was set (argument or environment) at `path`, e.g.
        "engine.cluster.reducer", rather than left at its default."""
        return path in self._given

    def engine_params(self, granularity: str | None = None) -> EngineParams:
        """The engine's parameters at `granularity` (else the settings' own, else the
        engine's default); Porter's score is on for months and longer periods only."""
        chosen: Granularity = check_granularity(
            granularity or self.granularity or self.engine.granularity
        )
        porter = chosen in PORTER_GRANULARITIES
        engine = self.engine
        return replace(
            engine,
            granularity=chosen,
            score=replace(engine.score, porter=porter),
            term_score=replace(engine.term_score, porter=porter),
        )


def load_settings(**given: Any) -> Settings:
    """`Settings(**given)` over the environment; a bad value is one InputError naming it."""
    try:
        return Settings(**given)
    except ValidationError as error:
        first = error.errors()[0]
        path = ".".join(str(part) for part in first["loc"])
        raise InputError(
            f"setting {path} ({env_name(path)}): {first['msg']}, got {first.get('input')!r}"
        ) from None
