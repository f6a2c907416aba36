"""Trained-model artifacts on disk: a joblib pickle and a JSON sidecar readable without unpickling.

``write_artifact(path, kind, state, metadata)`` writes ``path`` and ``path + ".json"``
(the metadata, the artifact's kind and format version, its SHA-256 and size), each
through a temporary file and an atomic rename. ``read_artifact(path, kind)`` checks the
sidecar (kind, format version, checksum) before unpickling. Pickles can run code when
loaded: load only artifacts you built.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import joblib

__all__ = ["FORMAT_VERSION", "IncompatibleArtifactError", "TaggerArtifactError", "read_artifact", "write_artifact"]

#: Bump whenever the pickled state layout changes; ``read_artifact`` refuses other versions.
FORMAT_VERSION = 1


class TaggerArtifactError(ValueError):
    """A tagger artifact is missing, unreadable, corrupted or not a tagger artifact."""


class IncompatibleArtifactError(TaggerArtifactError):
    """A tagger artifact was written in another ``FORMAT_VERSION``; retrain or use a matching release."""


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def write_artifact(path: Path, kind: str, state: Any, metadata: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    joblib.dump({"kind": kind, "format_version": FORMAT_VERSION, "state": state}, tmp)
    tmp.replace(path)
    metadata = {**metadata, "kind": kind, "format_version": FORMAT_VERSION}
    metadata["artifact_sha256"] = _sha256_file(path)
    metadata["artifact_bytes"] = path.stat().st_size
    sidecar_tmp = path.with_name(path.name + ".json.tmp")
    sidecar_tmp.write_text(json.dumps(metadata, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    sidecar_tmp.replace(_sidecar(path))
    return path


def _check_format(found: Any, where: Path) -> None:
    if found != FORMAT_VERSION:
        raise IncompatibleArtifactError(
            f"{where}: artifact format_version {found!r} is not supported by this code "
            f"(expects {FORMAT_VERSION}); retrain the tagger"
        )


def read_artifact(path: Path, kind: str) -> dict[str, Any]:
    if not path.is_file():
        raise TaggerArtifactError(f"{path}: no such artifact file")
    sidecar = _sidecar(path)
    if sidecar.is_file():
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise TaggerArtifactError(f"{sidecar}: unreadable metadata ({exc})") from exc
        if not isinstance(meta, dict) or meta.get("kind") != kind:
            raise TaggerArtifactError(f"{sidecar}: not a {kind} artifact")
        _check_format(meta.get("format_version"), sidecar)
        expected = meta.get("artifact_sha256")
        if expected and _sha256_file(path) != expected:
            raise TaggerArtifactError(f"{path}: checksum does not match {sidecar.name} (corrupted or replaced)")
    try:
        payload = joblib.load(path)
    except Exception as exc:  # joblib/pickle raise many types on garbage
        raise TaggerArtifactError(f"{path}: cannot read artifact ({type(exc).__name__}: {exc})") from exc
    if not isinstance(payload, dict) or payload.get("kind") != kind:
        raise TaggerArtifactError(f"{path}: not a {kind} artifact")
    _check_format(payload.get("format_version"), path)
    return payload
