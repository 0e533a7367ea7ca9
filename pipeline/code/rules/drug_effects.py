"""Drugs that harmed the patient, coded from the Table of Drugs and Chemicals (Guidelines I.C.19.e).

A coder who reads "Coumadin-induced coagulopathy", "took 20 of her Ambien tablets in a suicide
attempt" or "she ran out of her blood pressure medications" looks the drug up in the Table of Drugs
and takes the code of the column the note's wording gives:

* **adverse effect** (I.C.19.e.5.a), a drug correctly prescribed and properly taken that caused a
  condition: "<drug>-induced ...", "... secondary to / due to / caused by / resulting from <drug>", "reaction to
  <drug>", "side effects of <drug>";
* **poisoning** (I.C.19.e.5.b), a drug taken in error or in excess, or a chemical swallowed: "overdose
  of <drug>", "<drug> overdose", "ingested <substance>", "took 30 <drug> tablets". The intent is
  intentional self-harm where the note says so ("suicide attempt"), else accidental, as the
  guideline directs when the intent is not stated;
* **underdosing** (I.C.19.e.5.c), less of a drug taken than prescribed: "stopped taking <drug>",
  "ran out of <drug>", "has not been taking <drug>", "noncompliant with <drug>"; with its
  noncompliance code (Z91.12- intentional, Z91.13- unintentional, Z91.14- other, I.C.19.e.5.c),
  the "financial hardship" code where the note gives cost as the reason.

Every code takes the 7th character A (initial encounter, active treatment), as the product assumes
for injuries. The drug is found by name: the Table's main terms, and the brand names and classes of
``data/drug_names.tsv`` (Ambien is zolpidem; lithium the drug is Lithium, salts). A statement in the
allergy list, the past history or the family history, a negated one ("denies overdose") and a
hypothetical one ("advised not to stop her Coumadin") code nothing. The evidence is the drug's words.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pipeline.code.rules.note_text import CLAUSE_STOPS, section_at, sentence_bounds
from pipeline.extract.types import Entity

NAMES_FILE = Path(__file__).resolve().parents[1] / "data" / "drug_names.tsv"
INITIAL_ENCOUNTER = "A"
SKIPPED_SECTIONS = frozenset({"allergies", "past_medical_history", "past_surgical_history", "family_history", "medications"})
# Table main terms that are everyday words, or coded elsewhere (alcohol use and intoxication are F10)
_NOT_A_DRUG = frozenset(
    "alcohol ethanol beer wine liquor water food salt oil air gas oxygen smoke tobacco nicotine coffee tea milk "
    "sugar glucose blood plasma iron vitamin soap paint dust fumes vapor cement drug drugs medication medications "
    "medicine medicines".split()
)
# words after a main term's comma that qualify it rather than spell it another way ("Biguanide derivatives,
# oral"; "Glycosides, heart"): never a drug's name of their own ("oral contraceptive" is no oral hypoglycemic)
_QUALIFIER_PARTS = frozenset(
    "noxious nonbacterial pharmaceutical regional oral central corrosive intestinal poisonous heart synthetic "
    "precipitated anabolic radiography nasal appetite intravenous gluconate lactate sulfate dietary human foodstuffs "
    "cardiac drugs caustic posterior sodium calcium carbon plant deadly organic bovine local packed muscle pill "
    "absorbable laxative iodine diphtheria rectal astringent venomous american eye".split()
)
# drugs no one prescribes: their harm is a poisoning (or a use disorder, F10-F19), never an adverse effect
# or an underdosing (I.C.19.e.5.a-c)
_NOT_PRESCRIBED = frozenset("cocaine crack heroin marijuana cannabis methamphetamine ecstasy lsd pcp phencyclidine".split())
_PRONOUN = r"(?:(?:his|her|their|the|a|an|any|all|some|several|its|this|that|these|new|recent|home|daily|oral|iv|inhaled|high[- ]dose|prescribed|usual)\s+)"


class DrugEffectKind(enum.Enum):
    ADVERSE_EFFECT = "adverse_effect"
    POISONING = "poisoning"
    UNDERDOSING = "underdosing"


class PoisoningIntent(enum.Enum):
    ACCIDENTAL = "poisoning_accidental"
    INTENTIONAL_SELF_HARM = "poisoning_intentional"


_ADVERSE_BEFORE = re.compile(
    r"\b(?:secondary\s+to|due\s+to|caused\s+by|induced\s+by|related\s+to|result(?:ing|ed)?\s+from|reactions?\s+(?:to|from|with)"
    r"|adverse\s+(?:reactions?|effects?)\s+(?:to|of|from)|side[- ]effects?\s+(?:of|from)|intoleran(?:ce|t)\s+(?:to|of))"
    rf"\s+{_PRONOUN}{{0,2}}$",
    re.I,
)
_ADVERSE_AFTER = re.compile(
    r"^(?:[- ](?:induced|related|associated)\b|\s*,?\s*which\s+caused\b|\s+caused\s+(?:her|him|the)\b)", re.I
)
_POISONING_BEFORE = re.compile(
    r"\b(?:overdos(?:e|ed|ing)\s+(?:of|on|with)|ingest(?:ed|ing|ion\s+of)|swallow(?:ed|ing)|poisoning\s+(?:by|with)"
    r"|took\s+(?:an?\s+)?(?:overdose\s+of|handful\s+of|bottle\s+of|(?:\d+|several|multiple|numerous|many|\w+\s+(?:pills|tablets|capsules))"
    r"(?:\s+(?:pills|tablets|capsules))?\s+of))"
    rf"\s+{_PRONOUN}{{0,2}}$",
    re.I,
)
_POISONING_AFTER = re.compile(r"^\s+(?:overdose|od|ingestion|poisoning)\b", re.I)
_TOOK_PILLS = re.compile(
    r"\btook\s+(?:\d+|several|multiple|numerous|many|a\s+handful\s+of)\s+(?:of\s+)?" + rf"{_PRONOUN}{{0,2}}$", re.I
)
_UNDERDOSING_BEFORE = re.compile(
    r"(?:\b(?:she|he|patient|they|pt)\s+(?:has\s+|have\s+|had\s+|was\s+|is\s+)?(?:also\s+)?"
    r"(?:stopped(?:\s+taking)?|quit(?:\s+taking)?|took\s+(?:her|him|them)sel(?:f|ves)\s+off(?:\s+of)?|discontinued|refused|refuses|decided\s+not\s+to\s+take|missed(?:\s+doses\s+of)?|skipped"
    r"|forgot(?:ten)?\s+(?:to\s+take|taking)|misplaced|lost)"
    r"|\b(?:ran|run|running)\s+out\s+of|\bnon-?complian(?:t|ce)\s+with|\bnot\s+(?:been\s+)?(?:taking|using)|\bhas(?:\s+not|n't)\s+(?:been\s+)?tak(?:ing|en)"
    r"|\bhad(?:\s+not|n't)\s+(?:been\s+)?tak(?:ing|en)|\b(?:has\s+been|was|been)\s+off(?:\s+of)?)"
    rf"\s+{_PRONOUN}{{0,2}}$",
    re.I,
)
_INTENTIONAL_UNDERDOSING = re.compile(
    r"\b(?:stopped|quit|discontinued|refused|refuses|decided|took\s+(?:her|him|them)sel(?:f|ves)\s+off)\b", re.I
)
_UNINTENTIONAL_UNDERDOSING = re.compile(r"\b(?:forgot|forgotten|missed|skipped|misplaced|lost|confus\w*)\b", re.I)
_FINANCIAL = re.compile(r"\b(?:afford|cost|expensive|insurance|money|financial)\b", re.I)
_SELF_HARM = re.compile(
    r"\b(?:suicid\w*|self[- ]harm|intentional(?:ly)?\s+(?:overdose|ingest)|kill\s+(?:her|him|them)sel(?:f|ves))\b", re.I
)
_NEGATED = re.compile(r"\b(?:no|denies|denied|not|never|without|negative\s+for)\b[^.;\n]{0,40}$", re.I)
_NEGATED_AFTER = re.compile(r"^[^.;\n]{0,60}\b(?:were|was|is|are)\s+negative\b", re.I)
_HYPOTHETICAL = re.compile(
    r"\b(?:if|should|risk|avoid|advised|warned|counsel(?:ed|led)?|instructed|told|encouraged|not\s+to)\b[^.;\n]{0,40}$", re.I
)
# noncompliance with the medication regimen (I.C.19.e.5.c): by kind, then with financial hardship or for other reason
_NONCOMPLIANCE = {
    "intentional": ("Z91.120", "Z91.128"),
    "unintentional": ("Z91.138", "Z91.138"),  # Z91.130 is age-related debility, which a note rarely states as the reason
    "other": ("Z91.141", "Z91.148"),
}


@dataclass(frozen=True)
class DrugEffect:
    """One Table of Drugs code, the drug mentions it stands on, and what the note said of them."""

    kind: DrugEffectKind
    code: str
    drug: str  # the Table row it was read from ("Zolpidem", "Lithium, salts")
    mentions: tuple[Entity, ...]
    column: str
    noncompliance: bool = False  # the underdosing's noncompliance code (Z91.1-), not the Table's

    @property
    def why(self) -> str:
        words = ", ".join(dict.fromkeys(e.text for e in self.mentions))
        what = {
            DrugEffectKind.ADVERSE_EFFECT: "an adverse effect of a drug properly taken (Guidelines I.C.19.e.5.a)",
            DrugEffectKind.POISONING: "a poisoning (Guidelines I.C.19.e.5.b)",
            DrugEffectKind.UNDERDOSING: "underdosing (Guidelines I.C.19.e.5.c)",
        }[self.kind]
        if self.noncompliance:
            return f'"{words}": the patient did not take the drug as prescribed, noncompliance with the medication regimen (Guidelines I.C.19.e.5.c)'
        return f'"{words}": {what}; Table of Drugs, {self.drug}, {self.column.replace("_", " ")}'


@lru_cache(maxsize=1)
def drug_rows() -> dict[str, tuple[str, dict[str, str]]]:
    """Drug name (lower case) -> (the Table row's name, {column: code}), from the Table's main terms
    and ``data/drug_names.tsv`` (:func:`listed_names`)."""
    from pipeline.code.lookup.codeset import get_codeset

    table = {" | ".join(r.path).lower(): r for r in get_codeset().cm_drug_table}
    out: dict[str, tuple[str, dict[str, str]]] = {}
    for key, row in table.items():
        if len(row.path) != 1:
            continue
        for i, name in enumerate(key.split(", ")):  # "Kerosene, kerosine": the main term and its other spellings
            if (
                len(name) >= 4
                and not (i and name in _QUALIFIER_PARTS)
                and name not in _NOT_A_DRUG
                and re.fullmatch(r"[a-z][a-z0-9 -]*", name)
                and not name.endswith(" nec")
            ):
                out.setdefault(name, (row.path[0], row.codes))
    for name, target in _name_targets().items():
        named = table.get(target)
        if named is None:
            raise ValueError(f"{NAMES_FILE.name}: {target!r} is not a row of the Table of Drugs")
        out[name] = (", ".join(named.path), named.codes)
    return out


@lru_cache(maxsize=1)
def _name_targets() -> dict[str, str]:
    """``data/drug_names.tsv``: name -> the Table row it is coded by (both lower case)."""
    out = {}
    for line in NAMES_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, target = line.split("\t")
            out[name.strip().lower()] = target.strip().lower()
    return out


def listed_names() -> frozenset[str]:
    """The names ``data/drug_names.tsv`` gives (brands, classes): drugs whatever extraction says. A
    main term of the Table alone ("Nasal", "Adrenal" are rows of it) counts only where extraction
    found a medication, or where the note says it was swallowed."""
    return frozenset(_name_targets())


_WORD = re.compile(r"[A-Za-z0-9]+")


@lru_cache(maxsize=1)
def _by_first_word() -> dict[str, int]:
    """First word of a drug name -> the most words a name starting with it has."""
    out: dict[str, int] = {}
    for name in drug_rows():
        words = _WORD.findall(name)
        out[words[0]] = max(out.get(words[0], 0), len(words))
    return out


def _names_in(text: str) -> list[tuple[int, int, str]]:
    """(start, end, name) of each drug name in the text, the longest name at each word, left to right
    (a dictionary lookup of the word n-grams: one regular expression over 5,000 names cost 30 ms a note)."""
    rows, first = drug_rows(), _by_first_word()
    lower = text.lower()
    words = [(m.start(), m.end()) for m in _WORD.finditer(lower)]
    out = []
    i = 0
    while i < len(words):
        longest = first.get(lower[words[i][0] : words[i][1]], 0)
        for n in range(min(longest, len(words) - i), 0, -1):
            start, end = words[i][0], words[i + n - 1][1]
            name = lower[start:end] if n == 1 else re.sub(r"\s+", " ", lower[start:end])
            if name in rows:
                out.append((start, end, name))
                i += n
                break
        else:
            i += 1
    return out


def _full_code(code: str) -> str | None:
    """The Table's code with its placeholder X and 7th character A ("T51.91" -> "T51.91XA"), if valid."""
    from pipeline.code.lookup.codeset import get_codeset

    if not code:
        return None
    cs = get_codeset()
    bare = code.replace(".", "")
    full = cs.cm_normalize(bare + "X" * (6 - len(bare)) + INITIAL_ENCOUNTER)
    return full if cs.cm_is_billable(full) else None


def _clause(text: str, start: int, end: int) -> tuple[str, str, str]:
    """(the clause before the span, the span's clause after it, the whole clause)."""
    first, last = sentence_bounds(text, start, end, CLAUSE_STOPS)
    return text[first:start], text[end:last], text[first:last]


def _read(before: str, after: str, sentence: str) -> tuple[DrugEffectKind, str] | None:
    """What the sentence says the drug did, and the column of the Table that codes it."""
    if _UNDERDOSING_BEFORE.search(before):
        return DrugEffectKind.UNDERDOSING, "underdosing"
    if _POISONING_BEFORE.search(before) or _TOOK_PILLS.search(before) or _POISONING_AFTER.match(after):
        intent = PoisoningIntent.INTENTIONAL_SELF_HARM if _SELF_HARM.search(sentence) else PoisoningIntent.ACCIDENTAL
        return DrugEffectKind.POISONING, intent.value
    if _ADVERSE_AFTER.match(after) or _ADVERSE_BEFORE.search(before):
        return DrugEffectKind.ADVERSE_EFFECT, "adverse_effect"
    return None


def _noncompliance(before: str, sentence: str) -> str:
    """The noncompliance code of an underdosing: intentional where the patient stopped or refused the
    drug, unintentional where the sentence says it was forgotten or misplaced, else other."""
    kind = (
        "intentional"
        if _INTENTIONAL_UNDERDOSING.search(before)
        else "unintentional"
        if _UNINTENTIONAL_UNDERDOSING.search(sentence)
        else "other"
    )
    financial, other = _NONCOMPLIANCE[kind]
    return financial if _FINANCIAL.search(sentence) else other


def drug_effects(entities: Sequence[Entity], text: str | None) -> list[DrugEffect]:
    """The Table of Drugs codes (and noncompliance codes) the note's statements about drugs support,
    one per code with all its drug mentions, in the order of their first mention."""
    if not text:
        return []
    ordered = sorted(entities, key=lambda e: e.start)
    starts = [e.start for e in ordered]
    rows = drug_rows()
    found: dict[str, tuple[DrugEffectKind, str, str, bool, list[Entity]]] = {}
    for start, end, name in _names_in(text):
        section = section_at(ordered, starts, start)
        if section in SKIPPED_SECTIONS:
            continue
        before, after, sentence = _clause(text, start, end)
        read = _read(before[-80:], after[:40], sentence)
        if read is None or _HYPOTHETICAL.search(before[-60:]):
            continue
        kind, column = read
        if kind is not DrugEffectKind.POISONING and name in _NOT_PRESCRIBED:
            continue
        if kind is not DrugEffectKind.UNDERDOSING and (
            _NEGATED.search(before[-60:]) or _NEGATED_AFTER.match(after)
        ):  # "not taking" is underdosing's own word
            continue
        drug, codes = rows[name]
        code = _full_code(codes.get(column, ""))
        if code is None:
            continue
        # extraction's own mention of the drug where it has one (it carries the words' audio times)
        found_drug = next((e for e in ordered if e.label == "MEDICATION" and e.start <= start and end <= e.end), None)
        if found_drug is None and kind is not DrugEffectKind.POISONING and name not in listed_names():
            continue
        mention = found_drug or Entity(start, end, text[start:end], "MEDICATION", section=section)
        found.setdefault(code, (kind, drug, column, False, []))[4].append(mention)
        if kind is DrugEffectKind.UNDERDOSING:
            z = _noncompliance(before[-80:], sentence)
            found.setdefault(z, (kind, drug, column, True, []))[4].append(mention)
    return [DrugEffect(kind, code, drug, tuple(ms), column, nc) for code, (kind, drug, column, nc, ms) in found.items()]
