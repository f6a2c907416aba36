"""The ranking (matching/ranking.py): fusion, floors, signals, filters and order, pinned on small cases."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from app.core.config import Settings
from matching import TfidfMatcher
from matching.ranking import (
    PROBA_FLOOR,
    THEME_FLOOR,
    Corpus,
    NeedFacts,
    Preferences,
    ProviderFacts,
    ProviderFilters,
    Ranker,
    ThemeSpace,
    Weights,
    fuse,
)
from matching.texts import provider_text

TORTURE, WOMEN, CHILD = "Torture", "Women", "Children"
REGIONS = {"KEN": "africa", "MEX": "latin_america_caribbean"}
REGION_NAMES = {"africa": "Africa", "latin_america_caribbean": "Latin America and the Caribbean"}


class KeywordTagger:
    """A stand-in tagger: a theme's probability is 0.9 when one of its words is in the text, else 0.1."""

    classes_ = [CHILD, TORTURE, WOMEN]
    words = {TORTURE: ("torture", "detention"), WOMEN: ("women", "girls"), CHILD: ("child", "birth")}

    def proba_matrix(self, texts: Sequence[str]) -> np.ndarray:
        return np.array(
            [[0.9 if any(w in t.lower() for w in self.words[c]) else 0.1 for c in self.classes_] for t in texts]
        )


def corpus(docs: dict[str, str], facts: dict[str, ProviderFacts] | None = None, tagger: object = None) -> Corpus:
    ids = sorted(docs)
    facts = facts or {i: ProviderFacts(i) for i in ids}
    vectors = ThemeSpace(tagger).vectors([docs[i] for i in ids], [facts[i].themes for i in ids], by_sentence=True)  # type: ignore[arg-type]
    return Corpus(
        TfidfMatcher().fit([docs[i] for i in ids], ids=ids),
        facts,
        dict(zip(ids, vectors, strict=True)) if vectors else {},
    )


def test_fuse_is_the_weighted_mean_of_the_parts_that_apply() -> None:
    assert fuse([(0.2, 0.45), (0.8, 0.55)]) == pytest.approx((0.2 * 0.45 + 0.8 * 0.55) / 1.0)
    assert fuse([(1.0, 0.45), (0.0, 0.55), (1.0, 0.08)]) == pytest.approx((0.45 + 0.08) / 1.08)
    assert fuse([]) == 0.0
    assert fuse([(2.0, 1.0)]) == 1.0  # clipped to [0, 1]


def test_default_weights_are_the_services_defaults() -> None:
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert Weights() == Weights(
        s.MATCH_WEIGHT_TEXT,
        s.MATCH_WEIGHT_THEME,
        s.MATCH_WEIGHT_LANGUAGE,
        s.MATCH_WEIGHT_PRESENCE,
        s.MATCH_WEIGHT_MODALITY,
        s.MATCH_WEIGHT_HISTORY,
    )


def test_text_only_score_is_the_text_cosine_times_its_share() -> None:
    providers = corpus({"apt": "Prevention of torture in prisons", "edu": "Girls education"})
    ranked = Ranker().rank_providers(providers, "torture in prisons", Preferences())
    assert [r.id for r in ranked] == ["apt"]  # the other shares no word, and without a tagger no theme
    text = ranked[0].signals["text"].value
    assert list(ranked[0].signals) == ["text", "theme"]
    assert ranked[0].score == pytest.approx(text * 0.45 / (0.45 + 0.55))
    assert ranked[0].summary.startswith("shares: ")


def test_declared_themes_bridge_without_a_tagger() -> None:
    facts = {"a": ProviderFacts("a", themes=(TORTURE, WOMEN)), "b": ProviderFacts("b", themes=(CHILD,))}
    providers = corpus({"a": "alpha", "b": "beta"}, facts)
    ranked = Ranker().rank_providers(providers, "gamma", Preferences(themes=(TORTURE,)))
    assert [r.id for r in ranked] == ["a"]
    assert ranked[0].signals["theme"].value == pytest.approx(1 / np.sqrt(2))  # cosine of {T} and {T, W}
    assert ranked[0].themes == (TORTURE,)
    assert ranked[0].summary == f"shares: {TORTURE}"


def test_tagger_themes_bridge_texts_that_share_no_word() -> None:
    providers = corpus(
        {"monitor": "Visits places of detention.", "shelter": "Shelters for women."}, tagger=KeywordTagger()
    )
    ranker = Ranker(themes=ThemeSpace(KeywordTagger()))
    ranked = ranker.rank_providers(providers, "Ratify the convention against torture", Preferences())
    assert [r.id for r in ranked] == ["monitor", "shelter"]
    assert ranked[0].signals["text"].value == 0.0
    assert ranked[0].themes == (TORTURE,)
    # no floor: the faint 0.1s count, so the shelter is a little similar too, far behind
    assert ranked[0].signals["theme"].value > 0.95 > 0.3 > ranked[1].signals["theme"].value > THEME_FLOOR
    assert PROBA_FLOOR == 0.0 and THEME_FLOOR == 0.15


def test_profiles_average_their_clauses_and_queries_take_the_maximum_of_their_parts() -> None:
    space = ThemeSpace(KeywordTagger(), whole_share=0.0)
    text = "Torture in detention. Rights of women and girls."
    [whole] = space.vectors([text], [[]])  # type: ignore[misc]
    [pooled] = space.vectors([text], [[]], by_sentence=True)  # type: ignore[misc]
    assert whole.tolist() == [0.1, 0.9, 0.9]  # a query is tagged whole
    # a profile: (0.9 + 0.1) / 2 per sentence theme, child 0.1, then divided by the largest (0.5)
    assert pooled.round(6).tolist() == [0.2, 1.0, 1.0]
    # by default the reading of the whole profile has a share of 0.2: [0.1, 0.9, 0.9] / 0.9 beside the clauses
    [mixed] = ThemeSpace(KeywordTagger()).vectors([text], [[]], by_sentence=True)  # type: ignore[misc]
    assert mixed.round(6).tolist() == [round(0.8 * 0.2 + 0.2 * (0.1 / 0.9), 6), 1.0, 1.0]
    need = space.vector("title", [], parts=["Stop torture in prisons.", "Protect the girls.", "Register births."])
    assert need is not None and need.tolist() == [0.9, 0.9, 0.9]  # each recommendation's theme counts fully
    clauses = "It visits places of detention; it also runs shelters for women and girls."
    [by_clause] = space.vectors([clauses], [[]], by_sentence=True)  # type: ignore[misc]
    assert by_clause.round(6).tolist() == [0.2, 1.0, 1.0]  # one sentence, two clauses, two lines of work
    residual = ThemeSpace(KeywordTagger(), residual=frozenset({CHILD}))
    assert residual.vectors(["Register every birth"], [[]])[0].tolist() == [0.0, 0.1, 0.1]  # type: ignore[index]
    [declared] = space.vectors(["anything"], [[WOMEN]])  # type: ignore[misc]
    assert declared.tolist() == [0.0, 0.0, 1.0]
    assert ThemeSpace().vectors(["x"], [[]]) is None


def test_signals_presence_language_modality_history() -> None:
    facts = {
        "here": ProviderFacts("here", countries=frozenset({"KEN"}), languages=frozenset({"en"})),
        "region": ProviderFacts("region", regions=frozenset({"africa"}), modalities=frozenset({"training"})),
        "world": ProviderFacts("world", regions=frozenset({"global"})),
        "none": ProviderFacts("none", regions=frozenset({"eastern_europe"})),
    }
    providers = corpus({k: "torture prevention" for k in facts}, facts)
    names = {"en": "English", "fr": "French"}
    ranker = Ranker(regions=REGIONS, language_name=names.__getitem__, region_name=REGION_NAMES.__getitem__)
    prefs = Preferences(state="KEN", languages=frozenset({"en", "fr"}), modalities=frozenset({"training", "funding"}))
    history = {"world": (True, False), "none": (False, True)}
    ranked = {r.id: r for r in ranker.rank_providers(providers, "torture", prefs, history=history)}
    presence = {k: (r.signals["presence"].value, r.signals["presence"].detail) for k, r in ranked.items()}
    assert presence == {
        "here": (1.0, "works in KEN"),
        "region": (0.6, "works in the region (Africa)"),
        "world": (0.3, "works worldwide"),
        "none": (0.0, "no presence recorded in the State or its region"),
    }
    assert ranked["here"].signals["language"].detail == "works in English"
    assert ranked["region"].signals["language"].value == 0.0
    assert ranked["region"].signals["modality"].value == 0.5
    assert ranked["region"].signals["modality"].detail == "offers training"
    assert (ranked["world"].signals["history"].value, ranked["none"].signals["history"].value) == (1.0, 0.5)
    assert ranked["here"].signals["history"].detail == "no cooperation recorded"
    assert list(ranked["here"].signals) == ["text", "theme", "language", "presence", "modality", "history"]
    # the same text everywhere: the signals decide the order
    assert [r.id for r in ranker.rank_providers(providers, "torture", prefs, history=history)][0] == "here"


def test_hard_filters_order_ties_limit_and_min_score() -> None:
    facts = {
        "b": ProviderFacts("b", kind="ngo", regions=frozenset({"africa"})),
        "a": ProviderFacts("a", kind="ngo", regions=frozenset({"global"})),
        "c": ProviderFacts("c", kind="un_entity", countries=frozenset({"MEX"})),
    }
    providers = corpus({k: "torture prevention" for k in facts}, facts)
    ranker = Ranker(regions=REGIONS)
    assert [r.id for r in ranker.rank_providers(providers, "torture", Preferences())] == ["a", "b", "c"]  # ties by id
    by_kind = ranker.rank_providers(
        providers, "torture", Preferences(), filters=ProviderFilters(kinds=frozenset({"ngo"}))
    )
    assert [r.id for r in by_kind] == ["a", "b"]
    in_kenya = ranker.rank_providers(
        providers, "torture", Preferences(), filters=ProviderFilters(countries=frozenset({"KEN"}))
    )
    assert [r.id for r in in_kenya] == ["a", "b"]  # worldwide, or Kenya's region
    assert len(ranker.rank_providers(providers, "torture", Preferences(), limit=1)) == 1
    assert ranker.rank_providers(providers, "torture", Preferences(), min_score=0.99) == []


def test_needs_for_a_provider_skip_closed_and_invisible_needs() -> None:
    facts = {
        "open": NeedFacts("open", state="KEN"),
        "closed": NeedFacts("closed", state="KEN", status="closed"),
        "hidden": NeedFacts("hidden", state="KEN"),
    }
    needs = Corpus(
        TfidfMatcher().fit(["torture in detention"] * 3, ids=list(facts)),
        facts,
    )
    provider = ProviderFacts("p", regions=frozenset({"africa"}))
    ranker = Ranker(regions=REGIONS, region_name=REGION_NAMES.__getitem__)
    ranked = ranker.rank_needs(needs, "torture", provider, visible=["open", "closed"])
    assert [r.id for r in ranked] == ["open"]
    assert ranked[0].signals["presence"].detail == "works in the region (Africa)"


def test_provider_text_is_what_the_engine_reads() -> None:
    assert provider_text("APT", "APT", "Prevents torture.", [TORTURE, WOMEN]) == (
        f"APT\nAPT\nPrevents torture.\n{TORTURE}. {WOMEN}"
    )
    assert provider_text("Lab", None, "Trains judges.", []) == "Lab\nTrains judges."


def test_prototypes_read_profiles_in_their_own_words_and_lend_words_to_queries() -> None:
    from matching.prototypes import ThemePrototypes

    prototypes = ThemePrototypes(
        {TORTURE: "Ill-treatment in places of deprivation of liberty.", WOMEN: "Gender equality and shelters."},
        KeywordTagger.classes_,
    )
    space = ThemeSpace(KeywordTagger(), prototypes)
    # no keyword of the stand-in tagger: only the prototype tells this profile is about torture
    [plain] = ThemeSpace(KeywordTagger()).vectors(
        ["We monitor places of deprivation of liberty."], [[]], by_sentence=True
    )  # type: ignore[misc]
    [read] = space.vectors(["We monitor places of deprivation of liberty."], [[]], by_sentence=True)  # type: ignore[misc]
    assert plain.tolist() == [1.0, 1.0, 1.0]
    assert read[1] == pytest.approx(1.0) and read[0] == pytest.approx(0.7) and read[2] == pytest.approx(0.7)
    providers = corpus(
        {"npm": "We monitor places of deprivation of liberty.", "edu": "Schools."}, tagger=KeywordTagger()
    )
    ranked = Ranker(themes=space).rank_providers(providers, "Ratify the convention against torture", Preferences())
    top = ranked[0]
    assert top.id == "npm" and top.signals["text"].value > 0  # the query borrowed its theme's words...
    assert top.terms == ()  # ... which count in the score but are not named as shared words
    assert space.expand("Ratify CAT", space.vector("Ratify CAT", []), ()) == "Ratify CAT"  # nothing over 0.3
    declared = space.vector("x", [TORTURE])
    assert space.expand("x", declared, [TORTURE]) == "x"  # declared themes are in the text already


def test_excluded_candidates_are_never_ranked_and_the_others_keep_their_scores() -> None:
    providers = corpus({"apt": "Prevention of torture in prisons", "icrc": "Detention visits and torture prevention"})
    needs = Corpus(
        TfidfMatcher().fit(["torture in prisons", "torture in detention"], ids=["n1", "n2"]),
        {"n1": NeedFacts("n1", "MEX"), "n2": NeedFacts("n2", "MEX")},
    )
    ranker = Ranker()
    every = {r.id: r.score for r in ranker.rank_providers(providers, "torture in prisons", Preferences())}
    kept = ranker.rank_providers(providers, "torture in prisons", Preferences(), exclude=frozenset({"apt"}))
    assert set(every) == {"apt", "icrc"} and [r.id for r in kept] == ["icrc"]
    assert kept[0].score == every["icrc"]
    ranked = ranker.rank_needs(needs, "torture", ProviderFacts("apt"), visible=["n1", "n2"], exclude=frozenset({"n1"}))
    assert [r.id for r in ranked] == ["n2"]
