"""Last release's flat setting names (`OBSERVATORY_MIN_CLUSTER_SIZE`), mapped onto the nested
ones for one more release, each with one deprecation line on stderr per process.

The three API keys keep their flat variable names for good: they are what the spiders' and
the scan's messages ask for, and a secret is usually handed over as one plain variable.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

PREFIX = "OBSERVATORY_"
_CLUSTER = {
    "seed": "seed",
    "min_cluster_size": "min_cluster_size",
    "min_samples": "min_samples",
    "reduce_dims": "reduce_dims",
    "cluster_selection": "selection",
    "cluster_reducer": "reducer",
    "cluster_algorithm": "algorithm",
    "outlier_reattach_threshold": "reattach_threshold",
}
_ENGINE = (
    "match_threshold",
    "outlier_min_cluster_size",
    "outlier_min_cohesion",
    "outlier_reduce_dims",
    "split_share",
    "split_min",
    "split_inherits_history",
    "drift_end",
    "direction_threshold",
    "direction_margin",
    "embed_batch_size",
    "grace_days",
)
_SCORE = (
    "novelty_min",
    "decay",
    "decay_power",
    "weak_percentile",
    "strong_percentile",
    "weight_growth",
    "weight_novelty",
    "weight_burst",
    "weight_porter",
    "weight_cross_source",
    "min_docs_to_flag",
    "flag_growth",
)
_CRAWL = {
    "contact": "contact",
    "user_agent": "user_agent",
    "sources_file": "sources_file",
    "openalex_mailto": "openalex_mailto",
    "crawl_source_timeout_s": "crawl_source_timeout_s",
    "crawl_timeout_s": "crawl_timeout_s",
    "crawl_probe_timeout_s": "crawl_probe_timeout_s",
}
KEPT = ("patentsview_api_key", "epo_ops_key", "epo_ops_secret")

# Flat name -> the nested paths it sets (burst_s set both scores' burst before).
FLAT: dict[str, tuple[str, ...]] = {
    **{flat: (f"engine.cluster.{name}",) for flat, name in _CLUSTER.items()},
    **{name: (f"engine.{name}",) for name in _ENGINE},
    **{name: (f"engine.score.{name}",) for name in _SCORE},
    **{
        name: (f"engine.score.{name}", f"engine.term_score.{name}")
        for name in ("burst_s", "burst_gamma")
    },
    "signals": ("engine.signals.enabled",),
    "term_weight": ("engine.signals.term_weight",),
    "seed_taxonomy": ("engine.terms.seed_taxonomy",),
    **{flat: (f"crawl.{name}",) for flat, name in _CRAWL.items()},
    **{name: (f"crawl.{name}",) for name in KEPT},
}
_warned: set[str] = set()


def env_name(path: str) -> str:
    """engine.cluster.seed -> OBSERVATORY_ENGINE__CLUSTER__SEED."""
    return PREFIX + "__".join(path.split(".")).upper()


def _warn(flat: str, shown: str) -> None:
    if flat in KEPT or flat in _warned:
        return
    _warned.add(flat)
    print(
        f"observatory: {shown} is deprecated and goes in the next release; use "
        f"{' and '.join(env_name(path) for path in FLAT[flat])}",
        file=sys.stderr,
    )


def nest(values: Mapping[str, Any], shown: str = "{}") -> dict[str, Any]:
    """`values` with every flat name moved to its nested paths (`shown` names it in the
    deprecation line); nested values given alongside win over flat ones."""
    nested: dict[str, Any] = {}
    for flat, value in values.items():
        if flat.lower() not in FLAT:
            continue
        _warn(flat.lower(), shown.format(flat))
        for path in FLAT[flat.lower()]:
            *parents, leaf = path.split(".")
            level = nested
            for parent in parents:
                level = level.setdefault(parent, {})
            level[leaf] = value
    rest = {key: value for key, value in values.items() if key.lower() not in FLAT}
    return _merge(nested, rest)


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def given_paths(data: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    """Every dotted path with a value in `data` (nested dictionaries walked)."""
    for key, value in data.items():
        path = f"{prefix}{key}"
        yield path
        if isinstance(value, Mapping):
            yield from given_paths(value, f"{path}.")


class _Source(PydanticBaseSettingsSource):
    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # __call__ gives every value at once


class FlatInitSource(_Source):
    """Keyword arguments (and `weekly_flow`'s overrides) with flat names accepted."""

    def __init__(self, settings_cls: type[BaseSettings], init: PydanticBaseSettingsSource) -> None:
        super().__init__(settings_cls)
        self.init = init

    def __call__(self) -> dict[str, Any]:
        return nest(self.init(), "setting {!r}")


class FlatEnvSource(_Source):
    """`OBSERVATORY_<FLAT NAME>` variables, below the nested ones."""

    def __call__(self) -> dict[str, Any]:
        found = {
            key[len(PREFIX) :]: value
            for key, value in os.environ.items()
            if key.upper().startswith(PREFIX) and key[len(PREFIX) :].lower() in FLAT
        }
        return nest(found, PREFIX + "{}")
