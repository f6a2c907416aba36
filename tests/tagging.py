"""A tiny theme tagger for tests: trained once per test process on literal texts."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from matching.schemes import MultiSchemeTagger
from matching.tagger import ThemeTagger

TORTURE = "Torture and other CID treatment"
WOMEN = "Women's rights"
TRAINING = [
    ("Ratify OPCAT", [TORTURE]),
    ("Ratify the OPCAT and designate a national preventive mechanism", [TORTURE]),
    ("Independent monitoring of places of deprivation of liberty", [TORTURE]),
    ("Monitoring bodies should visit places of deprivation of liberty unannounced", [TORTURE]),
    ("Criminalise domestic violence and marital rape", [WOMEN]),
    ("Adopt a law on violence against women and girls", [WOMEN]),
    ("Increase the participation of women in political life", [WOMEN]),
    ("Shelters for survivors of domestic violence", [WOMEN]),
] * 4


@cache
def _trained() -> MultiSchemeTagger:
    tagger = ThemeTagger(calibration_folds=0, n_jobs=1, char_ngram_range=None, min_df=1).fit(
        [t for t, _ in TRAINING], [labels for _, labels in TRAINING]
    )
    multi = MultiSchemeTagger()
    multi.taggers_, multi.skipped_ = {"upr_info_issues": tagger}, {}
    return multi


def write_tiny_tagger(artifact: Path) -> MultiSchemeTagger:
    """Save the tiny tagger (trained on first use) where the app looks for its artifact; return it as loaded
    from there, so no test shares an object another may have changed."""
    _trained().save(artifact)
    return MultiSchemeTagger.load(artifact)
