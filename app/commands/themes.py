"""`upr-match train`: the theme tagger, trained on the labelled shared recommendations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.config import get_settings


def train(
    data: Annotated[
        Path | None, typer.Option(help="recommendations.jsonl to learn from (default: UPR_DATA_DIR).")
    ] = None,
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
        _, path, info = theme_service.train(settings, data_file=data)
    except FileNotFoundError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    schemes = ", ".join(f"{s} {v}" for s, v in info["schemes"].items())
    typer.echo(f"trained in {info['seconds']}s: {schemes}")
    for scheme, reason in info["skipped"].items():
        typer.echo(f"skipped {scheme}: {reason}", err=True)
    typer.echo(f"wrote {path} (data sha256 {info['data_sha256'][:12]})")
