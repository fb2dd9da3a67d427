"""benchmarks/throughput.py: the synthetic corpus builder and one tiny configuration end to end."""

import importlib.util
import json
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from pipeline.ingest import IngestReport, read_documents
from pipeline.normalise import canonical_url
from pipeline.periods import period_of

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "throughput.py"
WORDS = [
    "battery",
    "lithium",
    "anode",
    "cathode",
    "charge",
    "grid",
    "solar",
    "wind",
    "turbine",
    "storage",
    "robot",
    "arm",
    "sensor",
    "vision",
    "camera",
    "lidar",
    "chip",
    "wafer",
    "lithography",
    "etch",
    "model",
    "training",
    "inference",
    "dataset",
    "protein",
    "enzyme",
    "cell",
    "gene",
    "editing",
    "vaccine",
]


@pytest.fixture(scope="module")
def throughput():
    spec = importlib.util.spec_from_file_location("throughput_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def base_corpus(path: Path, n: int = 60) -> Path:
    lines = []
    for i in range(n):
        picked = [WORDS[(i * 7 + k * 3) % len(WORDS)] for k in range(8)]
        lines.append(
            {
                "id": f"base:{i}",
                "source": "synthetic",
                "kind": "paper",
                "date": f"2019-{1 + i % 12:02d}-01",
                "date_precision": "month",
                "title": f"{picked[0]} {picked[1]} study {i}",
                "text": " ".join(picked) + f" item {i}",
                "lang": "en",
                "url": f"https://example.org/paper/{i}?utm_source=feed#abstract",
            }
        )
    lines.append(dict(lines[0], id="base:dup"))  # same text and URL: dropped from the base
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


def test_copies_never_share_a_period(throughput, tmp_path):
    base = throughput.load_base(base_corpus(tmp_path / "base.jsonl"))
    assert len(base) == 60
    assert [b.doc_id for b in base] == sorted((b.doc_id for b in base), key=throughput._order_key)
    path = throughput.write_synthetic(base, 200, 4, tmp_path / "synthetic.jsonl")
    docs = list(read_documents(path, skip_bad=False, report=IngestReport(str(path))))
    assert len(docs) == 200
    assert len({d.doc_id for d in docs}) == 200
    assert len({d.canonical_url for d in docs}) == 200
    by_period = defaultdict(list)
    for doc in docs:
        by_period[period_of(doc.published, "month")].append(doc.content_hash)
    assert sorted(by_period) == ["2001-01", "2001-02", "2001-03", "2001-04"]
    assert all(len(hashes) == 50 for hashes in by_period.values())
    assert all(len(set(hashes)) == len(hashes) for hashes in by_period.values())
    copies = [d for d in docs if "#r" in d.doc_id]
    assert copies and max(int(d.doc_id.rsplit("#r", 1)[1]) for d in copies) == 3
    assert all(f"copy={d.doc_id.rsplit('#r', 1)[1]}" in (d.canonical_url or "") for d in copies)
    assert (
        canonical_url(throughput.copy_url("https://a.org/x?utm_source=y#f", 2))
        == "https://a.org/x?copy=2"
    )
    with pytest.raises(ValueError, match="distinct base texts"):
        list(throughput.synthetic_records(base, 400, 4))  # 100 per period > 60 texts


def test_one_configuration_end_to_end(throughput, tmp_path):
    base = throughput.load_base(base_corpus(tmp_path / "base.jsonl"))
    corpus = throughput.write_synthetic(base, 200, 4, tmp_path / "synthetic.jsonl.gz")
    result_path = tmp_path / "out" / "n200_p4.json"
    status = throughput.main(
        [
            "run",
            str(corpus),
            "--db",
            str(tmp_path / "store.duckdb"),
            "--reports",
            str(tmp_path / "reports"),
            "--result",
            str(result_path),
            "--encoder",
            "hashing-256",
            "--expect-periods",
            "4",
            "--grid",
            "periods",
        ]
    )
    assert status == 0
    result = json.loads(result_path.read_text(encoding="utf-8"))
    assert result["n_docs"] == 200 and result["n_periods"] == 4
    assert result["n_texts"] == 60
    assert result["docs_per_period"] == 50
    assert set(throughput.STAGES) <= set(result["seconds"])
    assert all(v >= 0 for k, v in result["seconds"].items() if k != "process_other")
    assert result["seconds"]["embed_new"] < 1.0  # vectors came in before processing
    assert len(result["period_seconds"]) == 4 and result["period_docs"] == [50] * 4
    assert result["peak_rss_mb"] > 0 and result["machine"]["cpu_count"]
    assert result["code_version"] and result["encoder"] == "hashing-256"
    assert (tmp_path / "reports" / result["report"]).exists()
    table = throughput.format_tables(tmp_path / "out")
    assert "| 200 | 4 | 50 |" in table
