"""The claim side of one stored record: its abstract, DRG, HCCs, POA proposals, CDI queries and
the grouper's edits, computed from the working code set (what the coder sees now).

The abstract's fields come from the ``inpatient_abstracts`` row a coder saved, else from the
dictation sidecar's ``abstract`` object as intake stored it (``source_meta["sidecar"]``; the shared
sidecar model does not accept that field yet), else from the abstract sidecar next to the media
(``NAME.abstract.json``, for media registered where they lie: the drop folder does not carry that
file into its archive); see ``pipeline.claim.abstract``.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.claim.abstract import (
    AbstractError,
    AbstractFields,
    InpatientAbstract,
    build_abstract,
    parse_abstract,
    read_abstract_sidecar,
)
from pipeline.claim.cdi import QuerySuggestion, suggest_queries
from pipeline.claim.drg import DrgResult, GrouperError, GroupingInput, MceEdit, WhatIf, group, mce_edits, what_if
from pipeline.claim.hcc import HccProfile, hcc_for_code, hcc_profile
from pipeline.claim.poa import PoaProposal, propose_poa, undotted
from pipeline.code.edits.checks import EditFinding  # the validation panel's finding type
from pipeline.code.types import CM, PCS
from pipeline.records.records import working_codes
from pipeline.store.audit import record as audit
from pipeline.store.models import Dictation, InpatientAbstractRecord, utcnow

log = logging.getLogger(__name__)
INPATIENT = "inpatient"


@dataclass(frozen=True)
class RecordClaim:
    dictation_id: int
    inpatient: bool
    abstract: InpatientAbstract
    grouping: GroupingInput | None  # None: no principal diagnosis yet
    drg: DrgResult | None
    hcc: HccProfile
    hcc_codes: dict[str, tuple[str, ...]]  # code -> V28 HCCs it maps to (the flag on the code line)
    poa: tuple[PoaProposal, ...]
    queries: tuple[QuerySuggestion, ...]
    mce: tuple[MceEdit, ...]
    problems: tuple[str, ...]  # why something could not be computed (abstract sidecar errors, grouper refusal)
    grouper_version: int


def _settings_version() -> int:
    from pipeline.settings import get_settings

    return int(getattr(get_settings(), "ms_drg_version", 431))


def saved_fields(s: Session, d: Dictation) -> tuple[AbstractFields | None, str, list[str]]:
    """(fields, source, problems): the coder's saved abstract, else the sidecar's, else none."""
    row = s.scalar(select(InpatientAbstractRecord).where(InpatientAbstractRecord.dictation_id == d.id))
    if row is not None:
        return (
            AbstractFields.model_validate(
                {
                    "admission_date": row.admission_date,
                    "discharge_date": row.discharge_date,
                    "admission_type": row.admission_type,
                    "admission_source": row.admission_source,
                    "discharge_status": row.discharge_status,
                    "service": row.service,
                    "poa": row.poa or {},
                    "principal_procedure": row.principal_procedure,
                    "procedure_dates": row.procedure_dates or {},
                }
            ),
            row.source,
            [],
        )
    given = ((d.source_meta or {}).get("sidecar") or {}).get("abstract") if isinstance(d.source_meta, dict) else None
    try:
        if given is not None:  # the dictation sidecar's "abstract" object, once pipeline.intake.sidecar accepts it
            return parse_abstract(given, "sidecar abstract"), "sidecar", []
        fields = read_abstract_sidecar(d.source_path) if d.source_path else None
    except AbstractError as e:
        return None, "none", [e.reason]
    except OSError as e:
        return None, "none", [f"abstract sidecar unreadable ({type(e).__name__})"]
    return (fields, "sidecar", []) if fields is not None else (None, "none", [])


def save_abstract(s: Session, d: Dictation, fields: AbstractFields, user: str) -> InpatientAbstractRecord:
    """Store the coder's abstract (every field as given; confirmed POAs) and audit it."""
    row = s.scalar(select(InpatientAbstractRecord).where(InpatientAbstractRecord.dictation_id == d.id))
    before = None
    if row is None:
        row = InpatientAbstractRecord(dictation_id=d.id)
        s.add(row)
    else:
        before = {
            "discharge_date": row.discharge_date.isoformat() if row.discharge_date else None,
            "discharge_status": row.discharge_status,
            "poa": row.poa,
        }
    row.admission_date, row.discharge_date = fields.admission_date, fields.discharge_date
    row.admission_type, row.admission_source, row.discharge_status = (
        fields.admission_type,
        fields.admission_source,
        fields.discharge_status,
    )
    row.service, row.poa, row.principal_procedure = fields.service, dict(fields.poa), fields.principal_procedure
    row.procedure_dates = {k: v.isoformat() for k, v in fields.procedure_dates.items()}
    row.source, row.updated_by, row.updated_at = "coder", user, utcnow()
    audit(
        s,
        user,
        "abstract",
        dictation_id=d.id,
        before=before,
        after={
            "discharge_date": fields.discharge_date.isoformat() if fields.discharge_date else None,
            "discharge_status": fields.discharge_status,
            "poa": dict(fields.poa),
        },
    )
    s.flush()
    return row


def _age_sex(d: Dictation) -> tuple[int | None, str | None]:
    from pipeline.store.repository import patient_age

    enc = d.encounter
    return patient_age(d), (enc.patient.sex if enc is not None and enc.patient is not None else None)


def grouping_input(abstract: InpatientAbstract, age: int | None, sex: str | None) -> GroupingInput | None:
    dx = list(abstract.diagnoses)
    if not dx:
        return None
    principal = next((x for x in dx if x.principal), dx[0])
    return GroupingInput(
        principal=principal.code,
        principal_poa=principal.poa,
        secondary=tuple((x.code, x.poa) for x in dx if x is not principal),
        procedures=tuple(p.code for p in abstract.procedures),
        age=age if age is not None else 65,
        sex=sex,
        discharge_status=abstract.discharge_status or "01",
        discharge_date=abstract.discharge_date,
    )


def record_claim(s: Session, d: Dictation, *, with_queries: bool = True, version: int | None = None) -> RecordClaim:
    version = version or _settings_version()
    codes = working_codes(d)
    text = d.transcript.text if d.transcript is not None else ""
    fields, source, problems = saved_fields(s, d)
    proposals = []
    for p in codes:
        if p.system == CM:
            spans = [(int(e["start"]), int(e["end"])) for e in p.evidence or [] if "start" in e and "end" in e]
            proposals.append(propose_poa(p.code, text, spans))
    enc = d.encounter
    service_day = enc.date_of_service if enc is not None else None
    abstract = build_abstract(
        fields,
        [(p.code, p.principal) for p in codes if p.system == CM],
        [p.code for p in codes if p.system == PCS],
        {undotted(pp.code): pp.indicator for pp in proposals},
        source,
        service_day,
    )
    age, sex = _age_sex(d)
    inp = grouping_input(abstract, age, sex)
    drg: DrgResult | None = None
    mce: tuple[MceEdit, ...] = ()
    queries: tuple[QuerySuggestion, ...] = ()
    dx_codes = [x.code for x in abstract.diagnoses]
    if inp is not None:
        try:
            drg = group(inp, version)
            mce = tuple(mce_edits(inp, abstract.discharge_date or service_day))
            if with_queries:
                queries = tuple(suggest_queries(text, dx_codes, inp, age=age, sex=sex, version=version))
        except GrouperError as e:
            problems.append(str(e))
    return RecordClaim(
        dictation_id=d.id,
        inpatient=(enc.setting if enc is not None else None) == INPATIENT,
        abstract=abstract,
        grouping=inp,
        drg=drg,
        hcc=hcc_profile(dx_codes, age, sex),
        hcc_codes={c: h for c in dx_codes if (h := hcc_for_code(c))},
        poa=tuple(proposals),
        queries=queries,
        mce=mce,
        problems=tuple(problems),
        grouper_version=version,
    )


def record_what_if(rc: RecordClaim, principal: str | None = None, remove: tuple[str, ...] = ()) -> WhatIf | None:
    if rc.grouping is None or (not principal and not remove):
        return None
    return what_if(rc.grouping, principal=principal or None, remove=remove, version=rc.grouper_version)


def claim_findings(s: Session, d: Dictation) -> list[EditFinding]:
    """What the validation panel adds for an inpatient record: the grouper's MCE edits, an
    ungroupable claim, POA indicators and abstract fields still missing (warnings: the coder
    confirms them before the claim goes out)."""
    enc = d.encounter
    if enc is None or enc.setting != INPATIENT:
        return []
    rc = record_claim(s, d, with_queries=False)
    out = [EditFinding(m.severity, "mce_" + m.name.lower(), (), m.message) for m in rc.mce]
    if rc.drg is not None and not rc.drg.groupable:
        hac_blank = [x.code for x in rc.abstract.diagnoses if x.poa is None]
        why = f" (POA missing for {', '.join(hac_blank)})" if hac_blank and rc.drg.return_code != "OK" else ""
        out.append(
            EditFinding(
                "error",
                "drg_ungroupable",
                (),
                f"The MS-DRG grouper cannot group this stay: DRG {rc.drg.drg}, {rc.drg.return_code}{why}",
            )
        )
    unconfirmed = [x.code for x in rc.abstract.diagnoses if not x.poa_confirmed]
    if unconfirmed:
        out.append(
            EditFinding(
                "warning", "poa_unconfirmed", tuple(unconfirmed), "POA indicator not confirmed for " + ", ".join(unconfirmed)
            )
        )
    missing = [m for m in rc.abstract.missing() if not m.startswith("poa ")]
    if missing:
        out.append(EditFinding("warning", "abstract_incomplete", (), "Inpatient abstract incomplete: " + ", ".join(missing)))
    for p in rc.problems:
        out.append(EditFinding("warning", "abstract_invalid", (), p))
    return out


def discharge_day(s: Session, d: Dictation) -> date | None:
    fields, _src, _ = saved_fields(s, d)
    return fields.discharge_date if fields is not None else None


def claim_json(rc: RecordClaim, what_if: WhatIf | None = None) -> dict:
    """The record's claim view (and a what-if) as JSON: the claim API's answer and ``mrt claim group``'s output."""

    def drg(r):
        return (
            None
            if r is None
            else {
                "drg": r.drg,
                "title": r.drg_title,
                "mdc": r.mdc,
                "mdc_title": r.mdc_title,
                "weight": r.weight,
                "gmlos": r.gmlos,
                "severity": r.severity,
                "drivers": [asdict(x) for x in r.drivers],
                "cc_mcc": [list(x) for x in r.cc_mcc_codes],
                "return_code": r.return_code,
                "hac_codes": list(r.hac_codes),
                "grouper": r.grouper,
            }
        )

    a = rc.abstract
    return {
        "id": rc.dictation_id,
        "inpatient": rc.inpatient,
        "drg": drg(rc.drg),
        "abstract": {
            "admission_date": a.admission_date.isoformat() if a.admission_date else None,
            "discharge_date": a.discharge_date.isoformat() if a.discharge_date else None,
            "admission_type": a.admission_type,
            "admission_source": a.admission_source,
            "discharge_status": a.discharge_status,
            "service": a.service,
            "length_of_stay": a.length_of_stay,
            "source": a.source,
            "missing": list(a.missing()),
            "diagnoses": [
                {"code": x.code, "poa": x.poa.value if x.poa else None, "confirmed": x.poa_confirmed, "principal": x.principal}
                for x in a.diagnoses
            ],
            "procedures": [
                {"code": p.code, "date": p.performed_on.isoformat() if p.performed_on else None, "principal": p.principal}
                for p in a.procedures
            ],
        },
        "poa_proposals": [
            {"code": p.code, "indicator": p.indicator.value if p.indicator else None, "reason": p.reason} for p in rc.poa
        ],
        "hcc": {
            "model": rc.hcc.model,
            "risk_score": rc.hcc.risk_score,
            "categories": [asdict(c) for c in rc.hcc.categories],
            "codes": {k: list(v) for k, v in rc.hcc_codes.items()},
        },
        "queries": [
            {
                "kind": q.kind.value,
                "target_code": q.target_code,
                "topic": q.topic,
                "indicators": list(q.indicators),
                "question": q.question,
                "changes_drg": q.changes_drg,
                "changes_hcc": q.changes_hcc,
                "options": [{**asdict(o), "effect": o.effect.value} for o in q.options],
            }
            for q in rc.queries
        ],
        "mce": [asdict(m) for m in rc.mce],
        "problems": list(rc.problems),
        "what_if": None
        if what_if is None
        else {
            "change": what_if.change,
            "before": drg(what_if.before),
            "after": drg(what_if.after),
            "drg_changed": what_if.drg_changed,
            "weight_delta": what_if.weight_delta,
        },
    }


__all__ = [
    "RecordClaim",
    "claim_findings",
    "claim_json",
    "grouping_input",
    "record_claim",
    "record_what_if",
    "save_abstract",
    "saved_fields",
]
