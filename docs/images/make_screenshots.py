"""Screenshots of a report page with headless Chromium: full page at 1280 px, the first screen
at 900 px, and the full page at phone width (390 px), each checked for horizontal overflow.

    python docs/images/make_screenshots.py reports_out/report-quarter-2017-Q1.html docs/images

Needs `chromium` (apt-get install chromium fonts-noto-cjk) and Pillow (a matplotlib dependency).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)
# Appended to a temporary copy only: the page itself has no scripts.
PROBE = (
    "<script>document.body.setAttribute('data-overflow', String("
    "document.documentElement.scrollWidth > window.innerWidth));"
    "document.body.setAttribute('data-height', String("
    "document.documentElement.scrollHeight));</script>"
)


def chromium(*args: str) -> str:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        sys.exit("error: chromium not found (apt-get install chromium fonts-noto-cjk)")
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [binary, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=180,
            check=True,
        )
    return done.stdout


def measure(page: Path, width: int) -> tuple[bool, int]:
    """Whether the page is wider than `width` px, and its height there."""
    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder) / "probe.html"
        probe.write_text(
            page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8"
        )
        dom = chromium(
            f"--window-size={width},900", "--virtual-time-budget=2000", "--dump-dom", probe.as_uri()
        )
    overflow = re.search(r'data-overflow="(\w+)"', dom)
    height = re.search(r'data-height="(\d+)"', dom)
    if overflow is None or height is None:
        sys.exit("error: the probe did not run")
    return overflow.group(1) == "true", int(height.group(1))


def shot(page: Path, out: Path, width: int, height: int) -> None:
    chromium(f"--screenshot={out}", f"--window-size={width},{height}", page.resolve().as_uri())
    with Image.open(out) as image:
        # 128 colours: the page is flat colour and text, and the files live in the repository.
        image.convert("RGB").quantize(colors=128).save(out, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, width, first_screen in (
        ("full", 1280, False),
        ("900px", 900, True),
        ("phone", 390, False),
    ):
        overflow, height = measure(args.page, width)
        print(
            f"{width} px: page height {height} px, "
            f"{'OVERFLOWS horizontally' if overflow else 'no horizontal overflow'}"
        )
        target = args.out / f"demo-report-{name}.png"
        shot(args.page, target, width, 1400 if first_screen else height)
        print(f"  {target} ({target.stat().st_size // 1024} KiB)")
        if overflow:
            sys.exit(f"error: the page is wider than {width} px")


if __name__ == "__main__":
    main()
