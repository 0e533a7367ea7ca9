"""Medical transcription: biasing, term correction, silence/noise, repetition loops, dictation
commands and section headers, the benchmark's measures. Real Whisper tiny.en on real sample audio;
the misrecognitions asserted here are what tiny.en (int8, greedy) hears in samples/01."""

from __future__ import annotations

import wave
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mrt_eval.transcribe.wer import medical_term_errors, medwer_scores
from pipeline.settings import get_settings
from pipeline.transcribe.audio import load_media
from pipeline.transcribe.cleanup import cut_loops, remove_repetitions
from pipeline.transcribe.correction import default_corrector
from pipeline.transcribe.dictation import apply_commands, mark_sections
from pipeline.transcribe.lexicon import token_count
from pipeline.transcribe.transcribe import Transcriber, finish
from pipeline.transcribe.types import Segment, Transcript, Word
from pipeline.transcribe.vocabulary import PROMPT_TOKEN_LIMIT, DictationContext, build_bias, load_site_vocabulary

TRANSCRIBER = Transcriber(get_settings())  # models load on first use, once for this module


def _settings(**kw):
    base = dict(beam_size=1, bias_vocabulary=False, correct_terms=False, dictation_commands=False)
    return get_settings().model_copy(update={**base, **kw})


def _words(text: str, p: float = 0.9, probs: dict | None = None) -> list[Word]:
    return [Word(i * 0.5, i * 0.5 + 0.4, w, (probs or {}).get(w, p)) for i, w in enumerate(text.split())]


def _segment(text: str, i: int = 0, **kw) -> Segment:
    words = _words(text, **kw)
    return Segment(i, words[0].start, words[-1].end, text, words)


def _later(seg: Segment, offset: float) -> Segment:
    words = [replace(w, start=w.start + offset, end=w.end + offset) for w in seg.words]
    return replace(seg, start=seg.start + offset, end=seg.end + offset, words=words)


def _write_wav(path: Path, samples: np.ndarray) -> Path:
    pcm = np.clip(samples * 32767, -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm.tobytes())
    return path


@pytest.fixture(scope="module")
def office_note(sample):
    media, reference, _ = sample("01")
    return load_media(media), reference


# -- biasing ---------------------------------------------------------------------------------------
@pytest.mark.slow
def test_biasing_turns_misheard_drug_into_the_term(office_note):
    audio, _ = office_note
    ctx = DictationContext("office_note")
    plain = TRANSCRIBER.transcribe(audio, ctx, "faster-whisper", settings=_settings())
    biased = TRANSCRIBER.transcribe(audio, ctx, "faster-whisper", settings=_settings(bias_vocabulary=True))
    # tiny.en mishears the drug (as "listen April" on Intel CPUs, "listen opera" on AMD: CTranslate2's
    # int8 kernels differ); what it heard is not the point, that biasing turns it into the term is
    assert "lisinopril" not in plain.text.lower(), plain.text
    assert biased.text.lower().count("lisinopril") == 2, biased.text
    assert "lisinopril" in biased.bias_terms and not biased.corrections


def test_bias_prompt_fits_whisper_limit_and_follows_context(tmp_path):
    for ctx in (DictationContext(), DictationContext("operative_note"), DictationContext("consult", "cardiology")):
        for budget in (60, 223, 500):
            b = build_bias(ctx, None, budget)
            assert b.terms and token_count(" " + b.hotwords) <= min(budget, PROMPT_TOKEN_LIMIT)
    assert build_bias(DictationContext("operative_note")).terms[0] == "laparoscopic"  # site terms for the type first
    site = tmp_path / "site.txt"
    site.write_text("[all]\nzolpidem\n[specialty: Dermatology]\ntacrolimus\n")
    derm = build_bias(DictationContext(None, "dermatology"), str(site), 60)
    assert derm.terms[:2] == ("tacrolimus", "zolpidem")
    assert "Dermatology" in derm.categories
    bad = tmp_path / "bad.txt"
    bad.write_text("[ward 4]\nfoo\n")
    with pytest.raises(ValueError, match="unknown section"):
        load_site_vocabulary(str(bad))


# -- correction ------------------------------------------------------------------------------------
def test_correction_rewrites_sound_alike_spans_and_keeps_what_was_heard():
    seg = _segment("He takes met for men 1000 mg and listen April 20 mg daily.", probs={"men": 0.3, "April": 0.2})
    (fixed,), corrections = default_corrector().correct_segments([seg])
    assert fixed.text == "He takes metformin 1000 mg and lisinopril 20 mg daily."
    by_term = {c.term: c for c in corrections}
    assert by_term["metformin"].heard == "met for men" and by_term["lisinopril"].heard == "listen April"
    word = next(w for w in fixed.words if w.text == "metformin")
    assert word.original == "met for men" and 0.5 <= word.correction_confidence <= 1.0
    assert word.start == seg.words[2].start and word.end == seg.words[4].end


def test_correction_leaves_right_words_alone():
    text = "The patient has shortness of breath and atrial fibrillation, follow up in the morning with the clinic."
    (same,), corrections = default_corrector().correct_segments([_segment(text, p=0.3)])
    assert corrections == [] and same.text == text


@pytest.mark.slow
def test_correction_fixes_what_tiny_en_misspelled(office_note):
    audio, reference = office_note
    plain = TRANSCRIBER.transcribe(audio, backend="faster-whisper", settings=_settings())
    assert "atorvastatin" not in plain.text.lower(), plain.text  # misheard ("adorvastatin", "Ador Vastatin" by CPU)
    # rewriting (no precision bar): the term replaces what was heard
    fixed = TRANSCRIBER.transcribe(
        audio, backend="faster-whisper", settings=_settings(correct_terms=True, correction_min_precision=0.0)
    )
    assert "atorvastatin" in fixed.text.lower()
    c = next(c for c in fixed.corrections if c.term == "atorvastatin")
    assert c.heard.lower() in plain.text.lower() and c.heard.lower() != "atorvastatin", c.heard
    assert c.confidence > 0.5 and c.applied
    assert medical_term_errors(reference, fixed.text).wrong < medical_term_errors(reference, plain.text).wrong
    # at the shipped bar with a measured precision under it: the text stays as heard, the word is flagged
    from pipeline.transcribe.correction import may_rewrite

    if not may_rewrite(get_settings().correction_min_precision):
        flagged = TRANSCRIBER.transcribe(audio, backend="faster-whisper", settings=_settings(correct_terms=True))
        assert flagged.text == plain.text
        assert any(w.suggestion == "atorvastatin" for s in flagged.segments for w in s.words)
        assert not next(c for c in flagged.corrections if c.term == "atorvastatin").applied


# -- silence, noise, loops -------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("backend", ["faster-whisper", "openai-whisper"])
def test_quiet_room_and_noise_give_no_words(tmp_path, backend):
    rng = np.random.default_rng(0)
    quiet = _write_wav(tmp_path / "quiet.wav", rng.normal(0, 0.002, 16000 * 20))
    noise = _write_wav(tmp_path / "noise.wav", rng.normal(0, 0.25, 16000 * 20))
    settings = get_settings().model_copy(update={"beam_size": 1})
    for f in (quiet, noise):
        t = TRANSCRIBER.transcribe(load_media(f), backend=backend, settings=settings)
        assert t.text == "" and t.segments == [] and "no_speech" in t.flags, (f.name, t.text)


def test_repetition_loop_is_cut():
    words = _words("the patient " * 6 + "is stable")
    assert [w.text for w in cut_loops(words)] == ["the", "patient", "is", "stable"]
    looped = _segment("Blood pressure is stable. " + "Thank you. " * 5)
    same = _segment("No change.", 1)
    segs, removed = remove_repetitions([looped, same, same, same])
    assert removed and segs[0].text == "Blood pressure is stable. Thank you." and len(segs) == 2
    _, flags, _, _ = finish([looped], None, _settings(cut_loops=True))
    assert "repetition_removed" in flags


# -- dictation conventions -------------------------------------------------------------------------
def test_spoken_commands_become_punctuation_and_layout():
    seg = _segment(
        "he takes metformin period new paragraph blood pressure is fine comma stable period next section she had a period of rest"
    )
    segs, used = apply_commands([seg])
    t = Transcript.from_segments(segs, language="en", model="m", backend="b", duration=10.0)
    assert used == 5
    assert t.text == "he takes metformin.\n\nBlood pressure is fine, stable.\n\nShe had a period of rest"
    for start, end, s in t.segment_spans():  # words still map into the text (evidence times)
        assert t.text[start:end] == s.text and all(w.text in s.text for w in s.words)


def test_spoken_headers_become_sections_extraction_finds():
    import spacy

    import pipeline.extract.sections  # noqa: F401  (registers mrt_sections)

    seg = _segment(
        "Office visit. History of present illness, a 64 year old man. past medical history "
        "hypertension. Assessment and plan. Diabetes."
    )
    segs, marks = mark_sections([seg])
    t = Transcript.from_segments(segs, language="en", model="m", backend="b", duration=10.0)
    assert [name for _, name in marks] == ["hpi", "past_medical_history", "assessment_and_plan"]
    assert "\n\nHistory of present illness: A 64" in t.text and "\n\nAssessment and plan: Diabetes." in t.text
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("mrt_sections")
    names = [name for _, _, name in nlp(t.text)._.sections]
    assert names == ["untitled", "hpi", "past_medical_history", "assessment_and_plan"]


def test_a_header_split_between_two_segments_is_read_whole():
    """Whisper ended a segment inside "assessment and plan" (sample 02, refilled gap): the header moves
    whole into the next segment, not "assessment and" left as prose and "plan" read as a header."""
    first = _segment("No deep vein thrombosis, assessment and")
    second = _later(_segment("plan cellulitis, admit for vancomycin.", 1), first.end)
    segs, marks = mark_sections([first, second])
    t = Transcript.from_segments(segs, language="en", model="m", backend="b", duration=20.0)
    assert [name for _, name in marks] == ["assessment_and_plan"]
    assert "thrombosis,\n\nAssessment and plan: Cellulitis" in t.text, t.text
    # prose that only ends in a header's first words stays where it is
    segs, marks = mark_sections([_segment("He has a plan"), _later(_segment("for follow up.", 1), 5.0)])
    assert marks == [] and [s.text for s in segs] == ["He has a plan", "for follow up."]


# -- measures --------------------------------------------------------------------------------------
def test_medical_term_error_rate_and_medwer():
    ref = "He takes metformin and lisinopril for type 2 diabetes mellitus."
    hyp = "He takes met for men and lisinopril for type 2 diabetes malidus."
    s = medical_term_errors(ref, hyp)
    assert s.terms == 3 and set(s.missed) == {"metformin", "type 2 diabetes mellitus"} and s.rate == pytest.approx(2 / 3)
    assert medical_term_errors(ref, ref).wrong == 0
    m = medwer_scores([ref], [hyp])
    assert m["medical_wer"] > 0 and medwer_scores([ref], [ref])["medical_wer"] == 0


def test_speech_that_whisper_skipped_is_decoded_again():
    """Greedy decoding with the vocabulary prompt ends a segment of sample 02 after "without" and
    skips 20 s of speech; the VAD hears it and the gap is decoded again, so the assessment is there."""
    from pipeline.transcribe.transcribe import speech_gaps

    root = Path(__file__).resolve().parents[2] / "samples"
    settings = get_settings().model_copy(update={"bias_vocabulary": True, "fill_gaps": True, "beam_size": 1})
    t = TRANSCRIBER.transcribe(load_media(root / "02_history_physical_cellulitis.mp3"), settings=settings)
    text = t.text.lower()
    suggested = {w.suggestion for s in t.segments for w in s.words if w.suggestion}
    # the skipped 20 s are back: the assessment and the plan after "without". Their exact words vary by
    # CPU (greedy decoding on an Intel Xeon drops "of the right lower leg" after "cellulitis"; on an AMD
    # EPYC it keeps them), so the test reads the findings the coder needs, not one decoding of them
    tail = text.split("without", 1)[-1]
    assert "assessment and plan" in tail and "cellulitis" in tail.split("assessment and plan", 1)[-1], t.text[-300:]
    assert "nicotine dependence" in tail and ("vancomycin" in text or "vancomycin" in suggested), t.text[-300:]
    assert "without with out" not in text and "without without" not in text  # the refill starts 0.3 s early
    assert [s.start for s in t.segments] == sorted(s.start for s in t.segments)
    assert [s.id for s in t.segments] == list(range(len(t.segments)))
    # the gap finder itself: speech 10-20 s, words only up to 12 s -> one gap, pauses merged
    seg = Segment(0, 10.0, 20.0, "a b", words=[Word(10.0, 11.0, "a", 0.9), Word(11.0, 12.0, "b", 0.9)])
    assert speech_gaps([(10.0, 20.0)], [seg]) == [(12.0, 20.0)]
    assert speech_gaps([(10.0, 12.5)], [seg]) == []
    # a last word stretched over skipped speech covers no more than a word can last
    stretched = Segment(0, 10.0, 20.0, "a b", words=[Word(10.0, 11.0, "a", 0.9), Word(11.0, 19.9, "b", 0.9)])
    assert speech_gaps([(10.0, 20.0)], [stretched]) == [(13.5, 20.0)]
