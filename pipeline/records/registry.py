"""Cancer registry case finding: records carrying a reportable neoplasm code.

The case-finding list follows the usual registry (SEER / NPCR) ICD-10-CM list in outline:

* malignant neoplasms C00-C96 (C44 skin: basal and squamous cell carcinomas of skin are not
  reportable except on genital sites, so C44 cases are flagged "review");
  secondary neoplasms C77-C79 are kept to find the primary;
* in situ neoplasms D00-D09 (D04 skin and D06 cervix CIN III are usually not reportable: "review");
* benign and borderline CNS tumors: D32, D33, D35.2-D35.4, D42, D43, D44.3-D44.5, and
  D49.6-D49.7 (unspecified behavior, brain and other CNS);
* reportable hematopoietic neoplasms of uncertain behavior: D45, D46, D47.1, D47.3, D47.4, D47.Z1, D47.9.

Every non-rejected code counts (a case to look at is better found early); the CSV says if the
code is final. Evidence is the text the code was proposed for.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from pipeline.code.types import CM
from pipeline.records.records import csv_safe, exported_codes, iso, service_date
from pipeline.store.models import CodeProposalRecord, Dictation, Encounter

# (code prefix, reportability class, note)
CASE_FINDING: tuple[tuple[str, str, str], ...] = (
    ("C44", "review", "skin: basal/squamous cell carcinoma not reportable except genital sites"),
    ("C77", "secondary", "secondary neoplasm: find the primary"),
    ("C78", "secondary", "secondary neoplasm: find the primary"),
    ("C79", "secondary", "secondary neoplasm: find the primary"),
    ("C", "malignant", "malignant neoplasm"),
    ("D04", "review", "carcinoma in situ of skin: usually not reportable"),
    ("D06", "review", "carcinoma in situ of cervix (CIN III): not reportable in most registries"),
    ("D0", "in situ", "in situ neoplasm"),
    ("D32", "benign CNS", "benign neoplasm of meninges"),
    ("D33", "benign CNS", "benign neoplasm of brain and other CNS"),
    ("D35.2", "benign CNS", "benign neoplasm of pituitary gland"),
    ("D35.3", "benign CNS", "benign neoplasm of craniopharyngeal duct"),
    ("D35.4", "benign CNS", "benign neoplasm of pineal gland"),
    ("D42", "uncertain CNS", "neoplasm of uncertain behavior of meninges"),
    ("D43", "uncertain CNS", "neoplasm of uncertain behavior of brain and CNS"),
    ("D44.3", "uncertain CNS", "neoplasm of uncertain behavior of pituitary gland"),
    ("D44.4", "uncertain CNS", "neoplasm of uncertain behavior of craniopharyngeal duct"),
    ("D44.5", "uncertain CNS", "neoplasm of uncertain behavior of pineal gland"),
    ("D49.6", "unspecified CNS", "neoplasm of unspecified behavior of brain"),
    ("D49.7", "unspecified CNS", "neoplasm of unspecified behavior of endocrine glands and other CNS"),
    ("D45", "hematopoietic", "polycythemia vera"),
    ("D46", "hematopoietic", "myelodysplastic syndromes"),
    ("D47.1", "hematopoietic", "chronic myeloproliferative disease"),
    ("D47.3", "hematopoietic", "essential thrombocythemia"),
    ("D47.4", "hematopoietic", "osteomyelofibrosis"),
    ("D47.Z1", "hematopoietic", "post-transplant lymphoproliferative disorder"),
    ("D47.9", "hematopoietic", "neoplasm of uncertain behavior of lymphoid, hematopoietic tissue, unspecified"),
)


def classify(code: str) -> tuple[str, str] | None:
    """(class, note) when a CM code is on the case-finding list, else None."""
    c = code.upper()
    if c.startswith("C") and c[:3] > "C96":
        return None
    for prefix, kind, note in CASE_FINDING:
        if c.startswith(prefix):
            return kind, note
    return None


@dataclass
class RegistryCase:
    record_id: int
    patient_id: int | None
    mrn: str | None
    patient: str | None
    birth_date: str | None
    sex: str | None
    date_of_service: str | None
    physician: str | None
    code: str
    description: str
    kind: str
    note: str
    final: bool
    evidence: str

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def find_cases(s: Session, include_review: bool = True) -> list[RegistryCase]:
    ids = s.scalars(
        select(CodeProposalRecord.dictation_id)
        .where(
            CodeProposalRecord.system == CM,
            CodeProposalRecord.status != "rejected",
            or_(CodeProposalRecord.code.like("C%"), CodeProposalRecord.code.like("D%")),
        )
        .distinct()
    ).all()
    if not ids:
        return []
    records = s.scalars(
        select(Dictation)
        .where(Dictation.id.in_(ids))
        .options(selectinload(Dictation.proposals), selectinload(Dictation.encounter).selectinload(Encounter.patient))
        .order_by(Dictation.id)
    )
    cases = []
    for d in records:
        enc = d.encounter
        p = enc.patient if enc is not None else None
        for c, final in exported_codes(d):
            hit = classify(c.code) if c.system == CM else None
            if hit is None or (hit[0] == "review" and not include_review):
                continue
            cases.append(
                RegistryCase(
                    d.id,
                    p.id if p else None,
                    p.mrn if p else None,
                    p.name if p else None,
                    iso(p.birth_date) if p else None,
                    p.sex if p else None,
                    iso(service_date(d)),
                    enc.physician if enc else None,
                    c.code,
                    c.description,
                    hit[0],
                    hit[1],
                    final,
                    " | ".join(e.get("text", "") for e in (c.evidence or [])),
                )
            )
    return cases


def cases_csv(cases: list[RegistryCase]) -> str:
    buf = io.StringIO()
    fields = list(RegistryCase.__dataclass_fields__)
    w = csv.DictWriter(buf, fieldnames=fields)
    w.writeheader()
    w.writerows({k: csv_safe(v) for k, v in c.to_dict().items()} for c in cases)
    return buf.getvalue()
