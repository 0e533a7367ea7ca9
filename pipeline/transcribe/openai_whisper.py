"""openai-whisper (PyTorch) backend, on a checkpoint converted from the bundled weights."""

from __future__ import annotations

from pipeline.settings import Settings
from pipeline.transcribe.models import model_id, resolve_openai_checkpoint
from pipeline.transcribe.types import Segment, Word
from pipeline.transcribe.vocabulary import BiasPrompt

NAME = "openai-whisper"
MAX_GAP_S = 3.0  # silences shorter than this stay inside a clip


def merge_regions(speech: list[tuple[float, float]], max_gap: float = MAX_GAP_S) -> list[tuple[float, float]]:
    """Speech regions joined across short pauses (for clip-based decoding; unused while
    openai-whisper's clip_timestamps stalls, see ``segments``)."""
    out: list[list[float]] = []
    for s, e in speech:
        if out and s - out[-1][1] < max_gap:
            out[-1][1] = e
        else:
            out.append([max(0.0, s - 0.2), e])
    return [(s, e + 0.2) for s, e in out]


class OpenAIWhisperTranscriber:
    backend = NAME

    def __init__(self, settings: Settings):
        import torch
        import whisper

        from pipeline.transcribe.convert import load_openai_model

        self.settings = settings
        self.model_id = model_id(settings.whisper_model)
        if settings.cpu_threads:
            torch.set_num_threads(settings.cpu_threads)
        checkpoint = resolve_openai_checkpoint(settings.whisper_model, settings.cache_dir)
        if checkpoint.endswith(".pt"):
            self._model = load_openai_model(checkpoint, device=settings.device)
        else:
            self._model = whisper.load_model(checkpoint, device=settings.device, download_root=str(settings.cache_dir))

    def segments(
        self,
        samples,
        bias: BiasPrompt | None = None,
        previous_text: str | None = None,
        speech: list[tuple[float, float]] | None = None,
        settings: Settings | None = None,
    ) -> tuple[list[Segment], str]:
        s = settings or self.settings
        vocabulary = bias.hotwords if bias else None
        prompt = " ".join(p for p in (previous_text, vocabulary) if p) or None
        result = self._model.transcribe(
            samples,
            language=s.language,
            beam_size=s.beam_size if s.beam_size > 1 else None,
            temperature=(0.0, 0.2, 0.4, 0.6, 0.8, 1.0) if s.temperature_fallback else 0.0,
            fp16=False,
            word_timestamps=True,
            condition_on_previous_text=True,
            initial_prompt=prompt,
            carry_initial_prompt=bool(vocabulary),  # the vocabulary is re-sent with every 30 s window
            best_of=1,
            # no clip_timestamps from the VAD regions: openai-whisper 20250625 stalled on them (RTF > 4
            # on samples/05); the regions still decide "no speech" and drop segments outside speech
            verbose=None,
        )
        out = []
        for i, seg in enumerate(result["segments"]):
            words = [Word(w["start"], w["end"], w["word"].strip(), w.get("probability")) for w in seg.get("words", [])]
            out.append(
                Segment(
                    id=i,
                    start=seg["start"],
                    end=seg["end"],
                    text=seg["text"].strip(),
                    words=words,
                    avg_logprob=seg.get("avg_logprob"),
                    no_speech_prob=seg.get("no_speech_prob"),
                )
            )
        return out, result.get("language") or (s.language or "en")
