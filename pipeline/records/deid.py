"""De-identification of records for release: identifiers out of the transcript and the
metadata, clinical words kept, dates shifted consistently per patient.

Removed from the text (replaced by a bracketed tag):

* names: the patient's and physicians' names known from the metadata of every record in the
  set (each part, anywhere); a title and the names after it (``Dr. Gregory House`` ->
  ``Dr. [NAME]``); names after kinship or naming cues (``his wife Mary``, ``name is ...``); and
  runs of two or more capitalized words of which at least one is not a word of the clinical
  lexicon (``pipeline/extract/data/terms.tsv.gz``) nor a common word — so ``Parkinson
  disease``, ``Hodgkin lymphoma`` and ``Down syndrome`` stay;
* street addresses (number, street, suffix, and the city, state and ZIP after them), ZIP codes
  after a state, places after "lives in" / "resident of";
* phone and fax numbers, SSNs, e-mail addresses, URLs, IP addresses, MRNs (the known ones, and
  any value after "MRN" / "medical record number" / "account number"), other long numbers;
* ages over 89 (HIPAA Safe Harbor) become "90+".

Dates (numeric, ISO, "March 3, 2026", "3 March 2026", "March 3rd", "March 2026") are shifted by
the patient's secret offset (``patient_date_shifts``: drawn once per patient, 1-365 days back),
so intervals within a patient's records stay true. Years standing alone are kept.

Metadata: name, MRN, encounter and file identifiers are dropped; birth, service, receipt and
finalization dates shifted (birth date dropped for ages over 89); patients and records are
numbered within the release. Codes, setting, document type and sex are kept.

Limits: a single capitalized name with no cue that is not in the metadata ("saw Smith") is not
found; the text of a record that spells identifiers in words ("five five five...") is not
normalized first.
"""

from __future__ import annotations

import gzip
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache, partial
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy.orm import Session

from pipeline.store.models import Dictation, Patient, PatientDateShift

EXTRACT_DATA = Path(__file__).resolve().parents[1] / "extract" / "data"
TERMS = EXTRACT_DATA / "terms.tsv.gz"
HEADERS = EXTRACT_DATA / "section_headers.json"
ABBREVIATIONS = EXTRACT_DATA / "abbreviations.tsv"
CODE_DATA = Path(__file__).resolve().parents[1] / "code" / "data"
COMMON = frozenset(
    """
a an the and or but if of in on at to for from by with without as is are was were be been being has have had do does did
he she they we you i it his her their our your my its this that these those there here then than so not no yes
patient patients today yesterday tomorrow doctor dr mr mrs ms miss history exam examination physical plan assessment impression
chief complaint reason visit review systems vital signs follow followup up return call please continue start stop discussed
general appearance alert oriented normal left right bilateral positive negative none denies reports states presents
monday tuesday wednesday thursday friday saturday sunday january february march april may june july august september
october november december north south east west new old emergency department hospital clinic medical center university
saint st mount county regional memorial general community internal family medicine surgery cardiology neurology oncology
unit room suite service nursery ward floor bay team lab laboratory intensive recovery operating care american african
caucasian hispanic asian white black english spanish edition
""".split()
)
TITLE = r"(?:Dr|Doctor|Mr|Mrs|Ms|Miss|Mx|Nurse|Professor|Prof)\.?"
CAP = r"[A-Z][a-zA-Z'’-]+"
NAME_AFTER = rf"(?:{CAP}|[A-Z]\.)(?:\s+(?:{CAP}|[A-Z]\.)){{0,2}}"
KIN = (
    r"(?:wife|husband|son|daughter|mother|father|brother|sister|partner|friend|caregiver|grandson|granddaughter|neighbor|"
    r"aunt|uncle|niece|nephew|spouse)"
)
MONTHS = {
    m: i
    for i, ms in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for m in ms
}
MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
)
ORD = r"(?:st|nd|rd|th)?"
STREET = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Drive|Dr|Lane|Ln|Boulevard|Blvd|Court|Ct|Way|Place|Pl|Terrace|Circle|Cir|Highway|Hwy|"
    r"Parkway|Pkwy|Square|Trail|Alley)\.?"
)
STATE = (
    r"(?:AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|"
    r"SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC)"
)

PATTERNS: list[tuple[str, re.Pattern]] = [
    ("EMAIL", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    ("URL", re.compile(r"\b(?:https?://|www\.)\S+", re.I)),
    ("IP", re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")),
    ("SSN", re.compile(r"\b\d{3}-\d{2}-\d{4}\b|\b(?:SSN|social security(?: number)?)[:#\s]*\d[\d\s-]{7,10}\d", re.I)),
    (
        "ADDRESS",
        re.compile(
            rf"\b\d{{1,6}}\s+(?:{CAP}\s+){{0,3}}{STREET}(?:,?\s*(?:Apt|Apartment|Suite|Unit|#)\.?\s*\w+)?"
            rf"(?:,\s*(?:{CAP}\s?){{1,3}})?(?:,?\s*{STATE})?(?:\s+\d{{5}}(?:-\d{{4}})?)?"
        ),
    ),
    ("ZIP", re.compile(rf"(?:\b(?:{CAP}\s?){{1,3}},\s*)?\b{STATE}\s+\d{{5}}(?:-\d{{4}})?\b")),
    ("PHONE", re.compile(r"(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\b\d{3}[\s.-])\d{3}[\s.-]\d{4}\b")),
]
MRN_CUE = re.compile(
    r"\b(MRN|medical record(?: number)?|record number|account(?: number)?|acct|chart(?: number)?)"
    r"(\s*(?:#|number|no\.?|is|:)?\s*)([A-Z]*\d[A-Z0-9-]{2,})",
    re.I,
)
LONG_NUMBER = re.compile(r"\b\d{6,}\b")
OLD_AGE = re.compile(r"\b(9\d|1[0-4]\d)(?=[- ](?:year|yr)s?[- ]old\b|\s*(?:years? old|y/?o)\b)", re.I)
NAME_CUES = [
    re.compile(rf"\b({TITLE}\s+)({NAME_AFTER})"),
    re.compile(rf"((?:\b(?:my|his|her|their)|\b\w+'s|\[NAME\])\s+{KIN}(?:,|\s+is|\s+named)?\s+)({NAME_AFTER})"),
    re.compile(rf"\b((?:name is|named|called|goes by)\s+)({NAME_AFTER})"),
    re.compile(rf"\b((?:lives in|resident of|lives at|moved to|from the town of)\s+)({NAME_AFTER})"),
]
EPONYM_HEADS = (
    r"(?:disease|syndrome|palsy|sign|signs|test|reflex|fracture|procedure|operation|maneuver|"
    r"lymphoma|sarcoma|tumor|anomaly|phenomenon|ulcer|cyst|dementia|disorder|score|scale|classification)\b"
)
CAP_RUN = re.compile(rf"\b{CAP}(?:\s+{CAP})+")
DATE_PATTERNS = [
    ("iso", re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")),
    ("mdy", re.compile(r"\b(\d{1,2})[/-](\d{1,2})[/-](\d{4}|\d{2})\b")),
    ("month_d_y", re.compile(rf"\b({MONTH})\s+(\d{{1,2}}){ORD}(?:,?\s+(\d{{4}}))?\b")),
    ("d_month_y", re.compile(rf"\b(\d{{1,2}}){ORD}\s+(?:of\s+)?({MONTH}),?\s+(\d{{4}})\b")),
    ("month_y", re.compile(rf"\b({MONTH}),?\s+(\d{{4}})\b")),
]


@lru_cache(maxsize=1)
def clinical_words() -> frozenset[str]:
    """Words never taken for names: the project's clinical lexicon (and singulars), its section
    headers and abbreviations, and spaCy's English stop words."""
    from spacy.lang.en.stop_words import STOP_WORDS

    words: set[str] = set(STOP_WORDS)

    def add(text: str) -> None:
        for w in re.findall(r"[a-z]+", text.lower()):
            words.add(w)
            if len(w) > 4 and w.endswith("s") and not w.endswith(("es", "ss", "us", "is")):  # "parkinsons" -> "parkinson"
                words.add(w[:-1])

    with gzip.open(TERMS, "rt", encoding="utf-8") as f:
        next(f, None)
        for line in f:
            add(line.split("\t", 1)[0])
    headers = json.loads(HEADERS.read_text(encoding="utf-8"))
    for group in ("headers", "strict", "abbreviations"):
        for name, variants in headers.get(group, {}).items():
            add(name.replace("_", " "))
            for v in variants:
                add(v)
    for line in ABBREVIATIONS.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            for part in line.split("\t")[:2]:
                add(part)
    return frozenset(words)


@lru_cache(maxsize=1)
def lowercase_words() -> frozenset[str]:
    """Words the ICD-10-CM and ICD-10-PCS indexes write in lower case somewhere: ordinary words, as
    opposed to eponyms and other names ("Jones", "Robert") that they only ever capitalize."""
    words: set[str] = set(_stop_words()) | set(COMMON)
    for path, columns in (
        (CODE_DATA / "cm_index.tsv.gz", (2,)),
        (CODE_DATA / "pcs_index.tsv.gz", (0, 2)),
        (CODE_DATA / "cm_drugs.tsv.gz", (0,)),
    ):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            next(f, None)
            for line in f:
                parts = line.split("\t")
                for c in columns:
                    if c < len(parts):
                        words.update(re.findall(r"\b[a-z]+\b", parts[c]))
    return frozenset(words)


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def _word_key(w: str) -> str:
    return re.sub(r"(?:'s|’s|s')$", "", w).lower()


def _allowed(word: str) -> bool:
    k = _word_key(word)
    return k in COMMON or k in clinical_words() or all(_word_key(p) in clinical_words() for p in re.split(r"[-']", k) if p)


@dataclass
class KnownIdentifiers:
    """What the metadata of the records in a release says identifies someone."""

    names: set[str] = field(default_factory=set)  # name parts, 2+ letters
    full_names: set[tuple[str, ...]] = field(default_factory=set)
    numbers: set[str] = field(default_factory=set)  # MRNs, encounter ids

    def add_name(self, name: str | None) -> None:
        text = (name or "").strip()
        if "," in text:  # 'DOE, Jane' -> 'Jane DOE'
            last, _, first = text.partition(",")
            text = f"{first} {last}"
        parts = [
            p
            for p in re.findall(r"[A-Za-z][A-Za-z'’-]+", re.sub(rf"^{TITLE}\s+", "", text))
            if p.lower() not in {"dr", "md", "do", "np", "pa", "rn", "jr", "sr", "ii", "iii"}
        ]
        self.names.update(parts)
        if len(parts) > 1:
            self.full_names.add(tuple(parts))

    def add_number(self, value: str | None) -> None:
        if value and len(value.strip()) >= 3:
            self.numbers.add(value.strip())


@dataclass
class Replacement:
    counts: dict = field(default_factory=dict)

    def tag(self, kind: str) -> str:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        return f"[{kind}]"


def _shift_date(y: int, m: int, d: int, days: int) -> date | None:
    try:
        return date(y, m, d) + timedelta(days=days)
    except ValueError:
        return None


def shift_dates(text: str, days: int, base_year: int, rep: Replacement) -> str:
    def month_no(s: str) -> int:
        return MONTHS[s.rstrip(".").lower()]

    def sub(kind: str, m: re.Match) -> str:
        g = m.groups()
        if kind == "iso":
            new = _shift_date(int(g[0]), int(g[1]), int(g[2]), days)
            fmt = "%Y-%m-%d"
        elif kind == "mdy":
            y = int(g[2]) + (2000 if len(g[2]) == 2 and int(g[2]) < 50 else 1900 if len(g[2]) == 2 else 0)
            new = _shift_date(y, int(g[0]), int(g[1]), days)
            fmt = "%m/%d/%Y"
        elif kind == "month_d_y":
            new = _shift_date(int(g[2]) if g[2] else base_year, month_no(g[0]), int(g[1]), days)
            fmt = "%B %d, %Y" if g[2] else "%B %d"
        elif kind == "d_month_y":
            new = _shift_date(int(g[2]), month_no(g[1]), int(g[0]), days)
            fmt = "%d %B %Y"
        else:  # month_y: shift the middle of the month
            new = _shift_date(int(g[1]), month_no(g[0]), 15, days)
            fmt = "%B %Y"
        if new is None:
            return rep.tag("DATE")
        rep.counts["DATE shifted"] = rep.counts.get("DATE shifted", 0) + 1
        return new.strftime(fmt)

    for kind, pat in DATE_PATTERNS:
        text = pat.sub(partial(sub, kind), text)
    return text


def name_run(words: list[str]) -> int | None:
    """Where the name starts in a run of capitalized words, or None when the run is no name: after
    leading common words ("The Olympus", "No JVD") fewer than two words are left, or they are all
    capitals (a header), or every one is a clinical or common word and one of them an ordinary
    word, not only eponyms ("Parkinson Disease" stays, "Robert Jones" goes)."""
    lead = 0
    while lead < len(words) and _word_key(words[lead]) in COMMON | _stop_words():
        lead += 1
    judged = words[lead:]
    if len(judged) < 2 or all(w.isupper() for w in judged):
        return None
    if all(_allowed(w) for w in judged) and any(_word_key(w) in lowercase_words() for w in judged):
        return None  # clinical words with at least one ordinary word: "Parkinson Disease", not "Robert Jones"
    return lead


def deidentify_text(
    text: str, known: KnownIdentifiers, shift_days: int, base_year: int = 2000, rep: Replacement | None = None
) -> str:
    """The text with every identifier this module finds replaced, and its dates shifted."""
    rep = rep or Replacement()
    if not text:
        return text
    for kind, pat in PATTERNS:

        def tag(m: re.Match[str], k: str = kind) -> str:
            return rep.tag(k)

        text = pat.sub(tag, text)
    text = MRN_CUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{rep.tag('MRN')}", text)
    for value in sorted(known.numbers, key=len, reverse=True):
        text = re.sub(rf"(?<![\w]){re.escape(value)}(?![\w])", lambda m: rep.tag("ID"), text, flags=re.I)
    text = OLD_AGE.sub("90+", text)
    text = shift_dates(text, shift_days, base_year, rep)
    text = LONG_NUMBER.sub(lambda m: rep.tag("ID"), text)

    def cued(m: re.Match, titled: bool) -> str:
        if not titled and re.match(rf"\s+{EPONYM_HEADS}", m.string[m.end() :]):  # "his nephew, Crohn's disease" is no name
            return m.group(0)
        cue = m.group(1)
        return cue + rep.tag("LOCATION" if any(w in cue for w in ("live", "resident", "town", "moved")) else "NAME")

    for i, cue in enumerate(NAME_CUES):
        text = cue.sub(partial(cued, titled=(i == 0)), text)
    for parts in sorted(known.full_names, key=len, reverse=True):  # whole names, in either order, any case
        for seq in (parts, parts[::-1]):
            text = re.sub(
                r"\b" + r",?\s+".join(map(re.escape, seq)) + r"(?:'s|’s)?\b", lambda m: rep.tag("NAME"), text, flags=re.I
            )
    # single name parts, capitalized, except as an eponym ("Bell's palsy" when the patient is a Bell)
    name_parts = sorted(known.names, key=len, reverse=True)
    if name_parts:
        alternatives = "|".join(f"{re.escape(n[:1].upper() + n[1:].lower())}|{re.escape(n.upper())}" for n in name_parts)
        text = re.sub(rf"\b(?:{alternatives})(?:'s|’s)?\b(?!\s+{EPONYM_HEADS})", lambda m: rep.tag("NAME"), text)

    def run(m: re.Match) -> str:
        words = m.group(0).split()
        lead = name_run(words)
        return m.group(0) if lead is None else " ".join(words[:lead] + [rep.tag("NAME")])

    text = CAP_RUN.sub(run, text)
    return re.sub(r"(\[NAME\])(?:\s+\[NAME\])+", r"\1", text)


def date_shift(s: Session, patient_id: int) -> int:
    """The patient's secret date offset in days (drawn once: 1 to 365 days back)."""
    row = s.get(PatientDateShift, patient_id)
    if row is None:
        row = PatientDateShift(patient_id=patient_id, days=-(secrets.randbelow(365) + 1))
        s.add(row)
        s.flush()
    return row.days


def known_identifiers(records: list[Dictation]) -> KnownIdentifiers:
    known = KnownIdentifiers()
    for d in records:
        enc = d.encounter
        if enc is not None:
            known.add_name(enc.physician)
            known.add_number(enc.external_id)
            if enc.patient is not None:
                known.add_name(enc.patient.name)
                known.add_number(enc.patient.mrn)
    return known


def _age(born: date | None, on: date | None) -> int | None:
    if born is None or on is None:
        return None
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def deidentified_records(s: Session, records: list[Dictation]) -> tuple[list[SimpleNamespace], dict]:
    """Stand-ins for the records (same attributes the exports read) with identifiers removed:
    patients and records numbered within the set. Returns (records, counts of what was replaced)."""
    known = known_identifiers(records)
    rep = Replacement()
    patient_no: dict[int, int] = {}
    out = []
    for i, d in enumerate(records, start=1):
        enc = d.encounter
        p: Patient | None = enc.patient if enc is not None else None
        days = date_shift(s, p.id) if p is not None else -(secrets.randbelow(365) + 1)

        def sd(v, days=days):
            return None if v is None else v + timedelta(days=days)

        base_year = enc.date_of_service.year if enc is not None and enc.date_of_service else d.received_at.year
        ns_patient = None
        if p is not None:
            assert enc is not None  # p is the encounter's patient
            n = patient_no.setdefault(p.id, len(patient_no) + 1)
            old = (_age(p.birth_date, enc.date_of_service or d.received_at.date()) or 0) > 89
            ns_patient = SimpleNamespace(id=n, mrn=None, name=None, sex=p.sex, birth_date=None if old else sd(p.birth_date))
        ns_enc = (
            None
            if enc is None
            else SimpleNamespace(
                id=i,
                external_id=None,
                setting=enc.setting,
                date_of_service=sd(enc.date_of_service),
                physician=None,
                patient=ns_patient,
            )
        )
        text = deidentify_text(d.transcript.text, known, days, base_year, rep) if d.transcript else None
        proposals = [
            SimpleNamespace(
                id=p_.id,
                system=p_.system,
                code=p_.code,
                description=p_.description,
                status=p_.status,
                principal=p_.principal,
                rank=p_.rank,
                source=p_.source,
                evidence=[{"text": deidentify_text(e.get("text", ""), known, days, base_year, rep)} for e in (p_.evidence or [])],
            )
            for p_ in d.proposals
        ]
        out.append(
            SimpleNamespace(
                id=i,
                status=d.status,
                file_name=f"record-{i}",
                received_at=sd(d.received_at),
                finalized_at=sd(d.finalized_at),
                finalized_by=None,
                document_type=d.document_type,
                priority=d.priority,
                encounter=ns_enc,
                proposals=proposals,
                transcript=None
                if text is None or d.transcript is None
                else SimpleNamespace(text=text, language=d.transcript.language),
            )
        )
    return out, rep.counts


__all__ = ["KnownIdentifiers", "date_shift", "deidentified_records", "deidentify_text", "known_identifiers", "clinical_words"]
