"""Status codes from the medication, allergy and social history lists (Z79, Z88, F17/Z87.891/Z77.22),
dependence on dialysis or home oxygen (Z99), weeks of gestation (Z3A) and social circumstances (Z55-Z65,
Z77, Z91.1), read from extraction's mentions: no model."""

from __future__ import annotations

from pipeline.code.rules.medications import StatusKind, status_codes
from pipeline.code.rules.tobacco import is_tobacco, tobacco_code
from pipeline.extract.types import Entity


def mentions(text: str, *spans: tuple[str, str, str | None], **flags) -> list[Entity]:
    """Entities for the given (words, label, section) in ``text`` (first occurrence after the last)."""
    out, pos = [], 0
    for words, label, section in spans:
        start = text.index(words, pos)
        out.append(Entity(start, start + len(words), words, label, section=section, **flags))
        pos = start + len(words)
    return out


def codes(text: str, *spans, **flags) -> dict[str, str]:
    return {s.code: s.kind.value for s in status_codes(mentions(text, *spans, **flags), text)}


def test_a_medication_list_gives_the_long_term_drug_therapy_codes_that_bear_on_care():
    text = "MEDICATIONS: Coumadin 5 mg daily, Lantus 20 units, metformin 500 mg, atorvastatin 40 mg, Plavix 75 mg."
    found = codes(
        text,
        ("Coumadin", "MEDICATION", "medications"),
        ("Lantus", "MEDICATION", "medications"),
        ("metformin", "MEDICATION", "medications"),
        ("atorvastatin", "MEDICATION", "medications"),
        ("Plavix", "MEDICATION", "medications"),
    )
    assert found == {"Z79.01": "long_term", "Z79.4": "long_term", "Z79.84": "long_term", "Z79.02": "long_term"}


def test_on_a_drug_in_the_history_is_long_term_use_and_a_drug_given_once_is_not():
    text = "History of atrial fibrillation, on Coumadin. In the emergency room she was given insulin."
    assert codes(text, ("Coumadin", "MEDICATION", "hpi"), ("insulin", "MEDICATION", "hpi")) == {"Z79.01": "long_term"}


def test_the_patients_therapy_with_a_drug_is_long_term_use():
    text = "She has attributed this to the Coumadin therapy. In the emergency room she was given insulin treatment."
    assert codes(text, ("Coumadin", "MEDICATION", "hpi")) == {"Z79.01": "long_term"}
    # a course of days stays none
    text = "She was started on prednisone therapy for 5 days."
    assert codes(text, ("prednisone", "MEDICATION", "hpi")) == {}


def test_a_medication_list_the_prose_introduces_is_a_medication_list():
    text = (
        "HOSPITAL COURSE: He was given Coumadin.  Discharged home with Synthroid 0.5 mg 1 tablet p.o. daily, "
        "Plavix 75 mg p.o. daily, folic acid 1 mg p.o. daily."
    )
    found = codes(text, ("Coumadin", "MEDICATION", "hospital_course"), ("Plavix", "MEDICATION", "hospital_course"))
    assert found == {"Z79.02": "long_term"}  # Coumadin given in hospital is no discharge medication
    text = (
        "PLAN: , The patient is discharged home to continue her previous home medications, which are:\n"
        "1.  Famotidine 20 mg daily.\n2.  Actos 45 mg a day.\nASSESSMENT:\n1.  Diabetes.\n2.  Actos."
    )
    found = status_codes(mentions(text, ("Actos", "MEDICATION", "plan"), ("Actos", "MEDICATION", "assessment")), text)
    assert [(s.code, [m.section for m in s.mentions]) for s in found] == [("Z79.84", ["plan"])]


def test_a_drug_the_note_says_was_stopped_is_no_long_term_therapy():
    text = "MEDICATIONS: Diltiazem 30 mg tid. Warfarin discontinued approximately 10 days earlier. Plavix 75 mg."
    assert codes(text, ("Warfarin", "MEDICATION", "medications"), ("Plavix", "MEDICATION", "medications")) == {
        "Z79.02": "long_term"
    }
    text = "MEDICATIONS: Coumadin, held for the bleed."  # a pause: the patient stays on it
    assert codes(text, ("Coumadin", "MEDICATION", "medications")) == {"Z79.01": "long_term"}


def test_aspirin_contraceptives_systemic_steroids_and_immunosuppressants_are_long_term_therapy():
    text = "MEDICATIONS: Aspirin 81 mg daily, Ortho Tri-Cyclen, Dexamethasone 4 mg q.i.d., Temodar 100 mg daily, Motrin p.r.n."
    found = codes(
        text,
        ("Aspirin", "MEDICATION", "medications"),
        ("Ortho Tri-Cyclen", "MEDICATION", "medications"),
        ("Dexamethasone", "MEDICATION", "medications"),
        ("Temodar", "MEDICATION", "medications"),
        ("Motrin", "MEDICATION", "medications"),
    )
    assert found == {"Z79.82": "long_term", "Z79.3": "long_term", "Z79.52": "long_term", "Z79.630": "long_term"}


def test_a_dose_a_coordinated_drug_and_the_mentions_own_words_say_the_patient_is_on_it():
    text = "She is on 20 mg of methotrexate every week as well as Remicade. Because she is on chronic prednisone, we waited."
    found = codes(
        text,
        ("methotrexate", "MEDICATION", "hpi"),
        ("Remicade", "MEDICATION", "hpi"),
        ("chronic prednisone", "MEDICATION", "hpi"),
    )
    assert found == {"Z79.631": "long_term", "Z79.620": "long_term", "Z79.52": "long_term"}
    text = "He was seen by Dr. X and hydrocortisone was given."  # no "on" before the first drug
    assert codes(text, ("hydrocortisone", "MEDICATION", "hpi")) == {}


def test_a_course_of_days_is_no_long_term_therapy():
    text = "DISCHARGE MEDICATIONS: Prednisone taper over 12 days. Medrol Dosepak. Dexamethasone 4 mg for 5 days."
    spans = [("Prednisone", "MEDICATION", "discharge_medications"), ("Medrol", "MEDICATION", "discharge_medications")]
    assert codes(text, *spans, ("Dexamethasone", "MEDICATION", "discharge_medications")) == {}


def test_non_insulin_dependent_diabetes_names_no_insulin():
    text = "MEDICATIONS: non-insulin-dependent diabetes managed with diet."
    assert codes(text, ("insulin", "MEDICATION", "medications")) == {}


def test_the_allergy_list_gives_allergy_status_by_drug_class():
    text = "ALLERGIES: Penicillin, codeine and sulfa. He is also allergic to aspirin."
    found = codes(
        text,
        ("Penicillin", "MEDICATION", "allergies"),
        ("codeine", "MEDICATION", "allergies"),
        ("sulfa", "MEDICATION", "allergies"),
        ("aspirin", "MEDICATION", "social_history"),
    )
    assert found == {"Z88.0": "allergy", "Z88.5": "allergy", "Z88.2": "allergy", "Z88.6": "allergy"}


def test_a_negated_drug_gives_no_status_code():
    text = "ALLERGIES: No allergy to penicillin."
    assert codes(text, ("penicillin", "MEDICATION", "allergies"), negated=True) == {}


def test_each_status_code_lists_all_its_mentions_and_says_why():
    text = "MEDICATIONS: warfarin. DISCHARGE MEDICATIONS: Coumadin."
    (status,) = status_codes(
        mentions(text, ("warfarin", "MEDICATION", "medications"), ("Coumadin", "MEDICATION", "discharge_medications")), text
    )
    assert status.kind is StatusKind.LONG_TERM and [e.text for e in status.mentions] == ["warfarin", "Coumadin"]
    assert "long-term drug therapy" in status.why


def tobacco(text: str, words: str) -> str | None:
    (e,) = mentions(text, (words, "PROBLEM", "social_history"))
    assert is_tobacco(e)
    read = tobacco_code(e, text)
    return read[0] if read else None


def test_tobacco_statements_are_coded_as_the_index_codes_them():
    assert tobacco("SOCIAL HISTORY: Smoker. Drinks socially.", "Smoker") == "F17.200"
    assert tobacco("SOCIAL HISTORY: She smokes one pack of cigarettes a day.", "smokes") == "F17.210"
    assert tobacco("SOCIAL HISTORY: 27 pack-year smoking history.", "smoking history") == "F17.210"
    assert tobacco("SOCIAL HISTORY: He smokes a pipe.", "smokes") == "F17.290"
    assert tobacco("SOCIAL HISTORY: He chews tobacco daily.", "chews tobacco") == "F17.220"
    assert tobacco("SOCIAL HISTORY: Former smoker, quit in 1990.", "Former smoker") == "Z87.891"
    assert tobacco("SOCIAL HISTORY: He quit smoking ten years ago.", "smoking") == "Z87.891"
    assert tobacco("SOCIAL HISTORY: Occasional tobacco use.", "tobacco use") == "Z72.0"
    # the verb after an auxiliary: "does smoke", "still smoke"
    assert (
        tobacco("SOCIAL HISTORY: The patient does smoke approximately half a pack of cigarettes per day.", "does smoke")
        == "F17.210"
    )


def test_a_wish_to_quit_is_a_current_smoker_and_a_quitting_after_a_smoking_history_is_past():
    # quitting wished or tried is not quitting done
    assert tobacco("She would like something to help her quit smoking.", "smoking") == "F17.200"
    assert tobacco("He is trying to quit smoking cigarettes.", "smoking") == "F17.210"
    # "used to smoke" is past use
    assert tobacco("PERSONAL HISTORY: Used to smoke but at present does not.", "Used to smoke") == "Z87.891"
    # a smoking history read with the quitting the note tells next
    text = "SOCIAL HISTORY: Smoking history of 1 pack per day. Patient quit smoking 1 year ago."
    assert tobacco(text, "Smoking history") == "Z87.891"
    text = "SOCIAL HISTORY: Smoking history of 1 pack per day. He wants to quit smoking."
    assert tobacco(text, "Smoking history") == "F17.210"
    text = "SOCIAL HISTORY: Smoking history of 1 pack per day, still smoking. His wife quit smoking."
    assert tobacco(text, "Smoking history") == "F17.210"


def test_other_peoples_smoking_is_exposure_at_home_and_otherwise_not_the_patients():
    assert tobacco("He lives in a home where there are smokers.", "smokers") == "Z77.22"
    assert tobacco("Both parents smoke at home; father is a heavy smoker at home.", "heavy smoker") == "Z77.22"
    assert tobacco("Grandmother is a heavy smoker.", "heavy smoker") is None


def test_smokers_cough_is_a_finding_not_a_tobacco_statement():
    text = "He has a smokers cough."
    (e,) = mentions(text, ("smokers cough", "SYMPTOM", None))
    assert not is_tobacco(e)


def test_a_maternal_record_reports_the_weeks_of_gestation():
    from pipeline.code.rules.pregnancy import gestation_weeks, weeks_code

    text = "PREOPERATIVE DIAGNOSIS: A 39-week intrauterine pregnancy with complete breech presentation."
    ents = mentions(text, ("complete breech presentation", "PROBLEM", "preoperative_diagnosis"))
    found = gestation_weeks(ents, text, ["O32.1XX0"])
    assert found is not None and found.code == "Z3A.39" and found.mention.text == "complete breech presentation"
    assert gestation_weeks(ents, text, ["J18.9"]) is None  # no pregnancy code: not a maternal record
    cough = "Assessment: a 2-week history of cough."
    assert gestation_weeks(mentions(cough, ("cough", "SYMPTOM", "assessment")), cough, ["O99.89"]) is None
    assert (weeks_code(6), weeks_code(28), weeks_code(43)) == ("Z3A.01", "Z3A.28", "Z3A.49")


def test_a_treatment_the_patient_lives_on_is_a_dependence_status():
    from pipeline.code.rules.status import ongoing_dependences

    text = "End-stage renal disease on hemodialysis. She uses home oxygen at 2 liters. Dialysis was discussed."
    ents = mentions(text, ("hemodialysis", "PROCEDURE", "discharge_diagnosis"), ("home oxygen", "PROCEDURE", "hpi"))
    assert {d.code: d.mention.text for d in ongoing_dependences(ents, text)} == {"Z99.2": "hemodialysis", "Z99.81": "home oxygen"}
    only_discussed = "Dialysis was discussed with the family."
    assert ongoing_dependences(mentions(only_discussed, ("Dialysis", "PROCEDURE", "plan")), only_discussed) == []
    negated = "She is not on dialysis."
    assert ongoing_dependences(mentions(negated, ("dialysis", "PROCEDURE", "hpi"), negated=True), negated) == []


def test_social_circumstances_are_coded_from_the_index():
    from pipeline.code.rules.social_history import social_code

    text = "SOCIAL HISTORY: Lives alone, unemployed. Noncompliant with her medications. Exposure to asbestos."
    ents = mentions(
        text,
        ("Lives alone", "PROBLEM", "social_history"),
        ("unemployed", "PROBLEM", "social_history"),
        ("Noncompliant with her medications", "PROBLEM", "social_history"),
        ("Exposure to asbestos", "PROBLEM", "social_history"),
    )
    assert [c.code for e in ents if (c := social_code(e))] == ["Z60.2", "Z56.0", "Z91.148", "Z77.090"]
    # the statuses the same kind of words state: do not resuscitate (Z66), at risk for falling (Z91.81)
    text = "CODE STATUS: DNR. Not anticoagulated due to fall risk."
    ents = mentions(text, ("DNR", "PROBLEM", "code_status"), ("fall risk", "PROBLEM", "hpi"))
    assert [c.code for e in ents if (c := social_code(e))] == ["Z66", "Z91.81"]


def test_every_drug_the_drug_table_codes_is_a_medication_mention():
    from pipeline.extract.pipeline import extract

    text = "MEDICATIONS:\n1. Avandamet 4/1000 mg daily.\n2. NovoLog 25/50."
    found = {s.code for s in status_codes(extract(text), text)}
    assert {"Z79.84", "Z79.4"} <= found, found


def test_the_drug_class_a_patient_is_on_is_its_long_term_therapy():
    def found(text: str) -> dict[str, list[str]]:
        return {s.code: [e.text for e in s.mentions] for s in status_codes([], text)}

    assert found("Atrial fibrillation, chronic, on anticoagulation, INR of 1.72.") == {"Z79.01": ["on anticoagulation"]}
    assert found("He had been on oral hypoglycemics as an outpatient.") == {"Z79.84": ["on oral hypoglycemics"]}
    assert found("The patient is not anticoagulated due to fall risk.") == {}
    assert found("She does not have a history of being on anticoagulants.") == {}
    assert found("Complicated by a subdural hematoma while on anticoagulation.") == {}  # an episode, not a status


def test_a_medicines_heading_is_the_medication_list_and_drug_sensitivities_the_allergy_list():
    from pipeline.extract.pipeline import extract

    text = "FAMILY HISTORY: Negative.\nDRUG SENSITIVITIES: Penicillin.\nCURRENT MEDICATIONS: , None."
    assert {s.code for s in status_codes(extract(text), text)} == {"Z88.0"}

    text = "PAST MEDICAL HISTORY: Diabetes.\nCURRENT MEDICINES: , Aspirin 81 mg daily, Lantus insulin 12 units h.s."
    assert {"Z79.4"} <= {s.code for s in status_codes(extract(text), text)}


def test_a_drug_after_allergic_to_is_read_where_extraction_missed_it():
    text = "ALLERGIES: She is allergic to  Lortab. She is not allergic to penicillin."
    found = {s.code: [e.text for e in s.mentions] for s in status_codes([], text)}
    assert found == {"Z88.5": ["Lortab"]}
    text = "ALLERGIES: Avelox, trimethoprim, shellfish."
    spans = [
        ("Avelox", "MEDICATION", "allergies"),
        ("trimethoprim", "MEDICATION", "allergies"),
        ("shellfish", "MEDICATION", "allergies"),
    ]
    assert codes(text, *spans) == {"Z88.1": "allergy", "Z91.013": "allergy"}


def test_a_device_the_patient_lives_with_is_its_status_read_from_the_words():
    """Presence, ureteral stent Z96.0; Status, artificial opening, urinary tract NEC Z93.6 (ileal conduit),
    with the device's words as the evidence; not a planned device, nor one this encounter removes."""
    from pipeline.code.rules.status import device_statuses

    text = (
        "HPI: He had bilateral ureteral obstruction and is status post a stent placement.\n"
        "PAST SURGICAL HISTORY: History of uterine cancer and ileal conduit urinary diversion."
    )
    ents = mentions(text, ("stent placement", "PROCEDURE", "hpi"), ("uterine cancer", "PROBLEM", "past_surgical_history"))
    assert {d.code: d.mention.text for d in device_statuses(ents, text)} == {"Z96.0": "stent placement", "Z93.6": "ileal conduit"}
    for text in ("PLAN: He will need a ureteral stent.", "HPI: Here for ureteral stent removal.", "HPI: No nephrostomy tube."):
        assert device_statuses([], text) == [], text


def test_a_cardiac_device_or_ostomy_is_a_status_unless_this_encounter_places_it():
    from pipeline.code.rules.status import device_statuses

    text = "HPI: He has a pacemaker for sick sinus syndrome. She has a colostomy. PAST MEDICAL HISTORY: PEG tube."
    assert {d.code for d in device_statuses([], text)} == {"Z95.0", "Z93.3", "Z93.1"}
    # placed this stay: the procedure is coded, not the status, wherever else the note names the device
    placed = "PROCEDURES DONE: Permanent pacemaker placement.\nHOSPITAL COURSE: This is a Medtronic pacemaker."
    assert device_statuses([], placed) == []
    denied = "REVIEW OF SYSTEMS: Specifically denies chest pain, heart attack, arrhythmia, pacemaker, high cholesterol."
    assert device_statuses([], denied) == []
    assert device_statuses([], "HOSPITAL COURSE: He is here for colostomy takedown.") == []


def test_a_status_code_is_never_suggested_first_over_a_current_condition():
    from pipeline.code.coder import propose_codes
    from pipeline.extract.pipeline import extract

    def codes(text: str) -> list[str]:
        return [p.code for p in propose_codes(extract(text), setting="inpatient", text=text).proposals]

    found = codes("HPI: He has a pacemaker for sick sinus syndrome.")
    assert found[0] == "I49.5" and "Z95.0" in found
    assert codes("HOSPITAL COURSE: Status post colostomy takedown.") == []  # the colostomy is gone
