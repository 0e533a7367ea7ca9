"""faster-whisper (CTranslate2) backend."""

from __future__ import annotations

import os

from pipeline.settings import Settings
from pipeline.transcribe.cpu_kernels import CpuKernels, pin
from pipeline.transcribe.features import PortableFeatureExtractor
from pipeline.transcribe.models import model_id, resolve_ct2_model
from pipeline.transcribe.types import Segment, Word
from pipeline.transcribe.vocabulary import PROMPT_TOKEN_LIMIT, BiasPrompt

NAME = "faster-whisper"
FALLBACK_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # faster-whisper's default


def _budgeted_model_class():
    from faster_whisper import WhisperModel

    class BudgetedWhisperModel(WhisperModel):
        """``hotwords`` and the previous window's text share Whisper's 223-token prompt: the previous
        text is cut to what the hotwords leave (faster-whisper allows 223 tokens for each)."""

        def get_prompt(self, tokenizer, previous_tokens, without_timestamps=False, prefix=None, hotwords=None):
            if hotwords and not prefix and previous_tokens:
                room = PROMPT_TOKEN_LIMIT - 1 - len(tokenizer.encode(" " + hotwords.strip()))
                previous_tokens = previous_tokens[-room:] if room > 0 else []
            return super().get_prompt(tokenizer, previous_tokens, without_timestamps, prefix, hotwords)

    return BudgetedWhisperModel


class FasterWhisperTranscriber:
    backend = NAME

    def __init__(self, settings: Settings):
        self.settings = settings
        self.model_id = model_id(settings.whisper_model)
        kernels = CpuKernels(settings.cpu_kernels)
        pin(kernels, settings.device)  # before CTranslate2's first use in this process
        self._model = _budgeted_model_class()(
            resolve_ct2_model(settings.whisper_model, settings.cache_dir),
            device=settings.device,
            compute_type=settings.compute_type,
            cpu_threads=settings.cpu_threads or (os.cpu_count() or 0),  # 0 would let CTranslate2 oversubscribe
            local_files_only=False,
        )
        if kernels is CpuKernels.PORTABLE:  # the features too, not only the decoder (OpenBLAS picks kernels by CPU)
            self._model.feature_extractor = PortableFeatureExtractor(**self._model.feat_kwargs)

    def segments(
        self, samples, bias: BiasPrompt | None = None, previous_text: str | None = None, settings: Settings | None = None
    ) -> tuple[list[Segment], str]:
        s = settings or self.settings
        segs, info = self._model.transcribe(
            samples,
            language=s.language,
            beam_size=s.beam_size,
            vad_filter=s.vad_filter,
            word_timestamps=True,
            # kept with the vocabulary too: without the previous text, windows of long dictations lost
            # words (WER 0.104 vs 0.072 on the 12 benchmark files); the loops it sometimes sets off are
            # cut by cleanup.remove_repetitions
            condition_on_previous_text=True,
            # the vocabulary rides along with every 30 s window as hotwords; initial_prompt carries the
            # end of the previous piece of a long dictation (a style cue there made decoding fall back
            # to sampling far more often: 3-4x slower on the samples)
            initial_prompt=previous_text or None,
            hotwords=bias.hotwords if bias else None,
            # a window that fails the compression/log-probability checks is retried by sampling at a
            # higher temperature; one sample instead of five keeps those retries cheap (same WER on
            # the samples, RTF 0.077 -> 0.053 with biasing on a busy machine)
            best_of=1,
            temperature=FALLBACK_TEMPERATURES if s.temperature_fallback else 0.0,
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
