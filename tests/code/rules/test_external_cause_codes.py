"""External cause codes for an injury (Guidelines I.C.20), from the phrases extraction marks."""

from __future__ import annotations

from pipeline.code.rules.external_causes import external_causes, injury_character, is_external_cause
from pipeline.extract.types import Entity

TEXT = "She slipped on ice on her driveway while walking her dog, and fell. She was at work."


def phrases(*words: str) -> list[Entity]:
    out = []
    for w in words:
        start = TEXT.index(w)
        out.append(Entity(start, start + len(w), w, "PROBLEM"))
    return out


def test_an_injury_gets_one_mechanism_place_activity_and_status():
    found = external_causes(
        phrases("slipped on ice", "on her driveway", "walking her dog", "fell", "at work"), ["S52.502A", "I10"]
    )
    # the most specific mechanism (ice before a plain fall), walking an animal before walking
    assert [c.code for c in found] == ["W00.0XXA", "Y92.014", "Y93.K1", "Y99.0"]
    assert all("Index of External Causes" in c.why for c in found)


def test_no_injury_code_no_external_cause():
    assert external_causes(phrases("slipped on ice", "fell"), ["R55", "I10"]) == []


def test_a_subsequent_encounter_takes_the_mechanism_with_its_character_and_nothing_else():
    found = external_causes(phrases("slipped on ice", "on her driveway", "walking her dog"), ["S52.502D"])
    assert [c.code for c in found] == ["W00.0XXD"]


def test_the_injury_character_is_the_first_injury_codes():
    assert injury_character(["I10", "S52.502A", "T14.8XXD"]) == "A"
    assert injury_character(["I10", "T78.40XA"]) == "A"
    assert injury_character(["I10", "E11.9"]) is None


def test_only_table_phrases_are_external_causes():
    assert is_external_cause(Entity(0, 4, "fell", "PROBLEM"))
    assert not is_external_cause(Entity(0, 9, "fracture", "PROBLEM"))


def test_sharp_glass_and_a_knife_come_before_a_plain_fall():
    text = "A piece of glass fell onto his right foot."
    glass = Entity(2, 16, "piece of glass", "PROBLEM")
    fell = Entity(17, 21, "fell", "PROBLEM")
    assert text[glass.start : glass.end] == "piece of glass" and text[fell.start : fell.end] == "fell"
    assert [c.code for c in external_causes([glass, fell], ["S91.311A"])] == ["W25.XXXA"]
    knife = Entity(0, 31, "cut her finger with a kitchen knife", "PROBLEM")
    assert [c.code for c in external_causes([knife], ["S61.210A"])] == ["W26.0XXA"]
    assert not is_external_cause(Entity(0, 9, "glasses", "PROBLEM"))  # spectacles


def test_home_is_a_place_of_occurrence_after_the_rooms_of_a_house():
    home = Entity(0, 7, "at home", "PROBLEM")
    kitchen = Entity(20, 34, "in her kitchen", "PROBLEM")
    assert [c.code for c in external_causes([home], ["S91.311A"])] == ["Y92.009"]
    assert [c.code for c in external_causes([home, kitchen], ["S91.311A"])] == ["Y92.010"]
