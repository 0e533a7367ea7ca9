"""The sentence and section a position of the note lies in (pipeline.code.rules.note_text)."""

from pipeline.code.rules.note_text import CLAUSE_STOPS, section_at, sentence_at, sentence_bounds
from pipeline.extract.types import Entity

TEXT = "SOCIAL HISTORY:\nShe quit smoking in 2010. Drinks wine; no drugs.\nMEDICATIONS: Coumadin 2.5 mg daily."


def _at(word: str) -> tuple[int, int]:
    start = TEXT.index(word)
    return start, start + len(word)


def test_a_sentence_runs_from_the_stop_before_to_the_stop_after():
    assert sentence_at(TEXT, *_at("quit")) == "She quit smoking in 2010"
    assert sentence_at(TEXT, *_at("wine")) == " Drinks wine; no drugs"


def test_a_list_line_is_a_sentence_and_the_text_ends_bound_it():
    assert sentence_at("no stop at all", 3, 7) == "no stop at all"
    assert sentence_at(TEXT, *_at("SOCIAL")) == "SOCIAL HISTORY:"


def test_a_clause_stops_at_a_semicolon_and_not_inside_a_dose():
    first, last = sentence_bounds(TEXT, *_at("wine"), CLAUSE_STOPS)
    assert TEXT[first:last] == " Drinks wine"
    first, last = sentence_bounds(TEXT, *_at("Coumadin"), CLAUSE_STOPS)
    assert TEXT[first:last] == "MEDICATIONS: Coumadin 2.5 mg daily."
    # a plain period stop cuts the dose
    assert sentence_at(TEXT, *_at("Coumadin")) == "MEDICATIONS: Coumadin 2"


def test_the_section_is_the_last_mention_s_before_the_position():
    def ent(start: int, section: str) -> Entity:
        return Entity(text="x", label="PROBLEM", start=start, end=start + 1, section=section)

    ordered = [ent(10, "social_history"), ent(60, "medications")]
    starts = [e.start for e in ordered]
    assert section_at(ordered, starts, 5) == "social_history"  # before any mention: the first one's
    assert section_at(ordered, starts, 59) == "social_history"
    assert section_at(ordered, starts, 60) == "medications"
    assert section_at([], [], 3) is None


def test_a_body_systems_heading_is_the_word_and_its_colon():
    from pipeline.code.rules.note_text import body_system_heading

    text = "SKIN:  Warm. NERVOUS SYSTEM: Intact. SKIN AND BREASTS: No rash. Skin rash on the arm."
    assert body_system_heading(text, 0, 4)
    assert body_system_heading(text, text.index("NERVOUS"), text.index("NERVOUS") + 7)
    assert body_system_heading(text, text.index("SKIN AND"), text.index("SKIN AND") + 4)
    assert not body_system_heading(text, text.index("Skin rash"), text.index("Skin rash") + 4)


def test_words_under_a_body_systems_heading_on_its_line():
    from pipeline.code.rules.note_text import under_body_system_heading

    text = "SKIN: , Inspection of the skin appeared normal.\nIMPRESSION: Skin abscess of the arm."
    assert under_body_system_heading(text, text.index("skin appeared"))
    assert not under_body_system_heading(text, text.index("Skin abscess"))
    assert not under_body_system_heading("The skin was closed.", 4)
