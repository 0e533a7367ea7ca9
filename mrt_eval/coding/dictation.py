"""The dictation coding set: MTSamples dictations coded by hand, for ``mrt eval coding --dataset dictation``.

CodiEsp is made of published case reports; the product codes dictated notes (discharge summaries,
H&Ps, operative notes, clinic, ED and consult notes). This set measures that. The notes' text stays
in the shared data folder (``../shared/data/mtsamples/mtsamples.csv``, CC0, or ``MRT_MTSAMPLES_CSV``);
the repository holds only the gold file ``tests/data/dictation/gold.jsonl``: per note its MTSamples
``note_id``, a SHA-256 of its transcription (a changed corpus is an error, not a silent shift), its note
type, care setting, split (dev or test), and the hand-assigned codes, each with a one-line rationale.
How the notes were chosen and coded: docs/dictation_set.md.

The selection is deterministic (:func:`select_notes`): each note type is a filter on MTSamples'
specialty, sample name and headings; notes of 700-3,500 characters are ordered by a salted hash of
their id, the first :data:`PER_TYPE` kept, and split alternately dev/test in that order, before any
system output was seen. The training notes (:func:`select_training_notes`, ``tests/data/dictation/train.jsonl``)
are the next notes in the same order, coded the same way; what the product learns from dictations is
fitted on them, so the dev notes can check it and the test notes report it.
"""

from __future__ import annotations

import csv
import enum
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from mrt_eval.coding.codiesp import GoldDocument
from pipeline.code.types import CM, PCS

_REPO = Path(__file__).resolve().parents[2]
GOLD_FILE = _REPO / "tests" / "data" / "dictation" / "gold.jsonl"
TRAIN_FILE = GOLD_FILE.with_name("train.jsonl")
SPLITS = ("dev", "test")  # the gold file's
TRAIN = "train"  # the training notes' file (TRAIN_FILE): what the dictation decision model is fitted on
ALL_SPLITS = (TRAIN, *SPLITS)
PER_TYPE = 11
TRAIN_PER_TYPE = 20
NEAR_DUPLICATE = 0.3  # share of a note's 8-word shingles found in a gold note: a near copy is never a training note
SALT = "mrt-dictation-set-v1"
MIN_CHARS, MAX_CHARS = 700, 3500


class NoteType(str, enum.Enum):
    DISCHARGE_SUMMARY = "discharge_summary"
    HISTORY_AND_PHYSICAL = "history_and_physical"
    OPERATIVE_NOTE = "operative_note"
    CLINIC_NOTE = "clinic_note"
    ED_NOTE = "ed_note"
    CONSULT = "consult"


# the care setting a coder applies to each note type (outpatient: uncertain diagnoses not coded, IV.H)
SETTING = {
    NoteType.DISCHARGE_SUMMARY: "inpatient",
    NoteType.HISTORY_AND_PHYSICAL: "inpatient",
    NoteType.OPERATIVE_NOTE: "inpatient",
    NoteType.CLINIC_NOTE: "outpatient",
    NoteType.ED_NOTE: "outpatient",
    NoteType.CONSULT: "outpatient",
}

_NOT_A_PATIENT_NOTE = re.compile(r"template|therapy|well-child|sample|letter|normal ", re.I)


def _note_type(specialty: str, name: str, text: str) -> NoteType | None:
    """The note type of an MTSamples row, or None when it is none of the six (checked in this order)."""
    if _NOT_A_PATIENT_NOTE.search(name):
        return None
    if specialty == "Discharge Summary":
        return NoteType.DISCHARGE_SUMMARY
    if specialty == "Surgery" and "PREOPERATIVE DIAGNOS" in text and "POSTOPERATIVE DIAGNOS" in text:
        return NoteType.OPERATIVE_NOTE
    if specialty == "Emergency Room Reports":
        return NoteType.ED_NOTE
    if specialty == "Consult - History and Phy.":
        if re.search(r"H&P|History (and|&) Physical|Admission", name, re.I):
            return NoteType.HISTORY_AND_PHYSICAL
        if re.search(r"consult", name, re.I) or re.match(r"\s*REASON FOR CONSULT", text):
            return NoteType.CONSULT
        return None
    if specialty in ("Office Notes", "SOAP / Chart / Progress Notes"):
        return NoteType.CLINIC_NOTE
    return None


def mtsamples_csv() -> Path:
    return Path(os.environ.get("MRT_MTSAMPLES_CSV") or _REPO.parent / "shared" / "data" / "mtsamples" / "mtsamples.csv")


def text_hash(transcription: str) -> str:
    return hashlib.sha256(transcription.encode("utf-8")).hexdigest()


def read_rows(path: Path | None = None) -> dict[str, dict]:
    """MTSamples rows by note_id (raw transcription, as stored in the CSV)."""
    src = path or mtsamples_csv()
    if not src.is_file():
        raise FileNotFoundError(f"MTSamples not found at {src} (needs ../shared/data, or set MRT_MTSAMPLES_CSV)")
    with open(src, newline="", encoding="utf-8") as fh:
        return {row["note_id"]: row for row in csv.DictReader(fh)}


def _ordered_by_type(rows: dict[str, dict]) -> dict[NoteType, list[str]]:
    """Each note type's candidate notes (700-3,500 characters, one per distinct text), in salted-hash order."""
    seen: set[str] = set()
    by_type: dict[NoteType, list[tuple[str, str]]] = {t: [] for t in NoteType}
    for note_id, row in rows.items():
        text = row["transcription"].strip()
        if not (MIN_CHARS <= len(text) <= MAX_CHARS):
            continue
        digest = text_hash(text)
        if digest in seen:  # MTSamples files one note under several specialties
            continue
        t = _note_type(row["medical_specialty"].strip(), row["sample_name"].strip(), text)
        if t is None:
            continue
        seen.add(digest)
        by_type[t].append((hashlib.sha256(f"{SALT}:{note_id}".encode()).hexdigest(), note_id))
    return {t: [note_id for _, note_id in sorted(pairs)] for t, pairs in by_type.items()}


def select_notes(rows: dict[str, dict]) -> list[dict]:
    """The deterministic selection: note_id, note type, setting and split for each chosen note."""
    ordered = _ordered_by_type(rows)
    out = []
    for t in NoteType:
        for i, note_id in enumerate(ordered[t][:PER_TYPE]):
            out.append({"note_id": note_id, "note_type": t.value, "setting": SETTING[t], "split": SPLITS[i % 2]})
    return out


def _shingles(text: str) -> set[str]:
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i : i + 8]) for i in range(len(words) - 7)}


def select_training_notes(rows: dict[str, dict]) -> list[dict]:
    """The training notes: the next :data:`TRAIN_PER_TYPE` notes of each type in the same salted order,
    after the gold notes (fewer where a type has fewer), skipping any that is a near copy of a gold
    note (MTSamples holds templates filed twice with a word changed). Split by document: no training
    note is a dev or test note."""
    ordered = _ordered_by_type(rows)
    held = [_shingles(rows[i]["transcription"]) for t in NoteType for i in ordered[t][:PER_TYPE]]  # the gold notes
    out = []
    for t in NoteType:
        kept = 0
        for note_id in ordered[t][PER_TYPE:]:
            if kept == TRAIN_PER_TYPE:
                break
            sh = _shingles(rows[note_id]["transcription"])
            if any(len(sh & h) > NEAR_DUPLICATE * max(1, min(len(sh), len(h))) for h in held):
                continue
            out.append({"note_id": note_id, "note_type": t.value, "setting": SETTING[t], "split": TRAIN})
            kept += 1
    return out


@dataclass(frozen=True)
class GoldCode:
    code: str
    system: str  # CM or PCS
    rationale: str


@dataclass(frozen=True)
class DictationNote:
    note_id: str
    sha256: str
    note_type: NoteType
    setting: str
    split: str
    codes: tuple[GoldCode, ...]


def load_gold(path: Path | None = None) -> list[DictationNote]:
    notes = []
    with open(path or GOLD_FILE, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            d = json.loads(line)
            notes.append(
                DictationNote(
                    d["note_id"],
                    d["sha256"],
                    NoteType(d["note_type"]),
                    d["setting"],
                    d["split"],
                    tuple(GoldCode(c["code"], c["system"], c["rationale"]) for c in d["codes"]),
                )
            )
    return notes


def load_split(
    split: str, limit: int | None = None, csv_path: Path | None = None, gold_path: Path | None = None
) -> list[tuple[DictationNote, GoldDocument]]:
    """The notes of ``split`` with their text (cleaned as the product reads MTSamples) and gold codes.

    Raises FileNotFoundError without the shared corpus, ValueError when a note's text changed."""
    from mrt_eval.extract.bench import clean_mtsamples

    if split not in ALL_SPLITS:
        raise ValueError(f"unknown dictation split {split!r}; expected one of {ALL_SPLITS}")
    rows = read_rows(csv_path)
    out = []
    for note in load_gold(gold_path or (TRAIN_FILE if split == TRAIN else GOLD_FILE)):
        if note.split != split:
            continue
        row = rows.get(note.note_id)
        raw = (row or {}).get("transcription", "").strip()
        if row is None or text_hash(raw) != note.sha256:
            raise ValueError(
                f"MTSamples note {note.note_id} is missing or its text changed since it was coded "
                f"(sha256 mismatch); the dictation gold no longer applies to this corpus"
            )
        gold = {system: tuple(dict.fromkeys(c.code for c in note.codes if c.system == system)) for system in (CM, PCS)}
        out.append((note, GoldDocument(f"mtsamples-{note.note_id}", clean_mtsamples(raw), gold)))
    out.sort(key=lambda p: int(p[0].note_id))
    return out[:limit] if limit is not None else out
