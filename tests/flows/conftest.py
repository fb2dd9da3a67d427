"""Prefect's offline, quiet environment, set before these tests first import Prefect, and one
temporary Prefect server shared by this folder's flow tests."""

from collections.abc import Generator
from contextlib import ExitStack
from pathlib import Path

import pytest

from flows.prefect_env import configure

configure()

HERE = Path(__file__).resolve().parent


class _SharedHarness:
    """Prefect's test harness (a server subprocess and a temporary database), started by the
    first test that asks for it and stopped once the run leaves this folder: a start costs
    10-30 s on a busy two-core machine, and the modules here would otherwise start one each."""

    def __init__(self) -> None:
        self.stack: ExitStack | None = None

    def start(self) -> None:
        if self.stack is None:
            from prefect.testing.utilities import prefect_test_harness

            stack = ExitStack()
            stack.enter_context(prefect_test_harness(server_startup_timeout=180))
            self.stack = stack

    def stop(self) -> None:
        if self.stack is not None:
            stack, self.stack = self.stack, None
            stack.close()


HARNESS = _SharedHarness()


@pytest.fixture(scope="module")
def prefect_server() -> None:
    """Flows in the module run against the folder's temporary Prefect server."""
    HARNESS.start()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, None, None]:
    # After the item's own fixtures (a module's Dask cluster too) are torn down.
    try:
        return (yield)
    finally:
        if nextitem is None or Path(nextitem.path).resolve().parent != HERE:
            HARNESS.stop()
