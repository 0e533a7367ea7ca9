"""The guideline filters that read a dictation's layout: symptoms the conclusions leave out, family
history lists, statistics-only codes, one tobacco code (pipeline.code.rules.guideline_filters)."""

from __future__ import annotations

from pipeline.code.rules.guideline_filters import FilterContext, apply_filters, family_history_bears
from pipeline.code.types import CM, CodeProposal, Evidence, Reason, ReasonKind


def code(c: str, start: int, kind: ReasonKind = ReasonKind.INDEX_MATCH, score: float = 0.9) -> CodeProposal:
    return CodeProposal(CM, c, c, score, [Evidence(start, start + 5, "words")], (Reason(kind, (), "why"),))


def shown_codes(ranked: list[CodeProposal], ctx: FilterContext) -> list[str]:
    return [p.code for p in apply_filters(ranked, ctx)[0]]


def test_a_symptom_outside_the_conclusions_is_an_alternative_when_the_physician_states_diagnoses():
    ranked = [code("J20.9", 100), code("R42", 10), code("R05.9", 100), code("R10.9", 20)]
    ctx = FilterContext("outpatient", rule_codes=frozenset(c.code for c in ranked), concluded=frozenset({100}))
    shown, moved = apply_filters(ranked, ctx)
    assert [p.code for p in shown] == ["J20.9"]  # R05.9 is integral to J20.9, R42 and R10.9 are history-only
    assert any("does not carry into the assessment" in p.rationale for p in moved if p.code == "R42")
    # no stated diagnoses (a note cut off before its impression): the symptoms are what there is
    assert shown_codes([code("R42", 10), code("R10.9", 20)], FilterContext("outpatient")) == ["R42", "R10.9"]


def test_a_finding_read_as_a_symptom_counts_as_one_and_a_stated_symptom_stays():
    ranked = [code("J18.9", 100), code("M79.603", 10), code("R07.9", 30)]
    ctx = FilterContext(
        "inpatient",
        rule_codes=frozenset(p.code for p in ranked),
        stated={"R07.9": "the physician states it"},
        concluded=frozenset({100}),
        symptoms=frozenset({10}),
    )
    assert shown_codes(ranked, ctx) == ["J18.9", "R07.9"]


def test_family_history_codes_are_alternatives_unless_they_bear_on_the_encounter():
    ranked = [code("J20.9", 100), code("Z80.0", 50, ReasonKind.FAMILY_HISTORY)]
    ctx = FilterContext("outpatient", concluded=frozenset({100}))
    assert shown_codes(ranked, ctx) == ["J20.9"]
    bears = FilterContext("outpatient", concluded=frozenset({100}), family_history_bears=True)
    assert shown_codes(ranked, bears) == ["J20.9", "Z80.0"]
    assert family_history_bears("Because of her family history, she was referred for a screening colonoscopy.")
    assert family_history_bears("High risk given a strong family history of breast cancer.")
    assert not family_history_bears("FAMILY HISTORY: Mother had diabetes. PLAN: Follow up in a week.")


def test_statistics_only_codes_are_alternatives_in_a_dictation_not_in_a_case_report():
    ranked = [code("I10", 100), code("L98.9", 10, ReasonKind.DOCUMENT_MODEL), code("N39.0", 20, ReasonKind.CODED_CASES)]
    rule = frozenset({"I10"})
    assert shown_codes(ranked, FilterContext("inpatient", rule_codes=rule, dictation=True)) == ["I10"]
    assert shown_codes(ranked, FilterContext("inpatient", rule_codes=rule)) == ["I10", "L98.9", "N39.0"]


def test_one_tobacco_code_current_use_and_the_named_product_first():
    ranked = [code("F17.210", 10), code("F17.200", 60), code("Z87.891", 30)]
    shown, moved = apply_filters(ranked, FilterContext("inpatient", rule_codes=frozenset(p.code for p in ranked)))
    assert [p.code for p in shown] == ["F17.210"]
    why = {p.code: p.rationale for p in moved}
    assert "Excludes1 with F17.210" in why["Z87.891"] and "names the product" in why["F17.200"]


def said(c: str, start: int, words: str, kind: ReasonKind = ReasonKind.INDEX_MATCH, title: str | None = None) -> CodeProposal:
    from pipeline.code.lookup.codeset import get_codeset

    title = title or get_codeset().cm_description(c) or c
    return CodeProposal(CM, c, title, 0.9, [Evidence(start, start + len(words), words)], (Reason(kind, (), "why"),))


def test_a_bare_mention_yields_to_the_same_condition_documented_with_more_detail():
    ranked = [said("H26.9", 300, "cataract"), said("H25.11", 20, "cataract"), said("I48.91", 400, "atrial fibrillation")]
    ranked += [said("I48.20", 500, "atrial fibrillation"), said("J40", 600, "Bronchitis"), said("J20.9", 700, "Acute bronchitis")]
    ctx = FilterContext("inpatient", rule_codes=frozenset(p.code for p in ranked))
    shown, moved = apply_filters(ranked, ctx)
    assert [p.code for p in shown] == ["H25.11", "I48.20", "J20.9"]
    assert "more detail: H25.11" in next(p.rationale for p in moved if p.code == "H26.9")
    # another condition whose word begins alike is no more detail ("tachycardia" is not "tachypnea")
    other = [said("R00.0", 10, "tachycardia"), said("R06.82", 50, "tachypnea")]
    assert shown_codes(other, FilterContext("inpatient", rule_codes=frozenset({"R00.0", "R06.82"}))) == ["R00.0", "R06.82"]
    # the detail must be the documentation's (a code the guideline pass wrote), not the statistics'
    assert shown_codes(ranked[:2], FilterContext("inpatient", rule_codes=frozenset({"H26.9"}))) == ["H26.9", "H25.11"]


def test_a_code_read_only_from_the_review_of_systems_is_an_alternative():
    ranked = [said("I10", 100, "Hypertension"), said("I49.9", 500, "Arrhythmia"), said("R11.0", 520, "Nausea")]
    ctx = FilterContext("outpatient", rule_codes=frozenset(p.code for p in ranked), review_of_systems=frozenset({500, 520}))
    shown, moved = apply_filters(ranked, ctx)
    assert [p.code for p in shown] == ["I10"]
    assert all("review of systems" in p.rationale for p in moved)


def test_one_substance_is_coded_at_its_highest_level_of_use():
    ranked = [
        said("F19.10", 10, "Substance abuse"),
        said("F19.20", 50, "substance dependence"),
        said("F10.90", 90, "alcohol use"),
    ]
    assert shown_codes(ranked, FilterContext("outpatient", rule_codes=frozenset(p.code for p in ranked))) == ["F19.20", "F10.90"]


def test_pain_of_no_site_is_not_reported_next_to_a_diagnosis_in_a_dictation():
    ranked = [said("S93.401A", 10, "ankle sprain"), said("R52", 80, "pain")]
    rule = frozenset(p.code for p in ranked)
    assert shown_codes(ranked, FilterContext("outpatient", rule_codes=rule, dictation=True)) == ["S93.401A"]
    assert shown_codes(ranked, FilterContext("outpatient", rule_codes=rule)) == [
        "S93.401A",
        "R52",
    ]  # a case report: the model's call
    assert shown_codes(ranked[1:], FilterContext("outpatient", rule_codes=rule, dictation=True)) == ["R52"]


def test_catch_all_codes_of_no_kind_or_site_yield_to_a_diagnosis_in_a_dictation_even_when_stated():
    ranked = [
        said("L03.031", 10, "cellulitis of the right toes"),
        said("B99.9", 60, "infection"),
        said("L98.9", 90, "skin lesion"),
        said("R52", 120, "pain"),
    ]
    rule = frozenset(p.code for p in ranked)
    stated = {"B99.9": "assessment", "R52": "assessment"}
    ctx = FilterContext("outpatient", rule_codes=rule, stated=stated, dictation=True)
    shown, moved = apply_filters(ranked, ctx)
    assert [p.code for p in shown] == ["L03.031"]
    assert all("I.B.4-5" in p.rationale for p in moved)
    # alone, the catch-all is what the note gives: it stays
    assert shown_codes(ranked[1:2], FilterContext("outpatient", rule_codes=rule, stated=stated, dictation=True)) == ["B99.9"]


def test_the_index_code_of_a_bare_word_yields_to_the_code_that_says_it_with_more():
    ranked = [said("K40.90", 20, "Right inguinal hernia"), said("K46.9", 300, "hernia")]
    rule = frozenset(p.code for p in ranked)
    shown, moved = apply_filters(ranked, FilterContext("inpatient", rule_codes=rule))
    assert [p.code for p in shown] == ["K40.90"] and "more detail: K40.90" in moved[0].rationale
    # a code only the statistics gave for the word is not the bare word's Index code: it stays
    assert shown_codes(ranked, FilterContext("inpatient", rule_codes=frozenset({"K40.90"}))) == ["K40.90", "K46.9"]


def test_a_malignancy_history_yields_to_a_current_malignancy_of_its_site():
    ranked = [
        said("C50.911", 10, "right breast cancer"),
        said("Z85.3", 100, "breast cancer"),
        said("Z85.42", 200, "uterine cancer"),
    ]
    ctx = FilterContext("outpatient", rule_codes=frozenset(p.code for p in ranked))
    shown, moved = apply_filters(ranked, ctx)
    assert [p.code for p in shown] == ["C50.911", "Z85.42"]
    assert "current (C50.911)" in moved[0].rationale
    # a tumour of no stated site may be the same malignancy: "history of lung cancer ... tumor occluding the lobe"
    ranked = [said("D49.9", 10, "tumor"), said("Z85.118", 100, "lung cancer")]
    assert shown_codes(ranked, FilterContext("inpatient", rule_codes=frozenset({"D49.9", "Z85.118"}))) == ["D49.9"]


def test_a_neoplasm_of_unspecified_behaviour_yields_to_the_behaviour_documented_for_its_site():
    ranked = [said("D49.6", 10, "tumors"), said("C79.31", 40, "Brain tumors"), said("D49.2", 90, "bone tumor")]
    ctx = FilterContext("inpatient", rule_codes=frozenset(p.code for p in ranked))
    shown, moved = apply_filters(ranked, ctx)
    assert [p.code for p in shown] == ["C79.31", "D49.2"]  # the bone's tumor has no behaviour documented
    assert "behaviour is documented (C79.31" in moved[0].rationale


def test_an_external_cause_stands_beside_an_injury_or_poisoning():
    fall = [said("I50.9", 10, "congestive heart failure"), said("W19.XXXA", 80, "fell"), said("Y92.009", 90, "at home")]
    rule = frozenset(p.code for p in fall)
    shown, moved = apply_filters(fall, FilterContext("outpatient", rule_codes=rule, required=rule))
    assert [p.code for p in shown] == ["I50.9"]
    assert all("Guidelines I.C.20" in p.rationale for p in moved)
    injured = [*fall, said("S52.502A", 100, "left distal radius fracture")]
    rule = frozenset(p.code for p in injured)
    assert shown_codes(injured, FilterContext("outpatient", rule_codes=rule)) == ["I50.9", "W19.XXXA", "Y92.009", "S52.502A"]
    # a complication of care explains a condition of any chapter
    care = [said("I89.0", 10, "lymphedema"), said("Y84.2", 40, "radiation")]
    assert shown_codes(care, FilterContext("outpatient", rule_codes=frozenset({"I89.0", "Y84.2"}))) == ["I89.0", "Y84.2"]


def test_an_organism_the_diagnosis_code_names_is_not_coded_apart():
    ranked = [said("J21.0", 20, "Bronchiolitis"), said("B34.8", 35, "respiratory syncytial virus")]
    ctx = FilterContext("inpatient", rule_codes=frozenset(p.code for p in ranked), stated={"J21.0": "stated", "B34.8": "stated"})
    shown, moved = apply_filters(ranked, ctx)
    assert [p.code for p in shown] == ["J21.0"] and "part of J21.0" in moved[0].rationale
    # an organism no diagnosis code names stays: "urinary tract infection ... E. coli" is N39.0 and B96.20
    uti = [said("N39.0", 20, "urinary tract infection"), said("B96.20", 60, "E. coli")]
    assert shown_codes(uti, FilterContext("inpatient", rule_codes=frozenset({"N39.0", "B96.20"}))) == ["N39.0", "B96.20"]
