"""The activity form's state: the two parties, the need it answers, what was done, the recommendations.

Either party records an activity (a provider for itself with a State, a State for
itself with a provider; an administrator names both). The recommendations are
chosen with `app.web.picker`, among all the State's recommendations whatever its
response: work on a noted recommendation is still cooperation worth recording.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from starlette.datastructures import FormData

from app.core.jsontypes import JsonObject
from app.web.forms import FieldError, first
from app.web.i18n import N_, gettext
from app.web.picker import PickState

TEXT_FIELDS = ("provider_id", "need_id", "title", "modality", "status", "start_date", "end_date", "funding_source")


@dataclass
class ActivityFormState(PickState):
    """Everything the activity form shows and sends back (dates as typed, so a mistake is shown as typed)."""

    provider_id: str = ""
    need_id: str = ""
    title: str = ""
    description: str = ""
    modality: str = ""
    status: str = "ongoing"
    start_date: str = ""
    end_date: str = ""
    funding_source: str = ""
    outcomes: str = ""

    @classmethod
    def from_form(cls, form: FormData) -> ActivityFormState:
        values = cls(
            description=str(form.get("description") or "").strip(),
            outcomes=str(form.get("outcomes") or "").strip(),
        )
        for name in TEXT_FIELDS:
            setattr(values, name, first(form, name))
        values.title = " ".join(values.title.split())
        values.read_pick(form)
        return values

    def payload(self) -> JsonObject:
        """The body `POST /v1/activities` would take; a date that is not one becomes an error on its field."""
        if not self.provider_id:
            self.errors.append(
                FieldError("provider_id", gettext("Choose the organisation that carries out the activity."))
            )
        return {
            "provider_id": self.provider_id or None,
            "state": self.state,
            "need_id": self.need_id or None,
            "recommendation_ids": self.chosen,
            "title": self.title,
            "description": self.description,
            "modality": self.modality or None,
            "status": self.status or None,
            "start_date": self._date("start_date"),
            "end_date": self._date("end_date"),
            "funding_source": self.funding_source or None,
            "outcomes": self.outcomes or None,
        }

    def _date(self, name: str) -> date | None:
        raw: str = getattr(self, name)
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            message = (
                N_("Write the start date as year-month-day, for example 2025-03-31.")
                if name == "start_date"
                else N_("Write the end date as year-month-day, for example 2025-03-31.")
            )
            self.errors.append(FieldError(name, gettext(message)))
            return None


LABELS: Mapping[str, str] = {
    "provider_id": N_("The provider"),
    "state": N_("The State"),
    "need_id": N_("The need"),
    "recommendation_ids": N_("Recommendations"),
    "title": N_("The title"),
    "description": N_("The description"),
    "modality": N_("Kind of help"),
    "status": N_("Status"),
    "start_date": N_("The start date"),
    "end_date": N_("The end date"),
    "funding_source": N_("Funding"),
    "outcomes": N_("Outcomes"),
}
MESSAGES: Mapping[tuple[str, str], str] = {
    ("title", "string_too_short"): N_("Give the activity a title of at least 3 characters."),
    ("title", "missing"): N_("Give the activity a title."),
    ("modality", "literal_error"): N_("Choose the kind of help from the list."),
    ("modality", "missing"): N_("Choose the kind of help from the list."),
    ("status", "literal_error"): N_("Choose the status from the list."),
    ("recommendation_ids", "too_long"): N_("An activity may cite at most 200 recommendations; untick some."),
}
# Sentences for the service's refusals that a form can still meet (the others cannot be sent from it).
PROBLEM_MESSAGES: Mapping[str, str] = {
    "end_date": N_("The end date is before the start date: correct one of them."),
}
