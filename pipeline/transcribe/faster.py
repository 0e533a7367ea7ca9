"""faster-whisper (CTranslate2) backend."""

from __future__ import annotations

from pipeline.settings import Settings
from pipeline.transcribe.models import model_id, resolve_ct2_model
from pipeline.transcribe.types import Segment, Word

NAME = "faster-whisper"


class FasterWhisperTranscriber:
    backend = NAME

    def __init__(self, settings: Settings):
        from faster_whisper import WhisperModel

        self.settings = settings
        self.model_id = model_id(settings.whisper_model)
        self._model = WhisperModel(
            resolve_ct2_model(settings.whisper_model),
            device=settings.device,
            compute_type=settings.compute_type,
            cpu_threads=settings.cpu_threads,
            local_files_only=False,
        )

    def segments(self, samples) -> tuple[list[Segment], str]:
        s = self.settings
        segs, info = self._model.transcribe(
            samples,
            language=s.language,
            beam_size=s.beam_size,
            vad_filter=s.vad_filter,
            word_timestamps=True,
            condition_on_previous_text=True,
        )
        out = []
        for i, seg in enumerate(segs):
            words = [Word(w.start, w.end, w.word.strip(), w.probability) for w in (seg.words or [])]
            out.append(
                Segment(
                    id=i,
                    start=seg.start,
                    end=seg.end,
                    text=seg.text.strip(),
                    words=words,
                    avg_logprob=seg.avg_logprob,
                    no_speech_prob=seg.no_speech_prob,
                )
            )
        return out, info.language
