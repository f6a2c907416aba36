"""Which affected persons an English text speaks of: the groups of OHCHR's controlled list, by their words.

A recommendation labelled by OHCHR carries its affected persons; most recommendations (UPR Info's) and
every free text do not, so both are read here the same way: a group is named when one of its words
(English, matched at a word start, any ending: "prosecutor" finds "prosecutors") is in the text. French
and Spanish texts are read in English first (:mod:`matching.crosslingual`), so the same words serve.

Examples
--------
>>> sorted(affected_in("Train prosecutors and judges to investigate torture of detainees"))
['Judges, lawyers & prosecutors', 'Persons deprived of their liberty & detainees']
>>> affected_in("Ratify the Optional Protocol")
frozenset()
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["AFFECTED_WORDS", "affected_in"]

#: Controlled group (as OHCHR names it) -> the word starts that name it in English.
AFFECTED_WORDS: Final[dict[str, tuple[str, ...]]] = {
    "Children": ("child", "infant", "minors", "birth registration"),
    "Girls": ("girl",),
    "Women": ("women", "woman", "gender-based", "gender based", "femicide", "feminicide", "maternal"),
    "Youth & juveniles": ("youth", "juvenile", "adolescent", "young people"),
    "Older persons": ("older person", "elderly", "older people"),
    "Persons with disabilities": ("disabilit", "disabled"),
    "Indigenous peoples": ("indigenous",),
    "Migrants": ("migrant", "migration"),
    "Domestic workers": ("domestic worker",),
    "Refugees & asylum seekers": ("refugee", "asylum"),
    "Internally displaced persons": ("displaced",),
    "Stateless persons": ("stateless",),
    "Minorities / racial, ethnic, linguistic, religious or descent-based groups": (
        "minorit",
        "ethnic",
        "racial",
        "afro-descend",
        "descent",
    ),
    "Roma, Gypsies, Sinti & Travellers": ("roma", "gypsies", "sinti", "traveller"),
    "Lesbian, gay, bisexual, transgender & intersex persons (LGBTI)": (
        "lgbt",
        "lesbian",
        "gay",
        "bisexual",
        "transgender",
        "intersex",
        "sexual orientation",
    ),
    "Persons deprived of their liberty & detainees": ("detainee", "prisoner", "detention", "prison", "deprived of"),
    "Judges, lawyers & prosecutors": ("judge", "lawyer", "prosecutor", "magistrate", "judiciary"),
    "Law enforcement / police & prison officials": ("police", "law enforcement", "prison staff", "prison official"),
    "Media": ("journalist", "media", "press"),
    "Civil society": ("civil society", "human rights defender", "non-governmental"),
    "Persons living in poverty": ("poverty", "poor"),
    "Persons living in rural areas": ("rural",),
    "Persons living with HIV/AIDS": ("hiv", "aids"),
    "Medical staff / health professionals": ("health worker", "health professional", "medical staff", "nurse"),
    "Educational staff & students": ("teacher", "student", "pupil"),
    "Disappeared persons": ("disappear",),
    "Public officials": ("public official", "civil servant"),
}

_PATTERNS: Final[dict[str, re.Pattern[str]]] = {
    group: re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")", re.IGNORECASE)
    for group, words in AFFECTED_WORDS.items()
}


def affected_in(text: str) -> frozenset[str]:
    """The controlled groups of affected persons an English text names."""
    return frozenset(group for group, pattern in _PATTERNS.items() if pattern.search(text))
