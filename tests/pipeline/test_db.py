import duckdb
import pytest

from pipeline.db import held, session, transaction


def test_sessions_inside_held_share_one_connection_and_it_closes_after(tmp_path):
    path = tmp_path / "store.duckdb"
    with held(path):
        with session(path) as first, transaction(first):
            first.execute("CREATE TABLE t (x INTEGER)")
            first.execute("INSERT INTO t VALUES (1)")
        with session(path) as second:
            assert second is first
            assert second.execute("SELECT count(*) FROM t").fetchone() == (1,)
    # Closed at the end of the block: another process could now open the file.
    with pytest.raises(duckdb.ConnectionException):
        first.execute("SELECT 1")
    with session(path) as con:
        assert con.execute("SELECT x FROM t").fetchall() == [(1,)]


def test_breathe_reopens_only_after_the_hold_limit(tmp_path):
    path = tmp_path / "store.duckdb"
    with held(path, max_hold_seconds=3600) as hold:
        with session(path) as first:
            pass
        hold.breathe()
        with session(path) as still:
            assert still is first
    with held(path, max_hold_seconds=0) as hold:
        with session(path) as first:
            pass
        hold.breathe()
        with session(path) as fresh:
            assert fresh is not first


def test_a_failed_transaction_inside_held_leaves_nothing(tmp_path):
    path = tmp_path / "store.duckdb"
    with held(path):
        with session(path) as con:
            con.execute("CREATE TABLE t (x INTEGER)")
        with pytest.raises(RuntimeError), session(path) as con, transaction(con):
            con.execute("INSERT INTO t VALUES (1)")
            raise RuntimeError("killed")
        with session(path) as con:
            assert con.execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_a_read_only_session_inside_held_refuses_writes(tmp_path):
    db = tmp_path / "r.duckdb"
    with session(db) as con:
        con.execute("CREATE TABLE t (x INTEGER)")
        con.execute("INSERT INTO t VALUES (1)")
    with held(db) as hold:
        with session(db, read_only=True) as reader:
            assert reader.execute("SELECT count(*) FROM t").fetchall() == [(1,)]
            with pytest.raises(duckdb.Error, match="read-only"):
                reader.execute("INSERT INTO t VALUES (2)")
        with session(db) as writer:  # the held connection still writes
            writer.execute("INSERT INTO t VALUES (3)")
        assert hold.connection() is writer
    with session(db, read_only=True) as con:
        assert con.execute("SELECT list(x ORDER BY x) FROM t").fetchall() == [([1, 3],)]
