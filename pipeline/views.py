"""The analyst views (docs/analysts.md), each created by the migration that introduced it.

A function here is part of a released migration: a changed view is a new function and a new
migration (as `direction_names_view` redefines `v_topic_directions`), never an edit.
"""

from __future__ import annotations

import duckdb


def topic_views(con: duckdb.DuckDBPyConnection) -> None:
    """Topic timelines, the latest emerging topics, documents by topic, directions per period."""
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


def signal_view(con: duckdb.DuckDBPyConnection) -> None:
    """Each period's one ranked list of term, topic and watch signals."""
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


def direction_names_view(con: duckdb.DuckDBPyConnection) -> None:
    """`v_topic_directions` again, with direction and track names beside the ids."""
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


def documents_by_topic_view(con: duckdb.DuckDBPyConnection) -> None:
    """`v_documents_by_topic` again, with `doc_topics.similarity` (was `probability`)."""
    con.execute(
        """
        CREATE VIEW v_documents_by_topic AS
        SELECT dt.topic_id, dt.granularity, dt.period, dt.similarity, d.doc_id, d.source,
               d.kind, d.published, d.title, d.url, d.lang
        FROM doc_topics dt JOIN documents d USING (doc_id)
        WHERE dt.topic_id IS NOT NULL
        """
    )
