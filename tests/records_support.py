"""A known master database for the records tests, filed straight through the store (no
Whisper: the records work reads what the review left, not audio). Every count the report
tests expect follows from the rows below."""

from __future__ import annotations

from datetime import UTC, date, datetime

from review_support import add_user

from pipeline.store.db import session_scope
from pipeline.store.models import (
    AuditEvent,
    CodeProposalRecord,
    Dictation,
    DictationStatus,
    Encounter,
    Patient,
    ReviewDecision,
    TranscriptRecord,
    User,
)


def at(day: str, hour: int, minute: int = 0) -> datetime:
    y, m, d = map(int, day.split("-"))
    return datetime(y, m, d, hour, minute, tzinfo=UTC)


FULL_NOTE = (
    "Chief complaint: follow up of diabetes. History of present illness: Ms. Doe is a 75-year-old woman with type 2 diabetes "
    "and chronic kidney disease stage 3. She takes metformin. Assessment: type 2 diabetes mellitus with diabetic chronic kidney "
    "disease. Plan: continue metformin, recheck kidney function in three months."
)
LUNG_NOTE = (
    "Reason for admission: right upper lobe lung mass. History of present illness: former smoker with a lung mass. "
    "Procedure: thoracoscopic right upper lobectomy. Assessment: primary carcinoma of the right lung, type 2 diabetes. "
    "Plan: oncology referral, resume metformin."
)
COUGH_NOTE = (
    "Chief complaint: cough for a week. History of present illness: productive cough without fever, diabetes poorly "
    "controlled with hyperglycemia. Plan: albuterol inhaler, recheck sugars."
)  # no assessment: the completeness check must flag it
HEADACHE_NOTE = (
    "Chief complaint: headache. History of present illness: MRI showed a meningioma. Assessment: benign meningioma, "
    "headache. Plan: neurosurgery follow up."
)
BREAST_NOTE = "Chief complaint: breast lump. Assessment: malignant neoplasm of the right breast, suspected. Plan: biopsy."

# (key, patient, physician, setting, service day, status, note, received, finalized, finalizer,
#  [(system, code, description, status, principal, evidence)])
RECORDS = [
    (
        "r1",
        "p1",
        "Dr. Lee",
        "outpatient",
        "2026-11-02",
        DictationStatus.FINALIZED,
        FULL_NOTE,
        at("2026-11-02", 8),
        at("2026-11-02", 10),
        "alice",
        [
            (
                "ICD-10-CM",
                "E11.22",
                "Type 2 diabetes mellitus with diabetic chronic kidney disease",
                "accepted",
                True,
                "type 2 diabetes",
            ),
            (
                "ICD-10-CM",
                "N18.30",
                "Chronic kidney disease, stage 3 unspecified",
                "accepted",
                False,
                "chronic kidney disease stage 3",
            ),
            ("ICD-10-CM", "I10", "Essential (primary) hypertension", "rejected", False, "hypertension"),
        ],
    ),
    (
        "r2",
        "p2",
        "Dr. Okafor",
        "inpatient",
        "2026-11-03",
        DictationStatus.FINALIZED,
        LUNG_NOTE,
        at("2026-11-03", 8),
        at("2026-11-04", 8),
        "alice",
        [
            (
                "ICD-10-CM",
                "C34.90",
                "Malignant neoplasm of unspecified part of unspecified bronchus or lung",
                "accepted",
                True,
                "carcinoma of the right lung",
            ),
            ("ICD-10-CM", "E11.9", "Type 2 diabetes mellitus without complications", "edited", False, "type 2 diabetes"),
            ("ICD-10-CM", "Z87.891", "Personal history of nicotine dependence", "added", False, "former smoker"),
            (
                "ICD-10-PCS",
                "0BTC4ZZ",
                "Resection of Right Upper Lung Lobe, Percutaneous Endoscopic Approach",
                "accepted",
                False,
                "right upper lobectomy",
            ),
        ],
    ),
    (
        "r3",
        "p5",
        "Dr. Lee",
        "outpatient",
        "2026-11-10",
        DictationStatus.CODED,
        COUGH_NOTE,
        at("2026-11-10", 8),
        None,
        None,
        [
            (
                "ICD-10-CM",
                "E11.65",
                "Type 2 diabetes mellitus with hyperglycemia",
                "proposed",
                True,
                "diabetes poorly controlled with hyperglycemia",
            ),
            ("ICD-10-CM", "J20.9", "Acute bronchitis, unspecified", "proposed", False, "cough"),
        ],
    ),
    (
        "r4",
        "p3",
        "Dr. Reyes",
        "outpatient",
        "2026-10-20",
        DictationStatus.FINALIZED,
        HEADACHE_NOTE,
        at("2026-10-20", 8),
        at("2026-10-20", 14),
        "sue",
        [
            ("ICD-10-CM", "D32.9", "Benign neoplasm of meninges, unspecified", "accepted", True, "benign meningioma"),
            ("ICD-10-CM", "R51.9", "Headache, unspecified", "accepted", False, "headache"),
        ],
    ),
    (
        "r5",
        "p4",
        "Dr. Okafor",
        "outpatient",
        "2026-11-16",
        DictationStatus.PENDING,
        BREAST_NOTE,
        at("2026-11-16", 8),
        None,
        None,
        [
            (
                "ICD-10-CM",
                "C50.911",
                "Malignant neoplasm of unspecified site of right female breast",
                "proposed",
                True,
                "malignant neoplasm of the right breast",
            )
        ],
    ),
]
PATIENTS = {
    "p1": ("A1001", "Jane Doe", date(1950, 2, 3), "F"),
    "p2": ("A1002", "John Smith", date(1961, 7, 14), "M"),
    "p3": ("B2001", "DOE, Jane", date(1950, 3, 2), "F"),  # p1 with month and day swapped
    "p4": ("0A-1002", "Jon Smith", date(1962, 1, 5), "M"),  # p2's MRN written another way
    "p5": ("C3001", "Maria Garcia", date(1975, 11, 20), "F"),
}
# the audit trail a coder leaves: (record, actor, action, at)
EVENTS = [
    ("r1", "alice", "claim", at("2026-11-02", 9, 30)),
    ("r1", "alice", "finalize", at("2026-11-02", 10)),
    ("r2", "alice", "claim", at("2026-11-04", 7)),
    ("r2", "alice", "finalize", at("2026-11-04", 8)),
    ("r4", "sue", "claim", at("2026-10-20", 13)),
    ("r4", "sue", "finalize", at("2026-10-20", 14)),
]
# review decisions (the last one per code counts): alice rejected N18.30 first, undid it, accepted it
DECISIONS = [
    ("r1", "alice", "E11.22", "accept"),
    ("r1", "alice", "N18.30", "reject"),
    ("r1", "alice", "N18.30", "accept"),
    ("r1", "alice", "I10", "reject"),
    ("r2", "alice", "C34.90", "accept"),
    ("r2", "alice", "0BTC4ZZ", "accept"),
    ("r2", "alice", "E11.9", "edit"),
    ("r2", "alice", "Z87.891", "add"),
    ("r4", "sue", "D32.9", "accept"),
    ("r4", "sue", "R51.9", "accept"),
]


def seed_fixture(url: str) -> dict[str, int]:
    """File the known database; returns {key: id} for records (r1..r5) and patients (p1..p5)."""
    add_user(url, "alice", "coder")
    add_user(url, "sue", "supervisor")
    ids: dict[str, int] = {}
    with session_scope(url) as s:
        users = {u.username: u.id for u in s.query(User)}
        patients = {}
        for key, (mrn, name, born, sex) in PATIENTS.items():
            patients[key] = Patient(mrn=mrn, name=name, birth_date=born, sex=sex)
            s.add(patients[key])
        s.flush()
        ids.update({k: p.id for k, p in patients.items()})
        proposals: dict[tuple[str, str], CodeProposalRecord] = {}
        for key, pkey, doctor, setting, day, status, note, received, finalized, by, codes in RECORDS:
            d = Dictation(
                content_hash=f"fixture-{key}-{url[-12:]}".ljust(64, "0")[:64],
                file_name=f"{key}.m4a",
                source_path=f"/dictations/{key}.m4a",
                size_bytes=1000,
                status=status,
                document_type="office_note",
                priority="routine",
                received_at=received,
                finalized_at=finalized,
                finalized_by=users.get(by) if by else None,
                duration=60.0,
                has_video=False,
            )
            d.encounter = Encounter(
                patient=patients[pkey],
                setting=setting,
                physician=doctor,
                date_of_service=date.fromisoformat(day),
                external_id=f"ENC-{key.upper()}",
            )
            d.transcript = TranscriptRecord(
                text=note,
                language="en",
                model="tiny.en",
                backend="faster-whisper",
                duration=60.0,
                processing_seconds=1.0,
                segments=[{"id": 0, "start": 0.0, "end": 60.0, "text": note, "words": []}],
            )
            for rank, (system, code, desc, cstatus, principal, evidence) in enumerate(codes, start=1):
                start = note.lower().find(evidence.lower())
                p = CodeProposalRecord(
                    system=system,
                    code=code,
                    description=desc,
                    score=None if cstatus == "added" else 0.9,
                    rank=rank,
                    rationale="fixture",
                    evidence=[
                        {"start": start, "end": start + len(evidence), "text": evidence, "audio_start": None, "audio_end": None}
                    ],
                    model_version="fixture-model",
                    status=cstatus,
                    principal=principal,
                    source="coder" if cstatus == "added" else "pipeline",
                    proposed_code=None if cstatus == "added" else code,
                )
                d.proposals.append(p)
                proposals[(key, code)] = p
            s.add(d)
            s.flush()
            ids[key] = d.id
            s.add(AuditEvent(dictation_id=d.id, actor="pipeline", action="coded", at=received))
        for key, actor, action, when in EVENTS:
            s.add(AuditEvent(dictation_id=ids[key], actor=actor, action=action, at=when))
        for i, (key, actor, code, action) in enumerate(DECISIONS):
            p = proposals[(key, code)]
            s.add(
                ReviewDecision(
                    dictation_id=ids[key],
                    proposal_id=p.id,
                    user=actor,
                    action=action,
                    system=p.system,
                    code_after=code,
                    at=at("2026-11-01", 0, i),
                )
            )
    return ids
