"""Prefect's offline, quiet environment, set before these tests first import Prefect."""

from flows.prefect_env import configure

configure()
