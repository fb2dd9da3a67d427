"""sources.toml: the shipped list parses, and a bad file names the source and field."""

from __future__ import annotations

import pytest

from crawlers.sources import adhoc_source, load_sources, parse_sources, select_sources
from pipeline.errors import InputError


def test_shipped_list_covers_the_six_directions_and_both_languages():
    sources = load_sources()
    directions = {d for s in sources for d in s.directions}
    assert directions == {"manufacturing", "information", "materials", "energy", "space", "health"}
    assert {s.lang for s in sources if s.spider == "rss"} == {"en", "zh"}
    arxiv = next(s for s in sources if s.id == "arxiv")
    assert (arxiv.delay_s, arxiv.concurrency) == (3.0, 1)
    patents = next(s for s in sources if s.id == "patentsview")
    assert {"B25J", "G06N", "H01L", "H01M", "C25B", "G21B", "B64G", "C12N", "H04W"} <= set(
        patents.queries
    )


def test_bad_field_is_named():
    text = '[[source]]\nid = "x"\nspider = "rss"\ndelay_s = -1\n'
    with pytest.raises(InputError, match=r"source 'x' field delay_s"):
        parse_sources(text, "bad.toml")


def test_unknown_field_and_duplicate_ids():
    with pytest.raises(InputError, match="field colour"):
        parse_sources('[[source]]\nid = "x"\nspider = "rss"\ncolour = "red"\n')
    with pytest.raises(InputError, match="duplicate"):
        parse_sources('[[source]]\nid = "x"\nspider = "rss"\n' * 2)


def test_select_and_adhoc():
    sources = load_sources()
    assert all(s.enabled for s in select_sources(sources, []))
    with pytest.raises(InputError, match="nope"):
        select_sources(sources, ["nope"])
    assert adhoc_source("rss", "http://www.Example.org/feed.xml").id == "rss-example.org"


def test_every_shipped_source_has_a_spider_and_is_enabled():
    from crawlers.sources import load_sources
    from crawlers.spiders import SPIDERS

    sources = load_sources()
    assert {s.spider for s in sources} <= set(SPIDERS)
    assert {s.id for s in sources if not s.enabled} == set()
    assert {"google_news", "gdelt", "govcn", "miit", "news_sitemap"} <= set(SPIDERS)
