"""Coding edits on a record's working code set: what a coder's validation panel shows, live.

:func:`check_codes` takes the code lines of one record (in their reported order, the principal
diagnosis flagged) and returns findings; ``error`` blocks finalizing, ``warning`` does not.

Rules and where they come from:

* validity: a CM code must be a FY2026 code and billable (a header code needs more characters);
  a PCS code must be one of the FY2026 table codes; no code twice;
* principal: exactly one principal diagnosis among the CM lines; at most one principal procedure;
* tabular conventions (FY2026 tabular via ``simple_icd_10_cm``; a note on a category, block or
  chapter applies to every code under it): Excludes1 pairs (Guidelines I.A.12.a); manifestation
  codes ("in diseases classified elsewhere", MCE manifestation list) never principal and coded
  after their etiology ("code first", I.A.13); "use additional code" notes that name a specific
  required detail (stage, type, site, severity ...) and its codes;
* MCE lists (``data/mce_edits.tsv.gz``, see ``data/PROVENANCE.md``): sex and age conflicts,
  unacceptable principal diagnosis, questionable admission, principal needing a secondary code;
* Guidelines: Z codes that may only be principal/first-listed (I.C.21.c.15); external cause codes
  never principal (I.C.20); a sign or symptom next to the confirmed diagnosis it is routinely part
  of (I.B.4-5, ``data/integral_symptoms.tsv``), an error when it is the principal (II.A: a symptom
  is not principal once a related definitive diagnosis is established);
* specificity: an unspecified code (a residual ``.9``/``.90`` "unspecified") next to a more
  specific code of the same category (J44.9 with J44.1, I50.9 with I50.23, J18.9 with J18.1):
  the documentation supports the specific one (I.A.9, I.B.18).

Codes are accepted with or without the dot; findings name CM codes dotted, PCS codes undotted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from pipeline.code.edits.tabular import (
    EXTERNAL_CAUSE,
    checkable_use_additional,
    cm_api,
    cm_display,
    cm_status,
    code_first_notes,
    code_title,
    is_manifestation,
    lineage_notes,
    mce_lists,
    named,
)
from pipeline.code.lookup.codeset import get_codeset
from pipeline.code.types import CM, PCS, CodeProposal

ERROR, WARNING = "error", "warning"
INPATIENT = "inpatient"


@dataclass(frozen=True)
class CodeLine:
    system: str  # CM | PCS
    code: str  # with or without the dot
    principal: bool = False


@dataclass(frozen=True)
class EditFinding:
    severity: str  # "error" (blocks finalizing) | "warning"
    kind: str  # stable identifier, e.g. "excludes1"
    codes: tuple[str, ...]
    message: str


# ---------------------------------------------------------------- the record
@dataclass(frozen=True)
class _Line:
    system: str
    code: str  # display form
    key: str  # undotted
    principal: bool
    position: int  # reported order; the principal diagnosis counts as first


@dataclass(frozen=True)
class _Record:
    lines: tuple[_Line, ...]  # valid (billable CM / valid PCS), first occurrence of each code
    sex: str | None  # 'F' | 'M' | None
    age: int | None
    inpatient: bool

    @property
    def cm(self) -> list[_Line]:
        return [x for x in self.lines if x.system == CM]

    @property
    def principal(self) -> list[_Line]:
        return [x for x in self.cm if x.principal]


def _sex(value: str | None) -> str | None:
    v = (value or "").strip().lower()
    return "F" if v in ("f", "female", "woman") else "M" if v in ("m", "male", "man") else None


def _validity(lines: Sequence[CodeLine]) -> tuple[list[EditFinding], list[_Line]]:
    """Invalid / header / unknown codes and duplicates; the lines that the other rules look at."""
    cs = get_codeset()
    findings: list[EditFinding] = []
    good: list[_Line] = []
    seen: dict[tuple[str, str], int] = {}
    for i, line in enumerate(lines):
        if line.system == CM:
            code = cm_display(line.code)
            status = cm_status(code)
            if status == "invalid":
                findings.append(
                    EditFinding(ERROR, "invalid_code", (code,), f"{code or '(empty)'} is not an ICD-10-CM (FY2026) code.")
                )
                continue
            if status == "header":
                kids = cm_api().get_children(code)
                example = ", ".join(kids[:4]) + (" ..." if len(kids) > 4 else "")
                findings.append(
                    EditFinding(
                        ERROR,
                        "not_billable",
                        (code,),
                        f"{named(CM, code)} is a header code, not billable: it needs more characters ({example}).",
                    )
                )
                continue
        elif line.system == PCS:
            code = cs.pcs_normalize(line.code)
            if not cs.pcs_is_valid(code):
                findings.append(EditFinding(ERROR, "pcs_invalid", (code,), _pcs_invalid_message(code)))
                continue
        else:
            findings.append(
                EditFinding(
                    ERROR,
                    "invalid_code",
                    (line.code,),
                    f"{line.code!r} has an unknown code system {line.system!r} (expected {CM} or {PCS}).",
                )
            )
            continue
        if (line.system, code) in seen:
            findings.append(EditFinding(ERROR, "duplicate", (code,), f"{code} is listed more than once; report each code once."))
            continue
        seen[(line.system, code)] = i
        good.append(_Line(line.system, code, code.replace(".", ""), line.principal, -1 if line.principal else i))
    return findings, good


def _pcs_invalid_message(code: str) -> str:
    cs = get_codeset()
    if not code:
        return "An empty ICD-10-PCS code."
    if len(code) < 7 and cs.pcs_codes_with_prefix(code):
        return f"{code} is incomplete: ICD-10-PCS codes have 7 characters (e.g. {cs.pcs_codes_with_prefix(code)[0]})."
    if cm_status(cm_display(code)) != "invalid":
        return f"{code} is an ICD-10-CM code, not an ICD-10-PCS code."
    return f"{code} is not a valid ICD-10-PCS (FY2026) code: no table has this combination of characters."


# ---------------------------------------------------------------- rules
def _principal_rule(r: _Record, all_lines: Sequence[CodeLine]) -> list[EditFinding]:
    out = []
    cm_lines = [x for x in all_lines if x.system == CM]
    if cm_lines:
        flagged = [cm_display(x.code) for x in cm_lines if x.principal]
        if not flagged:
            out.append(
                EditFinding(ERROR, "no_principal", (), "No diagnosis is marked as the principal (first-listed) diagnosis.")
            )
        elif len(flagged) > 1:
            out.append(
                EditFinding(
                    ERROR,
                    "multiple_principal",
                    tuple(flagged),
                    f"{len(flagged)} diagnoses are marked principal ({', '.join(flagged)}); only one can be.",
                )
            )
    procs = [get_codeset().pcs_normalize(x.code) for x in all_lines if x.system == PCS and x.principal]
    if len(procs) > 1:
        out.append(
            EditFinding(
                ERROR,
                "multiple_principal",
                tuple(procs),
                f"{len(procs)} procedures are marked principal ({', '.join(procs)}); only one can be.",
            )
        )
    return out


def _excludes1_rule(r: _Record) -> list[EditFinding]:
    out = []
    cm_lines = r.cm
    for i, a in enumerate(cm_lines):
        for b in cm_lines[i + 1 :]:
            notes = [n for n in lineage_notes(a.code, "excludes1") if n.covers(b.key) and not n.covers(a.key)]
            notes += [n for n in lineage_notes(b.code, "excludes1") if n.covers(a.key) and not n.covers(b.key)]
            if notes:
                first: dict[str, str] = {}  # the same note repeated on several levels: name the most specific one
                for n in notes:
                    first.setdefault(n.text, n.where)
                why = "; ".join(f"{where} excludes \u201c{text}\u201d" for text, where in first.items())
                out.append(
                    EditFinding(
                        ERROR,
                        "excludes1",
                        (a.code, b.code),
                        f"{named(CM, a.code)} and {named(CM, b.code)} cannot be reported together: Excludes1 ({why}). "
                        "Keep the one the documentation supports, unless the two conditions are unrelated (Guidelines I.A.12.a).",
                    )
                )
    return out


def _short(text: str, n: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "\u2026"


def _code_first_rule(r: _Record) -> list[EditFinding]:
    out = []
    cm_lines = r.cm
    for m in cm_lines:
        notes = code_first_notes(m.code)
        others = [x for x in cm_lines if x is not m]
        present = [x for x in others if any(n.covers(x.key) for n in notes)]
        manifestation = is_manifestation(m.code)
        if manifestation and m.principal:
            out.append(
                EditFinding(
                    ERROR,
                    "manifestation_principal",
                    (m.code,),
                    f"{named(CM, m.code)} is a manifestation code and cannot be the principal diagnosis: "
                    "code the underlying condition first (Guidelines I.A.13).",
                )
            )
        if present:
            if all(x.position > m.position for x in present):
                first = ", ".join(x.code for x in present)
                where = next(n.where for n in notes if n.covers(present[0].key))
                out.append(
                    EditFinding(
                        WARNING,
                        "code_first_order",
                        (m.code, *(x.code for x in present)),
                        f"{m.code} is listed before {first}, but the tabular says to code {first} first "
                        f"(\u201ccode first\u201d note under {where}): sequence {first} ahead of {m.code}.",
                    )
                )
            continue
        if not manifestation:
            continue
        if notes:
            listed = "; ".join(_short(n.text, 120) for n in notes[:3])
            out.append(
                EditFinding(
                    WARNING,
                    "code_first",
                    (m.code,),
                    f"{named(CM, m.code)} is a manifestation code: code first its underlying condition "
                    f"({listed}); none of these is on the record.",
                )
            )
        elif not any(not is_manifestation(x.code) for x in others):
            out.append(
                EditFinding(
                    WARNING,
                    "code_first",
                    (m.code,),
                    f"{named(CM, m.code)} is a manifestation code: code first its underlying condition; "
                    "no other diagnosis is on the record.",
                )
            )
    return out


def _use_additional_rule(r: _Record) -> list[EditFinding]:
    out = []
    cm_lines = r.cm
    for a in cm_lines:
        for n in lineage_notes(a.code, "use_additional"):
            if checkable_use_additional(n) and not any(n.covers(x.key) for x in cm_lines if x is not a):
                out.append(
                    EditFinding(
                        WARNING,
                        "use_additional",
                        (a.code,),
                        f"{named(CM, a.code)}: \u201cuse additional {n.text}\u201d ({n.where}); no such code is on the record.",
                    )
                )
    return out


_SEX_WORD = {"F": "female", "M": "male"}


def _sex_rule(r: _Record) -> list[EditFinding]:
    if r.sex is None:
        return []
    mce = mce_lists()
    other = "M" if r.sex == "F" else "F"
    edit = f"sex_{_SEX_WORD[other]}"
    return [
        EditFinding(
            ERROR,
            "sex_conflict",
            (x.code,),
            f"{named(x.system, x.code)} is a {_SEX_WORD[other]}-only code (MCE sex edit), but the patient is {_SEX_WORD[r.sex]}.",
        )
        for x in r.lines
        if mce.has(x.system, edit, x.code)
    ]


# newborn and maternity codes describe the patient (age 0; a pregnancy): a conflict is an error;
# pediatric and adult codes describe conditions typical of an age band: a conflict is a warning
AGE_EDITS = {
    "age_newborn": ("newborn", ERROR),
    "age_maternity": ("maternity", ERROR),
    "age_pediatric": ("pediatric", WARNING),
    "age_adult": ("adult", WARNING),
}


def _age_rule(r: _Record) -> list[EditFinding]:
    if r.age is None:
        return []
    mce = mce_lists()
    out = []
    for x in r.cm:
        for edit, (label, severity) in AGE_EDITS.items():
            lo, hi = mce.ages[edit]
            if mce.has(CM, edit, x.code) and not lo <= r.age <= hi:
                span = f"age {lo}" if lo == hi else f"ages {lo}-{hi}"
                out.append(
                    EditFinding(
                        severity,
                        "age_conflict",
                        (x.code,),
                        f"{named(CM, x.code)} is {'an' if label[0] in 'aeiou' else 'a'} {label} diagnosis (MCE: {span}), "
                        f"but the patient is {r.age}.",
                    )
                )
    return out


def _outpatient_reason(code: str) -> bool:
    """A code the MCE refuses as an inpatient principal that is a proper first-listed reason for an
    outpatient visit: the first-listed-only Z codes, and the classification's own "Encounter for ..." /
    "Supervision of ..." codes (screening, immunization, prenatal visits)."""
    title = cm_api().get_description(code).lower()
    return mce_lists().has(CM, "first_listed_only", code) or title.startswith(("encounter for", "supervision of"))


def _principal_lists_rule(r: _Record) -> list[EditFinding]:
    mce = mce_lists()
    out = []
    for p in r.principal:
        if EXTERNAL_CAUSE.covers(p.key):
            out.append(
                EditFinding(
                    ERROR,
                    "external_cause_principal",
                    (p.code,),
                    f"{named(CM, p.code)} is an external cause code; it is never the principal or first-listed "
                    "diagnosis (Guidelines I.C.20).",
                )
            )
        elif mce.has(CM, "unacceptable_principal", p.code) and not is_manifestation(p.code):
            if r.inpatient:
                out.append(
                    EditFinding(
                        ERROR,
                        "unacceptable_principal",
                        (p.code,),
                        f"{named(CM, p.code)} is not acceptable as the principal diagnosis (MCE unacceptable principal diagnosis).",
                    )
                )
            elif not _outpatient_reason(p.code):
                out.append(
                    EditFinding(
                        WARNING,
                        "unacceptable_principal",
                        (p.code,),
                        f"{named(CM, p.code)} is on the MCE list of unacceptable principal diagnoses (an "
                        "inpatient edit); make sure it is the reason for this encounter.",
                    )
                )
        if r.inpatient and mce.has(CM, "questionable_admission", p.code):
            out.append(
                EditFinding(
                    WARNING,
                    "questionable_admission",
                    (p.code,),
                    f"{named(CM, p.code)} as the principal diagnosis is a questionable reason for an inpatient admission (MCE).",
                )
            )
        if r.inpatient and mce.has(CM, "requires_secondary", p.code) and len(r.cm) == 1:
            out.append(
                EditFinding(
                    WARNING,
                    "requires_secondary",
                    (p.code,),
                    f"{named(CM, p.code)} is acceptable as principal only with a secondary diagnosis (MCE); none is coded.",
                )
            )
    return out


def _first_listed_rule(r: _Record) -> list[EditFinding]:
    mce = mce_lists()
    return [
        EditFinding(
            WARNING,
            "first_listed_only",
            (x.code,),
            f"{named(CM, x.code)} may only be reported as the principal/first-listed diagnosis (Guidelines I.C.21.c.15), "
            "except when same-day encounters are combined.",
        )
        for x in r.cm
        if not x.principal and mce.has(CM, "first_listed_only", x.code)
    ]


def _integral_symptom_rule(r: _Record) -> list[EditFinding]:
    from pipeline.code.edits.integral import GUIDELINE, integral_to

    out = []
    diagnoses = [x.code for x in r.cm if not x.code.startswith("R")]
    for x in r.cm:
        if not x.code.startswith("R"):
            continue
        dx = integral_to(x.code, diagnoses)
        if dx is None:
            continue
        if x.principal:
            out.append(
                EditFinding(
                    ERROR,
                    "symptom_principal",
                    (x.code, dx),
                    f"{named(CM, x.code)} is the principal diagnosis, but it is a symptom of {named(CM, dx)}, "
                    "which is established: sequence the definitive diagnosis first (Guidelines II.A).",
                )
            )
        else:
            out.append(
                EditFinding(
                    ERROR,
                    "integral_symptom",
                    (x.code, dx),
                    f"{named(CM, x.code)} is routinely part of {named(CM, dx)}: {GUIDELINE}. Remove it, or "
                    "override with the reason if it is unrelated here.",
                )
            )
    return out


def is_unspecified(code: str) -> bool:
    """A residual 'unspecified' code of its category (J44.9, I50.9, N18.9, R10.9), not a specified one
    whose title happens to say 'unspecified organism' (J18.1 Lobar pneumonia, unspecified organism)."""
    tail = code.replace(".", "")[3:]
    return tail.rstrip("0") == "9" and "unspecified" in code_title(CM, cm_display(code)).lower()


def _unspecified_with_specified_rule(r: _Record) -> list[EditFinding]:
    out = []
    for x in r.cm:
        if not is_unspecified(x.code):
            continue
        specific = [y.code for y in r.cm if y.code != x.code and y.key[:3] == x.key[:3] and not is_unspecified(y.code)]
        if specific:
            names = ", ".join(named(CM, c) for c in specific)
            out.append(
                EditFinding(
                    ERROR,
                    "unspecified_with_specified",
                    (x.code, *specific),
                    f"{named(CM, x.code)} is unspecified, and the record also has {names} of the same category: "
                    "report the specific code the documentation supports, not both (Guidelines I.A.9, I.B.18).",
                )
            )
    return out


def check_codes(
    lines: Sequence[CodeLine], *, sex: str | None = None, age: int | None = None, setting: str = "outpatient"
) -> list[EditFinding]:
    """The edit findings for one record's code lines (reported order), errors first."""
    findings, good = _validity(lines)
    record = _Record(tuple(good), _sex(sex), age, (setting or "").strip().lower() == INPATIENT)
    findings += _principal_rule(record, lines)
    for rule in (
        _excludes1_rule,
        _code_first_rule,
        _use_additional_rule,
        _sex_rule,
        _age_rule,
        _principal_lists_rule,
        _first_listed_rule,
        _integral_symptom_rule,
        _unspecified_with_specified_rule,
    ):
        findings += rule(record)
    return sorted(findings, key=lambda f: f.severity != ERROR)


# ---------------------------------------------------------------- coder proposals
RECORD_KINDS = frozenset({"no_principal", "multiple_principal", "first_listed_only", "code_first_order", "symptom_principal"})


def edits_for_proposals(
    proposals: Iterable[CodeProposal], *, sex: str | None = None, age: int | None = None, setting: str = "outpatient"
) -> list[EditFinding]:
    """The edits that hold for a set of proposed codes before a coder picks a principal and an order:
    per-code and pairwise rules, without the ones about the principal or the sequence."""
    lines = [CodeLine(p.system, p.code) for p in proposals]
    return [f for f in check_codes(lines, sex=sex, age=age, setting=setting) if f.kind not in RECORD_KINDS]


def with_edits(proposals: Sequence[CodeProposal], **context) -> list[CodeProposal]:
    """The proposals, each with ``edits`` = the messages of the findings that name its code."""
    findings = edits_for_proposals(proposals, **context)
    out = []
    for p in proposals:
        code = cm_display(p.code) if p.system == CM else p.code
        messages = [f.message for f in findings if code in f.codes]
        out.append(replace(p, edits=list(dict.fromkeys([*p.edits, *messages]))))
    return out
