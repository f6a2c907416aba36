"""`upr-match keys create|list|revoke`: API keys from the command line."""

from __future__ import annotations

from typing import Annotated

import typer

from app.commands.common import fail
from app.core.db import command_session
from app.services.audit import COMMAND_LINE

app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)


@app.command("create")
def create(
    role: Annotated[str, typer.Option(help="admin, state or provider.")],
    name: Annotated[str, typer.Option(help="Who or what uses the key.")],
    state: Annotated[str | None, typer.Option(help="ISO3 of the State (role state).")] = None,
    provider: Annotated[str | None, typer.Option(help="Provider id (role provider).")] = None,
) -> None:
    """Create a key; the secret is printed alone on the last line."""
    from pydantic import ValidationError

    from app.core.errors import Problem
    from app.models.api_key import ApiKeyCreate
    from app.services import keys as key_service

    try:
        data = ApiKeyCreate.model_validate({"name": name, "role": role, "state": state, "provider_id": provider})
    except ValidationError as exc:
        for err in exc.errors():
            typer.echo(f"error: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}", err=True)
        raise typer.Exit(code=1) from None
    with command_session() as session:
        try:
            row, secret = key_service.create_key(session, data=data, actor=COMMAND_LINE)
        except Problem as problem:
            fail(problem)
    owner = row.state or row.provider_id or "-"
    typer.echo(f"created key {row.id} role={row.role} owner={owner} name={row.name!r}", err=True)
    typer.echo(secret)


@app.command("list")
def list_(
    limit: Annotated[int, typer.Option(min=1, max=100)] = 100,
    offset: Annotated[int, typer.Option(min=0)] = 0,
) -> None:
    """List keys (never their secrets)."""
    from app.core.pagination import PageParams
    from app.services import keys as key_service

    with command_session() as session:
        rows, total = key_service.list_keys(session, page=PageParams(limit=limit, offset=offset))
    typer.echo(f"{'id':36}  {'prefix':8}  {'role':8}  {'owner':36}  {'revoked':5}  name")
    for row in rows:
        owner = row.state or row.provider_id or "-"
        typer.echo(
            f"{row.id:36}  {row.prefix:8}  {row.role:8}  {owner:36}  {'yes' if row.revoked_at else 'no':5}  {row.name}"
        )
    typer.echo(f"{len(rows)} of {total} keys", err=True)


@app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key's id (from `keys list`).")]) -> None:
    """Revoke a key; it stops working at once."""
    from app.core.errors import Problem
    from app.services import keys as key_service

    with command_session() as session:
        try:
            row = key_service.revoke_key(session, key_id=key_id, actor=COMMAND_LINE)
        except Problem as problem:
            fail(problem)
    typer.echo(f"revoked {row.id} at {row.revoked_at:%Y-%m-%dT%H:%M:%SZ}")
