"""FHIR R4 export: a ``collection`` Bundle with Patient, Encounter, Condition (ICD-10-CM),
Procedure (ICD-10-PCS) and DocumentReference (the transcript, base64) per record.

Validated with ``fhir.resources`` (8.x, pydantic 2): its ``R4B`` models (FHIR 4.3). These five
resources and Bundle have the same shape in R4 (4.0.1) and R4B, so a bundle that validates as
R4B is valid R4; ``fhir.resources`` has no 4.0.1 package for pydantic 2 (5.x/6.x need pydantic 1).

Final and provisional codes: a Condition from a finalized record (kept codes) has
``verificationStatus`` *confirmed*; a Condition from a record not yet finalized *provisional*.
A Procedure has no such status, so procedures of records not yet finalized are left out
(``status`` *completed* is only said of coded-and-signed procedures). ``final_only`` leaves out
provisional Conditions too. The DocumentReference's ``docStatus`` is *final* or *preliminary*.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from pipeline.code.types import CM, PCS
from pipeline.records.records import exported_codes, load_records, service_date
from pipeline.store.models import Dictation, DictationStatus

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10PCS = "http://www.cms.gov/Medicare/Coding/ICD10"
MRN_SYSTEM = "urn:mrt:mrn"  # a site's own MRN namespace URI can replace this
MRN_TYPE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
SETTING_CLASS = {
    "inpatient": ("IMP", "inpatient encounter"),
    "outpatient": ("AMB", "ambulatory"),
    "emergency": ("EMER", "emergency"),
}
GENDER = {"M": "male", "F": "female", "U": "unknown", "O": "other", "X": "other"}
_NS = uuid.UUID("6f1c7d2e-1f7a-4c55-9a2b-6d7e0c3b8a11")


def _urn(kind: str, key: object) -> str:
    return f"urn:uuid:{uuid.uuid5(_NS, f'{kind}/{key}')}"


class FhirValidationError(ValueError):
    pass


def instant(v: datetime | None) -> str | None:
    """A FHIR instant: with a zone (SQLite hands back naive datetimes; they are stored in UTC)."""
    if v is None:
        return None
    if v.tzinfo is None:
        v = v.replace(tzinfo=UTC)
    return v.isoformat(timespec="seconds")


def _patient(p) -> dict:
    res: dict[str, Any] = {"resourceType": "Patient", "id": f"patient-{p.id}"}
    if p.mrn:
        res["identifier"] = [{"use": "usual", "type": MRN_TYPE, "system": MRN_SYSTEM, "value": p.mrn}]
    if p.name:
        if "," in p.name:
            family, _, given = p.name.partition(",")
        else:
            given, _, family = p.name.strip().rpartition(" ")
        res["name"] = [{"text": p.name, "family": family.strip(), **({"given": given.split()} if given.strip() else {})}]
    if p.sex:
        res["gender"] = GENDER.get(p.sex.upper()[:1], "unknown")
    if p.birth_date:
        res["birthDate"] = p.birth_date.isoformat()
    return res


def _encounter(d: Dictation, patient_ref: str | None) -> dict:
    enc = d.encounter
    code, display = SETTING_CLASS.get((enc.setting if enc else None) or "outpatient", SETTING_CLASS["outpatient"])
    res: dict = {
        "resourceType": "Encounter",
        "id": f"encounter-{enc.id if enc else 'd' + str(d.id)}",
        "status": "finished",
        "class": {"system": ACT_CODE, "code": code, "display": display},
    }
    if enc is not None and enc.external_id:
        res["identifier"] = [{"system": "urn:mrt:encounter", "value": enc.external_id}]
    if patient_ref:
        res["subject"] = {"reference": patient_ref}
    day = service_date(d)
    if day:
        res["period"] = {"start": day.isoformat()}
    if enc is not None and enc.physician:
        res["participant"] = [{"individual": {"display": enc.physician}}]
    return res


def _condition(d: Dictation, c, final: bool, refs: dict) -> dict:
    res = {
        "resourceType": "Condition",
        "id": f"condition-{c.id}",
        "verificationStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": "confirmed" if final else "provisional",
                }
            ]
        },
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": "encounter-diagnosis"}]}
        ],
        "code": {"coding": [{"system": ICD10CM, "code": c.code, "display": c.description}], "text": c.description},
        "subject": {"reference": refs["patient"]} if refs.get("patient") else {"display": "unknown patient"},
        "encounter": {"reference": refs["encounter"]},
    }
    if c.principal:
        res["extension"] = [{"url": "urn:mrt:principal-diagnosis", "valueBoolean": True}]
    return res


def _procedure(d: Dictation, c, refs: dict) -> dict:
    res = {
        "resourceType": "Procedure",
        "id": f"procedure-{c.id}",
        "status": "completed",
        "code": {"coding": [{"system": ICD10PCS, "code": c.code, "display": c.description}], "text": c.description},
        "subject": {"reference": refs["patient"]} if refs.get("patient") else {"display": "unknown patient"},
        "encounter": {"reference": refs["encounter"]},
    }
    day = service_date(d)
    if day:
        res["performedDateTime"] = day.isoformat()
    return res


def _document(d: Dictation, refs: dict) -> dict | None:
    if d.transcript is None:
        return None
    res: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": f"document-{d.id}",
        "status": "current",
        "docStatus": "final" if d.status == DictationStatus.FINALIZED else "preliminary",
        "type": {"text": d.document_type or "dictation"},
        "description": "Transcript of a dictation",
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain; charset=utf-8",
                    "language": d.transcript.language or "en",
                    "data": base64.b64encode(d.transcript.text.encode("utf-8")).decode("ascii"),
                    "title": d.file_name,
                    "creation": instant(d.received_at),
                }
            }
        ],
        "context": {"encounter": [{"reference": refs["encounter"]}]},
    }
    if refs.get("patient"):
        res["subject"] = {"reference": refs["patient"]}
    if d.encounter is not None and d.encounter.physician:
        res["author"] = [{"display": d.encounter.physician}]
    if d.finalized_at:
        res["date"] = instant(d.finalized_at)
    return res


def bundle_for(records: list[Dictation], final_only: bool = False) -> dict:
    entries: dict[str, dict] = {}
    for d in records:
        refs: dict = {}
        p = d.encounter.patient if d.encounter is not None else None
        if p is not None:
            refs["patient"] = _urn("Patient", p.id)
            entries.setdefault(refs["patient"], _patient(p))
        refs["encounter"] = _urn("Encounter", d.encounter.id if d.encounter else f"d{d.id}")
        entries.setdefault(refs["encounter"], _encounter(d, refs.get("patient")))
        for c, final in exported_codes(d, include_provisional=not final_only):
            if c.system == CM:
                entries[_urn("Condition", c.id)] = _condition(d, c, final, refs)
            elif c.system == PCS and final:
                entries[_urn("Procedure", c.id)] = _procedure(d, c, refs)
        doc = _document(d, refs)
        if doc is not None:
            entries[_urn("DocumentReference", d.id)] = doc
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": k, "resource": v} for k, v in entries.items()]}


def validate(bundle: dict) -> None:
    """Raise FhirValidationError unless the bundle is valid FHIR (fhir.resources R4B models)."""
    from fhir.resources.R4B.bundle import Bundle
    from pydantic import ValidationError

    try:
        Bundle.model_validate(bundle)
    except ValidationError as e:
        raise FhirValidationError(f"FHIR validation failed: {e}") from e


def build_bundle(s: Session, ids: list[int], final_only: bool = False) -> dict:
    bundle = bundle_for(load_records(s, ids), final_only)
    validate(bundle)
    return bundle


def bundle_json(bundle: dict) -> str:
    return json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"


def bundle_codes(bundle: dict) -> set[tuple[str, str, str]]:
    """(system URI, code, verification) of every Condition and Procedure in a bundle (for round trips)."""
    out = set()
    for e in bundle.get("entry", []):
        r = e["resource"]
        if r["resourceType"] in ("Condition", "Procedure"):
            ver = r.get("verificationStatus", {}).get("coding", [{}])[0].get("code", r.get("status"))
            for c in r["code"]["coding"]:
                out.add((c["system"], c["code"], ver))
    return out
