"""openai-whisper (PyTorch) backend, on a checkpoint converted from the bundled weights."""

from __future__ import annotations

from pipeline.settings import Settings
from pipeline.transcribe.models import model_id, resolve_openai_checkpoint
from pipeline.transcribe.types import Segment, Word

NAME = "openai-whisper"


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

    def segments(self, samples) -> tuple[list[Segment], str]:
        s = self.settings
        result = self._model.transcribe(
            samples,
            language=s.language,
            beam_size=s.beam_size if s.beam_size > 1 else None,
            temperature=(0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
            fp16=False,
            word_timestamps=True,
            condition_on_previous_text=True,
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
