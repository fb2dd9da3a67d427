"""A taxonomy of one track per direction, each with one EN and one ZH term: what the direction
tests build their examples on (shared by test_directions.py and test_direction_lexical.py)."""

from models.taxonomy import DIRECTION_IDS, Taxonomy, Track


def one_track_taxonomy() -> Taxonomy:
    tracks = tuple(
        Track(
            id=f"{d}.only",
            direction=d,
            kind="subtrack",
            name_en=f"{d} track",
            name_zh=f"{d}赛道",
            description_en=d,
            description_zh=d,
            terms_en=(f"{d}-term",),
            terms_zh=(f"{d}词",),
        )
        for d in DIRECTION_IDS
    )
    return Taxonomy("test-v1", {d: (d.title(), d) for d in DIRECTION_IDS}, tracks)
