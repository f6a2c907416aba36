"""The service's ranking: the engine's `Ranker` with the settings' weights, the tagger's theme space
read with the example profiles, and the UN regional groups and language names of the explanations."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from app.core.config import Settings
from app.reference.languages import language_name
from app.reference.regions import region_label, regional_groups
from matching.examples import ProfileExamples, examples_from_profiles
from matching.ranking import Ranker, Weights
from matching.theme_space import ProbaModel, ThemeSpace, service_space

#: The tagger's scheme the ranking reads themes in (UPR Info's issues).
MAIN_SCHEME = "upr_info_issues"
#: The example profiles a new profile is read by (matching.examples): the demo profiles, each with its
#: themes, read as if registered with name and description only.
EXAMPLE_PROFILES = Path(__file__).resolve().parent.parent / "demo" / "providers.json"


@lru_cache(maxsize=4)
def _examples(classes: tuple[str, ...]) -> ProfileExamples:
    profiles = json.loads(EXAMPLE_PROFILES.read_text(encoding="utf-8"))
    return examples_from_profiles(profiles, classes)


def ranking_space(model: ProbaModel | None) -> ThemeSpace:
    """The service's theme space on the main scheme's tagger (``None``: declared themes only), with its
    example profiles. Every reading of a profile or a query in the service goes through it."""
    if model is None:
        return service_space(None)
    return service_space(model, examples=_examples(tuple(model.classes_)))


def ranker_for(settings: Settings, model: ProbaModel | None) -> Ranker:
    """The service's ranking: weights from the settings, the tagger's theme space, the UN regional groups."""
    weights = Weights(
        text=settings.MATCH_WEIGHT_TEXT,
        theme=settings.MATCH_WEIGHT_THEME,
        language=settings.MATCH_WEIGHT_LANGUAGE,
        presence=settings.MATCH_WEIGHT_PRESENCE,
        modality=settings.MATCH_WEIGHT_MODALITY,
        history=settings.MATCH_WEIGHT_HISTORY,
    )
    return Ranker(
        weights=weights,
        themes=ranking_space(model),
        regions=regional_groups(),
        language_name=language_name,
        region_name=region_label,
    )


__all__ = ["EXAMPLE_PROFILES", "MAIN_SCHEME", "ThemeSpace", "ranker_for", "ranking_space"]
