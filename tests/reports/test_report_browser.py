"""The HTML page opened in headless Chromium: sections and charts present, a screenshot saved."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from reports.write import ReportPaths, write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium not installed (apt-get install chromium fonts-noto-cjk)",
)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def _chromium(profile: Path, *args: str) -> str:
    assert CHROMIUM is not None
    done = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    )
    return done.stdout


@pytest.fixture(scope="module")
def written(report_db: Path, tmp_path_factory: pytest.TempPathFactory) -> ReportPaths:
    return write_report(report_db, tmp_path_factory.mktemp("written"), "month")


def test_page_has_every_section_and_chart(written: ReportPaths, tmp_path: Path) -> None:
    dom = _chromium(tmp_path / "profile", "--dump-dom", written.html.as_uri())
    for section in (
        "headline",
        "overview",
        "new-topics",
        "faded",
        "changes",
        "health",
        "direction-manufacturing",
        "direction-information",
        "direction-materials",
        "direction-energy",
        "direction-space",
        "direction-health",
        "direction-unmapped",
    ):
        assert f'data-section="{section}"' in dom, section
    for chart in ("trajectories", "heatmap", "sources"):
        assert f'data-chart="{chart}"' in dom and "<svg" in dom, chart
    assert dom.count('class="chart"') >= 4
    assert "未来健康" in dom and "脑" in dom


def test_screenshot_is_saved(written: ReportPaths, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    _chromium(
        tmp_path / "profile",
        f"--screenshot={shot}",
        "--window-size=1280,4000",
        written.html.as_uri(),
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 50_000


@pytest.mark.parametrize("width", [900, 390])
def test_nothing_is_wider_than_the_window(written: ReportPaths, tmp_path: Path, width: int) -> None:
    # A probe script on a copy measures the laid-out page; the report itself has no scripts.
    probe = tmp_path / "probe.html"
    probe.write_text(
        written.html.read_text(encoding="utf-8").replace(
            "</body>",
            "<script>document.body.setAttribute('data-wide', String("
            "document.documentElement.scrollWidth > window.innerWidth));</script></body>",
        ),
        encoding="utf-8",
    )
    dom = _chromium(
        tmp_path / "profile",
        f"--window-size={width},900",
        "--virtual-time-budget=2000",
        "--dump-dom",
        probe.as_uri(),
    )
    assert 'data-wide="false"' in dom
