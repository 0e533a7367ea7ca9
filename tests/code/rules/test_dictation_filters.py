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
