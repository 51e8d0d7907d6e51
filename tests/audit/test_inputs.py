"""The row accounting of ``inputs.py``: every input row counted once, with the right reason."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from backtriage.audit.engines import connect, drop_small_table, fetch, small_table
from backtriage.audit.inputs import (
    as_date,
    as_integer,
    load_tables,
    patient_counts,
    patient_groups,
    read_tables,
    row_counts,
    row_groups,
    tally,
)
from backtriage.audit.run import run_audit
from backtriage.errors import AuditInputError
from tests.audit.timelines import AUDIT_WARNINGS

pytestmark = AUDIT_WARNINGS

#: Patient ids as written in patients.parquet: "p2" with whitespace at both ends (valid once
#: trimmed), "dup" twice (every copy rejected), "undated" without a birth date.
PATIENTS = ["p1", " p2\t", "dup", "dup", "undated"]

#: Patient ids of event rows, and how each must be counted.
EVENT_IDS: dict[str | None, str] = {
    "p1": "valid",
    " p1\t": "valid",  # trimmed, a valid patient
    "p1\r\n": "valid",
    "p2": "valid",  # the patients file had it padded
    "\tp2 ": "valid",
    "dup": "missing_patient",  # the id is duplicated in patients
    "undated": "missing_patient",
    "ghost": "missing_patient",  # not in patients at all
    " ghost ": "missing_patient",
    "p1 p2": "missing_patient",  # inner whitespace is kept
    "": "missing_patient_id",
    "  \t": "missing_patient_id",
    None: "missing_patient_id",
}


def _write(folder: Path, event_ids: dict[str | None, str] = EVENT_IDS) -> None:
    def table(columns: dict[str, list[str | None]]) -> pa.Table:
        return pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()})

    n = len(event_ids)
    ids = list(event_ids)
    births: list[str | None] = ["1980-01-01"] * (len(PATIENTS) - 1) + [None]
    pq.write_table(
        table({"patient_id": PATIENTS, "birth_date": births}), folder / "patients.parquet"
    )
    pq.write_table(
        table(
            {
                "encounter_id": [f"e{i}" for i in range(n)],
                "patient_id": ids,
                "date": ["2024-03-01"] * n,
                "setting": ["outpatient"] * n,
            }
        ),
        folder / "encounters.parquet",
    )
    coded = {"patient_id": ids, "date": ["2024-03-01"] * n}
    pq.write_table(
        table({**coded, "code_system": ["icd10cm"] * n, "code": ["M54.50"] * n}),
        folder / "diagnoses.parquet",
    )
    pq.write_table(
        table({**coded, "code_system": ["cpt"] * n, "code": ["72148"] * n}),
        folder / "procedures.parquet",
    )


def _counted(con: Any, raw: dict[str, Any], patients: Any, *, look_up: bool) -> pa.Table:
    """The accounting's rows as ``run.py`` puts them together (``look_up``: the trimmed ids)."""
    groups = small_table(con, fetch(row_groups(raw, patients)))
    events = fetch(row_counts(groups, raw, patients if look_up else None))
    drop_small_table(con, groups)
    return pa.concat_tables([fetch(patient_counts(patients)), events])


@pytest.mark.parametrize("given_patients", [False, True])
def test_event_rows_are_matched_to_patients_by_trimmed_id(
    tmp_path: Path, given_patients: bool
) -> None:
    _write(tmp_path)
    con = connect("duckdb")
    raw = read_tables(con, tmp_path)
    # As the run gives it (grouped and cached by ``load_tables``), or grouped in the queries.
    if given_patients:
        patients = load_tables(con, tmp_path, raw=raw).patient_ids
    else:
        patients = patient_groups(raw)
    rows, in_use = tally(_counted(con, raw, patients, look_up=True), raw)
    expected: dict[str, int] = {}
    for reason in EVENT_IDS.values():
        expected[reason] = expected.get(reason, 0) + 1
    for name in ("encounters", "diagnoses", "procedures"):
        assert rows[name] == {
            "rows": len(EVENT_IDS),
            "valid": expected["valid"],
            "rejected_missing_patient": expected["missing_patient"],
            "rejected_missing_patient_id": expected["missing_patient_id"],
        }, name
    assert rows["patients"] == {
        "rows": 5,
        "valid": 2,
        "rejected_bad_date": 1,
        "rejected_duplicate_patient_id": 2,
    }
    assert in_use == {"diagnoses": {"icd10cm": 5}, "procedures": {"cpt": 5}}


def test_without_ids_to_trim_the_second_lookup_changes_nothing(tmp_path: Path) -> None:
    # run.py skips it when every id as read was found or missing (other_id all null).
    clean = {k: v for k, v in EVENT_IDS.items() if k in ("p1", "p2", "", None)}
    _write(tmp_path, clean)
    con = connect("duckdb")
    raw = read_tables(con, tmp_path)
    patients = patient_groups(raw)
    groups = fetch(row_groups(raw, patients))
    assert groups.num_rows > 0
    assert groups.column("other_id").null_count == groups.num_rows
    with_lookup = _counted(con, raw, patients, look_up=True)
    order = [("table", "ascending"), ("reason", "ascending"), ("system", "ascending")]
    without = _counted(con, raw, patients, look_up=False)
    assert without.sort_by(order) == with_lookup.sort_by(order)
    rows, _ = tally(with_lookup, raw)
    assert rows["diagnoses"] == {"rows": 4, "valid": 2, "rejected_missing_patient_id": 2}


#: Text dates and what the audit must read from them, the same on every engine.  Engines cast
#: more than ISO dates, and differently: Spark read "2024-03" as March 1st and "1970" as
#: January 1st (DuckDB: null); DuckDB read "2024/03/01", "2024-3-1", "24-03-01" (year 24),
#: "epoch" and "infinity" as dates (Spark: null, but "2024-3-1" and "2024-03-01 garbage").
DATES: dict[str, str | None] = {
    "2024-03-01": "2024-03-01",
    " 2024-03-01\t": "2024-03-01",
    "2024-03-01\r": "2024-03-01",
    "2024-03-01T10:30:00": "2024-03-01",
    "2024-03-01 10:30": "2024-03-01",
    "2024-03-01T23:30:00.123-05:00": "2024-03-01",  # the date as written, not in UTC
    "2024-03-01T10:30:00Z": "2024-03-01",
    "2024-03": None,  # partial: which day?
    "1970": None,
    "03/04/2024": None,  # March 4th or April 3rd?
    "04.03.2024": None,
    "2024/03/01": None,
    "2024-3-1": None,
    "24-03-01": None,
    "20240301": None,
    "2024-02-30": None,
    "2024-03-01 garbage": None,
    "2024-03-01T": None,
    "epoch": None,
    "infinity": None,
    "": None,
}

#: Days supply as text: a whole number of days, nothing else (DuckDB read "30.5" as 31, "3e1",
#: "0x1E" and "1_000" as numbers; Spark none of them).
DAYS: dict[str, int | None] = {
    "30": 30,
    " 30 ": 30,
    "30.5": None,
    "30.0": None,
    "3e1": None,
    "0x1E": None,
    "1_000": None,
    "+30": None,
    "30 days": None,
}


def test_only_iso_dates_and_whole_days_are_read(tmp_path: Path) -> None:
    n = max(len(DATES), len(DAYS))
    dates = [*DATES, *[None] * (n - len(DATES))]
    days = [*DAYS, *[None] * (n - len(DAYS))]
    pq.write_table(
        pa.table({"date": pa.array(dates, pa.string()), "days": pa.array(days, pa.string())}),
        tmp_path / "values.parquet",
    )
    con = connect("duckdb")
    t = con.read_parquet(tmp_path / "values.parquet")
    result = fetch(t.select(t.date, t.days, parsed=as_date(t, "date"), n=as_integer(t, "days")))
    read = result.to_pylist()
    got_dates = {r["date"]: r["parsed"] for r in read if r["date"] is not None}
    got_days = {r["days"]: r["n"] for r in read if r["days"] is not None}
    assert {k: None if v is None else v.isoformat() for k, v in got_dates.items()} == DATES
    assert got_days == DAYS


def test_typed_columns_are_read_as_their_type(tmp_path: Path) -> None:
    # A Parquet date or timestamp is a date; a float days supply counts if it is whole.
    import datetime as dt

    pq.write_table(
        pa.table(
            {
                "day": pa.array([dt.date(2024, 3, 1), None]),
                "at": pa.array([dt.datetime(2024, 3, 1, 23, 30), None], pa.timestamp("us")),
                "days": pa.array([30.0, 30.5]),
                "whole": pa.array([30, None], pa.int32()),
            }
        ),
        tmp_path / "typed.parquet",
    )
    con = connect("duckdb")
    t = con.read_parquet(tmp_path / "typed.parquet")
    read = fetch(
        t.select(
            day=as_date(t, "day"),
            at=as_date(t, "at"),
            days=as_integer(t, "days"),
            whole=as_integer(t, "whole"),
        )
    ).to_pylist()
    march_1 = dt.date(2024, 3, 1)
    assert read == [
        {"day": march_1, "at": march_1, "days": 30, "whole": 30},
        {"day": None, "at": None, "days": None, "whole": None},
    ]


# CSV files as spreadsheets and other tools write them: the boundary population's CSV folder
# rewritten must give the same audit as the files as written.


def _rewrite(src: Path, dst: Path, change: Callable[[str, str], str]) -> Path:
    dst.mkdir()
    for path in sorted(src.glob("*.csv")):
        (dst / path.name).write_bytes(change(path.stem, path.read_text()).encode("utf-8"))
    return dst


def _header(text: str, change: Callable[[str], str]) -> str:
    head, rest = text.split("\n", 1)
    return change(head) + "\n" + rest


def _separated(text: str, separator: str) -> str:
    rows = csv.reader(io.StringIO(text))
    out = io.StringIO()
    csv.writer(out, delimiter=separator, lineterminator="\n").writerows(rows)
    return out.getvalue()


CSV_VARIANTS: dict[str, Callable[[str, str], str]] = {
    "utf8_bom": lambda name, text: "\ufeff" + text,
    "windows_line_ends": lambda name, text: text.replace("\n", "\r\n"),
    "semicolons": lambda name, text: _separated(text, ";"),
    "tabs": lambda name, text: _separated(text, "\t"),
    "upper_case_names": lambda name, text: _header(text, str.upper),
    "names_with_spaces": lambda name, text: _header(
        text, lambda head: ", ".join(f" {c} " for c in head.replace('"', "").split(","))
    ),
    "extra_columns": lambda name, text: _separated(
        "\n".join(line + (',"a, b"' if i else ",Note") for i, line in enumerate(text.splitlines()))
        + "\n",
        ",",
    ),
}


@pytest.mark.parametrize("variant", sorted(CSV_VARIANTS))
def test_csv_files_as_tools_write_them_read_alike(
    timelines_csv: Path, tmp_path: Path, variant: str
) -> None:
    # Upper-case or padded column names were "missing" (the error named a column the file
    # has); semicolons or tabs were read by DuckDB's guess at the separator and not by Spark.
    expected = run_audit(timelines_csv, 2024).summary
    folder = _rewrite(timelines_csv, tmp_path / variant, CSV_VARIANTS[variant])
    summary = run_audit(folder, 2024).summary
    for key in ("denominator", "numerator", "exclusions", "not_eligible", "rows"):
        assert summary[key] == expected[key], key


def test_a_header_only_file_is_an_empty_table(timelines_csv: Path, tmp_path: Path) -> None:
    folder = _rewrite(
        timelines_csv,
        tmp_path / "x",
        lambda name, text: text.split("\n", 1)[0] + "\n" if name == "procedures" else text,
    )
    summary = run_audit(folder, 2024).summary
    assert summary["rows"]["procedures"] == {"rows": 0, "valid": 0}
    assert summary["numerator"] == 0


def test_two_columns_that_differ_in_case_only_are_an_error(
    timelines_csv: Path, tmp_path: Path
) -> None:
    folder = _rewrite(
        timelines_csv,
        tmp_path / "x",
        lambda name, text: (
            _header(text, lambda h: h + ",Patient_ID") if name == "patients" else text
        ),
    )
    with pytest.raises(AuditInputError, match=r"patients.csv has the column patient_id twice"):
        run_audit(folder, 2024)


def test_a_row_with_fewer_values_has_empty_ones_and_is_counted(
    timelines_csv: Path, tmp_path: Path
) -> None:
    # Trailing empty values left out, or a line cut short: the values it lacks are empty (as
    # Spark reads it), and a row that lacks a required one is rejected for it.
    cut = "ghost_row,2024-03-01\n"
    folder = _rewrite(
        timelines_csv,
        tmp_path / "x",
        lambda name, text: text + cut if name == "diagnoses" else text,
    )
    expected = run_audit(timelines_csv, 2024).summary["rows"]["diagnoses"]
    rows = run_audit(folder, 2024).summary["rows"]["diagnoses"]
    assert rows["rows"] == expected["rows"] + 1
    assert rows["rejected_missing_patient"] == expected.get("rejected_missing_patient", 0) + 1


def test_parquet_column_names_are_read_like_csv_ones(timelines_csv: Path, tmp_path: Path) -> None:
    import pyarrow.csv as pacsv

    expected = run_audit(timelines_csv, 2024).summary
    for path in timelines_csv.glob("*.csv"):
        table = pacsv.read_csv(path)
        table = table.rename_columns([c.upper() for c in table.column_names])
        pq.write_table(table, tmp_path / f"{path.stem}.parquet")
    summary = run_audit(tmp_path, 2024).summary
    for key in ("denominator", "numerator", "exclusions", "rows"):
        assert summary[key] == expected[key], key


@pytest.mark.parametrize(
    ("principal", "reason"),
    [("TRUE", None), (" yes ", None), ("N", None), ("0", None), ("", None), ("P", "bad_principal")],
)
def test_a_principal_flag_that_is_neither_true_nor_false_is_rejected(
    timelines_csv: Path, tmp_path: Path, principal: str, reason: str | None
) -> None:
    # "P" (primary), as some extracts write it, was read as false: the diagnosis could never
    # make an index visit, and the summary counted it valid.
    expected = run_audit(timelines_csv, 2024).summary["rows"]["diagnoses"]

    def flag(name: str, text: str) -> str:
        if name != "diagnoses":
            return text
        return text + f'"not_imaged",2024-05-01,icd10cm,I10,,"{principal}",extra\n'

    rows = run_audit(_rewrite(timelines_csv, tmp_path / "x", flag), 2024).summary["rows"]
    diagnoses = rows["diagnoses"]
    assert diagnoses["rows"] == expected["rows"] + 1
    if reason is None:
        assert diagnoses["valid"] == expected["valid"] + 1
    else:
        assert diagnoses[f"rejected_{reason}"] == 1


def test_file_names_in_another_case_are_found(timelines_csv: Path, tmp_path: Path) -> None:
    # Exports from Windows tools: PATIENTS.CSV, Diagnoses.csv ("lacks patients.csv ...").
    expected = run_audit(timelines_csv, 2024).summary
    folder = tmp_path / "x"
    folder.mkdir()
    for path in timelines_csv.glob("*.csv"):
        name = path.name.upper() if path.stem == "patients" else path.name.title()
        (folder / name).write_bytes(path.read_bytes())
    summary = run_audit(folder, 2024).summary
    assert summary["rows"] == expected["rows"]
    assert summary["denominator"] == expected["denominator"]


def test_a_folder_of_fhir_bundles_says_it_reads_bulk_ndjson(tmp_path: Path) -> None:
    # Synthea and many tools write one FHIR Bundle per patient (*.json): "lacks patients.csv"
    # did not say that the FHIR they hold must be a Bulk Data export (NDJSON).
    (tmp_path / "Alice_Smith.json").write_text('{"resourceType": "Bundle", "entry": []}')
    with pytest.raises(AuditInputError, match=r"holds \.json files.*NDJSON"):
        run_audit(tmp_path, 2024)
