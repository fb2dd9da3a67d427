"""gov.cn 最新政策 (JSON list + detail pages) and MIIT (JPaaS build/unit, paramJson paging)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import pytest_twisted

from crawlers.cn_policy import (
    NotAList,
    beijing_to_utc,
    is_govcn_policy,
    parse_govcn_detail,
    parse_govcn_list,
    parse_miit_unit,
)
from crawlers.run import read_summary
from crawlers.sources import SourceConfig
from pipeline.db import session
from pipeline.store import state_items

CN = Path(__file__).resolve().parent.parent / "fixtures" / "crawlers" / "cn_gov"
GOVCN_LIST = "https://www.gov.cn/zhengce/zuixin/ZUIXINZHENGCE.json"
UNIT = "/api-gateway/jpaas-publish-server/front/page/build/unit"
MIIT = "https://www.miit.gov.cn" + UNIT
DECISION_TEXT = (
    "国务院决定对《示例条例》作如下修改：\n一、将第三条修改为：“……”\n本决定自公布之日起施行。"
)
LIBRARY_TITLE = "CONSTRUCTED 工业和信息化部等部门关于推动未来产业创新发展的实施意见（示例）"


def govcn() -> SourceConfig:
    return SourceConfig(
        id="govcn-zuixin",
        spider="govcn",
        urls=[GOVCN_LIST],
        lang="zh",
        kind="policy",
        name="中国政府网 最新政策",
    )


def miit() -> SourceConfig:
    return SourceConfig(
        id="miit",
        spider="miit",
        urls=[MIIT],
        queries=["COLUMN0001"],
        lang="zh",
        kind="policy",
        name="工业和信息化部",
        params={"page_size": 3, "referer": "https://www.miit.gov.cn/col/"},
    )


def docs(db):
    with session(db) as con:
        return con.execute(
            "SELECT doc_id, title, published, url, text, lang, kind, venue, meta "
            "FROM documents ORDER BY published DESC, url"
        ).fetchall()


def test_beijing_times_become_utc():
    assert beijing_to_utc("2026-09-08-17:30:12") == datetime(2026, 9, 8, 9, 30, 12, tzinfo=UTC)
    assert beijing_to_utc("发布时间：2026-09-10 10:15") == datetime(2026, 9, 10, 2, 15, tzinfo=UTC)
    assert beijing_to_utc("2026-09-09") == datetime(2026, 9, 8, 16, 0, tzinfo=UTC)
    assert beijing_to_utc("2026年09月01日") == datetime(2026, 8, 31, 16, 0, tzinfo=UTC)
    assert beijing_to_utc("soon") is None


def test_govcn_list_rows():
    rows = parse_govcn_list(
        (CN / "govcn/ZUIXINZHENGCE_CONSTRUCTED_with_real_rows.json").read_bytes(), GOVCN_LIST
    )
    assert (rows[0].title, rows[0].url, rows[0].day) == (
        "市场监督管理所条例",
        "https://www.gov.cn/zhengce/content/202609/content_7080735.htm",
        date(2026, 9, 11),
    )
    assert (rows[3].subtitle, rows[5].url) == (
        "国令第000号",
        "https://www.example.gov.cn/art/2026/9/7/art_1_9999003.html",
    )
    assert (rows[6].title, rows[6].day) == ("CONSTRUCTED 带空白和换行的标题", date(2026, 8, 31))
    assert [is_govcn_policy(row.url) for row in rows] == [
        True,
        True,
        True,
        True,
        False,
        False,
        True,
    ]
    with pytest.raises(NotAList, match="an HTML page was served"):
        parse_govcn_list((CN / "govcn/zuixin_index_shell_CONSTRUCTED.html").read_bytes(), "")


def test_govcn_detail_pages():
    detail = parse_govcn_detail((CN / "govcn/content_detail_CONSTRUCTED.html").read_text())
    assert detail.title == "CONSTRUCTED 国务院关于修改《示例条例》的决定"
    assert (detail.raw_published, detail.published) == (
        "2026-09-08-17:30:12",
        datetime(2026, 9, 8, 9, 30, 12, tzinfo=UTC),
    )
    assert detail.text == DECISION_TEXT
    assert detail.meta == {
        "author": "国务院",
        "keywords": ["示例条例", "修改", "决定"],
        "lanmu": "国务院文件",
        "lastmodifiedtime": "2026-09-09-08:05:40",
    }
    library = parse_govcn_detail((CN / "govcn/zhengceku_detail_CONSTRUCTED.html").read_text())
    assert library.title == LIBRARY_TITLE
    assert library.published == datetime(2026, 9, 9, 2, 0, tzinfo=UTC)
    assert library.text.startswith("各省、自治区、直辖市人民政府……\n未来产业由前沿技术驱动")
    assert (library.meta["发文字号"], library.meta["成文日期"], library.meta["主题分类"]) == (
        "工信部联科〔2026〕0号",
        "2026年09月01日",
        "工业、交通\\信息产业（含电信）",
    )


def test_miit_unit_fragment():
    rows = parse_miit_unit((CN / "miit/build_unit_page2_CONSTRUCTED.json").read_bytes(), MIIT)
    assert [(r.title, r.url, r.day) for r in rows] == [
        (
            'CONSTRUCTED 6G 技术试验进展（标题含"引号"与&符号）',
            "https://www.miit.gov.cn/xwfb/gxdt/sjdt/art/2026/art_00000000000000000000000000000004.html",
            date(2026, 9, 5),
        ),
        (
            "CONSTRUCTED 关于征求《示例标准》意见的函",
            "https://www.example.gov.cn/art/2026/9/3/art_5.html",
            date(2026, 9, 3),
        ),
        (
            "CONSTRUCTED 量子信息产业发展情况",
            "https://www.miit.gov.cn/gxsj/tjfx/rjy/art/2026/art_00000000000000000000000000000006.html",
            date(2026, 9, 1),
        ),
    ]
    assert (
        parse_miit_unit((CN / "miit/build_unit_page4_past_end_CONSTRUCTED.json").read_bytes(), MIIT)
        == []
    )
    with pytest.raises(NotAList):
        parse_miit_unit(b'{"success": false, "message": "x"}', MIIT)


@pytest_twisted.inlineCallbacks
def test_govcn_list_and_details_are_stored_and_a_rerun_stores_nothing(replay, db_path, run_spider):
    server = replay("cn_gov")
    base = {"govcn": server.url("zhengce/zuixin/ZUIXINZHENGCE.json")}
    yield run_spider(
        govcn(), db_path, since=date(2026, 9, 8), until=date(2026, 9, 9), base_urls=base
    )
    rows = docs(db_path)
    assert [r[1:8] for r in rows] == [
        (
            LIBRARY_TITLE,
            date(2026, 9, 9),
            "https://www.gov.cn/zhengce/zhengceku/202609/content_9999001.htm",
            rows[0][4],
            "zh",
            "policy",
            "中国政府网 最新政策",
        ),
        (
            "CONSTRUCTED 国务院关于修改《示例条例》的决定",
            date(2026, 9, 8),
            "https://www.gov.cn/zhengce/content/202609/content_9999002.htm",
            DECISION_TEXT,
            "zh",
            "policy",
            "中国政府网 最新政策",
        ),
    ]
    assert rows[1][0].startswith("govcn-zuixin:")
    meta = json.loads(rows[1][8])
    assert (meta["firstpublishedtime"], meta["published_utc"], meta["subtitle"]) == (
        "2026-09-08-17:30:12",
        "2026-09-08T09:30:12+00:00",
        "国令第000号",
    )
    summary = read_summary(db_path, "run-1").source("govcn-zuixin")
    assert (summary.items_stored, summary.errors, summary.drop_reasons) == (
        2,
        (),
        {"not a policy page": 1},
    )
    with session(db_path) as con:
        assert dict(state_items(con, "govcn-zuixin")) == {"last_day": "2026-09-11"}
    server.reset()
    yield run_spider(
        govcn(),
        db_path,
        run_id="again",
        since=date(2026, 9, 8),
        until=date(2026, 9, 9),
        base_urls=base,
    )
    assert read_summary(db_path, "again").source("govcn-zuixin").items_stored == 0


@pytest.mark.parametrize(
    ("path", "day", "error"),
    [
        ("zhengce/zuixin/ZUIXINZHENGCE.json", date(2026, 9, 11), "HTTP 404: 404_中国政府网"),
        (
            "shell/ZUIXINZHENGCE.json",
            None,
            "not a JSON list: an HTML page was served (title: 最新_中国政府网)",
        ),
        ("missing/ZUIXINZHENGCE.json", None, "HTTP 404: not recorded"),
    ],
)
@pytest_twisted.inlineCallbacks
def test_govcn_errors_are_recorded(replay, db_path, run_spider, path, day, error):
    server = replay("cn_gov")
    yield run_spider(
        govcn(), db_path, since=day, until=day, base_urls={"govcn": server.url(path)}, RETRY_TIMES=0
    )
    summary = read_summary(db_path, "run-1").source("govcn-zuixin")
    assert summary.items_stored == 0
    assert len(summary.errors) == 1 and summary.errors[0].startswith(error)


@pytest_twisted.inlineCallbacks
def test_miit_pages_to_the_end_with_browser_headers(replay, db_path, run_spider):
    server = replay("cn_gov")
    base = {"miit": server.url(UNIT)}
    yield run_spider(miit(), db_path, since=date(2026, 8, 1), base_urls=base)
    calls = [r for r in server.requests if r.path == UNIT]
    assert [json.loads(r.query["paramJson"]) for r in calls] == [
        {"pageNo": n, "pageSize": 3} for n in (1, 2, 3, 4)
    ]
    first = calls[0]
    assert (
        first.query["webId"],
        first.query["tplSetId"],
        first.query["pageId"],
        first.query["parseType"],
        first.query["tagId"],
    ) == (
        "8d828e408d90447786ddbe128d495e9e",
        "209741b2109044b5b7695700b2bec37e",
        "COLUMN0001",
        "buildstatic",
        "当前栏目_list",
    )
    assert first.headers["User-Agent"].startswith("Mozilla/5.0")
    assert first.headers["Referer"] == "https://www.miit.gov.cn/col/"
    rows = docs(db_path)
    assert len(rows) == 6
    assert rows[0][1:8] == (
        "CONSTRUCTED 工业和信息化部召开未来产业发展座谈会",
        date(2026, 9, 10),
        "https://www.miit.gov.cn/xwfb/gxdt/sjdt/art/2026/art_00000000000000000000000000000001.html",
        "",
        "zh",
        "policy",
        "工业和信息化部",
    )
    summary = read_summary(db_path, "run-1").source("miit")
    assert (summary.items_stored, summary.errors, summary.drop_reasons) == (
        6,
        (),
        {"off-site link": 1},
    )
    with session(db_path) as con:
        assert dict(state_items(con, "miit")) == {"last_day:COLUMN0001": "2026-09-10"}
    server.reset()
    yield run_spider(miit(), db_path, run_id="again", since=date(2026, 8, 1), base_urls=base)
    assert read_summary(db_path, "again").source("miit").items_stored == 0


@pytest_twisted.inlineCallbacks
def test_miit_stops_paging_at_the_saved_day(replay, db_path, run_spider):
    server = replay("cn_gov")
    yield run_spider(miit(), db_path, since=date(2026, 9, 9), base_urls={"miit": server.url(UNIT)})
    assert len([r for r in server.requests if r.path == UNIT]) == 1
    assert read_summary(db_path, "run-1").source("miit").items_stored == 2


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("forbidden/unit", "HTTP 403: 403 Forbidden"),
        ("waf/unit", "not a JSON list: an HTML page was served"),
    ],
)
@pytest_twisted.inlineCallbacks
def test_miit_errors_are_recorded(replay, db_path, run_spider, path, error):
    server = replay("cn_gov")
    yield run_spider(miit(), db_path, base_urls={"miit": server.url(path)}, RETRY_TIMES=0)
    summary = read_summary(db_path, "run-1").source("miit")
    assert summary.items_stored == 0
    assert len(summary.errors) == 1 and summary.errors[0].startswith(error)
