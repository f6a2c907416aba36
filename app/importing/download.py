"""Fetching a published export: a conditional, resumable download to a file, checked before it is read.

`fetch(url, ...)` asks the source for the file only if it changed since the validators it is
given (`If-None-Match` with the ETag, `If-Modified-Since` with the Last-Modified date of the
last file received): 304 is "not modified", nothing is downloaded. Otherwise the body is
streamed to `<work_dir>/<name>.part`, one chunk at a time (the file is never held in memory),
reporting progress. A connection lost mid-transfer is resumed with `Range: bytes=N-` and
`If-Range: <ETag>` (or the Last-Modified date), so the bytes already received are not fetched
again; a server that answers 200 instead sends the whole file again. The partial file and its
validators stay on disk when every retry fails, so the next run resumes it.

Checks before the file is handed to the importer (which then parses it as a stream and names
the record where the JSON breaks): the bytes received match `Content-Length` (or the total of
`Content-Range`), and the file is not an HTML page (an error or login page served with 200).

A local path or a `file://` URL is read in place: its size and modification time stand for the
validators. No database here: the caller keeps the validators (`app.services.sync`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

SNIFF_BYTES = 512
# Phase names given to the progress callback: ("download", bytes so far, total bytes or None).
Progress = Callable[[str, int, "int | None"], None]
# Lines worth telling the person running the sync (a resumed transfer): one string each.
Notice = Callable[[str], None]
_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class FetchFailed(RuntimeError):
    """The export could not be fetched or is not the export; `reason` is one line saying what was wrong."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SourceUnreachable(FetchFailed):
    """No connection to the source at all (refused, unknown host, no route, timed out connecting)."""


@dataclass(frozen=True, slots=True)
class Validators:
    """What identifies the version of the file last received, as the source gave it."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class Fetched:
    """The outcome of one fetch: not modified, or a complete file at `path` (to delete once imported if `temporary`)."""

    not_modified: bool
    validators: Validators
    path: Path | None = None
    temporary: bool = False
    bytes_received: int = 0
    size: int = 0
    resumed_from: int = 0


def is_local(url: str) -> bool:
    """A file path or a file:// URL (read in place), not an http(s) URL."""
    scheme = urlsplit(url).scheme.lower()
    return scheme in ("", "file") or (len(scheme) == 1 and url[1:3] in (":\\", ":/"))


def local_path(url: str) -> Path:
    parts = urlsplit(url)
    return Path(unquote(parts.path)) if parts.scheme.lower() == "file" else Path(url)


def part_name(url: str) -> str:
    """A file name for the partial download of `url`: its last path segment, with a short hash of the URL."""
    segment = _NAME.sub("_", urlsplit(url).path.rsplit("/", 1)[-1])[:80] or "export"
    return f"{segment}.{hashlib.sha256(url.encode()).hexdigest()[:10]}.part"


def fetch(
    url: str,
    *,
    work_dir: Path,
    validators: Validators,
    timeout_s: float = 60.0,
    retries: int = 3,
    progress: Progress | None = None,
    notice: Notice | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Fetched:
    """Fetch `url` unless it is unchanged since `validators`; raise `FetchFailed` saying what was wrong."""
    if is_local(url):
        return _fetch_local(local_path(url), validators)
    return _Download(url, work_dir, timeout_s, retries, progress, notice, transport).run(validators)


def _fetch_local(path: Path, validators: Validators) -> Fetched:
    try:
        stat = path.stat()
    except OSError as exc:
        raise FetchFailed(f"cannot read {path}: {exc.strerror or exc}") from None
    if not path.is_file():
        raise FetchFailed(f"{path} is not a file")
    current = Validators(
        etag=f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"', last_modified=formatdate(stat.st_mtime, usegmt=True)
    )
    if validators.etag is not None and validators.etag == current.etag:
        return Fetched(not_modified=True, validators=current)
    _check_start(path)
    return Fetched(not_modified=False, validators=current, path=path, size=stat.st_size)


def _check_start(path: Path) -> None:
    """Refuse an HTML page or an empty file before the importer reads it (it names any later JSON error)."""
    with path.open("rb") as stream:
        head = stream.read(SNIFF_BYTES).lstrip(b"\xef\xbb\xbf").lstrip()
    if not head:
        raise FetchFailed(f"{path.name} is empty; expected the JSON export (a JSON array)")
    if head[:1] == b"<":
        shown = head[:80].decode("utf-8", "replace").replace("\n", " ")
        raise FetchFailed(f"the source sent an HTML page, not the JSON export (it starts with {shown!r})")


@dataclass
class _Download:
    url: str
    work_dir: Path
    timeout_s: float
    retries: int
    progress: Progress | None
    notice: Notice | None
    transport: httpx.BaseTransport | None

    def __post_init__(self) -> None:
        self.part = self.work_dir / part_name(self.url)
        self.meta = self.part.with_suffix(".json")
        self.received = 0

    def run(self, validators: Validators) -> Fetched:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        partial = self._partial()
        timeout = httpx.Timeout(self.timeout_s, connect=min(self.timeout_s, 15.0))
        with httpx.Client(timeout=timeout, follow_redirects=True, transport=self.transport) as client:
            attempt = 0
            while True:
                attempt += 1
                try:
                    result = self._attempt(client, validators, partial)
                except _Interrupted as lost:
                    resumable = lost.resume is not None and lost.offset > 0
                    if attempt > self.retries:
                        if not resumable:
                            self._forget_partial()
                        kept = "the part received is kept: the next sync resumes it" if resumable else "nothing kept"
                        raise FetchFailed(
                            f"the connection to {_host(self.url)} was lost after {lost.offset:,} of the "
                            f"{_of(lost.total)} bytes announced (Content-Length) ({lost.why}) in each of "
                            f"{attempt} attempts; {kept}"
                        ) from None
                    partial = (lost.offset, lost.resume) if resumable and lost.resume is not None else None
                    if self.notice is not None:
                        where = f"resuming from byte {lost.offset:,}" if partial else "starting again"
                        self.notice(
                            f"connection lost after {lost.offset:,} of {_of(lost.total)} bytes ({lost.why}); "
                            f"{where} (attempt {attempt + 1} of {self.retries + 1})"
                        )
                    time.sleep(min(2.0 ** (attempt - 1) * 0.2, 5.0))
                    continue
                return Fetched(
                    not_modified=result.not_modified,
                    validators=result.validators,
                    path=result.path,
                    temporary=result.temporary,
                    bytes_received=self.received,
                    size=result.size,
                    resumed_from=result.resumed_from,
                )

    def _partial(self) -> tuple[int, Validators] | None:
        """(bytes held, the validators they were received under) of a partial download of this URL, if any."""
        try:
            meta = json.loads(self.meta.read_text(encoding="utf-8"))
            size = self.part.stat().st_size
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict) or meta.get("url") != self.url or not size:
            return None
        kept = Validators(etag=meta.get("etag"), last_modified=meta.get("last_modified"))
        if not _strong(kept.etag) and not kept.last_modified:
            return None
        return size, kept

    def _attempt(self, client: httpx.Client, validators: Validators, partial: tuple[int, Validators] | None) -> Fetched:
        headers = {"Accept": "application/json", "Accept-Encoding": "identity"}
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        elif validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        if partial is not None:
            offset, kept = partial
            headers["Range"] = f"bytes={offset}-"
            headers["If-Range"] = str(kept.etag) if _strong(kept.etag) else str(kept.last_modified)
        try:
            with client.stream("GET", self.url, headers=headers) as response:
                return self._receive(response, validators, partial)
        except httpx.HTTPError as exc:
            raise _unreachable(self.url, exc) from None

    def _receive(
        self, response: httpx.Response, validators: Validators, partial: tuple[int, Validators] | None
    ) -> Fetched:
        status = response.status_code
        if status == 304:
            self._forget_partial()
            return Fetched(not_modified=True, validators=_merge(validators, _validators_of(response)))
        if status == 416 and partial is not None:
            self._forget_partial()  # the part held no longer fits the file: start again
            raise _Interrupted(0, None, "the server refused the range asked", None)
        if status not in (200, 206):
            raise FetchFailed(f"{self.url} answered {status} {response.reason_phrase}; expected the export (200)")
        current = _validators_of(response)
        offset = 0
        if status == 206:
            offset, total = _content_range(response, self.url)
            if partial is None or offset != partial[0]:
                raise FetchFailed(f"{self.url} sent bytes from {offset} when asked for {partial and partial[0]}")
            current = partial[1] if not (current.etag or current.last_modified) else current
        else:
            total = _length(response)
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind in ("text/html", "application/xhtml+xml"):
            raise FetchFailed(
                f"{self.url} answered 200 with an HTML page ({kind}), not the JSON export; "
                "the source may be down for maintenance or behind a login"
            )
        self._remember(current)
        done = offset
        with self.part.open("r+b" if offset else "wb") as out:
            out.seek(offset)
            out.truncate()
            try:
                for chunk in response.iter_bytes():  # as received: a cut loses no byte held back
                    out.write(chunk)
                    done += len(chunk)
                    self.received += len(chunk)
                    if self.progress is not None:
                        self.progress("download", done, total)
            except httpx.HTTPError as exc:
                out.flush()
                resume = current if (_strong(current.etag) or current.last_modified) and _ranges(response) else None
                raise _Interrupted(done, total, _why(exc), resume) from None
        if total is not None and done != total:
            self._forget_partial()
            raise FetchFailed(
                f"received {done:,} bytes but the server announced {total:,} (Content-Length): the download is "
                "incomplete or the server misreports its size"
            )
        try:
            _check_start(self.part)
        except FetchFailed:
            self._forget_partial()
            raise
        with contextlib.suppress(OSError):
            self.meta.unlink()
        return Fetched(
            not_modified=False, validators=current, path=self.part, temporary=True, size=done, resumed_from=offset
        )

    def _remember(self, current: Validators) -> None:
        """Write the validators the part is received under, so a later run may resume it."""
        data = {"url": self.url, "etag": current.etag, "last_modified": current.last_modified}
        tmp = self.meta.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, self.meta)

    def _forget_partial(self) -> None:
        for path in (self.part, self.meta):
            with contextlib.suppress(OSError):
                path.unlink()


class _Interrupted(Exception):
    def __init__(self, offset: int, total: int | None, why: str, resume: Validators | None) -> None:
        super().__init__(why)
        self.offset = offset
        self.total = total
        self.why = why
        self.resume = resume


def _strong(etag: str | None) -> bool:
    return bool(etag) and not str(etag).startswith("W/")


def _ranges(response: httpx.Response) -> bool:
    """Whether the server said it serves byte ranges (or already did)."""
    return response.status_code == 206 or "bytes" in response.headers.get("accept-ranges", "").lower()


def _validators_of(response: httpx.Response) -> Validators:
    return Validators(etag=response.headers.get("etag"), last_modified=response.headers.get("last-modified"))


def _merge(old: Validators, new: Validators) -> Validators:
    return Validators(etag=new.etag or old.etag, last_modified=new.last_modified or old.last_modified)


def _length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length")
    return int(value) if value is not None and value.strip().isdigit() else None


def _content_range(response: httpx.Response, url: str) -> tuple[int, int | None]:
    found = re.match(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", response.headers.get("content-range", ""))
    if found is None:
        raise FetchFailed(f"{url} answered 206 without a valid Content-Range header")
    total = found.group(3)
    return int(found.group(1)), int(total) if total != "*" else None


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


def _of(total: int | None) -> str:
    return f"{total:,}" if total is not None else "an unknown number of"


def _why(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


def _unreachable(url: str, exc: httpx.HTTPError) -> FetchFailed:
    """The error of a request that got no answer: unreachable (connect) or failed (anything else)."""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        why = _why(exc)
        lowered = why.lower()
        if "refused" in lowered:
            why = "connection refused"
        elif "name or service not known" in lowered or "nodename" in lowered or "name resolution" in lowered:
            why = "unknown host (DNS)"
        elif isinstance(exc, httpx.ConnectTimeout):
            why = "timed out connecting"
        return SourceUnreachable(f"cannot reach {_host(url)} ({why}); offline or the source is down")
    return FetchFailed(f"the request to {_host(url)} failed ({_why(exc)})")


__all__ = ["FetchFailed", "Fetched", "SourceUnreachable", "Validators", "fetch", "is_local", "part_name"]
