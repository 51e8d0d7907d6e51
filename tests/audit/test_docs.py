"""LAYOUT.md documents every table, column, setting and rejection reason the code knows."""

from __future__ import annotations

import re
from importlib import resources

from backtriage.audit.layout import SETTINGS, SYSTEMS_BY_TABLE, TABLES

LAYOUT = resources.files("backtriage.audit").joinpath("LAYOUT.md").read_text("utf-8")
SOURCES = "".join(
    resources.files("backtriage.audit").joinpath(name).read_text("utf-8")
    for name in ("inputs.py", "fhir.py")
)


def test_every_table_and_column_is_documented() -> None:
    for table in TABLES:
        assert f"`{table.name}`" in LAYOUT
        for column in table.columns:
            assert column in LAYOUT, (table.name, column)


def test_every_setting_and_code_system_is_documented() -> None:
    for setting in SETTINGS:
        assert f"`{setting}`" in LAYOUT
    for systems in SYSTEMS_BY_TABLE.values():
        for system in systems:
            assert f"`{system}`" in LAYOUT


def test_every_rejection_reason_is_documented() -> None:
    reasons = set(
        re.findall(r'"(missing_[a-z_]+|bad_[a-z_]+|unknown_[a-z_]+|duplicate_[a-z_]+)"', SOURCES)
    )
    assert reasons
    for reason in reasons:
        assert f"`{reason}`" in LAYOUT, reason
