"""Prefect flows: thin glue over the plain functions of crawlers, pipeline, models, reports."""
