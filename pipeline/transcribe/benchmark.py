"""The transcription benchmark behind ``mrt bench transcribe DIR`` and ``bench/transcribe_bench.py``.

A dataset is a folder of media files, each with ``NAME.txt`` (the reference text) and optionally
``NAME.json`` (sidecar metadata: ``document_type``, ``specialty``) or a ``manifest.json`` listing
``file``/``reference``/``document_type`` (as ``samples/`` has). Every configuration (backend, model,
compute type, beam size, biasing+correction on or off) transcribes every file once after loading
and one warm-up; figures are corpus totals: real-time factor (processing seconds / audio seconds),
WER (Whisper's English normalizer, micro-averaged), the medical-term error rate (lexicon terms of
the references missing or wrong) and ``medwer``'s medical WER.
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from pipeline.settings import Settings
from pipeline.transcribe.audio import Audio, is_media_file, load_media
from pipeline.transcribe.vocabulary import DictationContext


@dataclass(frozen=True)
class Item:
    name: str
    audio: Audio
    reference: str
    context: DictationContext


@dataclass(frozen=True)
class Config:
    backend: str = "faster-whisper"
    model: str = "tiny.en"
    compute_type: str = "int8"
    beam_size: int = 1
    enhanced: bool = True  # biasing + term correction + dictation commands

    @property
    def label(self) -> str:
        return "bias+correct" if self.enhanced else "plain"

    def settings(self, base: Settings) -> Settings:
        return base.model_copy(
            update={
                "whisper_model": self.model, "compute_type": self.compute_type, "beam_size": self.beam_size,
                "bias_vocabulary": self.enhanced, "correct_terms": self.enhanced, "dictation_commands": self.enhanced,
            }
        )


@dataclass
class Row:
    backend: str
    model: str
    compute: str
    beam: int
    variant: str
    files: int
    audio_s: float
    processing_s: float
    load_s: float
    rtf: float
    wer: float
    medical_term_error_rate: float | None
    medical_terms: int
    medwer_medical_wer: float | None
    medwer_wer: float | None
    corrections: int
    per_file: list[dict] = field(default_factory=list)


def load_dataset(folder: Path) -> list[Item]:
    """Media files of ``folder`` that have a reference text, with their metadata."""
    folder = Path(folder)
    meta: dict[str, dict] = {}
    manifest = folder / "manifest.json"
    if manifest.is_file():
        for e in json.loads(manifest.read_text()).get("samples", []):
            meta[Path(e["file"]).stem] = e
    items = []
    for media in sorted(p for p in folder.iterdir() if is_media_file(p)):
        ref = folder / f"{media.stem}.txt"
        if not ref.is_file():
            continue
        sidecar = folder / f"{media.stem}.json"
        m = dict(meta.get(media.stem, {}))
        if sidecar.is_file():
            m.update(json.loads(sidecar.read_text()))
        items.append(Item(media.stem, load_media(media), ref.read_text(encoding="utf-8"), DictationContext.from_metadata(m)))
    if not items:
        raise ValueError(f"{folder}: no media file with a NAME.txt reference")
    return items


def run_config(config: Config, items: list[Item], base: Settings, on_file: Callable[[str], None] | None = None) -> Row:
    from pipeline.transcribe.transcribe import get_transcriber, transcribe_audio
    from pipeline.transcribe.wer import medical_term_errors, medwer_scores, normalize

    settings = config.settings(base)
    t0 = time.perf_counter()
    get_transcriber(settings, config.backend)
    load_s = time.perf_counter() - t0
    transcribe_audio(items[0].audio, settings, config.backend, items[0].context)  # warm-up: caches, lexicon
    per, refs, hyps = [], [], []
    audio_s = proc_s = 0.0
    errors = ref_words = terms = wrong = corrections = 0
    import jiwer

    for it in items:
        t = transcribe_audio(it.audio, settings, config.backend, it.context)
        ref_n, hyp_n = normalize(it.reference), normalize(t.text)
        m = jiwer.process_words(ref_n, hyp_n) if hyp_n.strip() else None
        e = (m.substitutions + m.deletions + m.insertions) if m else len(ref_n.split())
        ts = medical_term_errors(it.reference, t.text)
        audio_s += t.duration
        proc_s += t.processing_seconds
        errors += e
        ref_words += len(ref_n.split())
        terms += ts.terms
        wrong += ts.wrong
        corrections += len(t.corrections)
        refs.append(it.reference)
        hyps.append(t.text)
        per.append({"name": it.name, "audio_s": round(t.duration, 2), "rtf": round(t.real_time_factor, 4),
                    "wer": round(e / max(1, len(ref_n.split())), 4), "medical_terms": ts.terms, "medical_terms_wrong": ts.wrong,
                    "missed_terms": list(ts.missed), "corrections": [asdict(c) for c in t.corrections], "flags": t.flags,
                    "text": t.text})
        if on_file:
            on_file(it.name)
    mw = medwer_scores(refs, hyps)
    return Row(
        config.backend, config.model, config.compute_type if config.backend == "faster-whisper" else "float32",
        config.beam_size, config.label, len(items), round(audio_s, 1), round(proc_s, 2), round(load_s, 2),
        round(proc_s / audio_s, 4), round(errors / max(1, ref_words), 4),
        round(wrong / terms, 4) if terms else None, terms,
        round(mw["medical_wer"], 4) if mw["medical_wer"] is not None else None,
        round(mw["wer"], 4) if mw["wer"] is not None else None, corrections, per,
    )


def machine() -> dict:
    return {"machine": platform.machine(), "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
            "python": platform.python_version(), "load_average": [round(x, 2) for x in os.getloadavg()]}


def table(rows: list[Row], title: str):
    from rich.table import Table

    tab = Table(title=title)
    for col in ("backend", "model", "compute", "beam", "variant", "audio s", "RTF", "WER", "med-term err", "medwer med-WER", "fixes"):
        tab.add_column(col, justify="right" if col not in ("backend", "model", "compute", "variant") else "left")
    for r in rows:
        mt = f"{r.medical_term_error_rate:.3f} ({r.medical_terms})" if r.medical_term_error_rate is not None else "-"
        mw = f"{r.medwer_medical_wer:.3f}" if r.medwer_medical_wer is not None else "-"
        tab.add_row(r.backend, r.model, r.compute, str(r.beam), r.variant, f"{r.audio_s:.0f}", f"{r.rtf:.3f}", f"{r.wer:.3f}", mt, mw, str(r.corrections))
    return tab


def configs_for(backends: list[str], models: list[str], variants: list[str], beam: int, plain_beam: int, compute_type: str) -> list[Config]:
    out = []
    for b in backends:
        for m in models:
            for v in variants:
                enhanced = v != "plain"
                out.append(Config(b, m, compute_type, beam if enhanced else plain_beam, enhanced))
    return out
