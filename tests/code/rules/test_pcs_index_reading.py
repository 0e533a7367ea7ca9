"""The ICD-10-PCS Index read from the procedure's word to its root operation and body part
(pipeline.code.rules.pcs_index_reading)."""

from __future__ import annotations

from pipeline.code.rules.pcs_index_reading import read


def code(mention: str, sentence: str = "") -> str | None:
    found = read(mention, sentence)
    return found.code if found else None


def test_a_see_reference_to_a_root_operation_reads_on_to_the_body_part():
    found = read("evacuation of acute subdural hematoma", "Left craniotomy for evacuation of acute subdural hematoma.")
    assert found is not None and found.code == "00C40ZZ"  # Extirpation, Subdural Space, Intracranial; open (craniotomy)
    assert found.alias == "PCS Index: Evacuation, Hematoma, see Extirpation, Subdural Space, Intracranial"
    assert code("release of the median nerve", "endoscopic carpal tunnel release") == "01N54ZZ"


def test_a_biopsy_is_the_diagnostic_excision_of_the_body_part_the_words_name():
    assert code("liver biopsy", "A percutaneous liver biopsy was performed.") == "0FB03ZX"
    # a site adjective is its noun, and the sentence states the side
    assert code("renal biopsy", "Percutaneous renal biopsy of the left kidney.") == "0TB13ZX"
    assert code("excision of the left ovary") == "0UB10ZZ"


def test_a_reference_that_names_the_body_part_gives_it():
    assert code("lumbar puncture") == "009U3ZZ"  # Puncture, lumbar, see Drainage, Spinal Canal; a needle's approach


def test_no_root_operation_or_no_body_part_reads_nothing():
    assert code("removal of the hematoma") is None  # Removal is a device's root operation
    assert code("excision of the lesion") is None  # no body part
    assert code("biopsy of the kidney") is None  # the side is not stated
    assert code("colonoscopy") is None


def test_a_drainage_whose_fluid_was_examined_is_diagnostic():
    assert code("lumbar puncture", "Lumbar puncture showed only a slight elevation of proteins.") == "009U3ZX"
    assert code("lumbar puncture", "A therapeutic lumbar puncture was performed; the opening pressure fell.") == "009U3ZZ"
