"""The BMI beside a weight diagnosis (Z68, Guidelines I.B.14): read from the note's words, no model."""

from __future__ import annotations

from pipeline.code.rules.body_mass import adult_code, body_mass_index, patient_age


def test_an_adults_bmi_is_coded_with_the_obesity_it_supports():
    text = "A 33-year-old female. DISCHARGE DIAGNOSES: Morbid obesity with bmi of 39.4."
    found = body_mass_index(text, ["E66.01"])
    assert found is not None and found.code == "Z68.39" and text[found.start : found.end] == "bmi of 39.4"
    assert body_mass_index(text, ["J18.9"]) is None  # no weight diagnosis: the BMI is not reported (I.B.14)


def test_a_bmi_band_follows_the_tabular():
    assert [adult_code(v) for v in (18.2, 20.0, 29.99, 30.1, 40.0, 44.9, 45.0, 52, 65, 75)] == [
        "Z68.1",
        "Z68.20",
        "Z68.29",
        "Z68.30",
        "Z68.41",
        "Z68.41",
        "Z68.42",
        "Z68.43",
        "Z68.44",
        "Z68.45",
    ]


def test_a_bound_or_a_childs_bare_value_is_not_coded():
    assert body_mass_index("A 50-year-old man. Obesity, BMI greater than 40.", ["E66.9"]) is None
    child = "A 12-year-old boy with obesity. BMI 31."
    assert body_mass_index(child, ["E66.9"]) is None  # a child's BMI is coded by its percentile
    percentile = "A 12-year-old boy with obesity. His BMI is at the 97th percentile for age."
    found = body_mass_index(percentile, ["E66.9"])
    assert found is not None and found.code == "Z68.54"


def test_the_patients_age_is_read_from_the_note():
    assert patient_age("The patient is a 67-year-old man.") == 67
    assert patient_age("AGE: 45") == 45
    assert patient_age("No age given.") is None
