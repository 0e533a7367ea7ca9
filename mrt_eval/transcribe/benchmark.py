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
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

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
        first, second = split_model(self.model)
        return base.model_copy(
            update={
                "whisper_model": first,
                "redecode_model": second,
                "compute_type": self.compute_type,
                "beam_size": self.beam_size,
                "bias_vocabulary": self.enhanced,
                "correct_terms": self.enhanced,
                "dictation_commands": self.enhanced,
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
    from mrt_eval.transcribe.wer import medical_term_errors, medwer_scores, normalize
    from pipeline.transcribe.transcribe import Transcriber

    settings = config.settings(base)
    t0 = time.perf_counter()
    transcriber = Transcriber(settings)
    transcriber.warm(settings, config.backend)
    load_s = time.perf_counter() - t0
    transcriber.transcribe(items[0].audio, items[0].context, config.backend)  # warm-up: caches, lexicon
    per, refs, hyps = [], [], []
    audio_s = proc_s = 0.0
    errors = ref_words = terms = wrong = corrections = 0
    import jiwer

    for it in items:
        t = transcriber.transcribe(it.audio, it.context, config.backend)
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
        per.append(
            {
                "name": it.name,
                "audio_s": round(t.duration, 2),
                "rtf": round(t.real_time_factor, 4),
                "wer": round(e / max(1, len(ref_n.split())), 4),
                "medical_terms": ts.terms,
                "medical_terms_wrong": ts.wrong,
                "missed_terms": list(ts.missed),
                "corrections": [asdict(c) for c in t.corrections],
                "flags": t.flags,
                "text": t.text,
            }
        )
        if on_file:
            on_file(it.name)
    mw = medwer_scores(refs, hyps)
    return Row(
        config.backend,
        config.model,
        config.compute_type if config.backend == "faster-whisper" else "float32",
        config.beam_size,
        config.label,
        len(items),
        round(audio_s, 1),
        round(proc_s, 2),
        round(load_s, 2),
        round(proc_s / audio_s, 4),
        round(errors / max(1, ref_words), 4),
        round(wrong / terms, 4) if terms else None,
        terms,
        round(mw["medical_wer"], 4) if mw["medical_wer"] is not None else None,
        round(mw["wer"], 4) if mw["wer"] is not None else None,
        corrections,
        per,
    )


def machine() -> dict:
    return {
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def table(rows: list[Row], title: str):
    from rich.table import Table

    tab = Table(title=title)
    for col in (
        "backend",
        "model",
        "compute",
        "beam",
        "variant",
        "audio s",
        "RTF",
        "WER",
        "med-term err",
        "medwer med-WER",
        "fixes",
    ):
        tab.add_column(col, justify="right" if col not in ("backend", "model", "compute", "variant") else "left")
    for r in rows:
        mt = f"{r.medical_term_error_rate:.3f} ({r.medical_terms})" if r.medical_term_error_rate is not None else "-"
        mw = f"{r.medwer_medical_wer:.3f}" if r.medwer_medical_wer is not None else "-"
        tab.add_row(
            r.backend,
            r.model,
            r.compute,
            str(r.beam),
            r.variant,
            f"{r.audio_s:.0f}",
            f"{r.rtf:.3f}",
            f"{r.wer:.3f}",
            mt,
            mw,
            str(r.corrections),
        )
    return tab


def configs_for(
    backends: list[str], models: list[str], variants: list[str], beam: int, plain_beam: int, compute_type: str
) -> list[Config]:
    out = []
    for b in backends:
        for m in models:
            for v in variants:
                enhanced = v != "plain"
                out.append(Config(b, m, compute_type, beam if enhanced else plain_beam, enhanced))
    return out


# -- the development-set matrix: models/profiles x word transformations, per voice -------------------------
STAGES = ("bias_vocabulary", "fill_gaps", "drop_non_speech", "cut_loops", "dictation_commands", "correct_terms")
DECODE_STAGES = ("bias_vocabulary",)  # changes what Whisper decodes; the gap refill decodes again after it, the others edit text


@dataclass(frozen=True)
class Variant:
    """One transcription configuration: a model/beam and which word transformations run."""

    name: str
    model: str = "tiny.en"
    beam_size: int = 1
    compute_type: str = "int8"
    stages: frozenset[str] = frozenset(STAGES)
    redecode: str | None = None  # a second model re-decoding the first's unsure and medical words (tiny.en+base)

    def settings(self, base: Settings) -> Settings:
        return base.model_copy(
            update={
                "whisper_model": self.model,
                "beam_size": self.beam_size,
                "compute_type": self.compute_type,
                "redecode_model": self.redecode,
                **{s: s in self.stages for s in STAGES},
            }
        )

    @property
    def model_label(self) -> str:
        return f"{self.model}+{self.redecode}" if self.redecode else self.model

    @property
    def first_pass_key(self) -> tuple:
        """What the first model decodes (shared by a combination and its first model alone)."""
        return (self.model, self.beam_size, self.compute_type, tuple(s for s in DECODE_STAGES if s in self.stages))

    @property
    def decode_key(self) -> tuple:
        return self.first_pass_key + ((self.redecode,) if self.redecode else ())


def split_model(name: str) -> tuple[str, str | None]:
    """``tiny.en+base`` -> ("tiny.en", "base"): the first model, and the second that re-decodes its doubtful words."""
    first, _, second = name.partition("+")
    return first, second or None


def profile_variants(base: Settings) -> list[Variant]:
    """The transcription profiles this machine can run (``gpu`` only with a model and a GPU)."""
    from pipeline.settings import TRANSCRIBE_PROFILES
    from pipeline.transcribe import base_model

    out = []
    for name, preset in TRANSCRIBE_PROFILES.items():
        needs_base = "base" in (preset.get("whisper_model"), preset.get("redecode_model"))
        if preset.get("device", "cpu") != "cpu" or (needs_base and not base_model.is_available()):
            continue
        stages = frozenset(s for s in STAGES if getattr(base, s))
        out.append(
            Variant(
                f"profile {name}",
                preset["whisper_model"],
                preset["beam_size"],
                preset["compute_type"],
                stages,
                preset.get("redecode_model"),
            )
        )
    return out


def model_variants(model: str, beam: int, base: Settings) -> list[Variant]:
    """Plain decoding and the default word transformations, for one model and beam size. ``tiny.en+base``:
    tiny.en at ``beam``, then base (``MRT_REDECODE_BEAM_SIZE``, 5) on tiny.en's unsure and medical words."""
    defaults = frozenset(s for s in STAGES if getattr(base, s))
    first, second = split_model(model)
    label = f"{first} beam {beam}" + (f" + {second} beam {base.redecode_beam_size}" if second else "")
    return [
        Variant(f"{label} plain", first, beam, stages=frozenset(), redecode=second),
        Variant(f"{label} defaults", first, beam, stages=defaults, redecode=second),
    ]


def ablation_variants(model: str = "tiny.en", beam: int = 1, defaults: frozenset[str] | None = None) -> list[Variant]:
    """Plain decoding, each transformation alone on top of it, the defaults, and the defaults less each one."""
    defaults = frozenset(STAGES) if defaults is None else defaults
    out = [Variant("plain", model, beam, stages=frozenset())]
    out += [Variant(f"plain + {s}", model, beam, stages=frozenset({s})) for s in STAGES]
    out.append(Variant("all on", model, beam, stages=frozenset(STAGES)))
    out += [Variant(f"all on - {s}", model, beam, stages=frozenset(STAGES) - {s}) for s in STAGES]
    if defaults != frozenset(STAGES):
        out.append(Variant("defaults", model, beam, stages=defaults))
    return out


def _correction_outcomes(reference: str, segments) -> tuple[int, int]:
    """(right, made) for the corrections in ``segments`` (words with ``original`` set): right when every
    normalized token of the corrected word is aligned to an identical reference token."""
    import jiwer

    from mrt_eval.transcribe.wer import normalize

    toks, flagged = [], []
    for seg in segments:
        for w in seg.words:
            for t in normalize(w.text).split():
                toks.append(t)
                flagged.append(w.original is not None or getattr(w, "suggestion", None) is not None)
    made_idx = {i for i, f in enumerate(flagged) if f}
    if not made_idx:
        return 0, 0
    ref = normalize(reference)
    ok = set()
    if ref.strip() and toks:
        for ch in jiwer.process_words(ref, " ".join(toks)).alignments[0]:
            if ch.type == "equal":
                ok.update(range(ch.hyp_start_idx, ch.hyp_end_idx))
    # group consecutive flagged tokens of one word: count words, not tokens
    made = right = 0
    i = 0
    while i < len(toks):
        if i in made_idx:
            j = i
            while j + 1 < len(toks) and j + 1 in made_idx:
                j += 1
            made += 1
            right += all(k in ok for k in range(i, j + 1))
            i = j + 1
        else:
            i += 1
    return right, made


def _decode_cache_key(key: tuple, name: str, base: Settings, samples=None) -> str:
    """Decodings are cached by configuration, file and the decoding code's own source."""
    import hashlib

    from pipeline.transcribe import faster, vocabulary

    h = hashlib.sha256(
        repr((key, name, base.bias_max_tokens, base.transcribe_chunk_s, base.vad_filter, base.cpu_kernels)).encode()
    )
    if samples is not None:
        h.update(samples.tobytes())
    for mod in (faster, vocabulary):
        h.update(Path(mod.__file__).read_bytes())
    return h.hexdigest()[:24]


def run_matrix(
    folder: Path,
    variants: list[Variant],
    base: Settings,
    on_file: Callable[[str], None] | None = None,
    decode_cache: Path | None = None,
) -> dict:
    """Every variant over every file of ``folder``; each distinct decoding runs once, the transformations
    after decoding run per variant on its output. Returns {"rows": [...], "files": [...], "corrections": ...}."""
    import resource

    from mrt_eval.transcribe.devset import voice_of
    from mrt_eval.transcribe.wer import ZERO, word_counts
    from pipeline.transcribe.redecode import RedecodeOptions, redecode
    from pipeline.transcribe.transcribe import Transcriber, decode, fill_gaps, finish
    from pipeline.transcribe.vocabulary import build_bias

    items = load_dataset(folder)
    groups: dict[tuple, list[Variant]] = {}
    for v in variants:
        groups.setdefault(v.decode_key, []).append(v)
    per_variant: dict[str, dict] = {
        v.name: {"variant": v, "counts": {}, "seconds": 0.0, "audio": 0.0, "files": []} for v in variants
    }
    correction_right = correction_made = 0
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_by_model: dict[str, float] = {}
    redecoded_s: dict[tuple, float] = {}  # audio seconds the second model decoded, per decoding
    transcriber = Transcriber(base)  # one model per distinct model setting, across the groups
    for key, vs in groups.items():
        dsettings = vs[0].settings(base)
        model = transcriber.model(settings=dsettings)  # loaded even when decodings are cached: its memory counts
        second = transcriber.redecoder(settings=dsettings)
        options = RedecodeOptions.from_settings(dsettings)
        for it in items:
            bias = None
            if dsettings.bias_vocabulary and dsettings.bias_max_tokens > 0:
                bias = build_bias(
                    it.context, str(dsettings.vocabulary_file) if dsettings.vocabulary_file else None, dsettings.bias_max_tokens
                )
            dsettings = dsettings.model_copy(update={"fill_gaps": False})
            first_key = vs[0].first_pass_key  # a combination's first pass is its first model's decoding
            cached = (
                Path(decode_cache) / f"{_decode_cache_key(first_key, it.name, base, it.audio.samples)}.pkl"
                if decode_cache
                else None
            )
            if cached is not None and cached.is_file():
                import pickle

                raw, regions, decode_s = pickle.loads(cached.read_bytes())
            else:
                t0 = time.perf_counter()
                raw, _, regions = decode(it.audio, model, dsettings, bias)
                decode_s = time.perf_counter() - t0
                if cached is not None:
                    import pickle

                    cached.parent.mkdir(parents=True, exist_ok=True)
                    cached.write_bytes(pickle.dumps((raw, regions, decode_s)))
            if second is not None and options is not None:  # the second model's re-decoding: never cached
                t0 = time.perf_counter()
                raw, windows = redecode(it.audio, list(raw), second, dsettings, options, bias)
                decode_s += time.perf_counter() - t0
                redecoded_s[key] = redecoded_s.get(key, 0.0) + sum(w.end - w.start for w in windows)
            filled = None
            for v in vs:
                vsettings = v.settings(base)
                t1 = time.perf_counter()
                decoded = raw
                if vsettings.fill_gaps:
                    if filled is None:
                        filled = (fill_gaps(it.audio, list(raw), regions, model, vsettings), time.perf_counter() - t1)
                    else:
                        t1 -= filled[1]  # the refill's decoding time counts for every variant that uses it
                    decoded = filled[0]
                segs, _, _, _ = finish(list(decoded), regions, vsettings)
                finish_s = time.perf_counter() - t1
                text = " ".join(s.text.strip() for s in segs if s.text.strip())
                c = word_counts(it.reference, text)
                pv = per_variant[v.name]
                voice = voice_of(it.name)
                pv["counts"][voice] = pv["counts"].get(voice, ZERO) + c
                pv["seconds"] += decode_s + finish_s
                pv["audio"] += it.audio.duration
                pv["files"].append(
                    {
                        "name": it.name,
                        "voice": voice,
                        "wer": c.wer,
                        "medical_wer": c.medical_wer,
                        "insertions": c.insertions,
                        "deletions": c.deletions,
                        "text": text,
                    }
                )
                if v.stages == frozenset({"correct_terms"}):  # the corrector's precision, measured rewriting
                    rsegs, _, _, _ = finish(list(raw), regions, vsettings.model_copy(update={"correction_min_precision": 0.0}))
                    r, m = _correction_outcomes(it.reference, rsegs)
                    correction_right += r
                    correction_made += m
            if on_file:
                on_file(it.name)
        peak_by_model[vs[0].model_label] = max(
            peak_by_model.get(vs[0].model_label, 0.0), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        )
    rows = []
    for name, pv in per_variant.items():
        total = sum(pv["counts"].values(), ZERO)
        rows.append(
            {
                "variant": name,
                "model": pv["variant"].model_label,
                "beam": pv["variant"].beam_size,
                "stages": sorted(pv["variant"].stages),
                "audio_s": round(pv["audio"], 1),
                "rtf": round(pv["seconds"] / pv["audio"], 4) if pv["audio"] else None,
                "peak_rss_mb": round(peak_by_model.get(pv["variant"].model_label, 0.0)),
                "redecoded_share": (
                    round(redecoded_s[pv["variant"].decode_key] / pv["audio"], 4)
                    if pv["variant"].decode_key in redecoded_s and pv["audio"]
                    else None
                ),
                "all": _counts_dict(total),
                "voices": {k: _counts_dict(c) for k, c in sorted(pv["counts"].items())},
                "files": pv["files"],
            }
        )
    return {
        "folder": str(folder),
        "files": len(items),
        "rss_before_mb": round(rss_before / 1024),
        "rows": rows,
        "correction_precision": {
            "right": correction_right,
            "made": correction_made,
            "precision": round(correction_right / correction_made, 4) if correction_made else None,
        },
    }


def _counts_dict(c) -> dict:
    return {
        "wer": round(c.wer, 4) if c.wer is not None else None,
        "medical_wer": round(c.medical_wer, 4) if c.medical_wer is not None else None,
        "words": c.words,
        "medical_words": c.medical_words,
        "substitutions": c.substitutions,
        "deletions": c.deletions,
        "insertions": c.insertions,
    }


def matrix_table(result: dict, title: str, per_voice: bool = True):
    from rich.table import Table

    tab = Table(title=title)
    for col in ("configuration", "voice", "WER", "med-WER", "ins", "del", "RTF", "peak MB", "re-decoded"):
        tab.add_column(col, justify="left" if col in ("configuration", "voice") else "right")
    pct = lambda x: f"{100 * x:.1f}%" if x is not None else "-"
    for r in result["rows"]:
        tab.add_row(
            r["variant"],
            "all",
            pct(r["all"]["wer"]),
            pct(r["all"]["medical_wer"]),
            str(r["all"]["insertions"]),
            str(r["all"]["deletions"]),
            f"{r['rtf']:.3f}",
            str(r["peak_rss_mb"]),
            pct(r.get("redecoded_share")),  # share of the audio the second model decoded again
        )
        if per_voice:
            for voice, c in r["voices"].items():
                tab.add_row(
                    "", voice, pct(c["wer"]), pct(c["medical_wer"]), str(c["insertions"]), str(c["deletions"]), "", "", ""
                )
    return tab


def earns_default(result: dict, stage: str, slack: float = 0.01) -> dict:
    """Whether ``stage`` earns its default: 'all on' against 'all on - stage' (and plain + stage against
    plain) lower both WER and medical-word WER, and no voice gets worse by more than ``slack``."""
    rows = {r["variant"]: r for r in result["rows"]}
    out = {}
    for with_, without in (("all on", f"all on - {stage}"), (f"plain + {stage}", "plain")):
        a, b = rows.get(with_), rows.get(without)
        if not a or not b:
            continue
        d_wer = a["all"]["wer"] - b["all"]["wer"]
        d_med = (a["all"]["medical_wer"] or 0) - (b["all"]["medical_wer"] or 0)
        worst = max(
            max(
                (a["voices"][v]["wer"] or 0) - (b["voices"][v]["wer"] or 0),
                (a["voices"][v]["medical_wer"] or 0) - (b["voices"][v]["medical_wer"] or 0),
            )
            for v in a["voices"]
        )
        out[f"{with_} vs {without}"] = {
            "d_wer": round(d_wer, 4),
            "d_medical_wer": round(d_med, 4),
            "worst_voice": round(worst, 4),
            "earns": d_wer < 0 and d_med < 0 and worst <= slack,
        }
    return out
