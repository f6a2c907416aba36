"""Schemas of `POST /v1/recommendations/related`: a text and the recommendations it speaks to (not tables)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.models.match import MAX_MATCHES, EngineInfo, Explanation
from app.models.recommendation import RecommendationPublic, Response
from app.reference.vocab import Iso3

#: The longest text the endpoint reads (about a page); `GET` takes up to `MAX_GET_TEXT`.
MAX_RELATED_TEXT = 6_000
MAX_GET_TEXT = 500

SCORE_SCALE = (
    "0 to 1: the weighted mean of the text similarity (TF-IDF cosine, weight 0.45), the theme similarity "
    "(0.55) and, when the text names affected persons, whether the recommendation concerns them (0.08); "
    "the same scale as the match endpoints. Above 0.4 the text usually speaks to the recommendation directly."
)


class RelatedQuery(BaseModel):
    """A text in English, French or Spanish, and which recommendations to look in."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "text": "Train prosecutors to investigate complaints of torture in police custody.",
                    "state": "MEX",
                    "response": ["supported"],
                    "limit": 5,
                },
                {"text": "Former les juges aux droits des enfants en conflit avec la loi.", "cycle": 2},
            ]
        },
    )

    text: str = Field(min_length=1, max_length=MAX_RELATED_TEXT, description="The text, up to a page.")
    state: Iso3 | None = Field(default=None, description="Only the recommendations made to this State under review.")
    cycle: int | None = Field(default=None, ge=1, le=20, description="Only this UPR cycle.")
    session: int | None = Field(default=None, ge=1, le=200, description="Only this Working Group session.")
    response: list[Response] = Field(default_factory=list, max_length=3, description="Only these responses.")
    theme: str | None = Field(
        default=None, min_length=1, max_length=255, description="Only recommendations labelled with this theme."
    )
    limit: int = Field(default=10, ge=1, le=MAX_MATCHES)
    offset: int = Field(default=0, ge=0, le=1000)
    min_score: float = Field(default=0.0, ge=0, le=1, description="Leave out those scoring below this.")


class RelatedRecommendation(BaseModel):
    recommendation: RecommendationPublic
    score: float = Field(ge=0, le=1, description=SCORE_SCALE)
    reasons: list[str] = Field(
        description="Why, in sentences a person can read: shared themes, shared terms (in the text's language), "
        "the same affected persons."
    )
    shared_themes: list[str] = Field(description="The themes both share (the tagger's reading of the text).")
    shared_terms: list[str] = Field(
        description="The shared terms as the text wrote them (French words of a French text)."
    )
    affected_persons: list[str] = Field(description="The groups of affected persons both concern.")
    explanation: Explanation


class RelatedRecommendations(BaseModel):
    """The recommendations a text speaks to, best first."""

    items: list[RelatedRecommendation]
    total: int = Field(ge=0, description="How many recommendations score at least `min_score` (within the filters).")
    limit: int
    offset: int
    scale: str = Field(default=SCORE_SCALE, description="What the scores mean.")
    language: str = Field(description="The language the text was read in (`en`, `fr`, `es`, or another code).")
    engine: EngineInfo


class DraftFromText(BaseModel):
    """A need described in a State's own words, to find the supported recommendations it speaks to."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"state": "MEX", "text": "Train prosecutors to investigate torture complaints.", "limit": 10}]
        },
    )

    state: Iso3 = Field(description="The State filing the need.")
    text: str = Field(min_length=1, max_length=MAX_RELATED_TEXT, description="What help is needed, in words.")
    limit: int = Field(default=10, ge=1, le=MAX_MATCHES)


class NeedDraftFromText(BaseModel):
    """What `POST /v1/needs` needs besides the choice: the description, and the State's supported
    recommendations it speaks to, best first, none chosen (cite the ones that fit in `recommendation_ids`)."""

    state: str
    description: str
    recommendations: list[RelatedRecommendation]
    total: int = Field(ge=0, description="How many of the State's supported recommendations it speaks to.")
    scale: str = Field(default=SCORE_SCALE)
    language: str
