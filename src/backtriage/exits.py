"""How a command ends on a user's mistake: one line on stderr that says what to fix, in the same
form for every command (``backtriage: error: ...``), and a non-zero exit status (2 for what the
user gave) — never a traceback."""

from __future__ import annotations

import typer


def user_error(message: str, code: int = 2) -> typer.Exit:
    """Print ``message`` as the command's error line; raise the returned exit."""
    typer.echo(f"backtriage: error: {message}", err=True)
    return typer.Exit(code)
