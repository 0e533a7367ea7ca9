"""Coding edits on real FY2026 codes: tabular conventions, MCE lists, Guidelines."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT, SHARED_DATA

from pipeline.code.edits.checks import CodeLine, check_codes, edits_for_proposals, with_edits
from pipeline.code.edits.tabular import mce_lists, parse_refs
from pipeline.code.types import CM, PCS, CodeProposal, Reason, ReasonKind

ICD10 = SHARED_DATA / "icd10"


def dx(*codes: str) -> list[CodeLine]:
    """CM lines in this order, the first one principal."""
    return [CodeLine(CM, c, principal=i == 0) for i, c in enumerate(codes)]


def kinds(findings) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in findings:
        out.setdefault(f.kind, []).append(f)
    return out


# ---------------------------------------------------------------- a clean record
def test_a_correctly_coded_record_has_no_findings():
    # sample 01's expected codes: type 2 diabetes, hypertension, hyperlipidemia, oral hypoglycemics
    assert check_codes(dx("E11.9", "I10", "E78.5", "Z79.84"), sex="M", age=58) == []
    assert check_codes(dx("K80.00") + [CodeLine(PCS, "0FT44ZZ", principal=True)], setting="inpatient", sex="F", age=47) == []


# ---------------------------------------------------------------- validity
def test_header_code_needs_more_characters_and_billable_code_passes():
    f = kinds(check_codes(dx("R10")))
    assert [x.severity for x in f["not_billable"]] == ["error"]
    assert f["not_billable"][0].codes == ("R10",) and "needs more characters" in f["not_billable"][0].message
    assert "R10.9" not in str(check_codes(dx("R10.9")))
    assert check_codes(dx("R10.9")) == []
    # a 7th character is "more characters" too
    assert kinds(check_codes(dx("S72.001")))["not_billable"][0].codes == ("S72.001",)
    assert check_codes(dx("S72.001A")) == []


def test_codes_are_normalised_and_invalid_ones_named():
    assert check_codes(dx("e119")) == []
    f = kinds(
        check_codes(
            dx("E11.9", "X99.99")
            + [CodeLine(PCS, "0dtj4zz"), CodeLine(PCS, "0DTJ"), CodeLine(PCS, "0DTJ4ZY"), CodeLine(PCS, "E11.9")]
        )
    )
    assert [x.codes for x in f["invalid_code"]] == [("X99.99",)]
    assert [x.codes for x in f["pcs_invalid"]] == [("0DTJ",), ("0DTJ4ZY",), ("E119",)]
    assert "7 characters" in f["pcs_invalid"][0].message
    assert "ICD-10-CM code" in f["pcs_invalid"][2].message


def test_categories_named_like_their_block_are_valid_codes():
    # B20 (HIV disease) and Z66 (DNR) are billable categories whose block has the same name
    assert check_codes(dx("B20", "Z66")) == []


def test_duplicate_code_is_an_error():
    f = kinds(check_codes(dx("I10", "E78.5", "i10")))
    assert [(x.severity, x.codes) for x in f["duplicate"]] == [("error", ("I10",))]


# ---------------------------------------------------------------- principal
def test_principal_diagnosis_exactly_one():
    lines = [CodeLine(CM, "E11.9"), CodeLine(CM, "I10")]
    assert [x.kind for x in check_codes(lines)] == ["no_principal"]
    f = check_codes([CodeLine(CM, "E11.9", True), CodeLine(CM, "I10", True)])
    assert [(x.kind, x.severity, x.codes) for x in f] == [("multiple_principal", "error", ("E11.9", "I10"))]
    assert check_codes([CodeLine(PCS, "0DTJ4ZZ")]) == []  # no CM line: no principal diagnosis needed


# ---------------------------------------------------------------- Excludes1
@pytest.mark.parametrize("order", [("E11.9", "E10.9"), ("E10.9", "E11.9")])
def test_excludes1_type1_and_type2_diabetes_both_directions(order):
    f = check_codes(dx(*order))
    assert [(x.severity, x.kind, x.codes) for x in f] == [("error", "excludes1", order)]
    assert "E10" in f[0].message and "E11" in f[0].message


def test_excludes1_notes_on_category_block_and_ranges():
    # I10's own note names a range list (O10-O11, O13-O16)
    assert [x.kind for x in check_codes(dx("I10", "O10.02"))] == ["excludes1"]
    # the block I10-I1A excludes neonatal hypertension
    f = check_codes(dx("I10", "P29.2"))
    assert [x.kind for x in f] == ["excludes1"] and "I10-I1A" in f[0].message
    # G63 excludes "diabetes mellitus (E08-E13 with .42)": E11.42 yes, E11.9 no
    assert "excludes1" in kinds(check_codes(dx("E11.42", "G63")))
    assert "excludes1" not in kinds(check_codes(dx("E85.4", "G63", "E11.9")))


def test_excludes2_pair_is_allowed():
    assert check_codes(dx("J44.9", "J47.9")) == []  # J44 Excludes2 bronchiectasis (J47.-)


def test_note_references_parse_codes_ranges_and_suffixes():
    refs = parse_refs("diabetes mellitus (E08-E13 with .42)")
    assert len(refs) == 1 and refs[0].covers("E1142") and refs[0].covers("E0842") and not refs[0].covers("E119")
    refs = parse_refs("endocrine disease, except diabetes (E00-E07, E15-E16, E20-E34)")
    assert [r.covers("E063") for r in refs] == [True, False, False] and not any(r.covers("E11") for r in refs)
    assert parse_refs("type 1 diabetes mellitus (E10.-)")[0].covers("E1065")
    assert parse_refs("polyneuropathy (in):") == ()


# ---------------------------------------------------------------- etiology / manifestation
def test_manifestation_code_as_principal_is_an_error():
    f = kinds(check_codes(dx("G63", "E85.4")))
    assert [(x.severity, x.codes) for x in f["manifestation_principal"]] == [("error", ("G63",))]
    assert "code_first_order" in f  # and its etiology is listed after it
    assert check_codes(dx("E85.4", "G63")) == []


def test_manifestation_without_its_etiology_is_a_warning():
    f = kinds(check_codes(dx("E11.9", "G63")))  # diabetes is not G63's etiology (E11.42 is the combination code)
    assert [(x.severity, x.codes) for x in f["code_first"]] == [("warning", ("G63",))]
    assert "E85" in f["code_first"][0].message
    assert check_codes(dx("N18.4", "D63.1")) == []  # anemia in CKD after its CKD


def test_code_first_sequence_for_ckd_after_diabetic_ckd():
    f = check_codes(dx("N18.4", "E11.22"))  # N18: code first diabetic CKD (E11.22)
    assert [(x.kind, x.severity, x.codes) for x in f] == [("code_first_order", "warning", ("N18.4", "E11.22"))]
    assert check_codes(dx("E11.22", "N18.4")) == []
    # T36-T50: "code first, for adverse effects, the nature of the adverse effect" (aspirin gastritis K29.-)
    assert [x.kind for x in check_codes(dx("T39.015A", "K29.00"))] == ["code_first_order", "unacceptable_principal"]
    assert check_codes(dx("T39.011A", "K29.00")) == []  # a poisoning is sequenced first


def test_use_additional_code_only_when_checkable():
    f = check_codes(dx("E11.22"))
    assert [(x.kind, x.severity, x.codes) for x in f] == [("use_additional", "warning", ("E11.22",))]
    assert "N18" in f[0].message
    assert [x.codes for x in check_codes(dx("O80"))] == [("O80",)]  # outcome of delivery Z37.0
    assert check_codes(dx("O80", "Z37.0")) == []
    # E11's "use additional code to identify control using insulin / oral drugs" is not required (diet control)
    assert check_codes(dx("E11.9")) == []


# ---------------------------------------------------------------- MCE sex and age
def test_sex_conflicts():
    f = check_codes(dx("N40.0"), sex="female")
    assert [(x.kind, x.severity, x.codes) for x in f] == [("sex_conflict", "error", ("N40.0",))]
    assert "male-only" in f[0].message
    assert check_codes(dx("N40.0"), sex="M") == []
    assert check_codes(dx("N40.0")) == []  # sex unknown: no sex edit
    male = kinds(check_codes(dx("O80", "Z37.0"), sex="male"))
    assert sorted(x.codes[0] for x in male["sex_conflict"]) == ["O80", "Z37.0"]
    assert "sex_conflict" in kinds(check_codes(dx("O90.41"), sex="M"))  # chapter 15 code missing from the v41.1 list
    f = check_codes([CodeLine(PCS, "0VT04ZZ")], sex="F")  # resection of prostate
    assert [(x.kind, x.codes) for x in f] == [("sex_conflict", ("0VT04ZZ",))]


def test_age_conflicts_follow_the_mce_lists():
    newborn = check_codes(dx("Z00.110"), age=5)
    assert [(x.kind, x.severity) for x in newborn] == [("age_conflict", "error")]
    assert check_codes(dx("Z00.110"), age=0) == []
    adult = check_codes(dx("F01.50"), age=12)  # vascular dementia: adult list, a warning
    assert [(x.kind, x.severity) for x in adult] == [("age_conflict", "warning")]
    assert check_codes(dx("F01.50"), age=70) == []
    maternity = kinds(check_codes(dx("O80", "Z37.0"), sex="F", age=70))
    assert {x.codes[0] for x in maternity["age_conflict"]} == {"O80", "Z37.0"}
    assert all(x.severity == "error" for x in maternity["age_conflict"])


# ---------------------------------------------------------------- principal diagnosis lists
def test_unacceptable_principal_depends_on_setting():
    inpatient = check_codes(dx("Z87.891"), setting="inpatient")
    assert [(x.kind, x.severity) for x in inpatient] == [("unacceptable_principal", "error")]
    outpatient = check_codes(dx("Z87.891"))
    assert [(x.kind, x.severity) for x in outpatient] == [("unacceptable_principal", "warning")]
    assert check_codes(dx("J18.9", "Z87.891"), setting="inpatient") == []  # fine as a secondary diagnosis
    # a screening encounter is the right first-listed code outpatient, not an inpatient principal
    assert check_codes(dx("Z12.11")) == []
    assert [x.kind for x in check_codes(dx("Z12.11"), setting="inpatient")] == ["unacceptable_principal"]


def test_first_listed_only_z_codes():
    f = check_codes(dx("I10", "Z00.00"))
    assert [(x.kind, x.severity, x.codes) for x in f] == [("first_listed_only", "warning", ("Z00.00",))]
    assert check_codes(dx("Z00.00", "I10")) == []
    assert check_codes(dx("I10", "Z00.6")) == []  # "Except: Z00.6" in Guidelines I.C.21.c.15


def test_other_principal_rules():
    assert [x.kind for x in check_codes(dx("W19.XXXA", "S72.001A"))] == ["external_cause_principal"]
    assert [(x.kind, x.severity) for x in check_codes(dx("E11.9"), setting="inpatient")] == [
        ("questionable_admission", "warning")
    ]
    assert [x.kind for x in check_codes(dx("Z51.89"), setting="inpatient")] == ["requires_secondary"]
    assert check_codes(dx("Z51.89", "I10"), setting="inpatient") == []


# ---------------------------------------------------------------- data, speed, proposals
def test_mce_lists_loaded_with_their_ages():
    m = mce_lists()
    assert m.ages == {"age_newborn": (0, 0), "age_pediatric": (0, 17), "age_maternity": (9, 64), "age_adult": (15, 124)}
    assert len(m.codes[(CM, "unacceptable_principal")]) > 2500 and len(m.codes[(CM, "sex_female")]) > 3000
    assert m.has(PCS, "sex_male", "0VT04ZZ") and m.has(CM, "manifestation", "G63")


@pytest.mark.skipif(not (ICD10 / "mce").is_dir(), reason="shared/data/icd10 not present (only developers have it)")
def test_shipped_mce_file_is_what_the_script_builds(tmp_path: Path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_mce_data", ROOT / "scripts" / "build_mce_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build(ICD10, tmp_path / "mce_edits.tsv.gz")
    shipped = ROOT / "pipeline" / "code" / "data" / "mce_edits.tsv.gz"
    assert (tmp_path / "mce_edits.tsv.gz").read_bytes() == shipped.read_bytes()


def _proposal(code: str, system: str = CM) -> CodeProposal:
    return CodeProposal(system, code, "", 0.9, [], (Reason(ReasonKind.INDEX_MATCH, (code,), "test"),))


def test_proposal_edits_name_the_codes_they_involve():
    proposals = [_proposal("E11.9"), _proposal("E10.9"), _proposal("I10"), _proposal("0DTJ4ZZ", PCS)]
    findings = edits_for_proposals(proposals)
    assert [f.kind for f in findings] == ["excludes1"]  # no principal chosen yet: no principal edits
    marked = {p.code: p.edits for p in with_edits(proposals)}
    assert len(marked["E11.9"]) == len(marked["E10.9"]) == 1 and "Excludes1" in marked["E10.9"][0]
    assert marked["I10"] == [] and marked["0DTJ4ZZ"] == []
    # proposals are ranked, not sequenced: no "code first" order edit between I50.9 and I13.10
    assert check_codes(dx("I50.9", "I13.10", "N18.4"))[0].kind == "code_first_order"
    assert edits_for_proposals([_proposal("I50.9"), _proposal("I13.10"), _proposal("N18.4")]) == []


def test_a_symptom_next_to_the_diagnosis_it_is_part_of_is_an_error_and_never_principal():
    found = kinds(check_codes(dx("J18.9", "R50.9")))  # fever with pneumonia (Guidelines I.B.5)
    assert [f.codes for f in found["integral_symptom"]] == [("R50.9", "J18.9")]
    found = kinds(check_codes(dx("R50.9", "J18.9")))  # fever as principal of a pneumonia stay (II.A)
    assert [f.codes for f in found["symptom_principal"]] == [("R50.9", "J18.9")] and "integral_symptom" not in found
    assert "integral_symptom" not in kinds(check_codes(dx("J44.1", "R50.9")))  # fever is no part of COPD
    from pipeline.review.workflow import OVERRIDABLE

    assert "integral_symptom" in OVERRIDABLE and "symptom_principal" not in OVERRIDABLE


def test_an_unspecified_code_next_to_a_specified_one_of_its_category_is_an_error():
    for unspecified, specified in [("J44.9", "J44.1"), ("I50.9", "I50.23"), ("J18.9", "J18.1")]:
        found = kinds(check_codes(dx(specified, unspecified)))
        assert [f.codes for f in found["unspecified_with_specified"]] == [(unspecified, specified)], (unspecified, specified)
    # 'unspecified organism' in a specified code's title, a type without acuity, and another category: no finding
    assert "unspecified_with_specified" not in kinds(check_codes(dx("J18.1", "I50.20", "E11.9", "J44.1")))


def test_a_header_code_is_refused_at_entry_with_its_billable_codes():
    from pipeline.review.decisions import HeaderCode, normalize_code

    with pytest.raises(HeaderCode) as e:
        normalize_code(CM, "J44")
    assert [c for c, _ in e.value.choices] == ["J44.0", "J44.1", "J44.81", "J44.89", "J44.9"]
    assert "J44.1" in str(e.value)
    assert normalize_code(CM, "j441")[0] == "J44.1"
