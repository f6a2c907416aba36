"""The service's ranking: the engine's `Ranker` with the settings' weights, the tagger's theme space
read with the example profiles, and the UN regional groups and language names of the explanations."""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from pathlib import Path

from app.core.config import Settings
from app.reference.languages import language_name
from app.reference.regions import region_label, regional_groups
from matching.crosslingual import LEXICON_FILE, CrossLingual, Lexicon, LexiconError, apertium_available
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


logger = logging.getLogger("app.matching")


def lexicon_path(settings: Settings) -> Path:
    """Where `upr-match train` writes the cross-language lexicon: beside the tagger."""
    return Path(settings.MODEL_DIR) / LEXICON_FILE


def load_reader(settings: Settings) -> tuple[CrossLingual | None, str]:
    """The cross-language reader (French and Spanish read in English) and a sentence saying what the
    service can read; None, and what is lost, when there is no lexicon (logged once per worker)."""
    path = lexicon_path(settings)
    if not path.exists():
        why = apertium_available() or f"no lexicon at {path}: run `upr-match train`"
        detail = f"French and Spanish texts are ranked as written, not read in English ({why})"
        logger.warning("cross-language matching unavailable: %s", detail)
        return None, detail
    try:
        lexicon = Lexicon.load(path)
    except LexiconError as exc:
        detail = f"French and Spanish texts are ranked as written, not read in English ({exc})"
        logger.error("cross-language matching unavailable: %s", detail)
        return None, detail
    counts = ", ".join(f"{language} {len(lexicon.words[language]):,} words" for language in lexicon.languages)
    logger.info("cross-language lexicon loaded: %s", counts)
    return CrossLingual(lexicon), f"French and Spanish texts read in English ({counts})"


def ranking_space(model: ProbaModel | None, reader: CrossLingual | None = None) -> ThemeSpace:
    """The service's theme space on the main scheme's tagger (``None``: declared themes only), with its
    example profiles and the cross-language ``reader``. Every reading of a profile or a query in the
    service goes through it."""
    if model is None:
        return service_space(None, reader=reader)
    return service_space(model, examples=_examples(tuple(model.classes_)), reader=reader)


def ranker_for(settings: Settings, model: ProbaModel | None, reader: CrossLingual | None = None) -> Ranker:
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
        themes=ranking_space(model, reader),
        regions=regional_groups(),
        language_name=language_name,
        region_name=region_label,
    )


__all__ = [
    "EXAMPLE_PROFILES",
    "MAIN_SCHEME",
    "ThemeSpace",
    "lexicon_path",
    "load_reader",
    "ranker_for",
    "ranking_space",
]
