"""The command line: a thin shell over the core.  Parse, call one core function, render.

User mistakes (bad JSON, unknown keys, misspelt finding ids, wrong values) end with a one-line
message on stderr saying what to fix, and exit status 2 — never a traceback.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from backtriage.errors import BacktriageError, InputError, KnowledgeError
from backtriage.exits import user_error

app = typer.Typer(
    name="backtriage",
    help="Clinical decision support for low back pain: red flags, most likely diagnosis, imaging "
    "(usually none), management, follow-up — every statement cited.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
kb_app = typer.Typer(help="Inspect and validate the knowledge base.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
feedback_app = typer.Typer(help="CDS Hooks card feedback from EHR users.", no_args_is_help=True)
app.add_typer(feedback_app, name="feedback")


class Format(StrEnum):
    markdown = "markdown"
    json = "json"
    html = "html"


def fail(message: str, code: int = 2) -> NoReturn:
    raise user_error(message, code)


@app.command()
def assess(
    source: Annotated[
        str | None,
        typer.Argument(
            metavar="[CASE]",
            help="A case file (JSON, case format 1; .jsonl for one case per line), or - for "
            "standard input.",
            show_default=False,
        ),
    ] = None,
    text: Annotated[
        str | None,
        typer.Option(
            "--text", "-t", help="Assess a free-text complaint or note instead of a file."
        ),
    ] = None,
    output_format: Annotated[
        Format, typer.Option("--format", "-f", help="Output format.")
    ] = Format.markdown,
    jsonl: Annotated[
        bool,
        typer.Option(
            "--jsonl",
            help="Read JSON Lines (one case per line); print one JSON "
            "assessment per line. Implied by a .jsonl file name.",
        ),
    ] = False,
    today: Annotated[
        str | None,
        typer.Option(
            "--today", help="Assessment date (YYYY-MM-DD); default: today.", show_default=False
        ),
    ] = None,
) -> None:
    """Assess a case and print the report (Markdown by default, or JSON or HTML)."""
    from backtriage import api

    day = _parse_day(today)
    try:
        knowledge = api.default_knowledge()
        if text is not None:
            if source is not None:
                fail("give either a CASE file or --text, not both")
            if not text.strip():
                # An empty string is most often an unset shell variable: say so rather than
                # print the screening checklist of an empty case as if a complaint was read.
                fail(
                    '--text is empty: give the complaint or note to assess (--text "...");'
                    " for the full screening checklist of an empty case, assess '{}' from a file"
                )
            cases = [api.parse_case({"complaint": text})]
            _emit(api.assess_cases(cases, knowledge, day), output_format, knowledge, False)
            return
        if source is None:
            fail('give a CASE file, - for standard input, or --text "..." (see --help)')
        raw = _read(source)
        lines_mode = jsonl or source.endswith(".jsonl")
        if lines_mode:
            if output_format is not Format.json:
                fail("JSON Lines input gives JSON Lines output: use --format json")
            for number, line in enumerate(raw.splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    case = api.parse_case(_json(line, f"line {number}"))
                    (result,) = api.assess_cases([case], knowledge, day)
                except InputError as exc:
                    fail(f"line {number}: {exc}")
                typer.echo(json.dumps(result.to_json_dict(), ensure_ascii=False))
            return
        case = api.parse_case(_json(raw, source if source != "-" else "standard input"))
        _emit(api.assess_cases([case], knowledge, day), output_format, knowledge, False)
    except KnowledgeError as exc:
        fail(str(exc), code=3)
    except BacktriageError as exc:
        fail(str(exc))


def _emit(results: list, output_format: Format, knowledge: object, many: bool) -> None:  # type: ignore[type-arg]
    from backtriage import report

    for result in results:
        if output_format is Format.json:
            typer.echo(report.to_json(result))
        elif output_format is Format.html:
            typer.echo(report.to_html(result, knowledge), nl=False)  # type: ignore[arg-type]
        else:
            typer.echo(report.to_markdown(result, knowledge), nl=False)  # type: ignore[arg-type]


def _parse_day(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"--today must be a date as YYYY-MM-DD, not {value!r}")


def _read(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    path = Path(source)
    if not path.is_file():
        fail(f"no such case file: {source}")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        fail(f"{source} is not UTF-8 text; save the case as UTF-8 JSON")


def _json(raw: str, where: str) -> object:
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        fail(f"{where} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")


@kb_app.command("check")
def kb_check(
    directory: Annotated[
        Path | None,
        typer.Argument(
            help="A knowledge-base folder to check (default: the packaged one).", show_default=False
        ),
    ] = None,
) -> None:
    """Validate every knowledge-base file and cross-reference; list all problems."""
    from backtriage.knowledge import load_knowledge

    try:
        kb = load_knowledge(directory)
    except KnowledgeError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"knowledge base {kb.version}: ok — {len(kb.findings)} findings, "
        f"{len(kb.conditions)} conditions, {len(kb.recommendations)} recommendations, "
        f"{len(kb.imaging_rules)} imaging rules, {len(kb.figures)} evidence figures, "
        f"{len(kb.references)} references, ACR table {len(kb.acr.variants)} variants × "
        f"{len(kb.acr.procedures)} procedures"
    )


@kb_app.command("findings")
def kb_findings() -> None:
    """List every finding id with its label and the question to ask."""
    from backtriage.knowledge import load_knowledge

    for finding in load_knowledge().findings.values():
        derived = " (derived)" if finding.derived is not None else ""
        typer.echo(f"{finding.id}\t{finding.category}\t{finding.label}{derived}\t{finding.ask}")


@kb_app.command("references")
def kb_references() -> None:
    """List every reference with its link."""
    from backtriage.knowledge import load_knowledge

    for ref in load_knowledge().references.values():
        flag = "" if ref.verified else "\t(not verified)"
        typer.echo(f"{ref.id}\t{ref.authors.split(',')[0]} {ref.year}\t{ref.link}{flag}")


def _register_adapters() -> None:
    """The service's and the audit's commands live with them; the CLI only mounts them."""
    from backtriage.audit.commands import audit_command, synth_command
    from backtriage.service.commands import feedback_report_command, serve_command

    app.command("serve")(serve_command)
    feedback_app.command("report")(feedback_report_command)
    app.command("audit")(audit_command)
    app.command("synth")(synth_command)


_register_adapters()


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
