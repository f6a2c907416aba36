"""Form errors in plain sentences, each tied to its field, and the small parsers the forms share.

The services raise pydantic `ValidationError`s and 422/409 problems whose messages
are written for API clients ("List should have at least 1 item after validation,
not 0", `body.recommendation_ids.2`). A form shows each as a sentence a person can
act on ("Tick at least one recommendation the need is about."), beside its field
and in a summary at the top that links to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from app.core.errors import Conflict, PreconditionFailed, Problem, UnprocessableEntity
from app.reference.languages import language_code
from app.web.i18n import N_, gettext

FORM = "form"  # errors about the whole form, not one field
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class FieldError:
    """One mistake: the form field it concerns and a sentence saying what to do."""

    field: str
    message: str


def _sentence(text: str) -> str:
    text = " ".join(text.split()).removeprefix("Value error, ").strip()
    if not text:
        return ""
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _field_of(loc: Iterable[int | str]) -> str:
    parts = [str(p) for p in loc if not isinstance(p, int) and p not in ("body", "query")]
    return parts[0] if parts else FORM


# Sentences for pydantic's error types; `name` is the field's label ("The title"), `lower` the same in lower case.
_KIND_MESSAGES = {
    "missing": N_("Fill in %(lower)s."),
    "string_too_short": N_("%(name)s must be at least %(min)s characters long."),
    "string_too_long": N_("%(name)s must be at most %(max)s characters long."),
    "too_short": N_("Choose at least %(min)s for %(lower)s."),
    "too_long": N_("Choose at most %(max)s for %(lower)s."),
    "literal_error": N_("Choose one of the values offered for %(lower)s."),
}


def from_validation(
    exc: ValidationError, *, labels: Mapping[str, str], messages: Mapping[tuple[str, str], str] | None = None
) -> list[FieldError]:
    """Plain sentences for a pydantic error: `messages[(field, type)]` when given, else one built from `labels`."""
    errors: list[FieldError] = []
    for err in exc.errors():
        field = _field_of(err["loc"])
        kind = str(err["type"])
        ctx = err.get("ctx") or {}
        name = gettext(labels[field]) if field in labels else field.replace("_", " ")
        custom = (messages or {}).get((field, kind))
        values = {"name": name, "lower": name.lower(), "min": ctx.get("min_length"), "max": ctx.get("max_length")}
        if custom:
            text = gettext(custom) % values
        elif kind in _KIND_MESSAGES:
            text = gettext(_KIND_MESSAGES[kind]) % values
        else:
            text = _sentence(f"{name}: {err['msg'].removeprefix('Value error, ')}")
        errors.append(FieldError(field, text))
    return _unique(errors)


def from_problem(exc: Problem) -> list[FieldError]:
    """The errors of a 422/409 problem, each on its field (`body.recommendation_ids.2` -> recommendation_ids)."""
    listed = exc.extensions.get("errors") or []
    errors = [
        FieldError(_field_of(str(e.get("field", "")).split(".")), _sentence(str(e.get("detail", ""))))
        for e in listed
        if isinstance(e, dict)
    ]
    return _unique(errors) or [FieldError(FORM, _sentence(exc.detail))]


def validate_all(
    model: type[M],
    payload: Mapping[str, object],
    found: list[FieldError],
    *,
    labels: Mapping[str, str],
    messages: Mapping[tuple[str, str], str] | None = None,
) -> tuple[M | None, list[FieldError]]:
    """Every mistake of a form in one go: those `found` while reading it, then the model's own.

    The model is validated even when reading the form found mistakes, so a person sees an unknown
    language, a missing choice and a text too long after one submit, as the API's 422 lists them.
    Answers the model (None while any mistake remains) and the mistakes.
    """
    try:
        data = model.model_validate(payload)
    except ValidationError as exc:
        named = {e.field for e in found}  # a field read wrong already says what to do: one sentence is enough
        more = [e for e in from_validation(exc, labels=labels, messages=messages) if e.field not in named]
        return None, _unique(found + more)
    return (None if found else data), _unique(found)


def problem_errors(check: Callable[[], object]) -> list[FieldError]:
    """The mistakes a service check (a 422 or 409 problem) finds, or none: `check` is called for them only."""
    try:
        check()
    except (UnprocessableEntity, Conflict) as exc:
        return from_problem(exc)
    return []


def _unique(errors: list[FieldError]) -> list[FieldError]:
    return list(dict.fromkeys(errors))


def parse_languages(
    ticked: Iterable[str], others: str, *, field: str = "languages"
) -> tuple[list[str], list[FieldError]]:
    """ISO 639-1 codes from ticked boxes and a free list of names or codes ("Swahili, pt")."""
    codes: list[str] = []
    errors: list[FieldError] = []
    for value in ticked:
        code = language_code(value)
        if code is None:
            errors.append(FieldError(field, gettext("%(value)s is not a language we know.") % {"value": repr(value)}))
        elif code not in codes:
            codes.append(code)
    for item in others.replace(";", ",").split(","):
        if not item.strip():
            continue
        code = language_code(item)
        if code is None:
            errors.append(
                FieldError(
                    "other_languages",
                    gettext("We do not know the language “%(name)s”: write its English name, for example Swahili.")
                    % {"name": item.strip()},
                )
            )
        elif code not in codes:
            codes.append(code)
    return codes, errors


def split_lines(text: str) -> list[str]:
    """Non-empty lines, trimmed (one theme per line)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def blank(value: str | None) -> str | None:
    """A query parameter from an HTML form, where an empty field means "no filter"."""
    return (value or "").strip() or None


def first(form: Mapping[str, object], name: str) -> str:
    """A form field as trimmed text ("" when absent)."""
    return str(form.get(name) or "").strip()


def int_or(value: str, default: int, *, upper: int = 1_000_000) -> int:
    """A non-negative integer from a form field, or `default` when it is not one."""
    value = value.strip()
    return int(value) if value.isdigit() and int(value) <= upper else default


def confirm_themes(form: FormData, model: type[M], save: Callable[[M, frozenset[int]], object], again: str) -> None:
    """Save the ticked themes of a confirmation form with ``save(update, expected_versions)``.

    A 422 in words when they cannot be saved; a 409 saying ``again`` when someone saved meanwhile.
    """
    version = str(form.get("version") or "")
    try:
        update = model(themes=[str(t) for t in form.getlist("themes")])
    except ValidationError as exc:
        raise UnprocessableEntity(gettext("These themes cannot be saved: at most 30, each a short name.")) from exc
    try:
        save(update, frozenset({int(version) if version.isdigit() else 0}))
    except PreconditionFailed as exc:
        raise Conflict(gettext("Someone changed this meanwhile. %(again)s") % {"again": again}) from exc
