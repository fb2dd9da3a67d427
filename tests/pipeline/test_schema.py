import duckdb
import pytest

from pipeline.db import connect
from pipeline.errors import SchemaError
from pipeline.migrations import MIGRATIONS
from pipeline.schema import migrate, schema_version


def test_migrations_apply_once_and_in_order():
    con = duckdb.connect(":memory:")
    assert migrate(con) == len(MIGRATIONS)
    assert migrate(con) == 0
    assert schema_version(con) == len(MIGRATIONS)
    tables = {
        row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    assert {
        "documents",
        "embeddings",
        "runs",
        "topics",
        "topic_periods",
        "doc_topics",
        "topic_lineage",
        "directions",
        "topic_directions",
        "v_emerging",
        "v_topic_timeline",
    } <= tables


def test_a_newer_database_is_refused(tmp_path):
    path = tmp_path / "x.duckdb"
    con = connect(path)
    con.execute("INSERT INTO schema_migrations (version, name) VALUES (999, 'future')")
    con.close()
    with pytest.raises(SchemaError, match="newer than this code"):
        connect(path)


def test_read_only_open_of_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(SchemaError, match="no such database"):
        connect(tmp_path / "missing.duckdb", read_only=True)
