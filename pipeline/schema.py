"""Numbered DDL migrations, applied in order when a database is opened."""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from pipeline.errors import SchemaError

Migration = Callable[[duckdb.DuckDBPyConnection], None]
MIGRATIONS: list[Migration] = []
migration = MIGRATIONS.append


@migration
def m001_documents(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        CREATE TABLE documents (
            doc_id VARCHAR PRIMARY KEY,
            source VARCHAR NOT NULL,
            kind VARCHAR NOT NULL CHECK (kind IN ('news', 'paper', 'patent', 'policy')),
            url VARCHAR,
            canonical_url VARCHAR,
            title VARCHAR NOT NULL,
            text VARCHAR NOT NULL,
            lang VARCHAR NOT NULL,
            published DATE NOT NULL,
            date_precision VARCHAR NOT NULL,
            venue VARCHAR,
            fetched_at TIMESTAMP,
            content_hash VARCHAR NOT NULL,
            meta JSON,
            ingested_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        )
        """
    )
    con.execute("CREATE INDEX documents_published ON documents (published)")
    con.execute("CREATE INDEX documents_canonical_url ON documents (canonical_url)")


@migration
def m002_embeddings(con: duckdb.DuckDBPyConnection) -> None:
    # Vectors of different models have different sizes, so the column is a list;
    # readers cast to FLOAT[dim] (the stored dim) for array_cosine_similarity.
    con.execute(
        """
        CREATE TABLE embeddings (
            content_hash VARCHAR NOT NULL,
            model VARCHAR NOT NULL,
            dim INTEGER NOT NULL,
            vector FLOAT[] NOT NULL,
            PRIMARY KEY (content_hash, model)
        )
        """
    )


@migration
def m003_runs(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        CREATE TABLE runs (
            run_id VARCHAR PRIMARY KEY,
            kind VARCHAR NOT NULL,
            started TIMESTAMP NOT NULL,
            finished TIMESTAMP,
            status VARCHAR NOT NULL,
            parameters JSON,
            code_version VARCHAR,
            model VARCHAR,
            counts JSON,
            error VARCHAR
        )
        """
    )


@migration
def m004_topics(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        CREATE TABLE processed_periods (
            granularity VARCHAR NOT NULL,
            period VARCHAR NOT NULL,
            period_start DATE NOT NULL,
            run_id VARCHAR NOT NULL,
            model VARCHAR NOT NULL,
            n_docs INTEGER NOT NULL,
            n_topics INTEGER NOT NULL,
            n_outliers INTEGER NOT NULL,
            processed_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            PRIMARY KEY (granularity, period)
        )
        """
    )
    con.execute(
        """
        CREATE TABLE topics (
            topic_id VARCHAR PRIMARY KEY,
            granularity VARCHAR NOT NULL,
            born_period VARCHAR NOT NULL,
            label VARCHAR NOT NULL,
            keywords VARCHAR[] NOT NULL,
            first_centroid FLOAT[] NOT NULL,
            centroid FLOAT[] NOT NULL,
            last_period VARCHAR NOT NULL
        )
        """
    )
    con.execute(
        """
        CREATE TABLE topic_periods (
            topic_id VARCHAR NOT NULL,
            granularity VARCHAR NOT NULL,
            period VARCHAR NOT NULL,
            n_docs INTEGER NOT NULL,
            share DOUBLE NOT NULL,
            label VARCHAR NOT NULL,
            keywords VARCHAR[] NOT NULL,
            centroid FLOAT[] NOT NULL,
            growth DOUBLE,
            popularity DOUBLE,
            high_potential DOUBLE,
            signal_class VARCHAR NOT NULL,
            metrics JSON,
            reasons VARCHAR[],
            PRIMARY KEY (topic_id, period)
        )
        """
    )
    con.execute(
        """
        CREATE TABLE doc_topics (
            doc_id VARCHAR NOT NULL,
            granularity VARCHAR NOT NULL,
            period VARCHAR NOT NULL,
            topic_id VARCHAR,
            probability DOUBLE,
            PRIMARY KEY (doc_id, granularity)
        )
        """
    )
    con.execute(
        """
        CREATE TABLE topic_lineage (
            granularity VARCHAR NOT NULL,
            period VARCHAR NOT NULL,
            topic_id VARCHAR NOT NULL,
            cluster INTEGER NOT NULL,
            parent_topic_id VARCHAR,
            similarity DOUBLE,
            event VARCHAR NOT NULL CHECK (event IN ('born', 'continued', 'merged', 'split')),
            PRIMARY KEY (granularity, period, topic_id, event, cluster)
        )
        """
    )


@migration
def m005_directions(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        CREATE TABLE directions (
            taxonomy_version VARCHAR NOT NULL,
            direction VARCHAR NOT NULL,
            track VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,
            name_en VARCHAR NOT NULL,
            name_zh VARCHAR NOT NULL,
            description_en VARCHAR NOT NULL,
            description_zh VARCHAR NOT NULL,
            PRIMARY KEY (taxonomy_version, track)
        )
        """
    )
    con.execute(
        """
        CREATE TABLE topic_directions (
            topic_id VARCHAR NOT NULL,
            period VARCHAR NOT NULL,
            taxonomy_version VARCHAR NOT NULL,
            direction VARCHAR NOT NULL,
            track VARCHAR,
            similarity DOUBLE NOT NULL,
            weight DOUBLE NOT NULL,
            is_primary BOOLEAN NOT NULL,
            PRIMARY KEY (topic_id, period, taxonomy_version, direction)
        )
        """
    )


@migration
def m006_crawl_state(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        CREATE TABLE source_state (
            source_id VARCHAR NOT NULL,
            key VARCHAR NOT NULL,
            value VARCHAR,
            updated_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            PRIMARY KEY (source_id, key)
        )
        """
    )
    con.execute(
        """
        CREATE TABLE crawl_log (
            run_id VARCHAR NOT NULL,
            source_id VARCHAR NOT NULL,
            spider VARCHAR NOT NULL,
            started TIMESTAMP NOT NULL,
            finished TIMESTAMP,
            requests INTEGER NOT NULL DEFAULT 0,
            items_stored INTEGER NOT NULL DEFAULT 0,
            items_dropped INTEGER NOT NULL DEFAULT 0,
            statuses JSON,
            drop_reasons JSON,
            errors JSON,
            PRIMARY KEY (run_id, source_id)
        )
        """
    )


@migration
def m007_views(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        CREATE VIEW v_topic_directions AS
        SELECT topic_id, period, taxonomy_version, direction, track, similarity, weight
        FROM topic_directions WHERE is_primary
        """
    )
    con.execute(
        """
        CREATE VIEW v_topic_timeline AS
        SELECT tp.topic_id, tp.granularity, tp.period, tp.n_docs, tp.share, tp.growth,
               tp.popularity, tp.high_potential, tp.signal_class, tp.label, tp.keywords,
               t.born_period, d.direction, d.track
        FROM topic_periods tp
        JOIN topics t USING (topic_id)
        LEFT JOIN v_topic_directions d USING (topic_id, period)
        ORDER BY tp.topic_id, tp.period
        """
    )
    con.execute(
        """
        CREATE VIEW v_emerging AS
        WITH latest AS (
            SELECT granularity, max(period) AS period FROM processed_periods GROUP BY granularity
        )
        SELECT tp.granularity, tp.period, tp.topic_id, tp.label, tp.keywords, tp.signal_class,
               tp.high_potential, tp.growth, tp.popularity, tp.n_docs, tp.share, tp.reasons,
               coalesce(d.direction, 'unmapped') AS direction, d.track, t.born_period,
               rank() OVER (PARTITION BY tp.granularity ORDER BY tp.high_potential DESC,
                            tp.topic_id) AS rank
        FROM topic_periods tp
        JOIN latest USING (granularity, period)
        JOIN topics t USING (topic_id)
        LEFT JOIN v_topic_directions d USING (topic_id, period)
        WHERE tp.signal_class IN ('weak', 'strong')
        ORDER BY tp.granularity, rank
        """
    )
    con.execute(
        """
        CREATE VIEW v_documents_by_topic AS
        SELECT dt.topic_id, dt.granularity, dt.period, dt.probability, d.doc_id, d.source,
               d.kind, d.published, d.title, d.url, d.lang
        FROM doc_topics dt JOIN documents d USING (doc_id)
        WHERE dt.topic_id IS NOT NULL
        """
    )
    con.execute(
        """
        CREATE VIEW v_direction_summary AS
        SELECT tp.granularity, tp.period, coalesce(d.direction, 'unmapped') AS direction,
               count(*) AS n_topics,
               count(*) FILTER (WHERE tp.signal_class = 'strong') AS n_strong,
               count(*) FILTER (WHERE tp.signal_class = 'weak') AS n_weak,
               sum(tp.n_docs) AS n_docs
        FROM topic_periods tp LEFT JOIN v_topic_directions d USING (topic_id, period)
        GROUP BY ALL ORDER BY tp.granularity, tp.period, direction
        """
    )


@migration
def m008_watchlist(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        CREATE TABLE watchlist (
            watch_id VARCHAR PRIMARY KEY,
            phrase VARCHAR NOT NULL,
            threshold DOUBLE NOT NULL,
            added_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        )
        """
    )
    con.execute(
        """
        CREATE TABLE watch_periods (
            watch_id VARCHAR NOT NULL,
            granularity VARCHAR NOT NULL,
            period VARCHAR NOT NULL,
            n_docs INTEGER NOT NULL,
            share DOUBLE NOT NULL,
            growth DOUBLE,
            popularity DOUBLE,
            high_potential DOUBLE,
            signal_class VARCHAR NOT NULL,
            reasons VARCHAR[],
            doc_ids VARCHAR[],
            PRIMARY KEY (watch_id, granularity, period)
        )
        """
    )


@migration
def m009_terms_signals(con: duckdb.DuckDBPyConnection) -> None:
    # No primary key on term_periods: a period writes tens of thousands of rows and is only
    # ever replaced whole (delete, then insert, in the period's transaction); DuckDB's keys
    # would cost an index the size of the table.
    con.execute(
        """
        CREATE TABLE term_periods (
            term VARCHAR NOT NULL,
            label VARCHAR NOT NULL,
            granularity VARCHAR NOT NULL,
            period VARCHAR NOT NULL,
            documents INTEGER NOT NULL,
            share DOUBLE NOT NULL,
            sources INTEGER NOT NULL,
            outlets INTEGER NOT NULL,
            kinds VARCHAR[] NOT NULL,
            languages VARCHAR[] NOT NULL
        )
        """
    )
    con.execute(
        """
        CREATE TABLE signals (
            signal_id VARCHAR PRIMARY KEY,
            granularity VARCHAR NOT NULL,
            kind VARCHAR NOT NULL CHECK (kind IN ('term', 'topic', 'watch')),
            born_period VARCHAR NOT NULL,
            last_period VARCHAR NOT NULL,
            label VARCHAR NOT NULL,
            terms VARCHAR[] NOT NULL
        )
        """
    )
    con.execute(
        """
        CREATE TABLE signal_periods (
            signal_id VARCHAR NOT NULL,
            granularity VARCHAR NOT NULL,
            period VARCHAR NOT NULL,
            kind VARCHAR NOT NULL CHECK (kind IN ('term', 'topic', 'watch')),
            rank INTEGER NOT NULL,
            score DOUBLE NOT NULL,
            signal_class VARCHAR NOT NULL,
            label VARCHAR NOT NULL,
            terms VARCHAR[] NOT NULL,
            keywords_en VARCHAR[] NOT NULL,
            keywords_zh VARCHAR[] NOT NULL,
            n_docs INTEGER NOT NULL,
            share DOUBLE NOT NULL,
            growth DOUBLE,
            topic_ids VARCHAR[] NOT NULL,
            direction VARCHAR NOT NULL,
            track VARCHAR,
            first_seen JSON,
            metrics JSON,
            reasons VARCHAR[] NOT NULL,
            doc_ids VARCHAR[] NOT NULL,
            event VARCHAR NOT NULL CHECK (event IN ('born', 'continued')),
            parent_signal_id VARCHAR,
            PRIMARY KEY (granularity, period, signal_id)
        )
        """
    )
    con.execute(
        """
        CREATE VIEW v_signals AS
        SELECT sp.granularity, sp.period, sp.rank, sp.signal_id, sp.kind, sp.signal_class,
               sp.score, sp.label, sp.direction, sp.track, sp.n_docs, sp.share, sp.growth,
               sp.terms, sp.keywords_en, sp.keywords_zh, sp.topic_ids, sp.first_seen,
               sp.reasons, s.born_period, sp.event, sp.parent_signal_id
        FROM signal_periods sp JOIN signals s USING (signal_id)
        ORDER BY sp.granularity, sp.period, sp.rank
        """
    )


@migration
def m010_direction_names(con: duckdb.DuckDBPyConnection) -> None:
    """Direction and track names beside the ids: `directions` holds a row per track, per
    direction (track = the direction id, kind 'direction') and for 'unmapped'."""
    con.execute(
        """
        CREATE OR REPLACE VIEW v_topic_directions AS
        SELECT td.topic_id, td.period, td.taxonomy_version, td.direction, td.track,
               td.similarity, td.weight,
               dn.name_en AS direction_name_en, dn.name_zh AS direction_name_zh,
               tn.name_en AS track_name_en, tn.name_zh AS track_name_zh
        FROM topic_directions td
        LEFT JOIN directions dn
          ON dn.taxonomy_version = td.taxonomy_version AND dn.track = td.direction
        LEFT JOIN directions tn
          ON tn.taxonomy_version = td.taxonomy_version AND tn.track = td.track
        WHERE td.is_primary
        """
    )


@migration
def m011_histories(con: duckdb.DuckDBPyConnection) -> None:
    # One embedding space per granularity's history (see models/runner.py), and the moving
    # centroid after each period so late documents can rewind a history (topic_store.rewind).
    con.execute(
        """
        CREATE TABLE topic_histories (
            granularity VARCHAR PRIMARY KEY,
            encoder VARCHAR NOT NULL,
            dim INTEGER NOT NULL,
            started_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        )
        """
    )
    con.execute("ALTER TABLE topic_periods ADD COLUMN state_centroid FLOAT[]")
    con.execute(
        """
        CREATE TABLE period_revisions (
            run_id VARCHAR NOT NULL,
            granularity VARCHAR NOT NULL,
            period VARCHAR NOT NULL,
            reason VARCHAR NOT NULL,
            n_docs_before INTEGER,
            n_docs_now INTEGER,
            revised_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            PRIMARY KEY (run_id, granularity, period)
        )
        """
    )


@migration
def m012_doc_topic_similarity(con: duckdb.DuckDBPyConnection) -> None:
    # The column always held the cosine of a document to its topic's centroid, never a
    # probability: named for what it holds. The view reads it, so it is dropped first.
    con.execute("DROP VIEW v_documents_by_topic")
    con.execute("ALTER TABLE doc_topics RENAME COLUMN probability TO similarity")
    con.execute(
        """
        CREATE VIEW v_documents_by_topic AS
        SELECT dt.topic_id, dt.granularity, dt.period, dt.similarity, d.doc_id, d.source,
               d.kind, d.published, d.title, d.url, d.lang
        FROM doc_topics dt JOIN documents d USING (doc_id)
        WHERE dt.topic_id IS NOT NULL
        """
    )


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """Number of migrations already applied to this database."""
    con.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                "name VARCHAR NOT NULL, applied_at TIMESTAMP DEFAULT current_timestamp)")
    rows = con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchall()
    return int(rows[0][0]) if rows else 0


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply every migration not yet applied, each in its own transaction."""
    current = schema_version(con)
    if current > len(MIGRATIONS):
        raise SchemaError(
            f"database schema version {current} is newer than this code knows "
            f"({len(MIGRATIONS)}): upgrade the observatory"
        )
    for version, step in enumerate(MIGRATIONS[current:], start=current + 1):
        con.begin()
        step(con)
        con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                    [version, step.__name__])
        con.commit()
    return len(MIGRATIONS) - current
