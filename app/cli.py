"""The `upr-match` command line: serve, migrate, and the data commands."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, NoReturn

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


@cli.command()
def openapi(
    output: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,  # noqa: UP007
) -> None:
    """Print (or write) the OpenAPI document; the committed `openapi.json` is this output."""
    import json

    from app.main import create_app

    text = json.dumps(create_app().openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)


@cli.command()
def train(
    data: Annotated[
        Path | None, typer.Option(help="recommendations.jsonl to learn from (default: UPR_DATA_DIR).")
    ] = None,  # noqa: UP007
    if_missing: Annotated[
        bool, typer.Option("--if-missing", help="Do nothing when a tagger is already trained.")
    ] = False,
) -> None:
    """Train the theme tagger on the labelled recommendations and write a versioned artifact to MODEL_DIR."""
    from app.services import themes as theme_service

    settings = get_settings()
    path = theme_service.artifact_path(settings)
    if if_missing and path.is_file():
        typer.echo(f"theme tagger already at {path}")
        return
    typer.echo("training the theme tagger (about a minute on 2 cores)...", err=True)
    try:
        with _reading_session(settings) as session:
            _, path, info = theme_service.train(settings, data_file=data, session=session)
    except FileNotFoundError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    if info["imported_uhri_rows"]:
        typer.echo(f"learnt the OHCHR themes of {info['imported_uhri_rows']} recommendations imported from the UHRI")
    schemes = ", ".join(f"{s} {v}" for s, v in info["schemes"].items())
    typer.echo(f"trained in {info['seconds']}s: {schemes}")
    for scheme, reason in info["skipped"].items():
        typer.echo(f"skipped {scheme}: {reason}", err=True)
    typer.echo(f"wrote {path} (data sha256 {info['data_sha256'][:12]})")


@contextlib.contextmanager
def _reading_session(settings: Any) -> Iterator[Session | None]:
    """A session on the database to learn from, or None (said once) when it cannot be read yet."""
    from sqlalchemy import inspect

    from app.db import create_db_engine

    engine = create_db_engine(settings)
    try:
        with Session(engine) as session:
            try:
                ready = inspect(session.get_bind()).has_table("import_run")
            except Exception:  # noqa: BLE001 - no database yet: train on the file alone
                ready = False
            if not ready:
                typer.echo("database not migrated or not reachable: training on the file alone", err=True)
            yield session if ready else None
    finally:
        engine.dispose()


demo_cli = typer.Typer(help="The demo data set.", no_args_is_help=True)
cli.add_typer(demo_cli, name="demo")


@demo_cli.command("load")
def demo_load(
    url: Annotated[
        str, typer.Option(help="Where the server will listen, for the printed examples.")
    ] = "http://127.0.0.1:8000",
    key_file: Annotated[Path, typer.Option(help="Where the local admin key is kept.")] = Path("var/admin_key"),
) -> None:
    """Load the shared recommendations, the provider profiles and demo needs (idempotent)."""
    from app.commands.progress import import_progress
    from app.demo.loader import load_demo
    from app.errors import Problem

    settings = get_settings()
    progress, report = import_progress("recommendations: ")

    try:
        with progress, cli_session() as session:
            summary = load_demo(
                session,
                data_dir=settings.UPR_DATA_DIR,
                key_file=key_file,
                max_rows=settings.MAX_IMPORT_ROWS,
                progress=report,
            )
            from sqlmodel import col, select

            from app.models.need import Need

            need = session.exec(
                select(Need).where(col(Need.is_demo)).order_by(col(Need.state), col(Need.title))
            ).first()
            need_id = need.id if need else "<need-id>"
    except Problem as problem:
        _fail(problem)
    recs = summary.recommendations
    if recs:
        typer.echo(
            f"recommendations: read {recs['read']}, inserted {recs['inserted']}, updated {recs['updated']}, "
            f"unchanged {recs['unchanged']}, themes predicted {recs['themes_predicted']}"
        )
    typer.echo(
        f"providers: created {summary.providers_created}, updated {summary.providers_updated}, "
        f"unchanged {summary.providers_unchanged}"
    )
    typer.echo(f"demo needs: created {summary.needs_created}, already there {summary.needs_existing}")
    for note in summary.notes:
        typer.echo(f"note: {note}", err=True)
    created = " (new)" if summary.admin_key_created else f" (from {key_file})"
    typer.echo(
        f"""
upr-match is ready at {url}  (API docs: {url}/docs)
admin key for local use{created}:
  {summary.admin_key}

Try:
  curl -s '{url}/v1/recommendations?state=MEX&response=supported&q=torture&limit=3'
  curl -s '{url}/v1/needs/{need_id}/matches?limit=3'
  curl -s -X POST {url}/v1/match -H 'Content-Type: application/json' \\
       -d '{{"text": "set up a national preventive mechanism against torture", "state": "MEX", "limit": 3}}'
"""
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
    state: Annotated[str | None, typer.Option(help="ISO3 of the State (role state).")] = None,  # noqa: UP007
    provider: Annotated[str | None, typer.Option(help="Provider id (role provider).")] = None,  # noqa: UP007
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
        typer.echo(
            f"{row.id:36}  {row.prefix:8}  {row.role:8}  {owner:36}  {'yes' if row.revoked_at else 'no':5}  {row.name}"
        )
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


from app.commands.recommendations import import_recommendations, link_recommendations  # noqa: E402

cli.command("import-recommendations")(import_recommendations)
cli.command("link-recommendations")(link_recommendations)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
