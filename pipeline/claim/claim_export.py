"""The finalized inpatient stay as a claim: a FHIR R4 ``Claim`` and a flat UB-04 CSV.

FHIR: an institutional claim (``type`` institutional, ``subType`` inpatient) with the diagnoses
in sequence (principal first, ``type`` principal/secondary, ``onAdmission`` the POA indicator in
NUBC's code system as CARIN Blue Button does, Y/N/U/W/1), the procedures in sequence with their
dates, ``billablePeriod`` admission to discharge, and as ``supportingInfo`` the MS-DRG (CARIN
C4BBSupportingInfoType ``drg``), the admission period, type of admission, point of origin and
discharge status (NUBC codes). Validated with ``fhir.resources`` 8.x R4B models, like the bundle
export (``pipeline.records.fhir``): Claim has the same shape in R4 and R4B.

UB-04 CSV: one row per claim, columns in form-locator order (FL 3a ... FL 76): FL 67 principal
diagnosis and its POA, FL 67A-Q up to 17 other diagnoses with POA, FL 69 admitting diagnosis,
FL 71 PPS code (the MS-DRG), FL 72 external cause codes, FL 74 principal procedure and date,
FL 74a-e other procedures and dates, FL 76 attending.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from pipeline.claim.poa import undotted
from pipeline.claim.record import RecordClaim, record_claim
from pipeline.records.fhir import ICD10CM, ICD10PCS, MRN_SYSTEM, MRN_TYPE
from pipeline.store.models import Dictation, DictationStatus

NUBC_POA = "https://www.nubc.org/CodeSystem/PresentOnAdmissionIndicators"
NUBC_ADMTYPE = "https://www.nubc.org/CodeSystem/PriorityTypeOfAdmitOrVisit"
NUBC_ORIGIN = "https://www.nubc.org/CodeSystem/PointOfOriginForAdmissionOrVisit"
NUBC_DISCHARGE = "https://www.nubc.org/CodeSystem/PatDischargeStatus"
CARIN_INFO = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBSupportingInfoType"
MS_DRG = "https://www.cms.gov/Medicare/Medicare-Fee-for-Service-Payment/AcuteInpatientPPS/MS-DRG-Classifications-and-Software"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
DX_TYPE = "http://terminology.hl7.org/CodeSystem/ex-diagnosistype"
PX_TYPE = "http://terminology.hl7.org/CodeSystem/ex-procedure-type"
OTHER_DX_SLOTS = 17  # FL 67A-Q
ECI_SLOTS = 3  # FL 72a-c
OTHER_PX_SLOTS = 5  # FL 74a-e


class ClaimExportError(ValueError):
    """The record cannot be exported as a claim; the message says why."""


def _dotted_cm(code: str) -> str:
    c = undotted(code)
    return c if len(c) <= 3 else c[:3] + "." + c[3:]


def _check(d: Dictation, rc: RecordClaim, draft: bool) -> None:
    if not rc.inpatient:
        raise ClaimExportError(f"record {d.id} is not an inpatient stay: no institutional claim")
    if d.status != DictationStatus.FINALIZED and not draft:
        raise ClaimExportError(f"record {d.id} is not finalized (export a draft to preview it)")
    if rc.drg is None or not rc.drg.groupable:
        raise ClaimExportError(f"record {d.id} does not group to a valid MS-DRG")


def claim_dict(d: Dictation, rc: RecordClaim, draft: bool = False) -> dict:
    _check(d, rc, draft)
    assert rc.drg is not None  # _check refuses a record without a valid MS-DRG
    a = rc.abstract
    p = d.encounter.patient if d.encounter is not None else None
    patient: dict = {"display": "patient"}
    if p is not None and p.mrn:
        patient = {
            "identifier": {"type": MRN_TYPE, "system": MRN_SYSTEM, "value": p.mrn},
            **({"display": p.name} if p.name else {}),
        }
    diagnoses = []
    for i, x in enumerate(sorted(a.diagnoses, key=lambda x: not x.principal), start=1):
        dx = {
            "sequence": i,
            "diagnosisCodeableConcept": {"coding": [{"system": ICD10CM, "code": _dotted_cm(x.code)}]},
            "type": [{"coding": [{"system": DX_TYPE, "code": "principal" if x.principal else "discharge"}]}],
        }
        if x.poa is not None:
            dx["onAdmission"] = {"coding": [{"system": NUBC_POA, "code": x.poa.value}]}
        if x.principal:
            dx["packageCode"] = {"coding": [{"system": MS_DRG, "code": f"{rc.drg.drg:03d}", "display": rc.drg.drg_title}]}
        diagnoses.append(dx)
    procedures = []
    for i, px in enumerate(sorted(a.procedures, key=lambda x: not x.principal), start=1):
        entry = {
            "sequence": i,
            "type": [{"coding": [{"system": PX_TYPE, "code": "primary" if px.principal else "secondary"}]}],
            "procedureCodeableConcept": {"coding": [{"system": ICD10PCS, "code": undotted(px.code)}]},
        }
        if px.performed_on:
            entry["date"] = px.performed_on.isoformat()
        procedures.append(entry)
    info = [
        {
            "sequence": 1,
            "category": {"coding": [{"system": CARIN_INFO, "code": "drg"}]},
            "code": {
                "coding": [{"system": MS_DRG, "code": f"{rc.drg.drg:03d}", "display": rc.drg.drg_title}],
                "text": f"MS-DRG {rc.drg.drg:03d} ({rc.drg.grouper}), relative weight {rc.drg.weight}",
            },
        }
    ]
    if a.admission_date:
        period = {"start": a.admission_date.isoformat(), **({"end": a.discharge_date.isoformat()} if a.discharge_date else {})}
        info.append(
            {
                "sequence": len(info) + 1,
                "category": {"coding": [{"system": CARIN_INFO, "code": "admissionperiod"}]},
                "timingPeriod": period,
            }
        )
    for code, system, value in (
        ("admtype", NUBC_ADMTYPE, a.admission_type),
        ("pointoforigin", NUBC_ORIGIN, a.admission_source),
        ("discharge-status", NUBC_DISCHARGE, a.discharge_status),
    ):
        if value:
            info.append(
                {
                    "sequence": len(info) + 1,
                    "category": {"coding": [{"system": CARIN_INFO, "code": code}]},
                    "code": {"coding": [{"system": system, "code": value}]},
                }
            )
    created = d.finalized_at or datetime.now(UTC)
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    res = {
        "resourceType": "Claim",
        "id": f"claim-{d.id}",
        "status": "active" if d.status == DictationStatus.FINALIZED else "draft",
        "type": {"coding": [{"system": CLAIM_TYPE, "code": "institutional"}]},
        "subType": {"text": "inpatient"},
        "use": "claim",
        "patient": patient,
        "created": created.isoformat(timespec="seconds"),
        "provider": {"display": "billing facility"},
        "priority": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority", "code": "normal"}]},
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"display": "primary payer"}}],
        "supportingInfo": info,
        "diagnosis": diagnoses,
    }
    if procedures:
        res["procedure"] = procedures
    if a.admission_date:
        res["billablePeriod"] = {
            "start": a.admission_date.isoformat(),
            **({"end": a.discharge_date.isoformat()} if a.discharge_date else {}),
        }
    if d.encounter is not None and d.encounter.external_id:
        res["identifier"] = [{"system": "urn:mrt:encounter", "value": d.encounter.external_id}]
    return res


def validate_claim(res: dict) -> None:
    """Raise ClaimExportError unless ``res`` is a valid FHIR Claim (fhir.resources R4B models)."""
    from fhir.resources.R4B.claim import Claim
    from pydantic import ValidationError

    try:
        Claim.model_validate(res)
    except ValidationError as e:
        raise ClaimExportError(f"FHIR Claim validation failed: {e}") from e


def claim_resource(s: Session, d: Dictation, draft: bool = False) -> dict:
    res = claim_dict(d, record_claim(s, d, with_queries=False), draft)
    validate_claim(res)
    return res


def ub04_header() -> list[str]:
    cols = [
        "fl03a_patient_control_no",
        "fl06_from",
        "fl06_through",
        "fl08_patient_name",
        "fl10_birth_date",
        "fl11_sex",
        "fl12_admission_date",
        "fl14_admission_type",
        "fl15_point_of_origin",
        "fl17_discharge_status",
        "fl66_dx_version",
        "fl67_principal_dx",
        "fl67_poa",
    ]
    for i in range(OTHER_DX_SLOTS):
        letter = chr(ord("a") + i)
        cols += [f"fl67{letter}_dx", f"fl67{letter}_poa"]
    cols += ["fl69_admitting_dx", "fl71_pps_code"]
    for i in range(ECI_SLOTS):
        letter = chr(ord("a") + i)
        cols += [f"fl72{letter}_eci", f"fl72{letter}_poa"]
    cols += ["fl74_principal_px", "fl74_date"]
    for i in range(OTHER_PX_SLOTS):
        letter = chr(ord("a") + i)
        cols += [f"fl74{letter}_px", f"fl74{letter}_date"]
    cols += ["fl76_attending"]
    return cols


def _day(v: date | None) -> str:
    return v.strftime("%m%d%Y") if v else ""  # UB-04 dates are MMDDYYYY


def ub04_row(d: Dictation, rc: RecordClaim, draft: bool = False) -> list[str]:
    _check(d, rc, draft)
    assert rc.drg is not None  # _check refuses a record without a valid MS-DRG
    a = rc.abstract
    p = d.encounter.patient if d.encounter is not None else None
    dx = sorted(a.diagnoses, key=lambda x: not x.principal)
    principal, others = dx[0], dx[1:]
    external = [x for x in others if undotted(x.code)[:1] in "VWXY"]
    others = [x for x in others if x not in external]
    if len(others) > OTHER_DX_SLOTS or len(external) > ECI_SLOTS:
        raise ClaimExportError(f"record {d.id}: more diagnoses than the UB-04 form holds (use the FHIR claim or an 837I)")
    poa = lambda x: "" if x.poa is None or x.poa.value == "1" else x.poa.value  # noqa: E731 - exempt is blank on paper
    row = [
        str(d.encounter.external_id if d.encounter and d.encounter.external_id else d.id),
        _day(a.admission_date),
        _day(a.discharge_date),
        (p.name or "") if p else "",
        _day(p.birth_date) if p else "",
        (p.sex or "") if p else "",
        _day(a.admission_date),
        a.admission_type or "",
        a.admission_source or "",
        a.discharge_status or "",
        "0",
        undotted(principal.code),
        poa(principal),
    ]
    for i in range(OTHER_DX_SLOTS):
        row += [undotted(others[i].code), poa(others[i])] if i < len(others) else ["", ""]
    row += ["", f"{rc.drg.drg:03d}"]
    for i in range(ECI_SLOTS):
        row += [undotted(external[i].code), poa(external[i])] if i < len(external) else ["", ""]
    px = sorted(a.procedures, key=lambda x: not x.principal)
    row += [undotted(px[0].code), _day(px[0].performed_on)] if px else ["", ""]
    for i in range(OTHER_PX_SLOTS):
        j = i + 1
        row += [undotted(px[j].code), _day(px[j].performed_on)] if j < len(px) else ["", ""]
    row += [(d.encounter.physician or "") if d.encounter else ""]
    return row


def ub04_csv(s: Session, records: list[Dictation], draft: bool = False) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(ub04_header())
    for d in records:
        w.writerow(ub04_row(d, record_claim(s, d, with_queries=False), draft))
    return buf.getvalue()
