"""Read the tabular layout into an Ibis backend and sort every row: valid, or rejected (why).

Values are read as text and parsed here, in the engine, so that a bad date or an unknown code
system rejects one row (counted, with its reason) instead of failing the whole run or being
guessed.  The same expressions run on DuckDB and Spark.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import reduce
from pathlib import Path

import duckdb
import ibis
import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends import BaseBackend

from backtriage.audit.engines import cache
from backtriage.audit.layout import (
    FALSE_WORDS,
    SETTINGS,
    SYSTEMS_BY_TABLE,
    TABLES,
    TRUE_WORDS,
    TableLayout,
)
from backtriage.errors import AuditInputError

SUFFIXES: tuple[str, ...] = (".parquet", ".csv")

#: The file names of the tabular layout (``patients.csv``, ...), in lower case.
TABLE_FILE_NAMES: frozenset[str] = frozenset(t.name + s for t in TABLES for s in SUFFIXES)

#: The tables other than ``patients``, in the order the row accounting reports them.
EVENT_TABLES: tuple[str, ...] = ("encounters", "diagnoses", "procedures", "medications")

#: The characters ``strip`` removes (``string.whitespace``, which Ibis trims), except the space.
_EDGE_CHARS = "\t\n\x0b\x0c\r"


#: A predicate over a table, which may read the tables kept before it.
RowFilter = Callable[[ir.Table, Mapping[str, ir.Table]], ir.BooleanValue]


@dataclass(frozen=True)
class Keep:
    """Which valid rows of a table the audit can use (both filters may keep more).

    ``raw`` runs on the table as read (through :func:`raw_code`, :func:`as_date`, ...), so
    engines apply it in the file scan, before the other columns are parsed; ``checked`` runs on
    the checked rows ``raw`` kept.  Both may read the tables kept before (the second argument:
    the coded tables are kept before the encounters).
    """

    raw: RowFilter | None = None
    checked: RowFilter | None = None


@dataclass(frozen=True)
class CheckedTables:
    """The rows the audit uses, typed, and what :func:`row_counts` needs to count every input row.

    ``used`` holds the valid patients (one row each: ``patient_id``, ``birth_date``) and, of
    each other table, the valid rows the ``keep`` rules of :func:`load_tables` selected, with
    one check left out: whether the row's patient is a valid patient.  Every use of those rows
    reaches a patient through the index visit, which is joined with the valid patients first
    (``measure.index_events``), so a row of an unknown patient can never count; leaving the
    check to that one small join spares a lookup of every row.  ``raw`` holds the tables as
    read and ``patient_ids`` the patients grouped by id (:func:`patient_groups`, cached), for
    :func:`row_counts`.
    """

    used: dict[str, ir.Table]
    missing_optional: dict[str, str]
    raw: dict[str, ir.Table]
    patient_ids: ir.Table

    def valid(self, name: str) -> ir.Table:
        return self.used[name]


def find_table_files(folder: Path) -> dict[str, Path]:
    """The file of each table in ``folder``; a clear error names every missing one."""
    if not folder.is_dir():
        raise AuditInputError(
            f"input {folder} is not a folder; give a folder of FHIR NDJSON files "
            "(Patient.ndjson, ...) or of tabular files (patients.csv, ...)"
        )
    # File names in any case (PATIENTS.CSV from a Windows tool is patients.csv).
    by_name: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        by_name.setdefault(path.name.lower(), []).append(path)
    found: dict[str, Path] = {}
    missing: list[str] = []
    for layout in TABLES:
        present = [p for suffix in SUFFIXES for p in by_name.get(f"{layout.name}{suffix}", [])]
        if len(present) > 1:
            raise AuditInputError(
                f"both {present[0].name} and {present[1].name} in {folder}; keep one"
            )
        if present:
            found[layout.name] = present[0]
        elif layout.required_file:
            missing.append(f"{layout.name}.csv or {layout.name}.parquet")
    if missing:
        bundles = (
            " It holds .json files: FHIR is read as a Bulk Data export (NDJSON: one resource a "
            "line, Patient.ndjson, ...), not as Bundles."
            if any(name.endswith(".json") for name in by_name)
            else ""
        )
        raise AuditInputError(
            f"{folder} lacks {', '.join(missing)} (see the tabular layout: "
            f"backtriage/audit/LAYOUT.md).{bundles}"
        )
    return found


def _read(con: BaseBackend, path: Path, name: str) -> ir.Table:
    """The file ``path`` as a table of ``con``, its columns named as the layout's (lower case,
    no spaces at the ends: ``Patient_ID`` is ``patient_id``).

    A CSV file is read as its header line says (:func:`_csv_header`), every value as text: the
    dialect is given, not guessed (DuckDB's guess read semicolons that Spark did not, and a
    file with one bad row among its first lines as one without a header: "lacks column(s)" for
    columns it has).  A row with fewer values than the header has empty ones; a row that is not
    CSV stops the run when DuckDB reads it (:func:`csv_error`).  Spark reads a row with more
    values than the header by its first values (its reader does not count the values of a row
    when it reads some columns only).
    """
    try:
        if path.suffix.lower() == ".parquet":
            table = con.read_parquet(str(path), table_name=f"raw_{name}")
            names = _column_names(path, list(table.columns))
        else:
            separator, header = _csv_header(path)
            names = _column_names(path, header)
            if con.name == "duckdb":
                return con.read_csv(
                    str(path),
                    table_name=f"raw_{name}",
                    header=True,
                    auto_detect=False,
                    delim=separator,
                    quote='"',
                    escape='"',
                    # A row with fewer values has empty ones, as Spark reads it (and is
                    # rejected for the required ones missing, counted).
                    null_padding=True,
                    columns={n: "VARCHAR" for n in names},
                )
            table = con.read_csv(
                str(path), table_name=f"raw_{name}", header=True, sep=separator, inferSchema=False
            )
    except (AuditInputError, duckdb.OutOfMemoryException):
        raise  # the latter not the file's fault: run_audit says to give a higher --memory-limit
    except Exception as exc:  # each engine raises its own reader errors
        raise AuditInputError(f"cannot read {path}: {_first_lines(str(exc))}") from exc
    renamed = {new: old for new, old in zip(names, table.columns, strict=True) if new != old}
    return table.rename(renamed) if renamed else table


#: The separators a CSV file may use: the one its header line splits on (a comma if none).
CSV_SEPARATORS: tuple[str, ...] = (",", ";", "\t", "|")


def _csv_header(path: Path) -> tuple[str, list[str]]:
    """The separator and the column names of the CSV file ``path``, from its header line."""
    with path.open("rb") as handle:
        line = handle.readline(1 << 20)  # a header is short; a file without line ends is not
    try:
        head = line.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise AuditInputError(
            f"cannot read {path}: its header line is not UTF-8 text; save the file as UTF-8"
        ) from exc
    if not head.strip():
        raise AuditInputError(f"{path} is empty: a CSV file needs at least its header line")

    def fields(separator: str) -> list[str]:
        return next(csv.reader([head], delimiter=separator))

    separator = max(CSV_SEPARATORS, key=lambda s: len(fields(s)))  # ties: the first, a comma
    return separator, fields(separator)


def _column_names(path: Path, names: list[str]) -> list[str]:
    """``names`` as the layout names its columns; two that become one name are an error."""
    seen: dict[str, str] = {}
    for i, name in enumerate(names):
        key = name.strip().lower() or f"column{i}"
        if key in seen:
            raise AuditInputError(
                f"{path.name} has the column {key} twice ({seen[key]!r} and {name!r}); keep one"
            )
        seen[key] = name
    return list(seen)


def _before_advice(message: str) -> list[str]:
    """The lines of an engine's message up to its first blank line or advice ("Possible ...")."""
    lines = []
    for line in message.splitlines():
        if not line.strip() or line.startswith("Possible"):
            break
        lines.append(line.strip())
    return lines


def _first_lines(message: str) -> str:
    return " ".join(_before_advice(message))


def csv_error(exc: Exception) -> AuditInputError | None:
    """DuckDB's error for a row of a CSV file that is not CSV (more values than the header, an
    unclosed quote, a byte that is not UTF-8), raised when the row is read: as one line that
    names the file, the line and what is wrong; ``None`` for any other error."""
    message = str(exc)
    line = re.search(r"CSV Error on Line: (\d+)", message)
    path = re.search(r"^\s*file = (.+)$", message, re.MULTILINE)
    if line is None or path is None:
        return None
    # The lines before the advice: the error, the line as read (which may span lines), and last
    # what is wrong with it.
    wrong = _before_advice(message)[-1]
    return AuditInputError(
        f"cannot read {path.group(1).strip()}: line {line.group(1)}: {wrong} (a CSV file must "
        "be UTF-8 text, with as many values on each row as in its header; quote a value that "
        "holds the separator or a line end)"
    )


def as_string(table: ir.Table, column: str) -> ir.StringValue:
    """A column as read, as text (a Parquet file may hold dates or numbers)."""
    column_value = table[column]
    if not column_value.type().is_string():
        column_value = column_value.cast("string")
    return column_value


def text(table: ir.Table, column: str) -> ir.StringValue:
    """A column as trimmed text, empty text as null; an absent optional column is all null."""
    if column not in table.columns:
        return ibis.null().cast("string")
    return _strip(as_string(table, column)).nullif("")


def _strip(value: ir.StringValue) -> ir.StringValue:
    """``value.strip()``, computed only where it can change something.

    Trimming a set of characters costs engines several times a plain scan of the column, and
    almost no value needs it.  Every character ``strip`` removes (``string.whitespace``) is at
    most U+0020, so a value whose first and last bytes are above that is already stripped.
    Both tests are byte comparisons (strings compare bytewise on both engines): the first byte
    is above U+0020 exactly when the value sorts at or after ``"!"``, and the last byte is the
    first of the reversed value.
    """
    edge = (value < "!") | (value.reverse() < "!")
    return ibis.ifelse(edge, value.strip(), value)


def _given(table: ir.Table, column: str) -> ir.BooleanValue:
    """``text(table, column).notnull()``, without trimming values that start with a letter."""
    if column not in table.columns:
        return ibis.literal(False)
    value = as_string(table, column)
    # A first byte above U+0020 is kept by ``strip``: the text cannot be empty.
    return ibis.ifelse(value >= "!", True, _strip(value).nullif("").notnull()).fill_null(False)


#: The dates a text date may hold (both engines' date range).
_FIRST_DATE, _LAST_DATE = dt.date(1, 1, 1), dt.date(9999, 12, 31)

#: An ISO date, or an ISO date and time of which the date is read as written (in both engines'
#: regular expressions alike: digits in brackets, no escapes).
_ISO_DATE = (
    "^([0-9]{4}-[0-9]{2}-[0-9]{2})([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?"
    "(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?$"
)


def _exact(value: ir.StringValue, to: str) -> tuple[ir.Value, ir.BooleanValue]:
    """``value.try_cast(to)``, and whether it is written ``value``: an ISO date ``YYYY-MM-DD``
    in the dates both engines hold, a whole number in plain digits.

    Engines cast more than that, and differently: Spark reads "2024-03" as March 1st and "1970"
    as January 1st, DuckDB "2024/03/01", "24-03-01" (year 24) and "infinity" as dates and
    "30.5" as 31 days; only what a cast writes back as it was read is the same on both."""
    cast = value.try_cast(to)
    exact = cast.cast("string") == value
    if to == "date":
        exact = exact & cast.between(_FIRST_DATE, _LAST_DATE)
    return cast, exact


def _exactly(value: ir.StringValue, to: str, otherwise: ir.Value | None = None) -> ir.Value:
    """``value`` cast to ``to`` where :func:`_exact`, else ``otherwise``.

    ``otherwise`` is a CASE branch, not a COALESCE: DuckDB evaluates a CASE's fallback only
    where needed, and the pair costs it a third less (1M birth dates: 0.067 against 0.090 s)."""
    cast, exact = _exact(value, to)
    return ibis.ifelse(exact, cast, otherwise)


def as_date(table: ir.Table, column: str) -> ir.DateValue:
    """The dates of ``column``; null where there is none (a row that needs one is rejected as
    ``bad_date``).

    A date column is read as it is, a timestamp as its date; text only as an ISO date
    ``YYYY-MM-DD``, or an ISO date and time (its date as written, as FHIR's are read), with
    whitespace at the ends.  Nothing is guessed: "2024-03" (which day?), "03/04/2024" (March or
    April?) and "1970" are no dates.  An absent optional column is all null.
    """
    if column not in table.columns:
        return ibis.null().cast("date")
    value = table[column]
    if value.type().is_date():
        return value
    if value.type().is_timestamp():
        return value.date()
    value = as_string(table, column)
    # The rest, rare, costs a regular expression: read only where the value is not a date as is.
    rest = _exactly(_date_part(value), "date")
    return _exactly(value, "date", rest)


def is_dated(table: ir.Table, column: str) -> ir.BooleanValue:
    """``as_date(table, column).notnull()``, without making the date (the row accounting's test
    of every row: a third cheaper)."""
    if column not in table.columns:
        return ibis.literal(False)
    value = table[column]
    if value.type().is_date() or value.type().is_timestamp():
        return value.notnull()
    value = as_string(table, column)
    # CASE, not OR: DuckDB evaluated the regular expression of an OR on every row (3x slower).
    rest = _exact(_date_part(value), "date")[1].fill_null(False)
    return ibis.ifelse(_exact(value, "date")[1], True, rest)


def _date_part(value: ir.StringValue) -> ir.StringValue:
    """The date of an ISO date, or date and time, with whitespace at the ends; else empty."""
    return value.strip().re_extract(_ISO_DATE, 1)


def as_integer(table: ir.Table, column: str) -> ir.IntegerValue:
    """The whole numbers of ``column``: an integer column as it is, a float or decimal one where
    whole, text only in plain digits (with whitespace at the ends); else null."""
    if column not in table.columns:
        return ibis.null().cast("int64")
    value = table[column]
    if value.type().is_integer():
        return value.cast("int64")
    if value.type().is_floating() or value.type().is_decimal():
        return ibis.ifelse(value.floor() == value, value.try_cast("int64"), None)
    value = as_string(table, column)
    return _exactly(value, "int64", _exactly(_strip(value), "int64"))


def _code(table: ir.Table) -> ir.StringValue:
    """Normalised code: the rule of :func:`backtriage.audit.codes.normalise_code`, in the engine."""
    return _normalise(text(table, "code"))


def _normalise(code: ir.StringValue) -> ir.StringValue:
    return code.upper().replace(".", "").replace(" ", "")


def raw_code(table: ir.Table) -> ir.StringValue:
    """The code of a raw row for superset tests: normalised, without any whitespace.

    Where the checked code (trimmed, then normalised) equals a listed code, this equals it too:
    trimming removes whitespace at the ends only, and a listed code holds none.  It costs
    engines a few character replacements instead of a trim.
    """
    value = as_string(table, "code").upper()
    for char in ".", " ", *_EDGE_CHARS:
        value = value.replace(char, "")
    return value


def read_tables(con: BaseBackend, folder: Path) -> dict[str, ir.Table]:
    """The tabular files of ``folder`` as tables of ``con`` (views of the files: nothing is read
    yet); one error names every missing file and column."""
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
    return raw


def load_tables(
    con: BaseBackend,
    folder: Path,
    *,
    keep: Mapping[str, Keep] | None = None,
    raw: dict[str, ir.Table] | None = None,
    patients: ir.Table | None = None,
) -> CheckedTables:
    """Read the tabular files of ``folder``; cache the rows to keep.

    Cached in the engine (a DuckDB temp table, which spills to the temp directory under a memory
    limit; a persisted Spark DataFrame): of the tables other than ``patients`` only the valid
    rows ``keep`` selects (a few percent of a population:
    the rows whose codes are on a list, the encounters that can be an index visit or hospice),
    which the measure and the chart review reuse: the rows the ``raw`` filter keeps, parsed,
    then of those the valid ones (checked on the cached rows: engines would otherwise run the
    checks in the file scan, on every row).  A table without a ``keep`` rule is cached whole.
    The patients are cached grouped by id (:func:`patient_groups`: one row per id), which
    the measure (the valid ones) and the row accounting (:func:`row_counts`, which reads every
    row of every table once more, the few columns its checks need) share.  ``raw``: the tables
    :func:`read_tables` gave for ``folder``, if already read; ``patients``: that grouping of
    ``raw["patients"]``, if already cached (or being made: see ``run.py``).
    """
    if raw is None:
        raw = read_tables(con, folder)
    missing_optional = {t.name: t.note for t in TABLES if not t.required_file and t.name not in raw}
    if patients is None:
        patients = _cache(patient_groups(raw))
    used: dict[str, ir.Table] = {"patients": _valid_patients(patients)}
    # The coded tables first: the encounters' rule may read them.
    for name in ("diagnoses", "procedures", "medications", "encounters"):
        if name not in raw:
            continue
        rule = (keep or {}).get(name, Keep())
        source = raw[name]
        if rule.raw is not None:
            source = source.filter(rule.raw(source, used))
        table = _cache(_checked(source, name))
        ok = _valid(table, name)
        if rule.checked is not None:
            ok = ok & rule.checked(table, used)
        used[name] = _cache(table.filter(ok))
    used = {name: used[name] for name in ("patients", *EVENT_TABLES) if name in used}
    return CheckedTables(used, missing_optional, raw, patients)


def _cache(table: ir.Table) -> ir.Table:
    return cache(table)


def _valid_patients(patient_ids: ir.Table) -> ir.Table:
    """The valid patients of a grouping by id: ``patient_id``, ``birth_date``."""
    t = patient_ids
    valid = t.filter(t.patient_id.notnull() & (t.copies == 1) & (t.dated == 1))
    return valid.select("patient_id", "birth_date")


def patient_groups(raw_tables: Mapping[str, ir.Table]) -> ir.Table:
    """The rows of ``patients`` grouped by id: how many (``copies``), how many with a date
    (``dated``), and the birth date (``birth_date``: the one of a valid patient).

    A valid patient is an id with one row, and a birth date on it; every copy of a duplicated
    id is rejected (which birth date is right cannot be known).
    """
    raw = raw_tables["patients"]
    t = raw.select(
        patient_id=text(raw, "patient_id"),
        birth_date=as_date(raw, "birth_date"),
    )
    return t.group_by("patient_id").agg(
        copies=t.count(),
        dated=t.birth_date.count(),
        # One row for a valid patient: its own values.
        birth_date=t.birth_date.max(),
    )


def _checked(raw: ir.Table, name: str) -> ir.Table:
    """The rows of ``raw`` typed (their checks: :func:`_valid`)."""
    if name == "encounters":
        return raw.select(
            encounter_id=text(raw, "encounter_id"),
            patient_id=text(raw, "patient_id"),
            date=as_date(raw, "date"),
            setting=text(raw, "setting").lower(),
            clinician_id=text(raw, "clinician_id"),
            site_id=text(raw, "site_id"),
        )
    date_column = "start_date" if name == "medications" else "date"
    columns: dict[str, ir.Value] = {
        "patient_id": text(raw, "patient_id"),
        "date": as_date(raw, date_column),
        "code_system": text(raw, "code_system").lower(),
        "code": _code(raw),
        "record_id": text(raw, "record_id"),
    }
    if name != "medications":
        columns["encounter_id"] = text(raw, "encounter_id")
    if name == "diagnoses":
        columns["principal"] = _principal(raw)
    if name == "medications":
        columns["days_supply"] = as_integer(raw, "days_supply")
    return raw.select(**columns)


def _valid(t: ir.Table, name: str) -> ir.BooleanValue:
    """Every check of a typed row passes, but one: whether the patient is known.

    That check is left out (see :class:`CheckedTables`).
    """
    if name == "encounters":
        return _all_pass(
            t.patient_id.isnull(),
            t.encounter_id.isnull(),
            t.date.isnull(),
            _unknown_setting(t.setting),
        )
    failures = [
        t.patient_id.isnull(),
        t.date.isnull(),
        t.code.isnull(),
        _unknown_system(t.code_system, name),
    ]
    if name == "medications":
        failures.append(_bad_days_supply(t.days_supply))
    if name == "diagnoses":
        failures.append(t.principal.isnull())
    return _all_pass(*failures)


def _principal_ok(raw: ir.Table) -> ir.BooleanValue:
    """``_principal(raw).notnull()``, cheaper: a value as read in lower, upper or title case is
    looked up as it is (trimming and lower-casing every row cost the accounting's pass over a
    million patients 0.07 CPU-seconds more)."""
    if "principal" not in raw.columns:
        return ibis.literal(True)
    words = [*TRUE_WORDS, *FALSE_WORDS]
    as_read = as_string(raw, "principal")
    value = text(raw, "principal").lower()
    cased = sorted({w for word in words for w in (word, word.upper(), word.title())})
    return ibis.ifelse(as_read.isin(cased), True, value.isnull() | value.isin(words))


def _principal(raw: ir.Table) -> ir.BooleanValue:
    """``principal`` as a boolean: true for :data:`TRUE_WORDS`; false for :data:`FALSE_WORDS`,
    empty or an absent column; null for anything else, which is rejected as ``bad_principal``
    (read as false, a "P" for primary could never make an index visit, and nothing said so)."""
    if "principal" not in raw.columns:
        return ibis.literal(False)
    value = text(raw, "principal").lower()

    # Equalities, not ``isin``: DuckDB plans an ``isin`` as a join.
    def any_of(words: tuple[str, ...]) -> ir.BooleanValue:
        return reduce(lambda a, b: a | b, (value == word for word in words))

    return ibis.cases(
        (value.isnull(), False), (any_of(TRUE_WORDS), True), (any_of(FALSE_WORDS), False)
    )


def _all_pass(*failures: ir.BooleanValue) -> ir.BooleanValue:
    """None of ``failures`` holds (a null test does not fail a row, as in ``ibis.cases``)."""
    return reduce(lambda a, b: a & b, (~f.fill_null(False) for f in failures))


def _unknown_setting(setting: ir.StringValue) -> ir.BooleanValue:
    return setting.isnull() | ~setting.isin(list(SETTINGS))


def _unknown_system(system: ir.StringValue, name: str) -> ir.BooleanValue:
    return system.isnull() | ~system.isin(list(SYSTEMS_BY_TABLE[name]))


def _bad_days_supply(days: ir.IntegerValue) -> ir.BooleanValue:
    return days.isnull() | (days < 1)


def row_groups(raw: Mapping[str, ir.Table], patient_ids: ir.Table) -> ir.Table:
    """The row accounting's pass over every row of the tables other than ``patients``: the rows
    grouped by what their checks need (a few dozen groups), with the count ``n``.

    Columns: ``table``, ``dated``, ``given`` (the encounter id, or the code), ``category``
    (setting, or code system, as read), ``extra_ok`` (the days supply, the principal flag),
    ``as_read`` (the id as read is a valid patient's) and ``other_id`` (otherwise the trimmed
    id, null if none).

    The patient of a row is looked up in two steps.  First its id as read, here: no valid id
    is empty or has whitespace at its ends, so a hit is a valid patient.  The rows it misses
    (few: unknown patients, missing ids, ids with whitespace at the ends) keep their trimmed id
    through the grouping, and :func:`row_counts` looks those up.  Trimming every row's id first
    costs 40% more than the lookup itself (0.16 against 0.4 CPU-seconds over 9M rows), and a
    second lookup in this query would hold a second hash table of every valid patient (a
    million patients then needed more than 169MB and spilled).  ``patient_ids``: the patients
    grouped by id (:func:`patient_groups`, as :func:`load_tables` gives it).
    """
    names = [name for name in EVENT_TABLES if name in raw]
    valid = _valid_patients(patient_ids)
    parts = []
    for name in names:
        table = raw[name]
        if name == "encounters":
            given, category = _given(table, "encounter_id"), "setting"
            extra_ok: ir.BooleanValue = ibis.literal(True)
        else:
            given, category = _given(table, "code"), "code_system"
            extra_ok = ibis.literal(True)
            if name == "medications":
                extra_ok = ~_bad_days_supply(as_integer(table, "days_supply"))
            if name == "diagnoses":
                extra_ok = _principal_ok(table)
        date_column = "start_date" if name == "medications" else "date"
        parts.append(
            table.select(
                table=ibis.literal(name),
                # As read: trimmed below, only where the lookup as read misses.
                patient_id=as_string(table, "patient_id"),
                dated=is_dated(table, date_column),
                given=given,
                # As read: trimmed and lower-cased by ``row_counts``, once per distinct value.
                category=as_string(table, category),
                extra_ok=extra_ok.fill_null(False),
            )
        )
    rows = ibis.union(*parts, distinct=False)
    rows = rows.mutate(as_read=rows.patient_id.isin(valid.patient_id).fill_null(False))
    rows = rows.mutate(
        other_id=ibis.ifelse(
            rows.as_read, ibis.null().cast("string"), _strip(rows.patient_id).nullif("")
        )
    )
    grouped = rows.group_by(
        "table", "dated", "given", "category", "extra_ok", "as_read", "other_id"
    ).agg(n=ibis._.count())
    return grouped.mutate(n=grouped.n.cast("int64"))


def row_counts(
    groups: ir.Table, raw: Mapping[str, ir.Table], patient_ids: ir.Table | None
) -> ir.Table:
    """The row accounting of the tables other than ``patients``: (table, reason, system, n)
    (n > 0); :func:`patient_counts` counts the rows of ``patients``.

    ``groups``: :func:`row_groups` of ``raw`` (a small table: its rows as fetched).  The ids
    the lookup as read missed are looked up here among the valid patients of ``patient_ids``
    (the patients grouped by id), and each group gets the first reason that rejects it (or
    ``valid``).  ``patient_ids`` may be ``None`` only if no group has such an id (``other_id``
    all null: every id as read was found, or was missing).  The text columns with few values
    (code system, setting) were counted as read and are trimmed, lower-cased and checked here.
    """
    names = [name for name in EVENT_TABLES if name in raw]
    if patient_ids is None:
        g = groups.mutate(no_id=~groups.as_read, known=groups.as_read)
    else:
        # A join, not ``isin``: an engine builds its lookup from the few groups and reads the
        # valid patients past it, instead of building one of every valid patient (one row per
        # group stays one: a valid patient id is unique).
        valid = _valid_patients(patient_ids).select(valid_id="patient_id")
        joined = groups.left_join(valid, groups.other_id == valid.valid_id)
        g = joined.mutate(
            no_id=~joined.as_read & joined.other_id.isnull(),
            known=joined.as_read | joined.valid_id.notnull(),
        )
    return _totals(_event_reasons(g, names))


def tally(
    result: pa.Table, raw: Mapping[str, ir.Table]
) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    """The result of :func:`row_counts` over the tables ``raw`` as (per table: total, valid, and
    rejected by reason; per coded table: valid rows by code system, to warn about systems no
    list uses)."""
    names = [name for name in EVENT_TABLES if name in raw]
    counts: dict[str, dict[str, int]] = {name: {} for name in ("patients", *names)}
    in_use: dict[str, dict[str, int]] = {}
    for name, reason, system, n in zip(
        *(result.column(c).to_pylist() for c in ("table", "reason", "system", "n")), strict=True
    ):
        by_reason = counts[str(name)]
        by_reason[str(reason)] = by_reason.get(str(reason), 0) + int(n)
        if reason == "valid" and name not in ("patients", "encounters"):
            in_use.setdefault(str(name), {})[str(system)] = int(n)
    rows: dict[str, dict[str, int]] = {}
    for name in ("patients", *names):
        by_reason = counts[name]
        valid = by_reason.pop("valid", 0)
        rows[name] = {
            "rows": valid + sum(by_reason.values()),
            "valid": valid,
            **{f"rejected_{reason}": n for reason, n in sorted(by_reason.items())},
        }
    return rows, in_use


def patient_counts(patient_ids: ir.Table) -> ir.Table:
    """The row accounting of ``patients``, from the patients grouped by id (``patient_ids``):
    (table, reason, system, n), checks in order missing id, bad date, duplicate id (n > 0)."""
    t = patient_ids
    g = t.group_by(no_id=t.patient_id.isnull(), duplicated=t.copies > 1).agg(
        rows=t.copies.sum(), dated=t.dated.sum()
    )

    def part(rows: ir.Table, reason: ir.StringValue | str, n: ir.IntegerValue) -> ir.Table:
        return rows.select(
            table=ibis.literal("patients"),
            reason=ibis.literal(reason) if isinstance(reason, str) else reason,
            system=ibis.null().cast("string"),
            n=n.cast("int64"),
        )

    named = g.filter(~g.no_id)
    rows = ibis.union(
        part(g.filter(g.no_id), "missing_patient_id", g.rows),
        part(named, "bad_date", named.rows - named.dated),
        part(
            named,
            ibis.ifelse(named.duplicated, "duplicate_patient_id", "valid"),
            named.dated,
        ),
        distinct=False,
    )
    return _totals(rows)


def _totals(rows: ir.Table) -> ir.Table:
    """``rows`` (table, reason, system, n) summed per (table, reason, system), those with n > 0."""
    grouped = rows.group_by("table", "reason", "system").agg(n=rows.n.sum())
    return grouped.filter(grouped.n > 0)


def _event_reasons(g: ir.Table, names: list[str]) -> ir.Table:
    """(table, reason, system, n) of the groups of :func:`row_groups` (with ``no_id`` and
    ``known``); reason ``valid`` for a valid row.  Not summed: :func:`row_counts` does that."""
    value = _strip(g.category).nullif("").lower()
    is_encounter = g.table == "encounters"
    system_ok = ibis.cases(
        *(
            (g.table == name, ~_unknown_system(value, name))
            for name in names
            if name in SYSTEMS_BY_TABLE
        ),
        else_=False,
    )
    reason = ibis.cases(
        (g.no_id, "missing_patient_id"),
        (~g.known, "missing_patient"),
        (is_encounter & ~g.given, "missing_encounter_id"),
        (~g.dated, "bad_date"),
        (is_encounter & _unknown_setting(value), "unknown_setting"),
        (~is_encounter & ~g.given, "missing_code"),
        (~is_encounter & ~system_ok, "unknown_code_system"),
        (~g.extra_ok & (g.table == "diagnoses"), "bad_principal"),
        (~g.extra_ok, "bad_days_supply"),
        else_="valid",
    )
    system = ibis.ifelse(is_encounter, ibis.null().cast("string"), value)
    return g.select("table", reason=reason, system=system, n=g.n)


def describe_layout(layout: TableLayout) -> str:
    """One line for error messages and docs."""
    return f"{layout.name}: {', '.join(layout.required)} [+ {', '.join(layout.optional)}]"
