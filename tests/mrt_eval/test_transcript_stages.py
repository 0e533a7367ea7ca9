"""``mrt bench transcript-stages`` (mrt_eval.transcribe.stages): each stage's fingerprint, and the last one
is the fingerprint of the transcript the product stores for the same file."""

from __future__ import annotations

import hashlib
from pathlib import Path

from mrt_eval.transcribe.stages import cpu_description, fingerprint, stage_fingerprints

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 26
model\t\t: 2
model name\t: AMD EPYC
flags\t\t: fpu avx2
processor\t: 1
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC
"""


def test_cpu_description_reads_the_first_processor(tmp_path):
    f = tmp_path / "cpuinfo"
    f.write_text(CPUINFO)
    d = cpu_description(f)
    assert d["vendor_id"] == "AuthenticAMD" and d["cpu family"] == "26" and d["model"] == "2"
    assert d["model name"] == "AMD EPYC"
    assert "vendor_id" not in cpu_description(tmp_path / "missing")  # unreadable: the cache sizes at most


def test_the_transcript_stage_is_the_stored_transcript(settings):
    from mrt_eval.transcribe.benchmark import load_dataset
    from pipeline.transcribe.transcribe import Transcriber, transcribe_audio

    item = next(it for it in load_dataset(SAMPLES) if it.name.startswith("01"))
    model = Transcriber(settings).model()
    stages = stage_fingerprints(item, model, settings)
    assert stages.transcript == fingerprint(transcribe_audio(item.audio, model, settings, item.context).text.encode())
    assert stages.audio == hashlib.sha256(item.audio.samples.astype("float32").tobytes()).hexdigest()[:12]
    assert len({stages.audio, stages.vad, stages.features, stages.encoder, stages.transcript}) == 5
