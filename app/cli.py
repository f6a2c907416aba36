"""The `upr-match` command line: serve, migrate, and the data commands."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, NoReturn, Optional

import typer
from sqlmodel import Session

from app.config import get_settings

cli = typer.Typer(
    help="upr-match: UPR technical-cooperation repository and matchmaking engine.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

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


keys_cli = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
cli.add_typer(keys_cli, name="keys")


@contextlib.contextmanager
def cli_session() -> Iterator[Session]:
    """A database session for a command that writes (SQLite: BEGIN IMMEDIATE)."""
    from app.db import create_db_engine, intending_to_write

    engine = create_db_engine(get_settings())
    try:
        with intending_to_write(), Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def _fail(problem: Exception) -> NoReturn:
    from app.errors import Problem

    if isinstance(problem, Problem):
        typer.echo(f"error: {problem.detail}", err=True)
        for err in problem.extensions.get("errors", []):
            typer.echo(f"  {err['field']}: {err['detail']}", err=True)
        raise typer.Exit(code=1)
    raise problem


@keys_cli.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="admin, state or provider.")],
    name: Annotated[str, typer.Option(help="Who or what uses the key.")],
    state: Annotated[Optional[str], typer.Option(help="ISO3 of the State (role state).")] = None,  # noqa: UP007
    provider: Annotated[Optional[str], typer.Option(help="Provider id (role provider).")] = None,  # noqa: UP007
) -> None:
    """Create a key; the secret is printed alone on the last line."""
    from pydantic import ValidationError

    from app.errors import Problem
    from app.models.api_key import ApiKeyCreate
    from app.services import keys as key_service

    try:
        data = ApiKeyCreate(name=name, role=role, state=state, provider_id=provider)  # type: ignore[arg-type]
    except ValidationError as exc:
        for err in exc.errors():
            typer.echo(f"error: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}", err=True)
        raise typer.Exit(code=1) from None
    with cli_session() as session:
        try:
            row, secret = key_service.create_key(session, data=data)
        except Problem as problem:
            _fail(problem)
    owner = row.state or row.provider_id or "-"
    typer.echo(f"created key {row.id} role={row.role} owner={owner} name={row.name!r}", err=True)
    typer.echo(secret)


@keys_cli.command("list")
def keys_list(
    limit: Annotated[int, typer.Option(min=1, max=100)] = 100,
    offset: Annotated[int, typer.Option(min=0)] = 0,
) -> None:
    """List keys (never their secrets)."""
    from app.pagination import PageParams
    from app.services import keys as key_service

    with cli_session() as session:
        rows, total = key_service.list_keys(session, page=PageParams(limit=limit, offset=offset))
    typer.echo(f"{'id':36}  {'prefix':8}  {'role':8}  {'owner':36}  {'revoked':5}  name")
    for row in rows:
        owner = row.state or row.provider_id or "-"
        typer.echo(f"{row.id:36}  {row.prefix:8}  {row.role:8}  {owner:36}  {'yes' if row.revoked_at else 'no':5}  {row.name}")
    typer.echo(f"{len(rows)} of {total} keys", err=True)


@keys_cli.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (from `keys list`).")]) -> None:
    """Revoke a key; it stops working at once."""
    from app.errors import Problem
    from app.services import keys as key_service

    with cli_session() as session:
        try:
            row = key_service.revoke_key(session, key_id=key_id)
        except Problem as problem:
            _fail(problem)
    typer.echo(f"revoked {row.id} at {row.revoked_at:%Y-%m-%dT%H:%M:%SZ}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


from app.commands.recommendations import import_recommendations  # noqa: E402

cli.command("import-recommendations")(import_recommendations)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
