"""Deterministic SVG charts for the report, drawn with matplotlib and inlined in the page."""

from __future__ import annotations

import io
import logging
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any

from matplotlib import font_manager, rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from reports.model import HeatCell, SourceCount, TopicEntry, TrajectoryPoint

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "Noto Serif CJK SC",
)
LATIN_FONTS = ("DejaVu Sans",)
SIGNAL_COLOURS = {"strong": "#c2410c", "weak": "#f59e0b", "noise": "#94a3b8"}
LINE_COLOURS = (
    "#2563eb",
    "#c2410c",
    "#059669",
    "#7c3aed",
    "#db2777",
    "#0891b2",
    "#ca8a04",
    "#4b5563",
    "#65a30d",
    "#9333ea",
)
KIND_COLOURS = {"news": "#2563eb", "paper": "#059669", "patent": "#7c3aed", "policy": "#c2410c"}
INK, MUTED, GRID = "#1f2937", "#6b7280", "#e5e7eb"
_ROOT_SIZE = re.compile(r'<svg([^>]*?) width="[^"]*" height="[^"]*"')


@cache
def font_families() -> tuple[str, ...]:
    """Installed CJK-capable families first, then Latin; matplotlib falls back glyph by glyph."""
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    found = tuple(name for name in CJK_FONTS if name in installed)
    return (*LATIN_FONTS, *found, "sans-serif")


def _rc(salt: str) -> Any:  # matplotlib types rc keys as a Literal of every name
    return {
        "svg.hashsalt": f"observatory-{salt}",
        "svg.fonttype": "none",
        "font.family": list(font_families()),
        "font.size": 9,
        "axes.edgecolor": GRID,
        "axes.labelcolor": MUTED,
        "axes.titlecolor": INK,
        "xtick.color": MUTED,
        "ytick.color": MUTED,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.color": GRID,
        "grid.linewidth": 0.6,
        "axes.axisbelow": True,
    }


@contextmanager
def _quiet_fonts() -> Iterator[None]:
    # Missing glyphs and families only change how text is measured, never whether a chart exists:
    # text stays SVG text (svg.fonttype none) and the browser draws it with the page's CJK font
    # stack, so matplotlib's "Glyph ... missing from font(s)" warning says nothing to the user.
    logger = logging.getLogger("matplotlib.font_manager")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message=r"Glyph \d+ .*missing from font", category=UserWarning
            )
            yield
    finally:
        logger.setLevel(level)


def figure_svg(fig: Figure, salt: str, label: str) -> str:
    """The figure as inline SVG: no dates or tool names (reproducible), hashes salted per chart,
    sized by the page's CSS (class chart), labelled for screen readers."""
    buffer = io.StringIO()
    with _quiet_fonts(), rc_context(_rc(salt)):
        fig.savefig(
            buffer,
            format="svg",
            metadata={"Date": None, "Creator": None},
            bbox_inches="tight",
            pad_inches=0.08,
            transparent=True,
        )
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    label_attr = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return _ROOT_SIZE.sub(
        rf'<svg\1 class="chart" role="img" aria-label="{label_attr}" preserveAspectRatio='
        r'"xMidYMid meet"',
        text,
        count=1,
    )


def _figure(salt: str, width: float, height: float) -> tuple[Figure, Axes]:
    with rc_context(_rc(salt)):
        fig = Figure(figsize=(width, height))
        return fig, fig.add_subplot()


def _no_data(ax: Axes, message: str) -> None:
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", color=MUTED, transform=ax.transAxes)


def _short(text: str, size: int = 42) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def trajectory_svg(
    topics: Sequence[TopicEntry], key: str, label: str, size: tuple[float, float] = (8.6, 3.0)
) -> str:
    """Share of each topic's period documents over the report's history, one line per topic."""
    salt = f"trajectory-{key}"
    with _quiet_fonts(), rc_context(_rc(salt)):
        fig, ax = _figure(salt, *size)
        if not topics:
            _no_data(ax, "No flagged topics in this period")
            return figure_svg(fig, salt, label)
        for index, topic in enumerate(topics[: len(LINE_COLOURS)]):
            _trajectory_line(
                ax, topic.trajectory, _short(topic.label), LINE_COLOURS[index % len(LINE_COLOURS)]
            )
        ax.set_ylabel("share of period documents (%)")
        ax.set_ylim(bottom=0)
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
        return figure_svg(fig, salt, label)


def _trajectory_line(ax: Axes, points: Sequence[TrajectoryPoint], name: str, colour: str) -> None:
    periods = [point.period for point in points]
    shares = [point.share * 100 for point in points]
    ax.plot(periods, shares, color=colour, linewidth=1.8, marker="o", markersize=3, label=name)
    flagged = [(p.period, p.share * 100) for p in points if p.signal_class in ("weak", "strong")]
    if flagged:
        xs, ys = zip(*flagged, strict=True)
        ax.scatter(xs, ys, s=26, facecolor=colour, edgecolor="white", linewidth=0.8, zorder=3)


def heatmap_svg(cells: Sequence[HeatCell], names: Mapping[str, str]) -> str:
    """Topics per direction (rows) and signal class (columns), counts written in the cells."""
    salt = "heatmap"
    directions = list(dict.fromkeys(cell.direction for cell in cells))
    classes = list(dict.fromkeys(cell.signal_class for cell in cells))
    counts = {(cell.direction, cell.signal_class): cell.n_topics for cell in cells}
    grid = [[counts.get((d, s), 0) for s in classes] for d in directions]
    with _quiet_fonts(), rc_context(_rc(salt)):
        fig, ax = _figure(salt, 4.6, 0.36 * max(len(directions), 1) + 0.8)
        if not cells:
            _no_data(ax, "No topics in this period")
            return figure_svg(fig, salt, "Direction by signal class")
        ax.imshow(grid, cmap="Oranges", aspect="auto", vmin=0, vmax=max(1, *map(max, grid)))
        ax.grid(False)
        ax.set_xticks(range(len(classes)), [c.capitalize() for c in classes])
        ax.set_yticks(range(len(directions)), [names.get(d, d) for d in directions])
        ax.tick_params(length=0)
        ax.xaxis.tick_top()
        peak = max(1, *map(max, grid))
        for row, values in enumerate(grid):
            for col, value in enumerate(values):
                ax.text(
                    col,
                    row,
                    str(value),
                    ha="center",
                    va="center",
                    fontsize=9,
                    color="white" if value > peak * 0.6 else INK,
                )
        for spine in ax.spines.values():
            spine.set_visible(False)
        return figure_svg(fig, salt, "Direction by signal class")


def source_mix_svg(counts: Sequence[SourceCount], limit: int = 15) -> str:
    """The period's documents by source, bars coloured by source kind."""
    salt = "sources"
    shown = list(counts[:limit])[::-1]
    with _quiet_fonts(), rc_context(_rc(salt)):
        fig, ax = _figure(salt, 5.6, 0.32 * max(len(shown), 1) + 0.8)
        if not shown:
            _no_data(ax, "No documents in this period")
            return figure_svg(fig, salt, "Source mix")
        ax.barh(
            [_short(c.source, 28) for c in shown],
            [c.n_docs for c in shown],
            color=[KIND_COLOURS.get(c.kind, MUTED) for c in shown],
            height=0.62,
        )
        for index, count in enumerate(shown):
            ax.text(count.n_docs, index, f" {count.n_docs}", va="center", fontsize=8, color=INK)
        ax.set_xlabel("documents")
        ax.grid(axis="y", visible=False)
        kinds = list(dict.fromkeys(c.kind for c in shown))
        handles = [Patch(color=KIND_COLOURS.get(kind, MUTED), label=kind) for kind in kinds]
        # The legend sits above the bars and the x axis leaves room for the value labels, so
        # neither covers the other whatever the lengths of the bars.
        ax.set_xlim(0, max(c.n_docs for c in shown) * 1.18)
        ax.legend(
            handles=handles,
            loc="lower left",
            bbox_to_anchor=(0.0, 1.0),
            ncol=len(handles),
            frameon=False,
            fontsize=8,
            borderaxespad=0.2,
        )
        return figure_svg(fig, salt, "Source mix")


def sparkline_svg(points: Sequence[TrajectoryPoint], width: int = 120, height: int = 28) -> str:
    """A tiny hand-written SVG polyline of a trajectory for topic cards (no axes, no text)."""
    if not points:
        return ""
    peak = max((p.share for p in points), default=0.0) or 1.0
    pad = 3
    step = (width - 2 * pad) / max(len(points) - 1, 1)
    coords = [
        (round(pad + i * step, 1), round(height - 3 - (p.share / peak) * (height - 6), 1))
        for i, p in enumerate(points)
    ]
    line = " ".join(f"{x},{y}" for x, y in coords)
    dots = "".join(
        f'<circle cx="{x}" cy="{y}" r="2" fill="{SIGNAL_COLOURS[p.signal_class]}"/>'
        for (x, y), p in zip(coords, points, strict=True)
        if p.signal_class in ("weak", "strong")
    )
    return (
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="trajectory">'
        f'<polyline points="{line}" fill="none" stroke="#2563eb" stroke-width="1.5"/>'
        f"{dots}</svg>"
    )
