"""Choosing recommendations in a form: browse one State's by theme, words and page, keeping every tick.

The need form and the activity form share it. The form carries its whole state in
the page (no JavaScript, nothing kept on the server between requests): every chosen
recommendation is a ticked checkbox, either in the list being browsed or in the
"also chosen" list of those from other themes and pages, so browsing another theme
or page (a POST of the same form) keeps every tick.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import Session
from starlette.datastructures import FormData

from app.core.errors import UnprocessableEntity
from app.core.pagination import PageParams
from app.models.recommendation import FacetCount, Recommendation
from app.reference.vocab import MAX_RECOMMENDATIONS
from app.services import overview as overview_service
from app.services import recommendations as recommendation_service
from app.services.recommendations import RecommendationFilters
from app.web.forms import FieldError, first, from_problem, int_or
from app.web.templating import Pager

PICK_PAGE = 50  # recommendations offered per page of a form
FIELD = "recommendation_ids"


@dataclass
class PickState:
    """What a form has chosen and what it is browsing: one State's recommendations, a theme, words, a page."""

    state: str | None = None
    theme: str | None = None  # the theme being browsed ("" or None: all themes)
    q: str = ""
    offset: int = 0
    chosen: list[str] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)

    def read_pick(self, form: FormData) -> None:
        """Read the browsing fields and the ticked boxes of a posted form."""
        self.state = first(form, "state").upper() or None
        self.theme = first(form, "theme") or None
        self.q = first(form, "q")
        self.offset = int_or(first(form, "offset"), 0)
        self.chosen = list(dict.fromkeys(str(v) for v in form.getlist(FIELD) if str(v).strip()))

    def browsing(self, form: FormData) -> bool:
        """True when the form was sent to browse (a page button or "Show"), not to save."""
        goto = first(form, "goto")
        if goto.isdigit():
            self.offset = int(goto)
            return True
        if first(form, "action") == "browse":
            self.offset = 0
            return True
        return False


@dataclass(frozen=True, slots=True)
class Picked:
    """What the form shows: the themes to browse, one page of recommendations, the chosen ones elsewhere."""

    themes: Sequence[FacetCount]
    rows: list[Recommendation]
    chosen: list[Recommendation]
    also_chosen: list[Recommendation]
    pager: Pager


def browse(session: Session, pick: PickState, *, responses: Sequence[str] = ()) -> Picked:
    """The page of the State's recommendations (of these responses) the form browses, and the chosen ones.

    Chosen ids that do not exist are dropped; a search with no usable word becomes an error on `q`.
    """
    assert pick.state is not None
    base = RecommendationFilters(state=(pick.state,), response=tuple(responses))
    facets = recommendation_service.get_facets(session, filters=base)
    browse_filters = RecommendationFilters(
        state=(pick.state,),
        response=tuple(responses),
        theme=(pick.theme,) if pick.theme else (),
        q=pick.q or None,
    )
    try:
        rows, total = recommendation_service.list_recommendations(
            session, filters=browse_filters, page=PageParams(limit=PICK_PAGE, offset=pick.offset)
        )
    except UnprocessableEntity as exc:
        rows, total = [], 0
        pick.errors.append(FieldError("q", from_problem(exc)[0].message))
    chosen = overview_service.get_recommendations_by_ids(session, ids=pick.chosen)
    pick.chosen = [r.id for r in chosen]
    shown = {r.id for r in rows}
    return Picked(
        themes=facets.themes,
        rows=rows,
        chosen=chosen,
        also_chosen=[r for r in chosen if r.id not in shown],
        pager=Pager(total=total, limit=PICK_PAGE, offset=pick.offset),
    )


def listed_ids(session: Session, pick: PickState, *, responses: Sequence[str] = ()) -> list[str]:
    """Every recommendation the form's browse lists (all its pages, at most a need's worth): for "select all"."""
    assert pick.state is not None
    filters = RecommendationFilters(
        state=(pick.state,),
        response=tuple(responses),
        theme=(pick.theme,) if pick.theme else (),
        q=pick.q or None,
    )
    try:
        rows, _ = recommendation_service.list_recommendations(
            session, filters=filters, page=PageParams(limit=MAX_RECOMMENDATIONS, offset=0)
        )
    except UnprocessableEntity:
        return []
    return [r.id for r in rows]


def nothing_to_browse() -> Picked:
    """What a form shows before it knows the State."""
    return Picked(themes=[], rows=[], chosen=[], also_chosen=[], pager=Pager(total=0, limit=PICK_PAGE, offset=0))
