"""Typer-compatible command functions for the CLI (registered by ``backtriage.cli`` as
``backtriage serve`` and ``backtriage feedback report``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from backtriage.exits import user_error
from backtriage.service.settings import DEFAULT_QCDSM, Settings, Trust
from backtriage.service.store import Store

DEFAULT_DB = "backtriage.sqlite3"


def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1,
    db: Annotated[
        str, typer.Option(help="SQLite path or postgresql:// URL (feedback, JWT replay cache).")
    ] = DEFAULT_DB,
    trust: Annotated[
        list[str] | None,
        typer.Option(help="ISSUER=JWKS_URL_OR_FILE for a trusted CDS client (repeatable)."),
    ] = None,
    insecure_no_auth: Annotated[
        bool, typer.Option("--insecure-no-auth", help="Accept unauthenticated calls (dev only).")
    ] = False,
    public_url: Annotated[
        str | None, typer.Option(help="Base URL clients use (JWT aud, report links).")
    ] = None,
    qcdsm: Annotated[
        str, typer.Option(help="G-code of the qualified CDSM, for the PAMA extension.")
    ] = DEFAULT_QCDSM,
    cors_origin: Annotated[
        list[str] | None, typer.Option(help="Allowed browser origin (repeatable; default *).")
    ] = None,
) -> None:
    """Run the HTTP API and the CDS Hooks services."""
    import os

    import uvicorn

    try:
        trusted = tuple(Trust.parse(item) for item in trust or [])
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    settings = Settings(
        db=db,
        trust=trusted,
        insecure_no_auth=insecure_no_auth,
        public_url=public_url,
        qcdsm=qcdsm,
        cors_origins=tuple(cors_origin or ["*"]),
    )
    os.environ["BACKTRIAGE_SETTINGS"] = settings_to_env(settings)
    uvicorn.run(
        "backtriage.service.factory:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,  # request lines could carry identifiers
    )


def feedback_report_command(
    db: Annotated[str, typer.Option(help="SQLite path or postgresql:// URL.")] = DEFAULT_DB,
) -> None:
    """Accept and override rates per kind of card."""
    if not db.startswith(("postgresql://", "postgres://")) and not Path(db).is_file():
        raise user_error(f"no feedback database at {db} (see --db)")
    store = Store(db)
    try:
        rows = store.summary()
    finally:
        store.close()
    if not rows:
        typer.echo("no cards issued yet")
        return
    typer.echo(
        f"{'service':36} {'card':24} {'issued':>7} {'accepted':>9} {'overridden':>10} "
        f"{'accept rate':>11}"
    )
    for row in rows:
        rate = "-" if row.accept_rate is None else f"{row.accept_rate:.0%}"
        typer.echo(
            f"{row.service:36} {row.kind:24} {row.issued:>7} {row.accepted:>9} "
            f"{row.overridden:>10} {rate:>11}"
        )


def settings_to_env(settings: Settings) -> str:
    import json

    return json.dumps(
        {
            "db": settings.db,
            "trust": [[t.issuer, t.jwks] for t in settings.trust],
            "insecure_no_auth": settings.insecure_no_auth,
            "public_url": settings.public_url,
            "qcdsm": settings.qcdsm,
            "cors_origins": list(settings.cors_origins),
        }
    )
