"""The reference files of the analytics: LDC/SIDS membership and the theme -> SDG links."""

from __future__ import annotations

import json

import pycountry
import pytest

from app.core.config import Settings
from app.services.analytics import reference

DATA = Settings(_env_file=None).UPR_DATA_DIR  # type: ignore[call-arg]


def test_ldc_and_sids_lists_have_their_published_counts_and_valid_codes() -> None:
    ldc, sids = reference.group_members("ldc"), reference.group_members("sids")
    # UN-OHRLLS: 44 LDCs after Sao Tome and Principe graduated in December 2024.
    assert len(ldc) == 44
    # 38 UN-member SIDS checked by name (the file says why the 39th of UN-OHRLLS's count is not listed).
    assert len(sids) == 38
    raw = json.loads(reference.GROUPS_FILE.read_text(encoding="utf-8"))
    for group in ("ldc", "sids"):
        members = raw[group]["members"]
        assert len(members) == len(set(members)), f"{group} lists a State twice"
        assert raw[group]["source"] and raw[group]["as_of"]
    for code in ldc | sids:
        assert pycountry.countries.get(alpha_3=code) is not None, code
    # Graduated countries are not LDCs any more; countries in both groups are in both.
    assert not {"BTN", "STP", "VUT", "WSM", "MDV", "CPV", "GNQ", "BWA"} & ldc
    assert {"HTI", "KIR", "TUV", "SLB", "TLS", "COM", "GNB"} <= ldc & sids
    assert {"SGP", "BHR", "MUS"} <= sids - ldc


def test_every_theme_links_to_real_sdgs_and_the_file_names_its_source() -> None:
    raw = json.loads(reference.THEME_SDG_FILE.read_text(encoding="utf-8"))
    assert "Danish Institute" in raw["source"] and raw["as_of"]
    for theme, sdgs in reference.theme_sdgs().items():
        assert all(1 <= s <= 17 for s in sdgs), theme
        assert len(sdgs) == len(set(sdgs)), theme
    assert set(raw["judgement"]) <= set(raw["themes"])
    assert reference.sdgs_of(["Torture and other CID treatment", "Women's rights"], [6]) == {5, 6, 16}
    assert "Right to water" in reference.themes_on_sdgs([6])


def test_every_upr_info_issue_of_the_shared_data_is_mapped() -> None:
    path = DATA / "recommendations.jsonl"
    if not path.is_file():
        pytest.skip(f"no shared data at {path}")
    issues: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if record.get("theme_scheme") == "upr_info_issues":
                issues.update(record.get("themes") or ())
    assert len(issues) == 54
    assert issues <= set(reference.theme_sdgs()), sorted(issues - set(reference.theme_sdgs()))
