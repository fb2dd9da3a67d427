"""The versioned, bilingual six-direction taxonomy kept as TOML data files."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import InputError

TAXONOMY_DIR = Path(__file__).parent / "taxonomy"
DIRECTION_IDS = ("manufacturing", "information", "materials", "energy", "space", "health")


@dataclass(frozen=True)
class Track:
    """A sub-track or landmark product of one direction."""

    id: str
    direction: str
    kind: str
    name_en: str
    name_zh: str
    description_en: str
    description_zh: str
    terms_en: tuple[str, ...]
    terms_zh: tuple[str, ...]

    def texts(self) -> tuple[str, str]:
        """The English and Chinese texts that stand for this track when embedded."""
        return (
            f"{self.name_en}: {self.description_en} {', '.join(self.terms_en)}",
            f"{self.name_zh}：{self.description_zh} {'、'.join(self.terms_zh)}",
        )


@dataclass(frozen=True)
class Taxonomy:
    """Six directions and their tracks, under one version string."""

    version: str
    directions: dict[str, tuple[str, str]]
    tracks: tuple[Track, ...]

    def rows(self) -> list[tuple[str, str, str, str, str, str, str, str]]:
        """The `directions` table's rows: each direction (track = its id, kind "direction"),
        each track, and "unmapped", with EN and ZH names and descriptions."""
        rows = [
            (self.version, d, d, "direction", en, zh, en, zh)
            for d, (en, zh) in self.directions.items()
        ]
        rows += [
            (
                self.version,
                t.direction,
                t.id,
                t.kind,
                t.name_en,
                t.name_zh,
                t.description_en,
                t.description_zh,
            )
            for t in self.tracks
        ]
        rows.append(
            (
                self.version,
                "unmapped",
                "unmapped",
                "unmapped",
                "Unmapped (candidate new area)",
                "未归类（候选新领域）",
                "Not mapped to any of the six directions",
                "未归入六个方向",
            )
        )
        return rows

    def user_terms(self) -> tuple[str, ...]:
        """Chinese terms for jieba's user dictionary, so 脑机接口 stays one word."""
        names = {track.name_zh for track in self.tracks if " " not in track.name_zh}
        return tuple(sorted(names | {term for track in self.tracks for term in track.terms_zh}))


def _need(table: dict[str, object], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}: field '{key}': expected a non-empty string, got {value!r}")
    return value


def _terms(table: dict[str, object], key: str) -> tuple[str, ...]:
    value = table.get(key, [])
    return tuple(str(item) for item in value) if isinstance(value, list) else ()


def load_taxonomy(name_or_path: str = "v1") -> Taxonomy:
    """Load a shipped version (`v1`, `v2`) or a TOML file of the same shape."""
    path = Path(name_or_path)
    if not path.suffix:
        path = TAXONOMY_DIR / f"{name_or_path}.toml"
    if not path.exists():
        raise InputError(f"taxonomy: no such file {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{path}: not valid TOML ({error})") from None
    directions = {}
    for i, entry in enumerate(data.get("direction", [])):
        where = f"{path}: direction[{i}]"
        directions[_need(entry, "id", where)] = (
            _need(entry, "name_en", where),
            _need(entry, "name_zh", where),
        )
    tracks = []
    for i, entry in enumerate(data.get("track", [])):
        where = f"{path}: track[{i}]"
        direction = _need(entry, "direction", where)
        if direction not in directions:
            raise InputError(
                f"{where}: field 'direction': expected one of "
                f"{', '.join(directions)}, got {direction!r}"
            )
        tracks.append(
            Track(
                id=_need(entry, "id", where),
                direction=direction,
                kind=str(entry.get("kind", "subtrack")),
                name_en=_need(entry, "name_en", where),
                name_zh=_need(entry, "name_zh", where),
                description_en=_need(entry, "description_en", where),
                description_zh=_need(entry, "description_zh", where),
                terms_en=_terms(entry, "terms_en"),
                terms_zh=_terms(entry, "terms_zh"),
            )
        )
    if not tracks:
        raise InputError(f"{path}: no [[track]] entries")
    return Taxonomy(
        version=_need(data, "version", str(path)), directions=directions, tracks=tuple(tracks)
    )
