"""Shared fixtures: the hand-built boundary population and one small SparkSession."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.audit.timelines import build


def pytest_configure(config: pytest.Config) -> None:
    # Also to be registered in pyproject.toml; here so tests/audit runs on its own too.
    config.addinivalue_line("markers", "spark: needs PySpark and Java (deselect: -m 'not spark')")


@pytest.fixture(scope="session")
def timelines_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build().write_csv(tmp_path_factory.mktemp("timelines_csv"))


@pytest.fixture(scope="session")
def timelines_fhir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build().write_fhir(tmp_path_factory.mktemp("timelines_fhir"))


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local SparkSession for the whole test run (local[2], few partitions: fast)."""
    pyspark_sql = pytest.importorskip("pyspark.sql")
    session = (
        pyspark_sql.SparkSession.builder.master("local[2]")
        .appName("backtriage-audit-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
