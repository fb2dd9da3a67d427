import gzip
import json

import pytest

from pipeline.db import session
from pipeline.errors import InputError
from pipeline.ingest import ingest_file
from pipeline.store import count_documents

GOOD = {
    "id": "n:1",
    "source": "s",
    "kind": "news",
    "date": "2024-05-06",
    "date_precision": "day",
    "title": "Solid-state battery",
    "text": "A new cell.",
    "url": "https://www.example.org/a?utm_source=x#top",
    "lang": "en",
    "venue": None,
    "meta": {"k": 1},
}


def write_lines(path, records):
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n",
        encoding="utf-8",
    )
    return path


def test_ingest_stores_every_field(tmp_path):
    path = write_lines(tmp_path / "c.jsonl", [GOOD])
    with session(tmp_path / "db.duckdb") as con:
        report = ingest_file(con, path)
        row = con.execute(
            "SELECT doc_id, canonical_url, published::VARCHAR, meta->>'k' FROM documents"
        ).fetchall()
    assert report.added == 1
    assert row == [("n:1", "https://example.org/a", "2024-05-06", "1")]


def test_reingest_adds_nothing(tmp_path, small_corpus):
    with session(tmp_path / "db.duckdb") as con:
        first = ingest_file(con, small_corpus)
        second = ingest_file(con, small_corpus)
        assert count_documents(con) == first.added == 804
    assert second.added == 0 and second.already_stored == 804


def test_gzip_files_are_read(tmp_path):
    path = tmp_path / "c.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps(GOOD) + "\n")
    with session(tmp_path / "db.duckdb") as con:
        assert ingest_file(con, path).added == 1


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (
            {**GOOD, "id": "n:2", "date": "2024-13-01"},
            "c.jsonl:2: field 'date': expected YYYY-MM-DD, got '2024-13-01'",
        ),
        (
            {**GOOD, "id": "n:2", "date": "06/05/2024"},
            "c.jsonl:2: field 'date': expected YYYY-MM-DD, got '06/05/2024'",
        ),
        ({k: v for k, v in GOOD.items() if k != "title"}, "c.jsonl:2: field 'title': missing"),
        ({**GOOD, "kind": "blog"}, "c.jsonl:2: field 'kind': expected news | paper"),
        ("{not json", "c.jsonl:2: not valid JSON"),
    ],
)
def test_a_bad_line_stores_nothing_from_the_file(tmp_path, bad, message):
    path = write_lines(tmp_path / "c.jsonl", [GOOD, bad, {**GOOD, "id": "n:3"}])
    with session(tmp_path / "db.duckdb") as con:
        with pytest.raises(InputError) as caught:
            ingest_file(con, path)
        assert message in str(caught.value)
        assert count_documents(con) == 0


def test_skip_bad_imports_the_good_lines_and_counts_reasons(tmp_path):
    third = {**GOOD, "id": "n:3", "url": "https://example.org/b"}
    path = write_lines(tmp_path / "c.jsonl", [GOOD, {**GOOD, "id": "n:2", "date": "x"}, third])
    with session(tmp_path / "db.duckdb") as con:
        report = ingest_file(con, path, skip_bad=True)
    assert (report.added, report.skipped) == (2, 1)
    assert report.skip_reasons == {"field 'date': expected YYYY-MM-DD, got 'x'": 1}


def test_same_canonical_url_under_another_id_is_not_duplicated(tmp_path):
    other = {**GOOD, "id": "n:9", "url": "http://example.org/a"}
    path = write_lines(tmp_path / "c.jsonl", [GOOD, other])
    with session(tmp_path / "db.duckdb") as con:
        assert ingest_file(con, path).added == 1


def test_ingest_reports_each_stored_batch(tmp_path, small_corpus):
    batches: list[int] = []
    with session(tmp_path / "b.duckdb") as con:
        report = ingest_file(con, small_corpus, on_batch=batches.append)
    assert sum(batches) == report.read == 804 and all(batches)
