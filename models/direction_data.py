"""The direction classifier's labelled set, built from labels the shared corpora already carry.

`data/direction_train/codes.toml` maps codes (CPC classes, conference venues, news categories and
sections) and, where a source has no codes, title patterns to a direction or "none". This module
applies it to `../shared/corpora` and writes `data/direction_train/labels.jsonl`: ids, labels,
the rule that gave each label, the split and a hash of the text, but no texts (paperlists and
ruanyf_weekly are for evaluation inside the project only), so the texts are read again from the
corpora whenever the set is used. Documents of the hand-labelled sample are never taken, so that
sample stays an independent test. `python -m models.direction_data` rebuilds the file.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import re
import tomllib
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from models.taxonomy import DIRECTION_IDS, load_taxonomy
from pipeline.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
CODES = ROOT / "data" / "direction_train" / "codes.toml"
LABELS_FILE = ROOT / "data" / "direction_train" / "labels.jsonl"
HAND_SAMPLE = ROOT / "data" / "direction_sample" / "sample.jsonl"
CORPORA = ("lens_covid", "paperlists", "huffpost", "patentsview_nn", "ruanyf_weekly")
NONE = "none"
SPLITS = (("train", 70), ("val", 85), ("test", 100))
SEED = 20261202
# Per-rule caps keep embedding to a few thousand documents on a 2-core machine; the large
# code-labelled pools (ML and robotics venues, HuffPost politics) are sampled, the small
# pattern-labelled ones are kept whole.
DEFAULT_CAP = 600
CAPS = {
    "venue-ml": 900,
    "venue-robotics": 1200,
    "venue-robotics-health": 400,
    "huffpost-offtopic": 1200,
    "weekly-offtopic": 700,
    "cpc-health": 500,
}


@dataclass(frozen=True)
class Rule:
    """One line of the code table: which documents of a source get which label."""

    id: str
    kind: str
    source: str
    direction: str
    codes: tuple[str, ...] = ()
    venues: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None
    field: str = "title"
    exclude: re.Pattern[str] | None = None


@dataclass(frozen=True)
class CodeTable:
    version: str
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class TrainDoc:
    """A labelled document: label, the rule that gave it, split, and its text for embedding."""

    id: str
    source: str
    lang: str
    label: str
    rule: str
    split: str
    text: str

    @property
    def text_hash(self) -> str:
        return hashlib.sha1(self.text.encode("utf-8")).hexdigest()[:16]


def _regex(value: object, where: str) -> re.Pattern[str] | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"{where}: expected a regex string, got {value!r}")
    try:
        return re.compile(value, re.IGNORECASE)
    except re.error as error:
        raise InputError(f"{where}: not a valid regex ({error})") from None


def load_codes(path: Path | str = CODES) -> CodeTable:
    """Read and check the code table."""
    table_path = Path(path)
    try:
        data = tomllib.loads(table_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"codes: no such file {table_path}") from None
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{table_path}: not valid TOML ({error})") from None
    rules = []
    for i, entry in enumerate(data.get("rule", [])):
        where = f"{table_path}: rule[{i}]"
        direction = entry.get("direction")
        if direction not in (*DIRECTION_IDS, NONE):
            raise InputError(
                f"{where}: field 'direction': expected one of "
                f"{', '.join((*DIRECTION_IDS, NONE))}, got {direction!r}"
            )
        kind = entry.get("kind")
        if kind not in ("cpc", "venue", "term"):
            raise InputError(f"{where}: field 'kind': expected cpc, venue or term, got {kind!r}")
        if entry.get("source") not in CORPORA:
            raise InputError(
                f"{where}: field 'source': expected one of {', '.join(CORPORA)}, "
                f"got {entry.get('source')!r}"
            )
        if kind == "term" and not entry.get("pattern"):
            raise InputError(f"{where}: field 'pattern': a term rule needs one")
        rules.append(
            Rule(
                id=str(entry.get("id")),
                kind=kind,
                source=entry["source"],
                direction=direction,
                codes=tuple(entry.get("codes", [])),
                venues=tuple(entry.get("venues", [])),
                pattern=_regex(entry.get("pattern"), f"{where}: field 'pattern'"),
                field=str(entry.get("field", "title")),
                exclude=_regex(entry.get("exclude"), f"{where}: field 'exclude'"),
            )
        )
    if not rules:
        raise InputError(f"{table_path}: no [[rule]] entries")
    return CodeTable(version=str(data.get("version", "")), rules=tuple(rules))


def find_shared(shared: Path | str | None = None) -> Path:
    """The shared data folder: given, or `../shared` from the repository or from its parent."""
    candidates = (
        [Path(shared)] if shared else [ROOT.parent / "shared", ROOT.parent.parent / "shared"]
    )
    for candidate in candidates:
        if (candidate / "corpora").is_dir():
            return candidate
    raise InputError(
        f"shared data: no corpora folder under {', '.join(map(str, candidates))}; pass --shared"
    )


def split_of(doc_id: str) -> str:
    """A fixed split from the id's hash: 70 % train, 15 % validation, 15 % test."""
    bucket = int(hashlib.sha1(doc_id.encode("utf-8")).hexdigest()[:8], 16) % 100
    return next(name for name, upper in SPLITS if bucket < upper)


def _venue(row: dict[str, object]) -> str:
    meta = row.get("meta") or {}
    if row["source"] == "paperlists" and isinstance(meta, dict):
        return str(meta.get("venue_key") or "")
    return str(row.get("venue") or "")


def _matches(rule: Rule, row: dict[str, object], title: str, text: str) -> bool:
    if rule.venues and _venue(row) not in rule.venues:
        return False
    if rule.exclude is not None and rule.exclude.search(title):
        return False
    if rule.kind == "cpc":
        meta = row.get("meta") or {}
        codes = meta.get("cpc", []) if isinstance(meta, dict) else []
        return any(str(code).startswith(rule.codes) for code in codes)
    if rule.kind == "term":
        where = text if rule.field == "text" else title
        return rule.pattern is not None and rule.pattern.search(where) is not None
    return True


def _taxonomy_mentions() -> re.Pattern[str]:
    """Any EN or ZH term or name of the taxonomy: a "none" document naming one is dropped."""
    taxonomy = load_taxonomy("v1")
    terms = {
        t
        for track in taxonomy.tracks
        for t in (*track.terms_en, *track.terms_zh, track.name_en, track.name_zh)
    }
    parts = sorted((re.escape(t) for t in terms if len(t) >= 2), key=len, reverse=True)
    return re.compile(r"(?<![a-z])(?:" + "|".join(parts) + r")(?![a-z])", re.IGNORECASE)


def _read_corpus(path: Path) -> Iterator[dict[str, object]]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                yield json.loads(line)
            except json.JSONDecodeError as error:
                raise InputError(f"{path}:{number}: not valid JSON ({error})") from None


def _hand_sample_ids() -> set[str]:
    with HAND_SAMPLE.open(encoding="utf-8") as handle:
        return {json.loads(line)["id"] for line in handle if line.strip()}


def collect(shared: Path, table: CodeTable) -> list[TrainDoc]:
    """Every document of the corpora that a rule labels, capped per rule with a fixed seed."""
    held_out = _hand_sample_ids()
    mentions = _taxonomy_mentions()
    pools: dict[str, list[TrainDoc]] = defaultdict(list)
    for corpus in CORPORA:
        rules = [rule for rule in table.rules if rule.source == corpus]
        if not rules:
            continue
        seen_texts: set[str] = set()
        for row in _read_corpus(shared / "corpora" / f"{corpus}.jsonl.gz"):
            meta = row.get("meta") or {}
            doc_id = str(row["id"])
            if doc_id in held_out or (isinstance(meta, dict) and meta.get("duplicate_text_of")):
                continue
            title = str(row.get("title") or "")
            text = f"{title}\n{row.get('text') or ''}".strip()
            if text in seen_texts:
                continue
            rule = next((r for r in rules if _matches(r, row, title, text)), None)
            if rule is None or (rule.direction == NONE and mentions.search(text)):
                continue
            seen_texts.add(text)
            pools[rule.id].append(
                TrainDoc(
                    doc_id,
                    corpus,
                    str(row.get("lang") or "en"),
                    rule.direction,
                    rule.id,
                    split_of(doc_id),
                    text,
                )
            )
    docs: list[TrainDoc] = []
    for rule in table.rules:
        pool = pools.get(rule.id, [])
        cap = CAPS.get(rule.id, DEFAULT_CAP)
        if len(pool) > cap:
            pool = random.Random(f"{SEED}:{rule.id}").sample(pool, cap)
        docs += sorted(pool, key=lambda doc: doc.id)
    return docs


def write_labels(docs: Sequence[TrainDoc], table: CodeTable, path: Path = LABELS_FILE) -> str:
    """Write ids, labels, rules, splits and text hashes; return the file's sha256."""
    lines = [
        json.dumps(
            {
                "id": d.id,
                "source": d.source,
                "lang": d.lang,
                "label": d.label,
                "rule": d.rule,
                "split": d.split,
                "text_sha1": d.text_hash,
            },
            ensure_ascii=False,
        )
        for d in docs
    ]
    header = json.dumps({"codes_version": table.version, "n": len(docs)})
    body = "\n".join([header, *lines]) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def labels_hash(path: Path = LABELS_FILE) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_labelled(shared: Path, path: Path = LABELS_FILE) -> list[TrainDoc]:
    """The labelled set with its texts, read back from the corpora; a changed text is an error."""
    if not path.exists():
        raise InputError(f"labels: no such file {path}; run python -m models.direction_data")
    wanted: dict[str, dict[str, str]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()[1:], start=2):
        row = json.loads(line)
        if not isinstance(row, dict) or "id" not in row:
            raise InputError(f"{path}:{number}: expected an object with an id")
        wanted[row["id"]] = row
    texts: dict[str, str] = {}
    for corpus in sorted({row["source"] for row in wanted.values()}):
        for record in _read_corpus(shared / "corpora" / f"{corpus}.jsonl.gz"):
            if record["id"] in wanted:
                texts[str(record["id"])] = (
                    f"{record.get('title') or ''}\n{record.get('text') or ''}".strip()
                )
    docs = []
    for doc_id, row in wanted.items():
        if doc_id not in texts:
            raise InputError(f"{path}: document {doc_id} is not in {shared / 'corpora'}")
        doc = TrainDoc(
            doc_id,
            row["source"],
            row["lang"],
            row["label"],
            row["rule"],
            row["split"],
            texts[doc_id],
        )
        if doc.text_hash != row["text_sha1"]:
            raise InputError(f"{path}: document {doc_id}: its text in the corpora changed")
        docs.append(doc)
    return docs


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m models.direction_data",
        description="Rebuild data/direction_train/labels.jsonl.",
    )
    parser.add_argument("--shared", default=None, help="the shared data folder (../shared)")
    args = parser.parse_args(argv)
    table = load_codes()
    docs = collect(find_shared(args.shared), table)
    digest = write_labels(docs, table)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for doc in docs:
        counts[(doc.label, doc.lang)] += 1
    print(f"{len(docs)} documents, sha256 {digest}")
    for label in (*DIRECTION_IDS, NONE):
        print(f"  {label:<14} en={counts[(label, 'en')]:>5} zh={counts[(label, 'zh')]:>5}")


if __name__ == "__main__":
    main()
