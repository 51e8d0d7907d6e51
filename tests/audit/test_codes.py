from __future__ import annotations

from importlib import resources

import pytest

from backtriage.audit.codes import CODE_SYSTEMS, CodeList, load_code_lists, normalise_code
from backtriage.audit.layout import FHIR_SYSTEM_URIS, SYSTEMS_BY_TABLE
from backtriage.audit.spec import load_specs, period_for
from backtriage.errors import AuditInputError


def test_every_list_loads_with_source_and_verification_note() -> None:
    lists = load_code_lists()
    assert {"low_back_pain", "lumbar_imaging", "cancer", "trauma"} <= set(lists.lists)
    for code_list in lists.lists.values():
        assert code_list.source.strip() and code_list.verified.strip()
    assert lists.red_flags.flags


def test_the_layout_names_the_code_systems_of_the_lists() -> None:
    # FHIR codings become these names, and each table accepts some of them: a name the lists'
    # systems lack could never match, and a system without a URI could not come from FHIR.
    assert sorted(FHIR_SYSTEM_URIS.values()) == sorted(CODE_SYSTEMS)
    for systems in SYSTEMS_BY_TABLE.values():
        assert set(systems) <= set(CODE_SYSTEMS)


def test_specs_name_only_existing_lists() -> None:
    specs = load_specs(set(load_code_lists().lists))
    assert set(specs) == {"hedis", "cms166v7"}
    assert specs["hedis"].age.max == 75
    assert specs["cms166v7"].age.max == 49


def test_imaging_codes_are_the_lumbar_cpt_codes() -> None:
    codes = {c.code for c in load_code_lists().lists["lumbar_imaging"].codes}
    assert codes == {
        "72100",
        "72110",
        "72114",
        "72120",
        "72131",
        "72132",
        "72133",
        "72148",
        "72149",
        "72158",
    }


def test_normalise_code() -> None:
    assert normalise_code(" m54.50") == "M5450"


def test_unknown_keys_are_rejected() -> None:
    with pytest.raises(ValueError, match="extra"):
        CodeList.model_validate(
            {
                "schema_version": 1,
                "id": "x",
                "title": "x",
                "source": "s",
                "verified": "v",
                "codes": [{"system": "cpt", "code": "1", "display": "d"}],
                "surprise": 1,
            }
        )
    with pytest.raises(ValueError, match="exactly one"):
        CodeList.model_validate(
            {
                "schema_version": 1,
                "id": "x",
                "title": "x",
                "source": "s",
                "verified": "v",
                "codes": [{"system": "cpt", "display": "d"}],
            }
        )


def test_period_dates() -> None:
    specs = load_specs()
    hedis = period_for(specs["hedis"], 2024)
    assert (hedis.intake_start.isoformat(), hedis.intake_end.isoformat()) == (
        "2024-01-01",
        "2024-12-03",
    )
    cms = period_for(specs["cms166v7"], 2019)
    assert cms.intake_end.isoformat() == "2019-12-04"  # 337 days after Jan 1
    with pytest.raises(AuditInputError, match="--year"):
        period_for(specs["hedis"], 24)


def test_code_lists_are_package_data() -> None:
    folder = resources.files("backtriage.audit").joinpath("code_lists")
    assert any(p.name == "low_back_pain.yaml" for p in folder.iterdir())
