"""Read the tabular layout into an Ibis backend and sort every row: valid, or rejected (why).

Values are read as text and parsed here, in the engine, so that a bad date or an unknown code
system rejects one row (counted, with its reason) instead of failing the whole run or being
guessed.  The same expressions run on DuckDB and Spark.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import reduce
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis.backends import BaseBackend

from backtriage.audit.layout import SYSTEMS_BY_TABLE, TABLES, TRUE_WORDS, TableLayout
from backtriage.audit.spec import SETTINGS
from backtriage.errors import AuditInputError

SUFFIXES: tuple[str, ...] = (".parquet", ".csv")


#: A predicate over a table.
RowFilter = Callable[[ir.Table], ir.BooleanValue]


@dataclass(frozen=True)
class Keep:
    """Which valid rows of a table the audit can use (both filters may keep more).

    ``raw`` runs on the table as read (through :func:`raw_text` / :func:`raw_code`), so engines
    apply it in the file scan, before the other columns are parsed and the patient looked up;
    ``checked`` runs on the checked table.
    """

    raw: RowFilter | None = None
    checked: RowFilter | None = None


@dataclass(frozen=True)
class CheckedTables:
    """Each table with a ``reject`` column (null when the row is valid), typed columns.

    ``tables`` hold every input row (for the row accounting); ``used`` hold, materialised, the
    valid rows the audit can use, when :func:`load_tables` was told which ones those are.
    """

    tables: dict[str, ir.Table]
    missing_optional: dict[str, str]
    used: dict[str, ir.Table] = field(default_factory=dict)

    def valid(self, name: str) -> ir.Table:
        if name in self.used:
            return self.used[name]
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
    return _strip(column_value).nullif("")


def _strip(value: ir.StringValue) -> ir.StringValue:
    """``value.strip()``, computed only where it can change something.

    Trimming a set of characters costs engines several times a plain scan of the column, and
    almost no value needs it.  Every character ``strip`` removes (``string.whitespace``) is at
    most U+0020, so a value whose first and last characters are above that is already stripped.
    """
    edge = (value.ascii_str() <= 32) | (value.right(1).ascii_str() <= 32)
    return ibis.ifelse(edge, value.strip(), value)


def _code(table: ir.Table) -> ir.StringValue:
    """Normalised code: the rule of :func:`backtriage.audit.codes.normalise_code`, in the engine."""
    return _normalise(_text(table, "code"))


def _normalise(code: ir.StringValue) -> ir.StringValue:
    return code.upper().replace(".", "").replace(" ", "")


def raw_text(table: ir.Table, column: str) -> ir.StringValue:
    """A raw column as the checked table will hold it, except that empty text stays empty.

    For filters on the raw rows: there a plain ``strip`` costs engines less than
    :func:`_strip` (the filter sits in the file scan).
    """
    column_value = table[column]
    if not column_value.type().is_string():
        column_value = column_value.cast("string")
    return column_value.strip()


def raw_code(table: ir.Table) -> ir.StringValue:
    """The normalised code of a raw row (empty text stays empty: no code list holds it)."""
    return _normalise(raw_text(table, "code"))


def _date(table: ir.Table, column: str) -> ir.DateValue:
    return _text(table, column).try_cast("date")


def _first_reject(*checks: tuple[ir.BooleanValue, str]) -> ir.StringValue:
    """The reason of the first failing check, else null."""
    case = ibis.cases(*((cond, ibis.literal(reason)) for cond, reason in checks), else_=None)
    return case.cast("string")


def load_tables(
    con: BaseBackend,
    folder: Path,
    *,
    materialize: bool = True,
    keep: Mapping[str, Keep] | None = None,
) -> CheckedTables:
    """Read the tabular files of ``folder`` and attach a reject reason to every bad row.

    Every file is read and parsed where it is used, in the engine: once for the row accounting
    (:func:`account`, an aggregate: nothing is materialised) and once for the rows the audit
    uses.  With ``materialize``, the checked patients (one row each, needed whole) and, of the
    other tables, only the valid rows ``keep`` selects (a few percent of a population: the rows
    whose codes are on a list, the encounters that can be an index visit or hospice) are cached
    in the engine (a DuckDB temp table, which spills to the temp directory under a memory limit;
    a persisted Spark DataFrame), so the measure and the chart review reuse them.  A table
    without a ``keep`` filter is cached whole.
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
    patients = _patients(raw["patients"])
    if materialize:
        patients = _cache(patients)
    tables = {"patients": patients}
    valid_ids = (
        tables["patients"]
        .filter(tables["patients"].reject.isnull())
        .select(known_id="patient_id")
        .distinct()
    )
    if materialize:
        valid_ids = _cache(valid_ids)
    used: dict[str, ir.Table] = {}
    for name in ("encounters", "diagnoses", "procedures", "medications"):
        if name not in raw:
            continue
        tables[name] = _checked(raw[name], name, valid_ids)
        if materialize:
            rule = (keep or {}).get(name, Keep())
            source = raw[name] if rule.raw is None else raw[name].filter(rule.raw(raw[name]))
            table = _checked(source, name, valid_ids)
            ok = table.reject.isnull()
            if rule.checked is not None:
                ok = ok & rule.checked(table)
            used[name] = _cache(table.filter(ok).drop("reject"))
    return CheckedTables(tables, missing_optional, used)


def _checked(raw: ir.Table, name: str, valid_ids: ir.Table) -> ir.Table:
    if name == "encounters":
        return _encounters(raw, valid_ids)
    return _coded(raw, name, valid_ids)


def _cache(table: ir.Table) -> ir.Table:
    return table.cache()


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
        # Null exactly when the normalised code is; the row accounting reads only this.
        "code_given": _text(raw, "code").notnull(),
        "record_id": _text(raw, "record_id"),
    }
    if name != "medications":
        columns["encounter_id"] = _text(raw, "encounter_id")
    if name == "diagnoses":
        # Equalities, not ``isin``: DuckDB plans an ``isin`` as a join, which it then runs even
        # for the row accounting, which never reads this column.
        principal = _text(raw, "principal").lower()
        columns["principal"] = reduce(
            lambda a, b: a | b, (principal == word for word in TRUE_WORDS)
        ).fill_null(False)
    if name == "medications":
        columns["days_supply"] = _text(raw, "days_supply").try_cast("int64")
    t = _with_known_patient(raw.select(**columns), valid_ids)
    checks: list[tuple[ir.BooleanValue, str]] = [
        (t.patient_id.isnull(), "missing_patient_id"),
        (~t.patient_known, "missing_patient"),
        (t.date.isnull(), "bad_date"),
        (~t.code_given, "missing_code"),
        (
            t.code_system.isnull() | ~t.code_system.isin(list(SYSTEMS_BY_TABLE[name])),
            "unknown_code_system",
        ),
    ]
    if name == "medications":
        checks.append(((t.days_supply.isnull()) | (t.days_supply < 1), "bad_days_supply"))
    t = t.mutate(reject=_first_reject(*checks))
    return t.drop("patient_known", "code_given")


def account(tables: CheckedTables) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    """Row accounting: one aggregate query per table, over every input row.

    One query per table, not one union: DuckDB would hold every table's patient lookup at once,
    which does not fit a small ``memory_limit``.

    Returns (per table: total, valid, and rejected by reason; per coded table: valid rows by
    code system, to warn about systems no list uses).
    """
    parts = []
    for name, table in tables.tables.items():
        system = table.code_system if "code_system" in table.columns else ibis.null().cast("string")
        parts.append(
            table.select(reason=table.reject.fill_null("valid"), system=system)
            .group_by("reason", "system")
            .agg(n=ibis._.count())
            .mutate(table=ibis.literal(name))
        )
    frame = pd.concat([part.execute() for part in parts], ignore_index=True)
    rows: dict[str, dict[str, int]] = {}
    in_use: dict[str, dict[str, int]] = {}
    for name in tables.tables:
        part = frame[frame["table"] == name]
        by_reason: dict[str, int] = {}
        for reason, system, n in zip(part["reason"], part["system"], part["n"], strict=True):
            by_reason[str(reason)] = by_reason.get(str(reason), 0) + int(n)
            if reason == "valid" and name in ("diagnoses", "procedures", "medications"):
                in_use.setdefault(name, {})[str(system)] = int(n)
        valid = by_reason.pop("valid", 0)
        rows[name] = {
            "rows": valid + sum(by_reason.values()),
            "valid": valid,
            **{f"rejected_{reason}": n for reason, n in sorted(by_reason.items())},
        }
    return rows, in_use


def describe_layout(layout: TableLayout) -> str:
    """One line for error messages and docs."""
    return f"{layout.name}: {', '.join(layout.required)} [+ {', '.join(layout.optional)}]"
