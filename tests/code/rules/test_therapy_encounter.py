from pipeline.code.rules.therapy_encounter import therapy_encounter


def _read(text: str) -> tuple[str, str] | None:
    found = therapy_encounter(text)
    return (found.code, text[found.start : found.end]) if found else None


def test_an_admission_for_a_numbered_cycle_is_an_encounter_for_chemotherapy():
    text = (
        "1.  Leiomyosarcoma, the patient was admitted to Hem/Onco B Service under attending Dr. XYZ for cycle six "
        "of continuous IV infusion Cytoxan, Adriamycin, and DTIC, which she tolerated well."
    )
    assert _read(text) == ("Z51.11", "admitted to Hem/Onco B Service under attending Dr. XYZ for cycle six")
    assert _read("Ewing sarcoma, she presented for cycle seven of VP-16, ifosfamide, and mesna infusions.")[0] == "Z51.11"
    assert _read("Lymphoma. He is here for his third cycle of R-CHOP.")[0] == "Z51.11"
    found = therapy_encounter("Breast cancer. She was admitted for chemotherapy.")
    assert found.path == ("Chemotherapy", "neoplasm") and "I.C.2.e.2" in found.why


def test_the_therapy_named_gives_its_code():
    assert _read("Melanoma. Admitted for immunotherapy with pembrolizumab.")[0] == "Z51.12"
    assert _read("Prostate cancer. He presents for radiation therapy to the pelvis.")[0] == "Z51.0"
    # a course of radiation is radiation's
    assert _read("Prostate cancer. He presents for cycle 3 of radiation therapy.")[0] == "Z51.0"


def test_what_is_not_the_encounter_s_therapy():
    assert _read("Breast cancer. She will be admitted for chemotherapy next week.") is None  # a plan
    # a past course
    assert _read("Ewing sarcoma. She was admitted to the Oncology Service following her first course of chemotherapy.") is None
    assert _read("Lung cancer. He is here for evaluation of chemotherapy options.") is None  # talk about it
    assert _read("Breast cancer. Admitted for chemotherapy-induced nausea.") is None  # its complication
    assert _read("Breast cancer. Admitted for chemotherapy related neutropenia.") is None
    assert _read("Pneumonia. He was admitted for antibiotics.") is None
    assert _read("She was admitted for chemotherapy.") is None  # no neoplasm named: not Chemotherapy, neoplasm
    assert _read("Breast cancer. Admitted on Monday. For chemotherapy see the plan.") is None  # another sentence
    assert therapy_encounter(None) is None
