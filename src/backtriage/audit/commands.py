"""``backtriage audit`` and ``backtriage synth``: thin Typer commands over run and synth.

The lead's ``cli.py`` registers them (``app.command("audit")(audit_command)``).  A user error
(:class:`~backtriage.errors.AuditInputError`) becomes one line on stderr and exit status 2.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from backtriage.errors import AuditInputError, KnowledgeError
from backtriage.exits import user_error


class OutputFormat(StrEnum):
    json = "json"
    text = "text"


class SynthFormat(StrEnum):
    fhir = "fhir"
    tabular = "tabular"


class TableFormat(StrEnum):
    parquet = "parquet"
    csv = "csv"


@contextmanager
def _progress(enabled: bool) -> Iterator[Progress]:
    console = Console(stderr=True)
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not enabled or not console.is_terminal,
    )
    with progress:
        yield progress


def audit_command(
    input: Path = typer.Argument(
        ..., help="Folder of FHIR Bulk NDJSON files, or of tabular files (patients.csv, ...)."
    ),
    year: int = typer.Option(..., "--year", help="Measurement year; sets intake and windows."),
    format: OutputFormat = typer.Option(
        OutputFormat.text, "--format", help="json: the full summary on stdout."
    ),
    patients: Path | None = typer.Option(
        None, "--patients", help="Write one row per patient to this .csv or .parquet file."
    ),
    html: Path | None = typer.Option(None, "--html", help="Write the HTML report here."),
    engine: str = typer.Option("duckdb", "--engine", help="duckdb (default) or spark."),
    spark_master: str | None = typer.Option(
        None, "--spark-master", help="Spark master URL, e.g. local[*] or spark://host:7077."
    ),
    spec: str = typer.Option("hedis", "--spec", help="hedis (ages 18-75) or cms166v7 (18-49)."),
    memory_limit: str | None = typer.Option(
        None, "--memory-limit", help="DuckDB memory limit, e.g. 2GB (spills to disk beyond it)."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress on stderr."),
) -> None:
    """Audit imaging in low back pain over a population (HEDIS LBP; CMS166v7)."""
    from backtriage.audit.run import run_audit

    try:
        if html is not None and html.suffix.lower() not in (".html", ".htm"):
            raise AuditInputError(f"--html {html}: the file name must end in .html")
        with _progress(progress) as bar:
            task = bar.add_task("starting", total=None)
            run = run_audit(
                input,
                year,
                spec_name=spec,
                engine=engine,
                spark_master=spark_master,
                memory_limit=memory_limit,
                patients_out=patients,
                # Only the HTML report shows the chart review.
                review_charts=html is not None,
                progress=lambda step: bar.update(task, description=step),
            )
            if html is not None and run.chart_review is not None:
                # Only here: the report's templates and charts (Jinja2) take a tenth of a
                # second to load, which a run without --html need not pay.
                from backtriage.audit.report import render_html

                bar.update(task, description=f"writing {html}")
                html.write_text(render_html(run.summary, run.chart_review, run.lists), "utf-8")
    except AuditInputError as exc:
        raise user_error(str(exc)) from None
    except KnowledgeError as exc:
        raise user_error(str(exc).replace("\n", " ")) from None
    summary = run.summary
    if format is OutputFormat.json:
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
        return
    rate = summary["rate"]
    typer.echo(
        f"{summary['measure']} {summary['year']} ({summary['spec']}, {summary['engine']}): "
        f"denominator {summary['denominator']}, imaged within 28 days {summary['numerator']}, "
        f"rate {'n/a' if rate is None else f'{rate:.1%}'} not imaged (higher is better); "
        f"excluded {summary['excluded']}"
    )
    for reason, n in summary["exclusions"].items():
        typer.echo(f"  excluded {reason}: {n}")
    for table, note in summary["inputs_missing"].items():
        typer.echo(f"  missing {table}: {note}")
    for warning in summary["warnings"]:
        typer.echo(f"  warning: {warning}")
    for table, counts in summary["rows"].items():
        rejected = {k[9:]: v for k, v in counts.items() if k.startswith("rejected_")}
        typer.echo(
            f"  rows {table}: {counts['rows']}" + (f", rejected {rejected}" if rejected else "")
        )


def synth_command(
    out: Path = typer.Argument(..., help="Folder to write the population into."),
    patients: int = typer.Option(10_000, "--patients", min=1, help="Number of patients."),
    seed: int = typer.Option(1, "--seed", help="Random seed (same seed, same files)."),
    format: SynthFormat = typer.Option(SynthFormat.tabular, "--format", help="fhir or tabular."),
    table_format: TableFormat = typer.Option(
        TableFormat.parquet, "--table-format", help="Tabular files as parquet or csv."
    ),
    year: int = typer.Option(2024, "--year", help="The year the back-pain episodes fall in."),
) -> None:
    """Write a seeded synthetic population (FHIR NDJSON or the tabular layout)."""
    from backtriage.audit.synth import generate, write

    if out.exists() and any(out.iterdir()):
        raise user_error(f"{out} is not empty; give a new or empty folder")
    population = generate(patients, seed, year)
    fmt = "fhir" if format is SynthFormat.fhir else table_format.value
    written = write(population, out, fmt)  # type: ignore[arg-type]
    typer.echo(
        f"wrote {population.rows} rows for {patients} patients to {out} "
        f"({', '.join(p.name for p in written)})",
        err=True,
    )
