"""`upr-match sync`: fetch OHCHR's published export if it changed, import it all or nothing, say what changed.

One sync of one export (`sync_export`):

1. take the sync lease (`sync_lease`, one row): only one sync runs at a time across replicas; a
   second one is refused, naming the holder;
2. record the run (`sync_run`, outcome `running`) and read the validators (ETag, Last-Modified) of
   the last run of that URL that received the file;
3. fetch it (`app.importing.download.fetch`): 304 is "not modified" and nothing else happens; a
   cut transfer is resumed; the size and the start of the file are checked;
4. import it with the UHRI importer (`services/imports.py::import_and_tag`): validated whole
   first, then written in one transaction, in which, last, every record of the export's source
   that is no longer in the export is marked withdrawn (`withdrawn_at`, never deleted) and any
   withdrawn record back in the export is restored;
5. record the outcome and the counts on the run, release the lease.

Any failure (offline, an HTML page, a short or malformed file, a bad record) leaves the data as it
was; the run is recorded as `failed` with the reason, which `GET /v1/coverage` shows.

Languages: the English export (`export-full-en.json`) brings the recommendations; the French and
Spanish exports (`export-full-fr.json`, `export-full-es.json`, the same AnnotationIds, each reached
by `language_url`) attach their texts to them (`app.services.translations`). `IMPORTERS` holds one
importer per language; a language without one is refused, saying so.
"""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.core import i18n
from app.core.config import Settings
from app.core.errors import Problem, UnprocessableEntity
from app.core.i18n import gettext
from app.importing.core import ProgressCallback
from app.importing.download import Fetched, FetchFailed, Notice, SourceUnreachable, Validators, fetch
from app.importing.uhri import SOURCE as UHRI_SOURCE
from app.models.common import table_of, utcnow
from app.models.recommendation import ImportSummary, Recommendation
from app.models.sync import SyncLease, SyncPublic, SyncRun
from app.services import audit

if TYPE_CHECKING:  # the tagger (scikit-learn) is loaded only when a file is to be imported
    from matching.schemes import MultiSchemeTagger

# Gives the theme tagger when a file is to be imported (None: no tagger): a 304 never loads it.
TaggerLoader = Callable[[], "MultiSchemeTagger | None"]

R = table_of(Recommendation)
RUN = table_of(SyncRun)
LEASE = table_of(SyncLease)
LEASE_NAME = "ohchr-sync"
LANGUAGES = ("en", "fr", "es")
# An export that would withdraw more than this share of a source's records is refused: a
# truncated or filtered export must not empty the repository.
MAX_WITHDRAWN_SHARE = 0.5
_LANGUAGE_SUFFIX = re.compile(r"-(en|fr|es)(\.json)$", re.IGNORECASE)
_CHUNK = 500


class SyncError(RuntimeError):
    """A sync that could not run or did not import; `reason` is one line; nothing was changed."""

    def __init__(self, reason: str, *, offline: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offline = offline


@dataclass
class SyncResult:
    """What one sync of one export did."""

    url: str
    language: str
    outcome: str  # imported, not_modified
    bytes_received: int = 0
    resumed_from: int = 0
    since: datetime | None = None  # not modified: when the file was last received
    validators: Validators = field(default_factory=Validators)
    summary: ImportSummary | None = None
    withdrawn: int = 0
    restored: int = 0
    unknown: int = 0  # French or Spanish texts of recommendations not stored (import the English export first)


def language_url(url: str, language: str) -> str:
    """The export of `language` beside the English one: export-full-en.json -> export-full-fr.json."""
    if language == "en":
        return url
    if not _LANGUAGE_SUFFIX.search(url):
        raise SyncError(
            f"cannot tell the {language} export's address from {url!r}: SYNC_URL must end in -en.json "
            f"(as export-full-en.json) for the other languages to be found beside it"
        )
    return _LANGUAGE_SUFFIX.sub(lambda m: f"-{language}{m.group(2)}", url)


# --- the lease -----------------------------------------------------------------------------------


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def acquire_lease(session: Session, *, holder: str, lease_s: float) -> str | None:
    """Take the sync lease for `lease_s` seconds; None when taken, else who holds it and until when."""
    now = utcnow()
    until = now + timedelta(seconds=lease_s)
    taken = session.exec(
        update(LEASE)
        .where(LEASE.c.name == LEASE_NAME, or_(LEASE.c.expires_at < now, LEASE.c.holder == holder))
        .values(holder=holder, expires_at=until)
    ).rowcount
    if taken:
        session.commit()
        return None
    try:
        session.execute(insert(LEASE).values(name=LEASE_NAME, holder=holder, expires_at=until))
        session.commit()
        return None
    except IntegrityError:
        session.rollback()
    row = session.execute(select(LEASE.c.holder, LEASE.c.expires_at).where(LEASE.c.name == LEASE_NAME)).first()
    session.commit()
    if row is None:  # released in between: try once more
        return acquire_lease(session, holder=holder, lease_s=lease_s)
    return f"{row[0]}, until {row[1]:%Y-%m-%d %H:%M} UTC"


def release_lease(session: Session, *, holder: str) -> None:
    session.rollback()
    session.execute(
        update(LEASE)
        .where(LEASE.c.name == LEASE_NAME, LEASE.c.holder == holder)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    session.commit()


# --- runs ----------------------------------------------------------------------------------------


def _last_received(session: Session, url: str) -> tuple[Validators, datetime | None]:
    """The validators of the last run of `url` that received the file (or was told it had not changed)."""
    row = session.execute(
        select(RUN.c.etag, RUN.c.last_modified, RUN.c.finished_at)
        .where(RUN.c.source_url == url, RUN.c.outcome.in_(("imported", "not_modified")))
        .where(or_(RUN.c.etag.is_not(None), RUN.c.last_modified.is_not(None)))
        .order_by(RUN.c.id.desc())
        .limit(1)
    ).first()
    session.commit()
    if row is None:
        return Validators(), None
    return Validators(etag=row[0], last_modified=row[1]), row[2]


def _start_run(session: Session, url: str, language: str) -> int:
    run_id = session.execute(
        insert(RUN)
        .values(
            source_url=url[:2048],
            language=language,
            started_at=utcnow(),
            outcome="running",
            inserted=0,
            updated=0,
            unchanged=0,
            withdrawn=0,
            bytes=0,
        )
        .returning(RUN.c.id)
    ).scalar_one()
    session.commit()
    return int(run_id)


def _finish_run(session: Session, run_id: int, **values: object) -> None:
    session.rollback()  # whatever the import left open is gone: the run's row is written on its own
    session.execute(update(RUN).where(RUN.c.id == run_id).values(finished_at=utcnow(), **values))
    session.commit()


# --- withdrawals ---------------------------------------------------------------------------------


def withdraw_missing(session: Session, present: set[str], *, source: str) -> tuple[int, int]:
    """Mark withdrawn the records of `source` not in `present`; restore the withdrawn ones that are.

    Returns (withdrawn, restored). Refuses (422) to withdraw more than MAX_WITHDRAWN_SHARE of the
    source's records: the import's transaction is then rolled back whole.
    """
    stored = set(session.execute(select(R.c.id).where(R.c.source == source, R.c.withdrawn_at.is_(None))).scalars())
    gone = sorted(stored - present)
    if stored and len(gone) > MAX_WITHDRAWN_SHARE * len(stored):
        raise UnprocessableEntity(
            f"The export lacks {len(gone)} of the {len(stored)} records of {source} stored: more than "
            f"{MAX_WITHDRAWN_SHARE:.0%} would be withdrawn, so the export looks incomplete; nothing was changed.",
        )
    withdrawn_before = session.execute(select(R.c.id).where(R.c.source == source, R.c.withdrawn_at.is_not(None)))
    back = sorted(set(withdrawn_before.scalars()) & present)
    for start in range(0, len(back), _CHUNK):
        session.execute(update(R).where(R.c.id.in_(back[start : start + _CHUNK])).values(withdrawn_at=None))
    now = utcnow()
    for start in range(0, len(gone), _CHUNK):
        session.execute(update(R).where(R.c.id.in_(gone[start : start + _CHUNK])).values(withdrawn_at=now))
    return len(gone), len(back)


# --- one sync ------------------------------------------------------------------------------------

# Importers per language: (session, tagger, file, progress, finish hook) -> summary. Only English now.
Importer = Callable[..., ImportSummary]


def _import_english(
    session: Session,
    *,
    tagger: TaggerLoader,
    path: Path,
    max_rows: int,
    progress: ProgressCallback | None,
    counts: dict[str, int],
) -> ImportSummary:
    def finish(written: Session, present: set[str]) -> None:
        counts["withdrawn"], counts["restored"] = withdraw_missing(written, present, source=UHRI_SOURCE)

    from app.services.imports import import_and_tag

    return import_and_tag(
        session,
        tagger=tagger(),
        file=path,
        fmt="uhri",
        dry_run=False,
        max_rows=max_rows,
        progress=progress,
        actor=audit.COMMAND_LINE,
        finish=finish,
    )


def _import_language(language: str) -> Importer:
    """The importer of the French or Spanish export: its texts attached to the recommendations already stored.

    The export holds the same AnnotationIds as the English one; nothing is inserted, withdrawn or
    invented (a record that only this export has is counted as unknown and left out).
    """

    def run(
        session: Session,
        *,
        tagger: TaggerLoader,
        path: Path,
        max_rows: int,
        progress: ProgressCallback | None,
        counts: dict[str, int],
    ) -> ImportSummary:
        from app.services.translations import import_translations

        attached = import_translations(
            session, file=path, language=language, max_rows=max_rows, progress=progress, actor=audit.COMMAND_LINE
        )
        counts["unknown"] = attached.unknown
        return ImportSummary(
            format=f"uhri-{language}",
            dry_run=False,
            rows_read=attached.rows_read,
            records=attached.records,
            inserted=attached.attached,
            updated=attached.updated,
            unchanged=attached.unchanged,
            rejected=0,
            skipped=attached.skipped,
            skipped_reasons=attached.skipped_reasons,
        )

    return run


IMPORTERS: dict[str, Importer] = {"en": _import_english, "fr": _import_language("fr"), "es": _import_language("es")}


def sync_export(
    session: Session,
    settings: Settings,
    *,
    url: str | None = None,
    language: str = "en",
    tagger: TaggerLoader = lambda: None,
    progress: ProgressCallback | None = None,
    notice: Notice | None = None,
    holder: str | None = None,
) -> SyncResult:
    """Sync one export (by default SYNC_URL, English); raise `SyncError` saying why when nothing was imported."""
    source_url = url or language_url(settings.SYNC_URL, language)
    importer = IMPORTERS.get(language)
    if importer is None:
        raise SyncError(
            f"the {language} export ({source_url}) cannot be imported: languages are {', '.join(IMPORTERS)}"
        )
    holder = holder or holder_name()
    busy = acquire_lease(session, holder=holder, lease_s=settings.SYNC_LEASE_S)
    if busy is not None:
        raise SyncError(f"another sync is running ({busy}); nothing was changed")
    try:
        renewing = _renewing(progress, session, holder=holder, lease_s=settings.SYNC_LEASE_S)
        return _run(session, settings, source_url, language, importer, tagger, renewing, notice)
    finally:
        release_lease(session, holder=holder)


def _renewing(progress: ProgressCallback | None, session: Session, *, holder: str, lease_s: float) -> ProgressCallback:
    """The progress callback, renewing the lease while the file downloads (no transaction is open then).

    A download may take longer than the lease on a slow line; the import that follows holds the
    database's write lock (SQLite) or the table lock (PostgreSQL), so it is covered by the last renewal.
    """
    every = lease_s / 4
    renewed = [time.monotonic()]

    def report(phase: str, done: int, total: int | None) -> None:
        if phase == "download" and time.monotonic() - renewed[0] > every:
            acquire_lease(session, holder=holder, lease_s=lease_s)
            renewed[0] = time.monotonic()
        if progress is not None:
            progress(phase, done, total)

    return report


def _run(
    session: Session,
    settings: Settings,
    url: str,
    language: str,
    importer: Importer,
    tagger: TaggerLoader,
    progress: ProgressCallback | None,
    notice: Notice | None,
) -> SyncResult:
    validators, since = _last_received(session, url)
    run_id = _start_run(session, url, language)
    fetched: Fetched | None = None
    try:
        try:
            fetched = fetch(
                url,
                work_dir=settings.SYNC_DIR,
                validators=validators,
                timeout_s=settings.SYNC_TIMEOUT_S,
                retries=settings.SYNC_RETRIES,
                progress=progress,
                notice=notice,
            )
        except FetchFailed as exc:
            raise SyncError(exc.reason, offline=isinstance(exc, SourceUnreachable)) from None
        kept = {"etag": fetched.validators.etag, "last_modified": fetched.validators.last_modified}
        if fetched.not_modified:
            _finish_run(session, run_id, outcome="not_modified", **kept)
            return SyncResult(url, language, "not_modified", since=since, validators=fetched.validators)
        assert fetched.path is not None  # a file was received
        counts = {"withdrawn": 0, "restored": 0, "unknown": 0}
        try:
            summary = importer(
                session,
                tagger=tagger,
                path=fetched.path,
                max_rows=settings.MAX_IMPORT_ROWS,
                progress=progress,
                counts=counts,
            )
        except Problem as problem:
            raise SyncError(_problem_line(problem)) from None
        _finish_run(
            session,
            run_id,
            outcome="imported",
            inserted=summary.inserted,
            updated=summary.updated + counts["restored"],
            unchanged=max(0, summary.unchanged - counts["restored"]),
            withdrawn=counts["withdrawn"],
            bytes=fetched.bytes_received or fetched.size,
            **kept,
        )
        return SyncResult(
            url,
            language,
            "imported",
            bytes_received=fetched.bytes_received or fetched.size,
            resumed_from=fetched.resumed_from,
            validators=fetched.validators,
            summary=summary,
            withdrawn=counts["withdrawn"],
            restored=counts["restored"],
            unknown=counts["unknown"],
        )
    except SyncError as exc:
        _finish_run(session, run_id, outcome="failed", detail=exc.reason[:2000])
        raise
    except BaseException:
        _finish_run(session, run_id, outcome="failed", detail="interrupted or an unexpected error; nothing changed")
        raise
    finally:
        if fetched is not None and fetched.temporary and fetched.path is not None:
            fetched.path.unlink(missing_ok=True)


def _problem_line(problem: Problem) -> str:
    """A rejected import in one line: its detail and the first errors (record, field, reason)."""
    errors = problem.extensions.get("errors", [])
    unit = problem.extensions.get("unit", "record")
    shown = "; ".join(
        f"{unit} {e.get('line', '?')}: {e.get('field')}: {e.get('reason', e.get('detail'))}" for e in errors[:3]
    )
    return f"{problem.detail} {shown}".strip()


def describe(result: SyncResult) -> list[str]:
    """What a sync did, in the lines `upr-match sync` prints (and the worker logs)."""
    if result.outcome == "not_modified":
        when = f"since the sync of {result.since:%Y-%m-%d %H:%M} UTC" if result.since else "since the last sync"
        tag = f" (ETag {result.validators.etag})" if result.validators.etag else ""
        return [f"not modified: {result.url} has not changed {when}{tag}; nothing to do"]
    summary = result.summary
    assert summary is not None
    resumed = f", resumed from byte {result.resumed_from:,}" if result.resumed_from else ""
    if result.language != "en":
        lines = [
            f"imported {result.url} ({result.bytes_received:,} bytes received{resumed}): {result.language} texts "
            f"of {summary.inserted} recommendations attached, {summary.updated} updated, {summary.unchanged} unchanged"
        ]
        if result.unknown:
            lines.append(f"{result.unknown} texts name recommendations not stored: sync the English export first")
        return lines
    lines = [
        f"imported {result.url} ({result.bytes_received:,} bytes received{resumed}): "
        f"{summary.inserted} new, {summary.updated + result.restored} updated, "
        f"{max(0, summary.unchanged - result.restored)} unchanged, {result.withdrawn} withdrawn"
    ]
    if result.restored:
        lines.append(f"{result.restored} withdrawn records are back in the export: restored")
    if summary.skipped:
        reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(summary.skipped_reasons.items()))
        lines.append(f"skipped {summary.skipped} records that are not UPR recommendations ({reasons})")
    if summary.themes_predicted:
        lines.append(f"themes predicted for {summary.themes_predicted} recommendations that had none")
    return lines


# --- what the coverage shows ---------------------------------------------------------------------


def _when(moment: datetime | None) -> str:
    if moment is None:
        return gettext("(not finished)")
    if i18n.current_language() == i18n.DEFAULT_LANGUAGE:
        return f"{moment.day} {moment:%B %Y} at {moment:%H:%M} UTC"
    return gettext("%(day)s at %(time)s UTC") % {"day": i18n.day(moment, "long"), "time": f"{moment:%H:%M}"}


def last_sync(session: Session) -> SyncPublic | None:
    """The latest sync run, in numbers and words (with the last good one when the latest failed), or None.

    The words are in the current language (English, as the API always gave them, when none is asked).
    Read in the caller's transaction (no commit: the rows a page already loaded stay loaded).
    """
    rows = session.execute(select(SyncRun).order_by(RUN.c.id.desc()).limit(1)).scalars().all()
    if not rows:
        return None
    run = rows[0]
    count = i18n.plain_count
    if run.outcome == "imported":
        summary = gettext(
            "Last synced from OHCHR on %(when)s: %(inserted)s new, %(updated)s updated, "
            "%(unchanged)s unchanged, %(withdrawn)s withdrawn."
        ) % {
            "when": _when(run.finished_at),
            "inserted": count(run.inserted),
            "updated": count(run.updated),
            "unchanged": count(run.unchanged),
            "withdrawn": count(run.withdrawn),
        }
    elif run.outcome == "not_modified":
        summary = gettext("Last checked with OHCHR on %(when)s: nothing had changed since the previous sync.") % {
            "when": _when(run.finished_at)
        }
    elif run.outcome == "running":
        summary = gettext("A sync from OHCHR started on %(when)s and is running.") % {"when": _when(run.started_at)}
    else:
        good = session.execute(
            select(RUN.c.finished_at)
            .where(RUN.c.outcome.in_(("imported", "not_modified")))
            .order_by(RUN.c.id.desc())
            .limit(1)
        ).scalar()
        since = (
            gettext("the data is that of the sync of %(when)s") % {"when": _when(good)}
            if good
            else gettext("no sync has succeeded yet")
        )
        summary = gettext("The last sync, on %(when)s, failed (%(detail)s); %(since)s.") % {
            "when": _when(run.started_at),
            "detail": run.detail,
            "since": since,
        }
    return SyncPublic(
        source_url=run.source_url,
        language=run.language,
        started_at=run.started_at,
        finished_at=run.finished_at,
        outcome=run.outcome,
        detail=run.detail,
        inserted=run.inserted,
        updated=run.updated,
        unchanged=run.unchanged,
        withdrawn=run.withdrawn,
        bytes=run.bytes,
        summary=summary,
    )


def sync_due(session: Session, *, interval_hours: float) -> bool:
    """Whether a scheduled sync is due: none started within `interval_hours` (any replica's)."""
    if interval_hours <= 0:
        return False
    last = session.execute(select(RUN.c.started_at).order_by(RUN.c.id.desc()).limit(1)).scalar()
    session.commit()
    return last is None or utcnow() - last >= timedelta(hours=interval_hours)


__all__ = [
    "IMPORTERS",
    "LANGUAGES",
    "SyncError",
    "SyncResult",
    "acquire_lease",
    "describe",
    "language_url",
    "last_sync",
    "release_lease",
    "sync_due",
    "sync_export",
    "withdraw_missing",
]
