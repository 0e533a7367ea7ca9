"""Extraction of tobacco statements (mrt_tobacco), injuries told by their verb (mrt_injury_statements),
injury nouns, external causes (mrt_external_causes), list-shaped negation and headings that are no
findings, through the real pipeline."""

from __future__ import annotations

import pytest

from pipeline.extract.pipeline import extract


@pytest.fixture(scope="module")
def found():
    def run(text: str) -> dict[str, object]:
        return {e.text: e for e in extract(text)}

    return run


def test_tobacco_statements_are_findings_with_their_negation(found):
    ents = found("SOCIAL HISTORY: Smoker. She smokes a pack a day. Denies tobacco use. Nonsmoker husband.")
    assert {"Smoker", "smokes", "tobacco use"} <= set(ents)
    assert ents["tobacco use"].negated and not ents["smokes"].negated
    assert not any("onsmoker" in t for t in ents)
    assert "smoking cessation" not in found("PLAN: Counseled on smoking cessation.")


def test_external_cause_phrases_are_marked_only_where_an_injury_is_told(found):
    ents = found("She slipped on ice on her driveway while walking her dog and fell onto her left hand.")
    assert {"slipped on ice", "on her driveway", "walking her dog"} <= set(ents)
    assert "walking" not in found("He has difficulty walking. Gait is slow.")
    # the sentence that sets the scene of the injury told next, on the same line
    told = found("He was playing basketball today in gym.  Two hours ago someone stepped on his ankle and twisted it.")
    assert "basketball" in told
    assert "basketball" not in found("He used to enjoy basketball.\nHe twisted his ankle at home.")
    assert "running" not in found("He has been running a fever. He fell at home and hurt his wrist.")


def test_a_denial_covers_a_whole_review_of_systems_list(found):
    ents = found(
        "He specifically denies chest pain, palpitations, arrhythmia, high cholesterol, pulmonary embolism, "
        "venous insufficiency, thrombophlebitis, asthma, shortness of breath, COPD, emphysema, sleep apnea, "
        "diabetes, osteoarthritis, rheumatoid arthritis, but has hemorrhoids."
    )
    assert ents["diabetes"].negated and ents["rheumatoid arthritis"].negated and ents["COPD"].negated
    assert not ents["hemorrhoids"].negated  # "but" ends the denial
    # a short denial does not run into the next sentence's list
    ents = found("Patient denies fever. He has diabetes, hypertension, asthma, COPD and gout.")
    assert ents["fever"].negated and not ents["diabetes"].negated and not ents["gout"].negated


def test_a_template_minus_sign_negates_and_a_plus_sign_ends_it(found):
    ents = found("REVIEW OF SYSTEMS: (-) constitutional symptoms, such as fever, headache, nausea. (+) cough.")
    assert ents["fever"].negated and ents["nausea"].negated and not ents["cough"].negated


def test_headings_and_words_that_are_never_findings_alone_are_not_findings(found):
    ents = found("IMPRESSION:\n1. Pneumonia.\nHe may return in May. FAMILY HISTORY: Mother had diabetes.")
    assert "Pneumonia" in ents
    assert not {"IMPRESSION", "may", "May", "FAMILY HISTORY"} & set(ents)


def test_social_circumstances_are_findings_in_the_index_words(found):
    ents = found("SOCIAL HISTORY: He lives alone and has been unemployed since 2005. History of exposure to asbestos.")
    assert ents["lives alone"].query_text == "living alone" and ents["unemployed"].query_text == "unemployment"
    assert ents["exposure to asbestos"].label == "PROBLEM"  # not the chemical "asbestos"
    assert not any("alone" in t for t in found("She does not live alone."))


def test_code_status_and_fall_risk_are_findings_in_the_index_words(found):
    ents = found("ALLERGIES: NO KNOWN DRUG ALLERGIES. CODE STATUS: Do not resuscitate, palliative care orders in place.")
    assert ents["Do not resuscitate"].query_text == "status do not resuscitate"
    assert ents["Do not resuscitate"].section == "code_status"  # its own heading, not the allergy list
    assert found("Atrial fibrillation, not anticoagulated due to fall risk.")["fall risk"].query_text == "at risk for falling"


def test_a_heading_run_into_its_list_is_still_a_heading(found):
    # typed notes: "ALLERGIES,1.  PENICILLIN." and "(Patient is a smoker.),MEDICATIONS:"
    ents = found("HPI: Knee pain.\nALLERGIES,1.  PENICILLIN.\n2.  SULFA.\nIMPRESSION,1.  Osteoarthritis of the left knee.")
    assert ents["PENICILLIN"].section == "allergies" and ents["SULFA"].section == "allergies"
    assert any(e.section == "impression" and "steoarthritis" in t for t, e in ents.items())
    ents = found("REVIEW OF SYSTEMS: Some morning cough. (Patient is a smoker.),MEDICATIONS: None.")
    assert "smoker" in ents


def test_a_trigger_in_parentheses_speaks_of_what_they_hold(found):
    ents = found("The left eardrum (not the surgical ear) has a definite infection with a bulging drum.")
    assert not ents["infection"].negated
    assert found("No fever (and no chills).")["chills"].negated


def test_a_result_still_pending_is_uncertain(found):
    ents = found("Wet prep shows clue cells. Chlamydia and gonorrhea are pending at this time.")
    assert ents["Chlamydia"].uncertain and ents["gonorrhea"].uncertain


def test_an_injury_told_by_its_verb_is_a_finding_in_the_index_words(found):
    ents = found("Someone stepped on his ankle and he twisted his right ankle playing basketball. He denies hurting his back.")
    assert ents["twisted his right ankle"].query_text == "injury of right ankle"
    assert ents["hurting his back"].negated
    assert found("She broke her left wrist.")["broke her left wrist"].query_text == "fracture of left wrist"
    assert not any("hurt" in t for t in found("It hurts to move the ankle."))


def test_injury_nouns_the_index_codes_only_by_site_are_findings(found):
    ents = found("A 2 cm laceration over the chin and abrasions of the forehead. The lacerations were sutured.")
    assert {"laceration", "lacerations"} <= set(ents) and any(t.startswith("abrasions") for t in ents), set(ents)


def test_findings_in_the_words_a_dictation_uses_for_the_index_terms(found):
    ents = found("He has frequent nosebleeds. CT shows kidney stones. A pulmonary nodule. Reactive airway disease.")
    assert {"nosebleeds", "kidney stones", "pulmonary nodule", "Reactive airway disease"} <= set(ents), set(ents)
