"""Records in the format asked for: JSON (one object per record) and CSV (one row per code).

Each code carries ``final``: true for the kept codes of a finalized record; codes of records
not yet finalized are exported as provisional (``final: false``) unless ``final_only``;
rejected codes are never exported.
"""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy.orm import Session

from pipeline.records.records import csv_safe, exported_codes, finalizer_names, iso, load_records
from pipeline.store.models import Dictation

FORMATS = ("json", "csv", "fhir")
CSV_COLUMNS = (
    "record_id",
    "status",
    "mrn",
    "patient",
    "birth_date",
    "sex",
    "encounter",
    "setting",
    "date_of_service",
    "physician",
    "document_type",
    "system",
    "code",
    "description",
    "principal",
    "outcome",
    "final",
)


def record_dict(d: Dictation, finalized_by: str | None = None, final_only: bool = False) -> dict:
    enc = d.encounter
    p = enc.patient if enc is not None else None
    return {
        "id": d.id,
        "status": d.status,
        "file": d.file_name,
        "received_at": iso(d.received_at),
        "finalized_at": iso(d.finalized_at),
        "finalized_by": finalized_by,
        "document_type": d.document_type,
        "priority": d.priority,
        "patient": None
        if p is None
        else {"id": p.id, "mrn": p.mrn, "name": p.name, "birth_date": iso(p.birth_date), "sex": p.sex},
        "encounter": None
        if enc is None
        else {
            "id": enc.id,
            "external_id": enc.external_id,
            "setting": enc.setting,
            "date_of_service": iso(enc.date_of_service),
            "physician": enc.physician,
        },
        "transcript": d.transcript.text if d.transcript else None,
        "codes": [
            {
                "system": c.system,
                "code": c.code,
                "description": c.description,
                "principal": c.principal,
                "outcome": c.status,
                "final": final,
                "evidence": [e.get("text") for e in (c.evidence or [])],
            }
            for c, final in exported_codes(d, include_provisional=not final_only)
        ],
    }


def records_dicts(s: Session, ids: list[int], final_only: bool = False) -> list[dict]:
    records = load_records(s, ids)
    names = finalizer_names(s, records)
    return [record_dict(d, names.get(d.finalized_by) if d.finalized_by is not None else None, final_only) for d in records]


def to_json(records: list[dict]) -> str:
    return json.dumps({"records": records}, indent=2, ensure_ascii=False) + "\n"


def csv_rows(records: list[dict]) -> list[dict]:
    rows = []
    for r in records:
        p, e = r["patient"] or {}, r["encounter"] or {}
        base = {
            "record_id": r["id"],
            "status": r["status"],
            "mrn": p.get("mrn"),
            "patient": p.get("name"),
            "birth_date": p.get("birth_date"),
            "sex": p.get("sex"),
            "encounter": e.get("external_id"),
            "setting": e.get("setting"),
            "date_of_service": e.get("date_of_service"),
            "physician": e.get("physician"),
            "document_type": r["document_type"],
        }
        if not r["codes"]:
            rows.append({**base, **dict.fromkeys(("system", "code", "description", "principal", "outcome", "final"), "")})
        for c in r["codes"]:
            rows.append(
                {
                    **base,
                    "system": c["system"],
                    "code": c["code"],
                    "description": c["description"],
                    "principal": c["principal"],
                    "outcome": c["outcome"],
                    "final": c["final"],
                }
            )
    return rows


def to_csv(records: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    w.writeheader()
    w.writerows({k: csv_safe(v) for k, v in row.items()} for row in csv_rows(records))
    return buf.getvalue()


def export(s: Session, ids: list[int], fmt: str, final_only: bool = False) -> tuple[str, str]:
    """(text, media type) of the records in the format asked for."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    if fmt == "fhir":
        from pipeline.records.fhir import build_bundle, bundle_json

        return bundle_json(build_bundle(s, ids, final_only=final_only)), "application/fhir+json"
    recs = records_dicts(s, ids, final_only)
    return (to_json(recs), "application/json") if fmt == "json" else (to_csv(recs), "text/csv")
