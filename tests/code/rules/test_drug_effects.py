"""Adverse effects, poisonings and underdosing read from the note's statements about drugs, coded from
the shipped Table of Drugs and Chemicals (Guidelines I.C.19.e): no model."""

from __future__ import annotations

from pipeline.code.rules.drug_effects import DrugEffectKind, drug_effects, drug_rows
from pipeline.extract.types import Entity


def mentions(text: str, *spans: tuple[str, str, str | None]) -> list[Entity]:
    """Entities for the given (words, label, section) in ``text`` (first occurrence after the last)."""
    out, pos = [], 0
    for words, label, section in spans:
        start = text.index(words, pos)
        out.append(Entity(start, start + len(words), words, label, section=section))
        pos = start + len(words)
    return out


def codes(text: str, *spans) -> dict[str, str]:
    return {d.code: d.kind.value for d in drug_effects(mentions(text, *spans), text)}


def test_a_drug_induced_condition_is_the_adverse_effect_column():
    text = "ASSESSMENT: 1. Atrial fibrillation. 2. Coagulopathy, induced by Coumadin."
    assert codes(text, ("Atrial fibrillation", "PROBLEM", "assessment"), ("Coumadin", "MEDICATION", "assessment")) == {
        "T45.515A": "adverse_effect"
    }
    text = "HPI: She was switched to Augmentin, which caused loose stools. Steroid-induced hyperglycemia."
    found = codes(text, ("Augmentin", "MEDICATION", "hpi"), ("Steroid", "MEDICATION", "hpi"))
    assert found == {"T36.0X5A": "adverse_effect", "T38.0X5A": "adverse_effect"}


def test_an_overdose_is_a_poisoning_whose_intent_the_note_states():
    text = "HPI: She took 20 of her Ambien tablets in a suicide attempt."
    assert codes(text, ("Ambien", "MEDICATION", "hpi")) == {"T42.6X2A": "poisoning"}  # intentional self-harm
    text = "HPI: The child swallowed kerosene from the garage."  # no intent stated: accidental (I.C.19.e.5.b)
    assert codes(text, ("kerosene", "PROBLEM", "hpi")) == {"T52.0X1A": "poisoning"}


def test_underdosing_comes_with_its_noncompliance_code():
    text = "HPI: She took herself off of lithium two months ago."
    assert codes(text, ("lithium", "MEDICATION", "hpi")) == {"T43.596A": "underdosing", "Z91.128": "underdosing"}
    text = "HPI: They have misplaced the Cardizem."
    assert codes(text, ("Cardizem", "MEDICATION", "hpi")) == {"T46.1X6A": "underdosing", "Z91.138": "underdosing"}
    text = "HPI: He ran out of his blood pressure medications because he cannot afford them."
    found = codes(text, ("blood pressure medications", "MEDICATION", "hpi"))
    assert found == {"T46.5X6A": "underdosing", "Z91.141": "underdosing"}  # financial hardship


def test_lists_history_negation_and_advice_code_nothing():
    assert codes("ALLERGIES: Amoxicillin causes rash.", ("Amoxicillin", "MEDICATION", "allergies")) == {}
    assert (
        codes("PAST MEDICAL HISTORY: Rash due to Augmentin in 2010.", ("Augmentin", "MEDICATION", "past_medical_history")) == {}
    )
    assert codes("MEDICATIONS: Warfarin discontinued 10 days earlier.", ("Warfarin", "MEDICATION", "medications")) == {}
    assert codes("HPI: She denies any overdose of Tylenol.", ("Tylenol", "MEDICATION", "hpi")) == {}
    assert codes("PLAN: Advised not to stop taking her Coumadin.", ("Coumadin", "MEDICATION", "plan")) == {}
    assert (
        codes("PLAN: We will discontinue the lisinopril.", ("lisinopril", "MEDICATION", "plan")) == {}
    )  # the physician's decision


def test_a_table_word_counts_as_a_drug_only_where_extraction_found_one():
    # "Adrenal" and "Nasal" are rows of the Table of Drugs; only a brand or class of drug_names.tsv stands alone
    text = "HPI: Adrenalectomy due to an adrenal adenoma."
    assert codes(text, ("adrenal adenoma", "PROBLEM", "hpi")) == {}
    text = "HPI: Hyperglycemia secondary to steroids."
    assert codes(text) == {"T38.0X5A": "adverse_effect"}


def test_drugs_no_one_prescribes_have_no_adverse_effect():
    text = "HPI: Chest pain from cocaine."
    assert codes(text, ("cocaine", "MEDICATION", "hpi")) == {}
    text = "HPI: Heroin overdose."
    assert {k for k, v in codes(text, ("Heroin", "MEDICATION", "hpi")).items()} == {"T40.1X1A"}


def test_every_name_file_row_is_a_row_of_the_table():
    rows = drug_rows()  # raises on a drug_names.tsv target the Table does not have
    assert rows["ambien"][0] == "Zolpidem" and rows["lithium"][0] == "Lithium, salts"
    assert {d.kind for d in drug_effects([], "HPI: Rash secondary to Augmentin.")} == {DrugEffectKind.ADVERSE_EFFECT}
