"""`upr-match train`: the theme tagger, trained on the labelled shared recommendations."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from app.core.config import Settings, get_settings


def train(
    data: Annotated[
        Path | None, typer.Option(help="recommendations.jsonl to learn from (default: UPR_DATA_DIR).")
    ] = None,
    if_missing: Annotated[
        bool, typer.Option("--if-missing", help="Do nothing when a tagger is already trained.")
    ] = False,
    lexicon: Annotated[
        bool,
        typer.Option(
            "--lexicon/--no-lexicon",
            help="Also build the cross-language lexicon with Apertium (French and Spanish read in English).",
        ),
    ] = True,
) -> None:
    """Train the theme tagger on the labelled recommendations and write a versioned artifact to MODEL_DIR."""
    from app.services import themes as theme_service

    settings = get_settings()
    path = theme_service.artifact_path(settings)
    if if_missing and path.is_file():
        typer.echo(f"theme tagger already at {path}")
        if lexicon and not theme_service.lexicon_file(settings).is_file():
            _lexicon(settings, data)
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
    if lexicon:
        _lexicon(settings, data)
    typer.echo("restart the service to use it; `upr-match predict-themes` reads profiles and needs again with it")


def _lexicon(settings: Settings, data: Path | None) -> None:
    """The cross-language lexicon (French and Spanish read in English), when Apertium is installed."""
    from app.services import themes as theme_service

    typer.echo("building the cross-language lexicon with Apertium (about a minute)...", err=True)
    path, detail = theme_service.train_lexicon(settings, data_file=data)
    if path is None:
        typer.echo(f"no cross-language lexicon: {detail}; French and Spanish texts will be ranked as written", err=True)
    else:
        typer.echo(f"wrote {path} ({detail})")


def predict_themes() -> None:
    """Predict the themes of every provider profile and need again with the trained tagger (themes_predicted)."""
    from app.core.db import command_session
    from app.match_index.ranker import MAIN_SCHEME, ranking_space
    from app.services import predictions
    from app.services import themes as theme_service

    settings = get_settings()
    tagger = theme_service.load(settings)
    if tagger is None:
        typer.echo("error: no theme tagger to predict with; run `upr-match train` first", err=True)
        raise typer.Exit(code=1)
    with command_session(settings) as session:
        providers, needs = predictions.refresh_predictions(session, ranking_space(tagger[MAIN_SCHEME]))
    typer.echo(f"predicted themes changed for {providers} providers and {needs} needs")


@contextlib.contextmanager
def _reading_session(settings: Settings) -> Iterator[Session | None]:
    """A session on the database to learn from, or None (said once) when it cannot be read yet."""
    from sqlalchemy import inspect

    from app.core.db import create_db_engine

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
