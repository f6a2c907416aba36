"""`upr-match webhooks rotate-secrets`: encrypt every stored webhook secret again under the first key."""

from __future__ import annotations

import typer

from app.core.config import get_settings
from app.core.db import command_session

app = typer.Typer(help="Webhook endpoints' stored signing secrets.", no_args_is_help=True)


@app.command("rotate-secrets")
def rotate_secrets() -> None:
    """After putting a new key first in WEBHOOK_SECRET_KEYS: re-encrypt every secret with it (then drop the old key)."""
    from app.core.secret_box import SecretUnreadable, secret_box
    from app.services import webhooks as webhook_service

    settings = get_settings()
    with command_session(settings) as session:
        try:
            rotated, total = webhook_service.rotate_secrets(session, box=secret_box(settings))
        except SecretUnreadable as exc:
            typer.echo(
                f"error: {exc}; put back the key it was encrypted with (after the first), then run this again", err=True
            )
            raise typer.Exit(code=1) from None
    typer.echo(f"{rotated} of {total} webhook secrets encrypted again under the first key")
