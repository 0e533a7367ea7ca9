"""The transcription development set and what the stages after decoding may do.

Real espeak-ng and hibari-tts speech of MTSamples text, real Whisper tiny.en, the real lexicon.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from mrt_eval.transcribe import devset
from mrt_eval.transcribe.wer import keep_medical_words, normalize, word_counts
from pipeline.settings import get_settings
from pipeline.transcribe.types import Segment, Word

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "bench" / "transcribe_devset_manifest.json"
# one clip per engine, both with a long pause; the espeak one heavily compressed
SUBSET = ["hibari-heart_02", "espeak-gb-f3_02"]


def _need_sources():
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (scripts/setup.sh installs it)")
    if not devset.default_csv().is_file():
        pytest.skip(f"MTSamples not found at {devset.default_csv()}")
    pytest.importorskip("hibari")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    _need_sources()
    out = tmp_path_factory.mktemp("devset")
    return out, devset.build(out, only=SUBSET)


def test_plan_is_split_by_voice_and_covers_conditions_and_habits():
    _need_sources()
    specs = devset.plan(devset.read_notes(devset.default_csv()))
    by_split = {s: [c for c in specs if c.split == s] for s in devset.SPLITS}
    assert not {c.voice for c in by_split["dev"]} & {c.voice for c in by_split["heldout"]}
    for split, clips in by_split.items():
        assert {c.condition for c in clips} == set(devset.CONDITIONS), split
        assert {h for c in clips for h in c.habits} == set(devset.HABITS), split
    assert len({c.note_id for c in specs}) == len(specs)  # no note spoken twice


def test_devset_build_is_deterministic_and_matches_the_committed_manifest(built, tmp_path):
    out, first = built
    again = devset.build(tmp_path, only=SUBSET)
    assert [c["audio_sha256"] for c in again["clips"]] == [c["audio_sha256"] for c in first["clips"]]
    assert [c["reference_sha256"] for c in again["clips"]] == [c["reference_sha256"] for c in first["clips"]]
    committed = {c["name"]: c for c in json.loads(MANIFEST.read_text())["clips"]}
    for c in first["clips"]:
        ref = committed[c["name"]]
        assert (c["reference_sha256"], c["file"], c["condition"], c["voice"]) == (
            ref["reference_sha256"],
            ref["file"],
            ref["condition"],
            ref["voice"],
        )
        assert abs(c["duration_s"] - ref["duration_s"]) < 0.5
        assert (out / c["file"]).is_file() and (out / c["file"]).with_suffix(".txt").is_file()


def test_medical_words_count_drugs_doses_and_units():
    ref = "Metoprolol 25 milligrams twice a day for hypertension."
    assert keep_medical_words(normalize(ref)) == ["metoprolol", "25", "mg", "hypertension"]
    c = word_counts(ref, "Meta prolol 25 mg twice a day for hypertension.")
    assert c.medical_words == 4 and c.medical_edits == 1 and c.edits == 2


# -- nothing after decoding invents speech -----------------------------------------------------------
def _settings(**on):
    stages = {
        s: False for s in ("bias_vocabulary", "fill_gaps", "drop_non_speech", "cut_loops", "dictation_commands", "correct_terms")
    }
    return get_settings().model_copy(update={"whisper_model": "tiny.en", "beam_size": 1, **stages, **on})


@pytest.mark.slow
def test_stages_after_decoding_insert_nothing_plain_decoding_did_not_hear(built):
    from pipeline.transcribe.audio import load_media
    from pipeline.transcribe.transcribe import Transcriber, decode, fill_gaps, finish

    out, manifest = built
    for clip in manifest["clips"]:
        media = out / clip["file"]
        reference = media.with_suffix(".txt").read_text()
        audio = load_media(media)
        plain_settings = _settings()
        model = Transcriber(plain_settings).model()
        raw, _, regions = decode(audio, model, plain_settings, None)
        plain_text = " ".join(s.text for s in finish(list(raw), regions, plain_settings)[0])
        # cleanup and dictation commands only remove or re-punctuate what was decoded
        cleaned, _, _, _ = finish(list(raw), regions, _settings(drop_non_speech=True, cut_loops=True, dictation_commands=True))
        heard = Counter(normalize(plain_text).split())
        kept = Counter(normalize(" ".join(s.text for s in cleaned)).split())
        assert not (kept - heard), (clip["name"], kept - heard)
        # the gap refill adds words only where no decoded word is, and repeats nothing already transcribed
        filled = fill_gaps(audio, list(raw), regions, model, _settings(fill_gaps=True))
        spans = [(w.start, w.end) for seg in raw for w in seg.words]
        added = [w for seg in filled if seg not in raw for w in seg.words]
        assert not [w for w in added if any(a < (w.start + w.end) / 2 < b for a, b in spans)], clip["name"]
        filled_text = " ".join(s.text for s in filled)
        grams = lambda text: Counter(zip(*(normalize(text).split()[k:] for k in range(3))))
        said, heard3, now = grams(reference), grams(plain_text), grams(filled_text)
        copied = {g: n for g, n in now.items() if heard3[g] and n > max(said[g], heard3[g])}
        assert not copied, (clip["name"], copied)


@pytest.mark.slow
def test_gap_refill_recovers_skipped_speech_without_copying_what_came_before(built):
    """Whisper skipping the speech after a pause is simulated by dropping the decoded segments after
    the clip's long pause; the refill must bring those words back and repeat none of the earlier ones."""
    from pipeline.transcribe.audio import load_media
    from pipeline.transcribe.cleanup import speech_regions
    from pipeline.transcribe.transcribe import Transcriber, decode, fill_gaps

    out, manifest = built
    clip = manifest["clips"][0]
    audio = load_media(out / clip["file"])
    settings = _settings()
    model = Transcriber(settings).model()
    raw, _, _ = decode(audio, model, settings, None)
    regions = speech_regions(audio.samples)
    pauses = [(a[1], b[0]) for a, b in zip(regions, regions[1:]) if b[0] - a[1] >= 2.5]
    assert pauses, regions
    cut = pauses[0][1]
    kept = [s for s in raw if s.end <= cut + 0.1]
    dropped = [s for s in raw if s.end > cut + 0.1][:3]
    assert kept and dropped
    t_end = dropped[-1].end
    partial = kept + [s for s in raw if s.start >= t_end - 0.1 and s not in dropped]
    filled = fill_gaps(audio, partial, regions, model, _settings(fill_gaps=True))
    added = [s for s in filled if s not in partial]
    added_words = normalize(" ".join(s.text for s in added)).split()
    lost_words = normalize(" ".join(s.text for s in dropped)).split()
    assert len(set(added_words) & set(lost_words)) >= len(set(lost_words)) * 0.6, (added_words, lost_words)
    before = normalize(" ".join(s.text for s in kept)).split()
    trigrams = {tuple(before[i : i + 3]) for i in range(len(before) - 2)}
    copied = [tuple(added_words[i : i + 3]) for i in range(len(added_words) - 2) if tuple(added_words[i : i + 3]) in trigrams]
    lost_trigrams = {tuple(lost_words[i : i + 3]) for i in range(len(lost_words) - 2)}
    assert not [g for g in copied if g not in lost_trigrams], copied


# -- the corrector flags instead of rewriting below its precision bar ----------------------------------
def _segment(text: str, probs: dict) -> Segment:
    words = [Word(i * 0.5, i * 0.5 + 0.4, w, probs.get(w, 0.9)) for i, w in enumerate(text.split())]
    return Segment(0, 0.0, words[-1].end, text, words)


def test_corrector_below_its_precision_flags_the_word_and_keeps_what_was_heard(monkeypatch):
    from pipeline.transcribe import correction
    from pipeline.transcribe.transcribe import finish

    seg = _segment("She takes met for men 500 mg twice daily.", {"met": 0.3, "for": 0.4, "men": 0.3})
    monkeypatch.setattr(correction, "measured_precision", lambda: 0.80)
    settings = _settings(correct_terms=True)  # the bar: 0.95
    (flagged,), _, corrections, _ = finish([seg], None, settings)
    assert flagged.text == seg.text
    assert [w.suggestion for w in flagged.words if w.suggestion] == ["metformin"] * 3
    assert corrections and not corrections[0].applied and corrections[0].term == "metformin"
    monkeypatch.setattr(correction, "measured_precision", lambda: 0.97)
    (fixed,), _, corrections, _ = finish([seg], None, settings)
    assert "metformin" in fixed.text and corrections[0].applied
    assert next(w for w in fixed.words if w.text == "metformin").original == "met for men"


def test_shipped_precision_is_what_the_dev_set_measured():
    from pipeline.transcribe.correction import PRECISION_FILE, may_rewrite, measured_precision

    data = json.loads(PRECISION_FILE.read_text())
    assert (
        data["split"] == "dev"
        and data["made"] > 0
        and measured_precision() == pytest.approx(data["right"] / data["made"], abs=1e-3)
    )
    assert may_rewrite(get_settings().correction_min_precision) == (
        measured_precision() >= get_settings().correction_min_precision
    )


def test_spoken_edits_scratch_that_and_spelled_words():
    from pipeline.transcribe.dictation import apply_edits

    seg = _segment(
        "He takes aspirin. She was given 55 milligrams, scratch that. She was given 25 milligrams. "
        "Started on meta pralled, spelled M-E-T-O-P-R-O-L-O-L, daily.",
        {},
    )
    (out,), used = apply_edits([seg])
    assert used == 2
    assert out.text == "He takes aspirin. She was given 25 milligrams. Started on metoprolol, daily."
    assert next(w for w in out.words if w.text.startswith("metoprolol")).original == "meta pralled"


def test_a_spelling_with_one_letter_misheard_keeps_the_word_heard():
    """Whisper heard the word right and dropped a letter of its spelling (real tiny.en output on the
    development set's hibari-heart_02): the word stays, the command goes."""
    from pipeline.transcribe.dictation import apply_edits

    seg = _segment("A Metzenbaum scissors spelled SCIS-ORS was used to elevate the area.", {})
    (out,), used = apply_edits([seg])
    assert used == 1
    assert out.text == "A Metzenbaum scissors was used to elevate the area."
    # a spelling whose letters are a word, or a word heard as no word, is still written as spelled
    (out,), _ = apply_edits([_segment("Started on lisinoprel spelled L-I-S-I-N-O-P-R-I-L daily.", {})])
    assert out.text == "Started on lisinopril daily."


def test_profiles_set_model_and_beam_unless_given(monkeypatch):
    from pipeline.settings import Settings

    assert (Settings().whisper_model, Settings().beam_size) == ("tiny.en", 1)
    s = Settings(transcribe_profile="cpu-accuracy")
    assert (s.whisper_model, s.beam_size) == ("base", 5)
    assert Settings(transcribe_profile="cpu-accuracy", beam_size=2).beam_size == 2
    with pytest.raises(ValueError, match="MRT_WHISPER_MODEL"):
        Settings(transcribe_profile="gpu")
    g = Settings(transcribe_profile="gpu", whisper_model="/models/large-v3")
    assert (g.device, g.compute_type, g.beam_size) == ("cuda", "float16", 5)


@pytest.mark.slow
def test_gap_refill_does_not_decode_again_speech_already_transcribed(built):
    """Word timestamps that drift (all of a sentence's words squeezed at its start) make speech that was
    transcribed look uncovered to the VAD check; the refill must not write that sentence a second time
    (the issue's consultation got "have you had a cough no okay" three times)."""
    from dataclasses import replace

    from pipeline.transcribe.audio import load_media
    from pipeline.transcribe.cleanup import speech_regions
    from pipeline.transcribe.transcribe import Transcriber, decode, fill_gaps, speech_gaps

    out, manifest = built
    audio = load_media(out / manifest["clips"][0]["file"])
    settings = _settings()
    model = Transcriber(settings).model()
    raw, _, _ = decode(audio, model, settings, None)
    regions = speech_regions(audio.samples)
    k = max(range(len(raw)), key=lambda i: (raw[i].end - raw[i].start) if len(raw[i].words) >= 8 else 0)
    seg = raw[k]
    step = 0.3 / len(seg.words)
    squeezed = [replace(w, start=seg.start + i * step, end=seg.start + (i + 1) * step) for i, w in enumerate(seg.words)]
    drifted = raw[:k] + [replace(seg, words=squeezed)] + raw[k + 1 :]
    assert speech_gaps(regions, drifted), "the drift must leave speech uncovered"
    filled = fill_gaps(audio, drifted, regions, model, _settings(fill_gaps=True))
    before = Counter(zip(*(normalize(" ".join(s.text for s in drifted)).split()[i:] for i in range(3))))
    after = Counter(zip(*(normalize(" ".join(s.text for s in filled)).split()[i:] for i in range(3))))
    doubled = {g: n for g, n in after.items() if before[g] and n > before[g]}
    assert not doubled, doubled
