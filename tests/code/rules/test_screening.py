from pipeline.code.rules.screening import screened_for, screening_for, screening_procedure


def test_the_words_around_a_mention_say_it_is_screened_for():
    assert screened_for("PREOPERATIVE DIAGNOSES: ", " screening and family history of polyps.")
    assert screened_for("She is here for screening for ", ". She has no complaints.")
    assert screened_for("referred for a screening of the ", ".")
    # found on a screening: the condition is there
    assert not screened_for("", " found on screening mammogram.")
    assert not screened_for("History of ", ", treated in 2001.")


def test_the_index_reads_the_screening_under_its_main_term():
    assert screening_for("colon cancer").code == "Z12.11"
    assert screening_for("breast cancer").code == "Z12.39"  # not Cancer, breast
    assert screening_for("prostate cancer").code == "Z12.5"
    assert screening_for("osteoporosis").code == "Z13.820"
    hit = screening_for("colon cancer")
    assert hit.path == ("Screening", "neoplasm", "colon") and "I.C.21.c.5" in hit.why
    # nothing under Screening reads it: no code (the condition is still not coded)
    assert screening_for("frobnication").code is None


def test_a_screening_procedure_names_its_screening():
    assert screening_procedure("Screening colonoscopy").code == "Z12.11"
    assert screening_procedure("Colonoscopy") is None
    assert screening_procedure("screening frobnoscopy") is None  # nothing under Screening reads it
