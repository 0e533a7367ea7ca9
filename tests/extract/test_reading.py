"""Extraction and coding read the term corrector's suggestions; the transcript and the evidence keep
what was heard (pipeline/extract/reading.py)."""

from __future__ import annotations

import pytest

from pipeline.extract.reading import suggested_reading
from pipeline.extract.types import Entity
from pipeline.transcribe.types import Segment, Transcript, Word

HEARD = "Preoperative diagnosis: acute calculus colysis status, with stones. Plan: surgery."


def _transcript(suggest: bool = True) -> Transcript:
    words, t = [], 0.0
    for token in HEARD.split():
        core = token.strip(",.:")
        suggestion = "cholecystitis" if suggest and core in ("colysis", "status") else None
        words.append(Word(t, t + 0.4, token, 0.4 if suggestion else 0.9, suggestion=suggestion))
        t += 0.5
    return Transcript.from_segments(
        [Segment(0, 0.0, t, HEARD, words)], language="en", model="tiny.en", backend="faster-whisper", duration=t
    )


def test_consecutive_words_with_one_suggestion_are_read_as_one_term():
    reading = suggested_reading(_transcript())
    assert reading.text == "Preoperative diagnosis: acute calculus cholecystitis, with stones. Plan: surgery."
    (r,) = reading.replacements
    assert HEARD[r.heard_start : r.heard_end] == "colysis status" and reading.text[r.read_start : r.read_end] == "cholecystitis"
    assert suggested_reading(_transcript(suggest=False)) is None


def test_offsets_map_both_ways_around_the_suggestion():
    reading = suggested_reading(_transcript())
    acute = HEARD.index("acute")
    with_ = HEARD.index("with")
    assert reading.read_offset(acute) == reading.text.index("acute")  # before: unchanged
    assert reading.heard_offset(reading.text.index("with")) == with_  # after: shifted back
    read_start, read_end = reading.text.index("calculus"), reading.text.index(",")
    assert HEARD[reading.heard_offset(read_start) : reading.heard_offset(read_end, end=True)] == "calculus colysis status"
    assert reading.read_as(HEARD.index("calculus"), HEARD.index(",")) == "calculus cholecystitis"
    assert reading.read_as(0, acute) is None


def test_entities_found_in_the_reading_stay_on_the_words_heard():
    from pipeline.extract.reading import heard_entity, read_entity

    reading = suggested_reading(_transcript())
    start = reading.text.index("calculus")
    found = Entity(start, start + len("calculus cholecystitis"), "calculus cholecystitis", "PROBLEM")
    heard = heard_entity(found, reading)
    assert (HEARD[heard.start : heard.end], heard.text, heard.read_as) == ("calculus colysis status",) * 2 + (
        "calculus cholecystitis",
    )
    assert heard.query_text == "calculus cholecystitis"
    assert read_entity(heard, reading) == found


@pytest.mark.slow
def test_the_runner_codes_what_was_read_with_evidence_on_what_was_heard(settings):
    from pipeline.code.types import ReasonKind
    from pipeline.stages import StageRunner

    transcript = _transcript()
    on = StageRunner(settings.model_copy(update={"read_suggestions": True}))
    entities = on.extract(transcript)
    mention = next(e for e in entities if e.read_as)
    assert mention.text == "calculus colysis status" and mention.audio_start is not None
    coded = on.code(entities, "inpatient", transcript.text, transcript)
    k80 = next(p for p in coded.proposals + coded.alternatives if p.code.startswith("K80"))
    assert k80.evidence[0].text == "calculus colysis status"
    assert HEARD[k80.evidence[0].start : k80.evidence[0].end] == "calculus colysis status"
    assert k80.has(ReasonKind.READ_AS_SUGGESTED)
    off = StageRunner(settings.model_copy(update={"read_suggestions": False}))
    plain = off.code(off.extract(transcript), "inpatient", transcript.text, transcript)
    assert not any(p.code.startswith("K80") for p in plain.proposals + plain.alternatives)
