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

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from pipeline.code.lookup.codeset import DATA_DIR, get_codeset, read_tsv
from pipeline.code.types import CM, PCS, CodeProposal

ERROR, WARNING = "error", "warning"
MCE_FILE = "mce_edits.tsv.gz"
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


# ---------------------------------------------------------------- data
@dataclass(frozen=True)
class MceLists:
    codes: dict[tuple[str, str], frozenset[str]]  # (system, edit) -> codes (CM dotted, PCS undotted)
    ages: dict[str, tuple[int, int]]  # age edit -> (lowest, highest) age in years

    def has(self, system: str, edit: str, code: str) -> bool:
        return code in self.codes.get((system, edit), frozenset())


@lru_cache(maxsize=1)
def mce_lists() -> MceLists:
    _, rows, meta = read_tsv(DATA_DIR / MCE_FILE)
    found: dict[tuple[str, str], set[str]] = {}
    for system, code, edit, _source in rows:
        found.setdefault((system, edit), set()).add(code)
    ages = {}
    for line in meta:
        parts = line.split("\t")
        if parts[0] == "age":
            ages[parts[1]] = (int(parts[2]), int(parts[3]))
    return MceLists({k: frozenset(v) for k, v in found.items()}, ages)


def _cm():
    return get_codeset().cm_api


def cm_display(code: str) -> str:
    c = re.sub(r"[\s.]", "", code or "").upper()
    return f"{c[:3]}.{c[3:]}" if len(c) > 3 else c


@lru_cache(maxsize=1024)
def billable_children(code: str) -> tuple[tuple[str, str], ...]:
    """The billable codes under a header code, with their titles, in Tabular order."""
    out = []
    for c in _cm().get_descendants(code):
        shown = cm_display(c)
        if cm_status(shown) == "billable":
            out.append((shown, _title(CM, shown)))
    return tuple(out)


@lru_cache(maxsize=4096)
def cm_status(code: str) -> str:
    """'billable' | 'header' | 'invalid' for a dotted code. Categories that share their name with
    a block (B20, C50, Z66 ...) are codes: ``is_chapter_or_block`` alone would call them invalid."""
    cm = _cm()
    if not code or not cm.is_valid_item(code) or not (cm.is_category(code) or cm.is_subcategory(code)):
        return "invalid"
    return "billable" if cm.is_leaf(code) else "header"


def _title(system: str, code: str) -> str:
    if system == CM:
        return _cm().get_description(code)
    return get_codeset().pcs_description(code) or ""


def _named(system: str, code: str) -> str:
    return f"{code} ({_title(system, code)})"


# ---------------------------------------------------------------- tabular note references
_CODE = r"[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{0,4})?-?"
_ITEM = re.compile(rf"^({_CODE})(?:\s*(?:-|to)\s*({_CODE}))?(?:\s+with\s+\.([0-9A-Z]+)-?(?:\s*-\s*\.([0-9A-Z]+)-?)?)?$")
_PAREN = re.compile(r"\(([^()]*)\)")


@dataclass(frozen=True)
class Ref:
    """A code or range a tabular note points at, as undotted prefixes: ``E10-E13`` covers every
    code whose first 3 characters lie in E10..E13; ``E08-E13 with .42`` adds a suffix range on
    the characters after the category."""

    lo: str
    hi: str
    suffix_lo: str = ""
    suffix_hi: str = ""

    def covers(self, key: str) -> bool:
        if not (key[: len(self.lo)] >= self.lo and key[: len(self.hi)] <= self.hi):
            return False
        if not self.suffix_lo:
            return True
        rest = key[3:]
        return rest[: len(self.suffix_lo)] >= self.suffix_lo and rest[: len(self.suffix_hi)] <= self.suffix_hi


def _key(code: str) -> str:
    return code.replace(".", "").rstrip("-")


def parse_refs(note: str) -> tuple[Ref, ...]:
    """The codes and ranges in a note's parentheses: '(E10.-)', '(I15.0, I15.1)', '(E00-E07, E15-E16)',
    '(E08-E13 with .42)'. Items that are not plainly codes ('with fifth character 1') are skipped."""
    refs = []
    for group in _PAREN.findall(note):
        for item in group.split(","):
            m = _ITEM.match(item.strip().replace(".-", "-"))
            if not m:
                continue
            lo, hi, s_lo, s_hi = m.groups()
            refs.append(Ref(_key(lo), _key(hi or lo), s_lo or "", s_hi or s_lo or ""))
    return tuple(refs)


@dataclass(frozen=True)
class Note:
    owner: str  # the code, category, block ('E08-E13') or chapter ('4') the note is written under
    text: str
    refs: tuple[Ref, ...]

    def covers(self, key: str) -> bool:
        return any(r.covers(key) for r in self.refs)

    @property
    def where(self) -> str:
        return f"chapter {self.owner}" if self.owner.isdigit() else self.owner


@lru_cache(maxsize=8192)
def lineage_notes(code: str, kind: str) -> tuple[Note, ...]:
    """The notes of one kind ('excludes1', 'code_first', 'use_additional') on a billable CM code and
    on every level above it, one Note per note line (or per header+list for excludes1)."""
    cm = _cm()
    getter = {"excludes1": cm.get_excludes1, "code_first": cm.get_code_first,
              "use_additional": cm.get_use_additional_code}[kind]
    out: list[Note] = []
    seen: set[tuple[str, str]] = set()
    for owner in [code, *cm.get_ancestors(code)]:
        for prioritize_blocks in (False, True):
            value = getter(owner, prioritize_blocks=prioritize_blocks)
            lines = value if isinstance(value, list) else value.split("\n")
            for text in lines:
                if text and (owner, text) not in seen:
                    seen.add((owner, text))
                    out.append(Note(owner, text, parse_refs(text)))
    return tuple(out)


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
                findings.append(EditFinding(ERROR, "invalid_code", (code,), f"{code or '(empty)'} is not an ICD-10-CM (FY2026) code."))
                continue
            if status == "header":
                kids = _cm().get_children(code)
                example = ", ".join(kids[:4]) + (" ..." if len(kids) > 4 else "")
                findings.append(EditFinding(ERROR, "not_billable", (code,),
                                            f"{_named(CM, code)} is a header code, not billable: it needs more characters ({example})."))
                continue
        elif line.system == PCS:
            code = cs.pcs_normalize(line.code)
            if not cs.pcs_is_valid(code):
                findings.append(EditFinding(ERROR, "pcs_invalid", (code,), _pcs_invalid_message(code)))
                continue
        else:
            findings.append(EditFinding(ERROR, "invalid_code", (line.code,),
                                        f"{line.code!r} has an unknown code system {line.system!r} (expected {CM} or {PCS})."))
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
            out.append(EditFinding(ERROR, "no_principal", (), "No diagnosis is marked as the principal (first-listed) diagnosis."))
        elif len(flagged) > 1:
            out.append(EditFinding(ERROR, "multiple_principal", tuple(flagged),
                                   f"{len(flagged)} diagnoses are marked principal ({', '.join(flagged)}); only one can be."))
    procs = [get_codeset().pcs_normalize(x.code) for x in all_lines if x.system == PCS and x.principal]
    if len(procs) > 1:
        out.append(EditFinding(ERROR, "multiple_principal", tuple(procs),
                               f"{len(procs)} procedures are marked principal ({', '.join(procs)}); only one can be."))
    return out


def _excludes1_rule(r: _Record) -> list[EditFinding]:
    out = []
    cm_lines = r.cm
    for i, a in enumerate(cm_lines):
        for b in cm_lines[i + 1:]:
            notes = [n for n in lineage_notes(a.code, "excludes1") if n.covers(b.key) and not n.covers(a.key)]
            notes += [n for n in lineage_notes(b.code, "excludes1") if n.covers(a.key) and not n.covers(b.key)]
            if notes:
                first = {}  # the same note repeated on several levels: name the most specific one
                for n in notes:
                    first.setdefault(n.text, n.where)
                why = "; ".join(f"{where} excludes \u201c{text}\u201d" for text, where in first.items())
                out.append(EditFinding(
                    ERROR, "excludes1", (a.code, b.code),
                    f"{_named(CM, a.code)} and {_named(CM, b.code)} cannot be reported together: Excludes1 ({why}). "
                    "Keep the one the documentation supports, unless the two conditions are unrelated (Guidelines I.A.12.a).",
                ))
    return out


def is_manifestation(code: str) -> bool:
    return mce_lists().has(CM, "manifestation", code) or "in diseases classified elsewhere" in _cm().get_description(code).lower()


def _short(text: str, n: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "\u2026"


def code_first_notes(code: str) -> list[Note]:
    """The "code first" notes with codes that apply to ``code``. A header line "..., for adverse
    effects, the nature of the adverse effect, such as:" (T36-T50) limits the lines after it to
    adverse effect codes: a poisoning is itself sequenced first (Guidelines I.C.19.e)."""
    adverse = _cm().get_description(code).lower().startswith("adverse effect")
    out: list[Note] = []
    scoped_owner = None
    for n in lineage_notes(code, "code_first"):
        if not n.refs and "for adverse effects" in n.text.lower() and not adverse:
            scoped_owner = n.owner
        elif n.refs and n.owner != scoped_owner:
            out.append(n)
    return out


def _code_first_rule(r: _Record) -> list[EditFinding]:
    out = []
    cm_lines = r.cm
    for m in cm_lines:
        notes = code_first_notes(m.code)
        others = [x for x in cm_lines if x is not m]
        present = [x for x in others if any(n.covers(x.key) for n in notes)]
        manifestation = is_manifestation(m.code)
        if manifestation and m.principal:
            out.append(EditFinding(ERROR, "manifestation_principal", (m.code,),
                                   f"{_named(CM, m.code)} is a manifestation code and cannot be the principal diagnosis: "
                                   "code the underlying condition first (Guidelines I.A.13)."))
        if present:
            if all(x.position > m.position for x in present):
                first = ", ".join(x.code for x in present)
                where = next(n.where for n in notes if n.covers(present[0].key))
                out.append(EditFinding(WARNING, "code_first_order", (m.code, *(x.code for x in present)),
                                       f"{m.code} is listed before {first}, but the tabular says to code {first} first "
                                       f"(\u201ccode first\u201d note under {where}): sequence {first} ahead of {m.code}."))
            continue
        if not manifestation:
            continue
        if notes:
            listed = "; ".join(_short(n.text, 120) for n in notes[:3])
            out.append(EditFinding(WARNING, "code_first", (m.code,),
                                   f"{_named(CM, m.code)} is a manifestation code: code first its underlying condition "
                                   f"({listed}); none of these is on the record."))
        elif not any(not is_manifestation(x.code) for x in others):
            out.append(EditFinding(WARNING, "code_first", (m.code,),
                                   f"{_named(CM, m.code)} is a manifestation code: code first its underlying condition; "
                                   "no other diagnosis is on the record."))
    return out


_CHECKABLE = re.compile(
    r"^code(?:\(s\))? to (?:identify|indicate|specify) (?:the )?(?:stage|type|site|severity|outcome of delivery|"
    r"dialysis status|joint|limb amputated|heart failure|deep vein thrombosis|superficial thrombophlebitis|"
    r"retinal detachment)\b", re.IGNORECASE)
_SOFT = re.compile(r"if applicable|if known|where applicable|when applicable|such as|\bany\b|associated|if present", re.IGNORECASE)
_EXTERNAL_CAUSE = Ref("V00", "Y99")


def checkable_use_additional(note: Note) -> bool:
    """A "use additional code" note that names one required detail and its codes (not 'if applicable',
    'if known', 'any', 'such as', and not external cause codes, which have no national reporting mandate)."""
    return (bool(note.refs) and bool(_CHECKABLE.match(note.text)) and not _SOFT.search(note.text)
            and not all(_EXTERNAL_CAUSE.covers(ref.lo) for ref in note.refs))


def _use_additional_rule(r: _Record) -> list[EditFinding]:
    out = []
    cm_lines = r.cm
    for a in cm_lines:
        for n in lineage_notes(a.code, "use_additional"):
            if checkable_use_additional(n) and not any(n.covers(x.key) for x in cm_lines if x is not a):
                out.append(EditFinding(WARNING, "use_additional", (a.code,),
                                       f"{_named(CM, a.code)}: \u201cuse additional {n.text}\u201d ({n.where}); no such code is on the record."))
    return out


_SEX_WORD = {"F": "female", "M": "male"}


def _sex_rule(r: _Record) -> list[EditFinding]:
    if r.sex is None:
        return []
    mce = mce_lists()
    other = "M" if r.sex == "F" else "F"
    edit = f"sex_{_SEX_WORD[other]}"
    return [
        EditFinding(ERROR, "sex_conflict", (x.code,),
                    f"{_named(x.system, x.code)} is a {_SEX_WORD[other]}-only code (MCE sex edit), but the patient is {_SEX_WORD[r.sex]}.")
        for x in r.lines if mce.has(x.system, edit, x.code)
    ]


# newborn and maternity codes describe the patient (age 0; a pregnancy): a conflict is an error;
# pediatric and adult codes describe conditions typical of an age band: a conflict is a warning
AGE_EDITS = {"age_newborn": ("newborn", ERROR), "age_maternity": ("maternity", ERROR),
             "age_pediatric": ("pediatric", WARNING), "age_adult": ("adult", WARNING)}


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
                out.append(EditFinding(severity, "age_conflict", (x.code,),
                                       f"{_named(CM, x.code)} is {'an' if label[0] in 'aeiou' else 'a'} {label} diagnosis (MCE: {span}), "
                                       f"but the patient is {r.age}."))
    return out


def _outpatient_reason(code: str) -> bool:
    """A code the MCE refuses as an inpatient principal that is a proper first-listed reason for an
    outpatient visit: the first-listed-only Z codes, and the classification's own "Encounter for ..." /
    "Supervision of ..." codes (screening, immunization, prenatal visits)."""
    title = _cm().get_description(code).lower()
    return mce_lists().has(CM, "first_listed_only", code) or title.startswith(("encounter for", "supervision of"))


def _principal_lists_rule(r: _Record) -> list[EditFinding]:
    mce = mce_lists()
    out = []
    for p in r.principal:
        if _EXTERNAL_CAUSE.covers(p.key):
            out.append(EditFinding(ERROR, "external_cause_principal", (p.code,),
                                   f"{_named(CM, p.code)} is an external cause code; it is never the principal or first-listed "
                                   "diagnosis (Guidelines I.C.20)."))
        elif mce.has(CM, "unacceptable_principal", p.code) and not is_manifestation(p.code):
            if r.inpatient:
                out.append(EditFinding(ERROR, "unacceptable_principal", (p.code,),
                                       f"{_named(CM, p.code)} is not acceptable as the principal diagnosis (MCE unacceptable principal diagnosis)."))
            elif not _outpatient_reason(p.code):
                out.append(EditFinding(WARNING, "unacceptable_principal", (p.code,),
                                       f"{_named(CM, p.code)} is on the MCE list of unacceptable principal diagnoses (an "
                                       "inpatient edit); make sure it is the reason for this encounter."))
        if r.inpatient and mce.has(CM, "questionable_admission", p.code):
            out.append(EditFinding(WARNING, "questionable_admission", (p.code,),
                                   f"{_named(CM, p.code)} as the principal diagnosis is a questionable reason for an inpatient admission (MCE)."))
        if r.inpatient and mce.has(CM, "requires_secondary", p.code) and len(r.cm) == 1:
            out.append(EditFinding(WARNING, "requires_secondary", (p.code,),
                                   f"{_named(CM, p.code)} is acceptable as principal only with a secondary diagnosis (MCE); none is coded."))
    return out


def _first_listed_rule(r: _Record) -> list[EditFinding]:
    mce = mce_lists()
    return [
        EditFinding(WARNING, "first_listed_only", (x.code,),
                    f"{_named(CM, x.code)} may only be reported as the principal/first-listed diagnosis (Guidelines I.C.21.c.15), "
                    "except when same-day encounters are combined.")
        for x in r.cm if not x.principal and mce.has(CM, "first_listed_only", x.code)
    ]


def _integral_symptom_rule(r: _Record) -> list[EditFinding]:
    from pipeline.code.rules.integral import GUIDELINE, integral_to

    out = []
    diagnoses = [x.code for x in r.cm if not x.code.startswith("R")]
    for x in r.cm:
        if not x.code.startswith("R"):
            continue
        dx = integral_to(x.code, diagnoses)
        if dx is None:
            continue
        if x.principal:
            out.append(EditFinding(ERROR, "symptom_principal", (x.code, dx),
                                   f"{_named(CM, x.code)} is the principal diagnosis, but it is a symptom of {_named(CM, dx)}, "
                                   "which is established: sequence the definitive diagnosis first (Guidelines II.A)."))
        else:
            out.append(EditFinding(ERROR, "integral_symptom", (x.code, dx),
                                   f"{_named(CM, x.code)} is routinely part of {_named(CM, dx)}: {GUIDELINE}. Remove it, or "
                                   "override with the reason if it is unrelated here."))
    return out


def is_unspecified(code: str) -> bool:
    """A residual 'unspecified' code of its category (J44.9, I50.9, N18.9, R10.9), not a specified one
    whose title happens to say 'unspecified organism' (J18.1 Lobar pneumonia, unspecified organism)."""
    tail = code.replace(".", "")[3:]
    return tail.rstrip("0") == "9" and "unspecified" in _title(CM, cm_display(code)).lower()


def _unspecified_with_specified_rule(r: _Record) -> list[EditFinding]:
    out = []
    for x in r.cm:
        if not is_unspecified(x.code):
            continue
        specific = [y.code for y in r.cm if y.code != x.code and y.key[:3] == x.key[:3] and not is_unspecified(y.code)]
        if specific:
            names = ", ".join(_named(CM, c) for c in specific)
            out.append(EditFinding(ERROR, "unspecified_with_specified", (x.code, *specific),
                                   f"{_named(CM, x.code)} is unspecified, and the record also has {names} of the same category: "
                                   "report the specific code the documentation supports, not both (Guidelines I.A.9, I.B.18)."))
    return out


def check_codes(
    lines: Sequence[CodeLine], *, sex: str | None = None, age: int | None = None, setting: str = "outpatient"
) -> list[EditFinding]:
    """The edit findings for one record's code lines (reported order), errors first."""
    findings, good = _validity(lines)
    record = _Record(tuple(good), _sex(sex), age, (setting or "").strip().lower() == INPATIENT)
    findings += _principal_rule(record, lines)
    for rule in (_excludes1_rule, _code_first_rule, _use_additional_rule, _sex_rule, _age_rule,
                 _principal_lists_rule, _first_listed_rule, _integral_symptom_rule, _unspecified_with_specified_rule):
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
