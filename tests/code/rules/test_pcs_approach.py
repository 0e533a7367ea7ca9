from pipeline.code.lookup.candidates import Candidate
from pipeline.code.rules.pcs_approach import (
    EXTERNAL,
    NATURAL_OPENING_ENDOSCOPIC,
    OPEN,
    PERCUTANEOUS_ENDOSCOPIC,
    approach_preference,
    conventional_order,
    root_preference,
    stated_approaches,
)


def _cands(*scored: tuple[str, float]) -> list[Candidate]:
    return [Candidate(code, code, "alias", score) for code, score in scored]


def test_stated_approaches():
    assert stated_approaches("laparoscopic cholecystectomy") == (PERCUTANEOUS_ENDOSCOPIC,)
    assert stated_approaches("colonoscopy with snare polypectomy")[0] == NATURAL_OPENING_ENDOSCOPIC
    assert stated_approaches("open reduction and internal fixation") == (OPEN,)
    assert stated_approaches("closed reduction of the radius") == (EXTERNAL,)
    assert stated_approaches("excision of the mass") == ()
    # a needle-point cautery is no percutaneous approach
    assert stated_approaches("dissected with a needle point Bovie") == ()


def test_unstated_approach_follows_the_conventions():
    # seen in the mouth: External (B5.3a); else Open
    assert approach_preference("0CTPXZZ", ()) < approach_preference("0CTP0ZZ", ()) < approach_preference("0CTP3ZZ", ())
    assert approach_preference("0FT40ZZ", ()) < approach_preference("0FT44ZZ", ())
    # the pharynx and the larynx are not seen without an instrument
    assert approach_preference("0CTM0ZZ", ()) < approach_preference("0CTMXZZ", ())
    # a stated approach wins over the conventions
    assert approach_preference("0FT44ZZ", (PERCUTANEOUS_ENDOSCOPIC,)) < approach_preference("0FT40ZZ", (PERCUTANEOUS_ENDOSCOPIC,))


def test_an_ectomy_is_resection_unless_a_part_is_removed():
    assert root_preference("0CTP0ZZ", "tonsillectomy") < root_preference("0CBP0ZZ", "tonsillectomy")
    assert root_preference("0UB90ZZ", "partial hysterectomy") < root_preference("0UT90ZZ", "partial hysterectomy")
    assert root_preference("0DBN8ZZ", "polypectomy") < root_preference("0DTN8ZZ", "polypectomy")
    # a discectomy takes part of the disc unless the note says all of it
    assert root_preference("0RB30ZZ", "anterior cervical discectomy") < root_preference("0RT30ZZ", "anterior cervical discectomy")
    assert root_preference("0RT30ZZ", "total discectomy") < root_preference("0RB30ZZ", "total discectomy")
    assert root_preference("0DTJ4ZZ", "appendix removed") == root_preference("0DBJ4ZZ", "appendix removed")  # no -ectomy


def test_only_ties_are_reordered():
    cands = _cands(("0CTP0ZZ", 0.9), ("0CBP0ZZ", 0.9), ("0CTPXZZ", 0.9), ("BW03ZZZ", 0.9), ("0CBPXZZ", 0.7), ("0CTMXZZ", 0.6))
    out = [c.code for c in conventional_order(cands, "tonsillectomy", "PROCEDURE: Tonsillectomy.")]
    assert out == ["0CTPXZZ", "0CTP0ZZ", "0CBP0ZZ", "BW03ZZZ", "0CBPXZZ", "0CTMXZZ"]
    # a better-scored candidate keeps its place whatever the conventions say
    cands = _cands(("0FT40ZZ", 0.95), ("0FT44ZZ", 0.9))
    assert [c.code for c in conventional_order(cands, "cholecystectomy", "laparoscopic cholecystectomy")] == [
        "0FT40ZZ",
        "0FT44ZZ",
    ]
    # the sentence states the approach the mention leaves out
    cands = _cands(("0FT40ZZ", 0.9), ("0FT44ZZ", 0.9))
    assert [c.code for c in conventional_order(cands, "cholecystectomy", "Laparoscopic converted cholecystectomy")][
        0
    ] == "0FT44ZZ"


def test_a_test_is_read_to_its_function_and_the_external_approach():
    """An EEG is the central nervous system's electrical activity measured from outside (4A00X4Z), a nerve
    conduction study the peripheral nerves' conductivity (4A01X2-): not the open-approach conductivity code
    the PCS Index's "see Measurement, Central Nervous 4A00" gives first."""
    eeg = _cands(("4A0002Z", 1.0), ("4A0004Z", 1.0), ("4A000BZ", 1.0), ("4A0034Z", 1.0))
    assert conventional_order(eeg, "EEG", "PROCEDURE: EEG was performed.")[0].code == "4A00X4Z"
    ncs = _cands(("4A0002Z", 1.0), ("4A00X2Z", 1.0), ("4A0102B", 1.0))
    assert conventional_order(ncs, "nerve conduction study", "Nerve conduction study of the right arm.")[0].code == "4A01X2B"
    # a better-scored candidate keeps its place
    assert conventional_order(_cands(("4A02X4Z", 0.9), ("4A00X4Z", 0.8)), "EEG", "EEG.")[0].code == "4A02X4Z"
