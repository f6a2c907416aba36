"""Import recommendations, then tag those that came without themes: the one path of the API, the CLI and the demo."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from sqlmodel import Session

from app.importing.core import ProgressCallback
from app.importing.store import FinishHook
from app.models.recommendation import ImportSummary
from app.services import audit
from app.services import recommendations as recommendation_service
from app.services import themes as theme_service
from matching.schemes import MultiSchemeTagger


def import_and_tag(
    session: Session,
    *,
    tagger: MultiSchemeTagger | None,
    file: Path | IO[bytes],
    fmt: str,
    dry_run: bool,
    max_rows: int,
    progress: ProgressCallback | None = None,
    actor: audit.Actor = audit.COMMAND_LINE,
    finish: FinishHook | None = None,
    state: str | None = None,
    cycle: int | None = None,
    review_session: int | None = None,
) -> ImportSummary:
    """Import a file all or nothing; unless it is a dry run, give unthemed recommendations the tagger's themes.

    `summary.themes_predicted` counts the recommendations tagged (human labels are never touched).
    The import's audit row names `actor` (the command line unless a request's key is given); `finish`
    is the caller's last step in the import's transaction (`app.importing.store.FinishHook`);
    `state`, `cycle` and `review_session` complete what a matrix of recommendations does not say.
    """
    summary = recommendation_service.import_recommendations(
        session,
        file=file,
        fmt=fmt,
        dry_run=dry_run,
        max_rows=max_rows,
        progress=progress,
        actor=actor,
        finish=finish,
        state=state,
        cycle=cycle,
        review_session=review_session,
    )
    if not dry_run:
        summary.themes_predicted = theme_service.tag_unthemed(session, tagger)
    return summary
