"""What the commands share: reporting a refused operation the way the API would."""

from __future__ import annotations

from typing import NoReturn

import typer

from app.core.errors import Problem


def fail(problem: Problem) -> NoReturn:
    """Print the problem's detail and each field error, then exit 1."""
    typer.echo(f"error: {problem.detail}", err=True)
    for err in problem.extensions.get("errors", []):
        typer.echo(f"  {err['field']}: {err['detail']}", err=True)
    raise typer.Exit(code=1)


def safe_url(url: str) -> str:
    """A database URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
