"""The `upr-match` command line: serve, migrate, and the data commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.config import get_settings

cli = typer.Typer(help="upr-match: UPR technical-cooperation repository and matchmaking engine.", no_args_is_help=True)

ROOT = Path(__file__).resolve().parent.parent


def alembic_config():  # type: ignore[no-untyped-def]
    """Alembic configuration pointing at this project's migrations, with the settings' URL."""
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    return cfg


@cli.command()
def migrate(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Upgrade the database schema (to the latest revision by default)."""
    from alembic import command

    settings = get_settings()
    command.upgrade(alembic_config(), revision)
    typer.echo(f"database at {revision} ({_safe_url(settings.DATABASE_URL)})")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=32, help="Worker processes.")] = 1,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development).")] = False,
) -> None:
    """Serve the API with uvicorn."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        server_header=False,
        log_level=settings.LOG_LEVEL.lower(),
    )


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
