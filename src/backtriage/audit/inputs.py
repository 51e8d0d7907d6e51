"""Read the tabular layout into an Ibis backend and sort every row: valid, or rejected (why).

Values are read as text and parsed here, in the engine, so that a bad date or an unknown code
system rejects one row (counted, with its reason) instead of failing the whole run or being
guessed.  The same expressions run on DuckDB and Spark.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from backtriage.audit.layout import SYSTEMS_BY_TABLE, TABLES, TRUE_WORDS, TableLayout
from backtriage.audit.spec import SETTINGS
from backtriage.errors import AuditInputError

SUFFIXES: tuple[str, ...] = (".parquet", ".csv")


@dataclass(frozen=True)
class CheckedTables:
    """Each table with a ``reject`` column (null when the row is valid), typed columns."""

    tables: dict[str, ir.Table]
    missing_optional: dict[str, str]

    def valid(self, name: str) -> ir.Table:
        table = self.tables[name]
        return table.filter(table.reject.isnull()).drop("reject")


def find_table_files(folder: Path) -> dict[str, Path]:
    """The file of each table in ``folder``; a clear error names every missing one."""
    if not folder.is_dir():
        raise AuditInputError(
            f"input {folder} is not a folder; give a folder of FHIR NDJSON files "
            "(Patient.ndjson, ...) or of tabular files (patients.csv, ...)"
        )
    found: dict[str, Path] = {}
    missing: list[str] = []
    for layout in TABLES:
        candidates = [folder / f"{layout.name}{suffix}" for suffix in SUFFIXES]
        present = [p for p in candidates if p.exists()]
        if len(present) > 1:
            raise AuditInputError(
                f"both {present[0].name} and {present[1].name} in {folder}; keep one"
            )
        if present:
            found[layout.name] = present[0]
        elif layout.required_file:
            missing.append(f"{layout.name}.csv or {layout.name}.parquet")
    if missing:
        raise AuditInputError(
            f"{folder} lacks {', '.join(missing)} (see the tabular layout: "
            "backtriage/audit/LAYOUT.md)"
        )
    return found


def _read(con: BaseBackend, path: Path, name: str) -> ir.Table:
    try:
        if path.suffix == ".parquet":
            return con.read_parquet(str(path), table_name=f"raw_{name}")
        if con.name == "duckdb":
            return con.read_csv(str(path), table_name=f"raw_{name}", all_varchar=True)
        return con.read_csv(str(path), table_name=f"raw_{name}", inferSchema=False)
    except Exception as exc:  # each engine raises its own reader errors
        raise AuditInputError(f"cannot read {path}: {exc}") from exc


def _text(table: ir.Table, column: str) -> ir.StringValue:
    """A column as trimmed text; an absent optional column is all null."""
    if column not in table.columns:
        return ibis.null().cast("string")
    column_value = table[column]
    if not column_value.type().is_string():
        column_value = column_value.cast("string")
    return column_value.strip().nullif("")


def _code(table: ir.Table) -> ir.StringValue:
    """Normalised code: the rule of :func:`backtriage.audit.codes.normalise_code`, in the engine."""
    return _text(table, "code").upper().replace(".", "").replace(" ", "")


def _date(table: ir.Table, column: str) -> ir.DateValue:
    return _text(table, column).try_cast("date")


def _first_reject(*checks: tuple[ir.BooleanValue, str]) -> ir.StringValue:
    """The reason of the first failing check, else null."""
    case = ibis.cases(*((cond, ibis.literal(reason)) for cond, reason in checks), else_=None)
    return case.cast("string")


def load_tables(con: BaseBackend, folder: Path, *, materialize: bool = True) -> CheckedTables:
    """Read the tabular files of ``folder`` and attach a reject reason to every bad row.

    ``materialize`` caches each checked table in the engine (a DuckDB temp table, which spills
    to the temp directory under a memory limit; a persisted Spark DataFrame), so every file is
    read and parsed once: the measure, the row accounting and the chart review reuse it.
    """
    files = find_table_files(folder)
    raw: dict[str, ir.Table] = {}
    problems: list[str] = []
    for layout in TABLES:
        if layout.name not in files:
            continue
        table = _read(con, files[layout.name], layout.name)
        missing = [c for c in layout.required if c not in table.columns]
        if missing:
            problems.append(
                f"{files[layout.name].name} lacks column(s) {', '.join(missing)} "
                f"(required: {', '.join(layout.required)})"
            )
        raw[layout.name] = table
    if problems:
        raise AuditInputError("; ".join(problems))
    missing_optional = {t.name: t.note for t in TABLES if not t.required_file and t.name not in raw}
    keep = _cache if materialize else _as_is
    tables = {"patients": keep(_patients(raw["patients"]))}
    valid_ids = (
        tables["patients"]
        .filter(tables["patients"].reject.isnull())
        .select(known_id="patient_id")
        .distinct()
    )
    tables["encounters"] = keep(_encounters(raw["encounters"], valid_ids))
    for name in ("diagnoses", "procedures", "medications"):
        if name in raw:
            tables[name] = keep(_coded(raw[name], name, valid_ids))
    return CheckedTables(tables, missing_optional)


def _cache(table: ir.Table) -> ir.Table:
    return table.cache()


def _as_is(table: ir.Table) -> ir.Table:
    return table


def _patients(raw: ir.Table) -> ir.Table:
    t = raw.select(
        patient_id=_text(raw, "patient_id"),
        birth_date=_date(raw, "birth_date"),
        sex=_text(raw, "sex"),
    )
    # Every copy of a duplicated id is rejected: which birth date is right cannot be known.
    counts = t.group_by(dup_id="patient_id").agg(copies=ibis._.count())
    t = t.left_join(counts, t.patient_id == counts.dup_id)
    t = t.mutate(
        reject=_first_reject(
            (t.patient_id.isnull(), "missing_patient_id"),
            (t.birth_date.isnull(), "bad_date"),
            (t.copies > 1, "duplicate_patient_id"),
        )
    )
    return t.drop("dup_id", "copies")


def _with_known_patient(t: ir.Table, valid_ids: ir.Table) -> ir.Table:
    joined = t.left_join(valid_ids, t.patient_id == valid_ids.known_id)
    return joined.mutate(patient_known=joined.known_id.notnull()).drop("known_id")


def _encounters(raw: ir.Table, valid_ids: ir.Table) -> ir.Table:
    t = raw.select(
        encounter_id=_text(raw, "encounter_id"),
        patient_id=_text(raw, "patient_id"),
        date=_date(raw, "date"),
        setting=_text(raw, "setting").lower(),
        clinician_id=_text(raw, "clinician_id"),
        site_id=_text(raw, "site_id"),
    )
    t = _with_known_patient(t, valid_ids)
    t = t.mutate(
        reject=_first_reject(
            (t.patient_id.isnull(), "missing_patient_id"),
            (~t.patient_known, "missing_patient"),
            (t.encounter_id.isnull(), "missing_encounter_id"),
            (t.date.isnull(), "bad_date"),
            (t.setting.isnull() | ~t.setting.isin(list(SETTINGS)), "unknown_setting"),
        )
    )
    return t.drop("patient_known")


def _coded(raw: ir.Table, name: str, valid_ids: ir.Table) -> ir.Table:
    date_column = "start_date" if name == "medications" else "date"
    columns: dict[str, ir.Value] = {
        "patient_id": _text(raw, "patient_id"),
        "date": _date(raw, date_column),
        "code_system": _text(raw, "code_system").lower(),
        "code": _code(raw),
        "record_id": _text(raw, "record_id"),
    }
    if name != "medications":
        columns["encounter_id"] = _text(raw, "encounter_id")
    if name == "diagnoses":
        columns["principal"] = (
            _text(raw, "principal").lower().isin(list(TRUE_WORDS)).fill_null(False)
        )
    if name == "medications":
        columns["days_supply"] = _text(raw, "days_supply").try_cast("int64")
    t = _with_known_patient(raw.select(**columns), valid_ids)
    checks: list[tuple[ir.BooleanValue, str]] = [
        (t.patient_id.isnull(), "missing_patient_id"),
        (~t.patient_known, "missing_patient"),
        (t.date.isnull(), "bad_date"),
        (t.code.isnull(), "missing_code"),
        (
            t.code_system.isnull() | ~t.code_system.isin(list(SYSTEMS_BY_TABLE[name])),
            "unknown_code_system",
        ),
    ]
    if name == "medications":
        checks.append(((t.days_supply.isnull()) | (t.days_supply < 1), "bad_days_supply"))
    t = t.mutate(reject=_first_reject(*checks))
    return t.drop("patient_known")


def rejections(tables: CheckedTables) -> dict[str, dict[str, int]]:
    """Row accounting per table: total, valid, and rejected by reason (one query)."""
    parts = [
        table.group_by(reason=table.reject.fill_null("valid"))
        .agg(n=ibis._.count())
        .mutate(table=ibis.literal(name))
        for name, table in tables.tables.items()
    ]
    frame = ibis.union(*parts, distinct=False).execute()
    out: dict[str, dict[str, int]] = {}
    for name in tables.tables:
        rows = frame[frame["table"] == name]
        by_reason = {str(r): int(n) for r, n in zip(rows["reason"], rows["n"], strict=True)}
        valid = by_reason.pop("valid", 0)
        out[name] = {
            "rows": valid + sum(by_reason.values()),
            "valid": valid,
            **{f"rejected_{reason}": n for reason, n in sorted(by_reason.items())},
        }
    return out


def systems_in_use(tables: CheckedTables) -> dict[str, dict[str, int]]:
    """Valid rows per code system, per coded table (to warn about systems no list uses)."""
    parts = []
    for name in ("diagnoses", "procedures", "medications"):
        if name in tables.tables:
            t = tables.valid(name)
            parts.append(
                t.group_by("code_system").agg(n=ibis._.count()).mutate(table=ibis.literal(name))
            )
    frame = ibis.union(*parts, distinct=False).execute()
    out: dict[str, dict[str, int]] = {}
    for table, system, n in zip(frame["table"], frame["code_system"], frame["n"], strict=True):
        out.setdefault(str(table), {})[str(system)] = int(n)
    return out


def describe_layout(layout: TableLayout) -> str:
    """One line for error messages and docs."""
    return f"{layout.name}: {', '.join(layout.required)} [+ {', '.join(layout.optional)}]"
