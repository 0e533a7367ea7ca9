"""The words around a mention that the Index reads with it (pipeline.code.rules.index_query)."""

from pipeline.code.rules import index_query
from pipeline.extract.types import Entity


def test_a_condition_of_pregnancy_is_read_under_pregnancy_complicated_by():
    assert index_query.in_pregnancy("cholestasis", " of pregnancy at 38 weeks") == "cholestasis of pregnancy"
    assert index_query.in_pregnancy("cholestasis", " of the liver") == "cholestasis"


def test_acute_on_chronic_is_read_as_the_combined_subterm_where_the_index_has_one():
    assert (
        index_query.acute_on_chronic("chronic respiratory failure", "with acute on ") == "acute and chronic respiratory failure"
    )
    assert index_query.acute_on_chronic("chronic respiratory failure", "history of ") == "chronic respiratory failure"
    # separate acute and chronic subentries: the acute form is coded beside the chronic one (I.B.8)
    assert index_query.acute_form("chronic renal insufficiency", "acute on ", "N18.9")[0] == "N28.9"
    assert index_query.acute_form("chronic anemia", "acute on ", "D64.9") is None  # Anemia has no acute subentry


def test_a_coordinated_word_the_index_lists_with_the_term():
    assert (
        index_query.with_coordinated("hypertrophy of tonsils", " and adenoids, recurrent")
        == "hypertrophy of tonsils with adenoids"
    )
    assert index_query.with_coordinated("copd", " and pneumonia") == "copd"  # a condition of its own


def test_the_organism_named_after_an_infection():
    text = "Pneumonia due to Streptococcus pneumoniae, treated with ceftriaxone"
    e = Entity(text="Pneumonia", label="PROBLEM", start=0, end=9)
    assert index_query.with_organism("pneumonia", e, text, []) == "pneumonia due to Streptococcus pneumoniae"
    assert index_query.read_query("pneumonia", e, text, "", []) == "pneumonia due to Streptococcus pneumoniae"


def test_an_exacerbation_said_before_the_disease():
    assert index_query.lead("Acute exacerbation of ") == "acute exacerbation of"
    assert index_query.lead("History of ") == ""


def test_a_vertebral_level_said_beside_a_spine_condition():
    assert index_query.at_spine_level("disc herniation", "IMPRESSION: 1. L4-L5", ".") == "L4-L5 disc herniation"
    assert index_query.at_spine_level("Spinal stenosis", "5.", " at L3-L4. 6.") == "Spinal stenosis at L3-L4"
    assert index_query.at_spine_level("herniated disc", "", ", C5-6 level.") == "herniated disc at C5-6"
    # stated already, or no spine condition: "T2" diabetes is no vertebra
    assert index_query.at_spine_level("L4-L5 disc herniation", "", " at L4-L5") == "L4-L5 disc herniation"
    assert index_query.at_spine_level("diabetes mellitus", "type 2, T2", "") == "diabetes mellitus"


def test_a_spine_region_said_before_or_the_one_the_note_names():
    assert index_query.at_spine_level("disc herniation", "Hypothyroidism and cervical ", " and") == "cervical disc herniation"
    assert index_query.at_spine_level("herniated disc", "1. Extruded ", ", left L5-S1.") == "herniated disc at L5-S1"
    note = "PROCEDURE: Anterior cervical discectomy C5-C6. Disc herniation was removed."
    assert index_query.at_spine_level("Disc herniation", "", " was removed", note) == "cervical Disc herniation"
    # two regions in the note, or none: the coder's to read
    two = "L4-L5 and L5-S1 discectomy. Disc herniation was removed."
    assert index_query.at_spine_level("Disc herniation", "", " was removed", two) == "Disc herniation"
    # a stenosis is the spine's only where it says so
    assert index_query.at_spine_level("aortic stenosis", "", "", note) == "aortic stenosis"
