"""Progress bars on stderr for people at a terminal.

Off when stderr is not a terminal (pipes, logs, cron, tests): there the lines a command prints
are its whole output, as before. Lines printed on the same console while a bar runs appear
above it; the bar disappears when done.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from models.embed import Encoder, Matrix


def progress_bar(console: Console) -> Progress:
    """A transient bar (description, bar, done/total, time) on `console` when a terminal."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


class CountingEncoder:
    """An encoder that reports how many texts it has encoded (the embedding's progress)."""

    def __init__(self, inner: Encoder, advance: Callable[[int], object]) -> None:
        self.inner = inner
        self.advance = advance
        self.name = inner.name
        self.dim = inner.dim

    def encode(self, texts: Sequence[str]) -> Matrix:
        vectors = self.inner.encode(texts)
        self.advance(len(texts))
        return vectors
