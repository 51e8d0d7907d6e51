"""Code lists of the audit (YAML files in ``code_lists/``), their schema and their matchers.

A code list names codes exactly (``code``) or by prefix (``prefix``: ``C`` is every malignant
neoplasm), each in one code system.  Codes are compared normalised: upper case, without dots or
spaces, so ``m54.50`` and ``M5450`` both match ``M54.50``.  Every list says where it comes from
(``source``) and what of it was checked (``verified``): NCQA's value sets are licensed, so these
are our own lists built from the public measure description.
"""

from __future__ import annotations

from functools import reduce
from importlib import resources
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from backtriage.errors import KnowledgeError
from backtriage.yaml_data import load_yaml

CodeSystem = Literal["icd10cm", "icd10pcs", "cpt", "hcpcs", "snomed", "atc", "rxnorm", "loinc"]
CODE_SYSTEMS: tuple[str, ...] = CodeSystem.__args__  # type: ignore[attr-defined]


def normalise_code(code: str) -> str:
    """The form codes are compared in: upper case, no dots, no spaces."""
    return code.upper().replace(".", "").replace(" ", "")


class CodeEntry(BaseModel):
    """One code, or one prefix standing for every code that starts with it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    system: CodeSystem
    code: str | None = None
    prefix: str | None = None
    display: str = Field(min_length=1)

    @model_validator(mode="after")
    def _one_of_code_or_prefix(self) -> CodeEntry:
        if (self.code is None) == (self.prefix is None):
            raise ValueError("give exactly one of `code` or `prefix`")
        return self

    @property
    def normalised(self) -> str:
        return normalise_code(self.code if self.code is not None else self.prefix or "")


class CodeList(BaseModel):
    """A named list of codes with its provenance."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1]
    id: str
    title: str
    source: str = Field(min_length=1)
    verified: str = Field(min_length=1)
    except_lists: tuple[str, ...] = ()
    codes: tuple[CodeEntry, ...] = Field(min_length=1)


class RedFlag(BaseModel):
    """A red-flag finding (knowledge-base finding id) and the codes that record it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    codes: tuple[CodeEntry, ...] = Field(min_length=1)


class RedFlagList(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1]
    id: Literal["red_flags"]
    title: str
    source: str = Field(min_length=1)
    verified: str = Field(min_length=1)
    look_back_days: int = Field(ge=0)
    not_codable: tuple[str, ...] = ()
    flags: tuple[RedFlag, ...] = Field(min_length=1)


class CodeLists(BaseModel):
    """Every code list of the audit, by id, and the red-flag list."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lists: dict[str, CodeList]
    red_flags: RedFlagList


def _read_yaml(name: str) -> Any:
    text = (
        resources.files("backtriage.audit").joinpath("code_lists").joinpath(name).read_text("utf-8")
    )
    return load_yaml(text)


def load_code_lists() -> CodeLists:
    """Load and check every packaged code list; all problems are reported at once."""
    problems: list[str] = []
    lists: dict[str, CodeList] = {}
    red_flags: RedFlagList | None = None
    folder = resources.files("backtriage.audit").joinpath("code_lists")
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".yaml"))
    for name in names:
        try:
            raw = _read_yaml(name)
            if name == "red_flags.yaml":
                red_flags = RedFlagList.model_validate(raw)
                continue
            code_list = CodeList.model_validate(raw)
        except (ValidationError, yaml.YAMLError) as exc:
            problems.append(f"audit/code_lists/{name}: {exc}")
            continue
        if f"{code_list.id}.yaml" != name:
            problems.append(f"audit/code_lists/{name}: id {code_list.id!r} differs from file name")
        lists[code_list.id] = code_list
    for code_list in lists.values():
        for other in code_list.except_lists:
            if other not in lists:
                problems.append(
                    f"audit/code_lists/{code_list.id}.yaml: except_lists names unknown list "
                    f"{other!r} (known: {', '.join(sorted(lists))})"
                )
    if red_flags is None:
        problems.append("audit/code_lists/red_flags.yaml: missing")
    else:
        problems += _flag_overlaps(red_flags)
    if problems:
        raise KnowledgeError(problems)
    assert red_flags is not None  # for mypy: problems is non-empty otherwise
    return CodeLists(lists=lists, red_flags=red_flags)


def _flag_overlaps(red_flags: RedFlagList) -> list[str]:
    """Codes listed under two flags (a code, or a prefix of it, in another flag)."""
    seen: list[tuple[str, str, str]] = []
    problems = []
    for flag in red_flags.flags:
        for entry in flag.codes:
            for other_flag, system, code in seen:
                if other_flag == flag.id or system != entry.system:
                    continue
                if code.startswith(entry.normalised) or entry.normalised.startswith(code):
                    problems.append(
                        f"audit/code_lists/red_flags.yaml: {entry.system} {entry.normalised} "
                        f"of {flag.id} overlaps {code} of {other_flag}"
                    )
        seen += [(flag.id, e.system, e.normalised) for e in flag.codes]
    return problems


def matches(
    entries: tuple[CodeEntry, ...], system: ir.StringValue, code: ir.StringValue
) -> ir.BooleanValue:
    """An Ibis predicate: does (system, normalised code) match one of ``entries``?

    Exact codes become one ``isin`` per system; prefixes one ``isin`` per prefix length, on the
    code's first that many characters (the same as ``startswith``, but a handful of terms instead
    of one per prefix: engines evaluate the code's normalisation once per term, on every row).
    Both compile the same on DuckDB and Spark.
    """
    terms: list[ir.BooleanValue] = []
    for sys_name in sorted({e.system for e in entries}):
        exact = sorted({e.normalised for e in entries if e.system == sys_name and e.code})
        prefixes = sorted({e.normalised for e in entries if e.system == sys_name and e.prefix})
        code_terms: list[ir.BooleanValue] = []
        if exact:
            code_terms.append(code.isin(exact))
        for length in sorted({len(p) for p in prefixes}):
            same_length = [p for p in prefixes if len(p) == length]
            code_terms.append(code.substr(0, length).isin(same_length))
        terms.append((system == sys_name) & reduce(lambda a, b: a | b, code_terms))
    if not terms:
        return ibis.literal(False)
    return reduce(lambda a, b: a | b, terms)


def list_matches(
    lists: CodeLists, list_id: str, system: ir.StringValue, code: ir.StringValue
) -> ir.BooleanValue:
    """Predicate for one code list, minus the codes of its ``except_lists``."""
    code_list = lists.lists[list_id]
    predicate = matches(code_list.codes, system, code)
    for other in code_list.except_lists:
        predicate = predicate & ~matches(lists.lists[other].codes, system, code)
    return predicate
