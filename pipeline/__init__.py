"""The data layer: records, DuckDB schema and migrations, store, import, normalisation."""
