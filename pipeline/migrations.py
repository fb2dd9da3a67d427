"""Numbered DDL migrations, in order: `pipeline.schema.migrate` applies the ones a database lacks.

A migration is never edited once released (databases already ran it); a change is a new one.
The analyst views they create are written in `pipeline/views.py`.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from pipeline.views import (
    direction_names_view,
    documents_by_topic_view,
    signal_view,
    topic_views,
)

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
    topic_views(con)


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
    signal_view(con)


@migration
def m010_direction_names(con: duckdb.DuckDBPyConnection) -> None:
    """Direction and track names beside the ids: `directions` holds a row per track, per
    direction (track = the direction id, kind 'direction') and for 'unmapped'."""
    direction_names_view(con)


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
    documents_by_topic_view(con)
