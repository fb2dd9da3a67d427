"""Scrapy spiders, the one store pipeline, and the launcher that runs them in a subprocess."""
