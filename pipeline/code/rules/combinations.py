"""Combination codes the classification requires, applied to one document's proposals.

* Diabetes "with" (Guidelines I.A.15, I.C.4.a; Alphabetic Index "Diabetes, type N, with"): a
  diabetes code documented with one of its listed complications becomes the combination code of
  that type (E11.22 with CKD, E11.40 / E11.42 with neuropathy / polyneuropathy, E11.65 with
  hyperglycemia ...). The "without complications" code goes; the complication code stays where
  the tabular says "use additional code" (N18.- stage, L97.- ulcer site, K31.84 gastroparesis)
  and goes where the combination code says it all.
* Hypertension (I.C.9.a): presumed linked to heart failure / heart disease (I51.4-I51.9) and to
  chronic kidney disease: I11.0 / I11.9, I12.0 / I12.9, I13.0 / I13.10 / I13.11 / I13.2 replace
  I10; I50.- and N18.- stay as "use additional code".
* Gallbladder calculus with cholecystitis (Index: Calculus, gallbladder, with cholecystitis): one
  K80.0- / K80.1- code takes in a separate K80.2- calculus or K81.- cholecystitis code.
* A gastrointestinal bleed the note attributes to a digestive condition ("upper GI bleed from erosive
  gastritis"): the condition's "with bleeding" code the Index gives (Gastritis, acute, with bleeding
  K29.01; Ulcer, stomach, with hemorrhage K25.4; Diverticulosis, with bleeding K57.91) takes the place
  of the condition's code and the bleeding code (:func:`bleeding_from_source`).
* COPD with an acute lower respiratory infection (Index: Disease, lung, obstructive, with, acute,
  lower respiratory infection J44.0; "with" presumes the link, I.A.15): J44.0 takes the place of
  J44.9, an exacerbation stays J44.1 beside it, and the infection keeps its own code (J44.0: "code
  also to identify the infection").
* Nausea with vomiting (Index: Nausea, with vomiting R11.2): nausea and vomiting of one statement are
  R11.2, not R11.0 and R11.10.
* Dementia in a disease classified elsewhere (Index: Dementia, in, Alzheimer's disease / Parkinson's
  disease / Lewy bodies ...; Guidelines I.A.13, etiology and manifestation): dementia stated with its
  cause ("Alzheimer's dementia", "Parkinson's disease with dementia") is the cause's code first and
  F02.- for the dementia, not F03.- (unspecified dementia). F02 keeps the severity and behavior that
  F03's code carried (F03.90 -> F02.80, F03.A11 -> F02.A11).
* An enlarged prostate with lower urinary tract symptoms (Index: Enlargement, prostate, with lower
  urinary tract symptoms; I.A.15): N40.0 documented with retention, frequency, nocturia, hesitancy, a
  weak stream, incomplete emptying, urgency, straining, difficulty voiding, incontinence or a (bladder
  neck) obstruction is N40.1 (N40.2 nodular: N40.3), the symptoms kept ("use additional code").
* An allergic reaction with urticaria (Index: Urticaria, allergic L50.0; T78.4 Excludes1 urticaria):
  T78.40- and L50.9 of one statement are L50.0.
* Acute pulmonary edema with heart failure (Index: Edema, lung, acute, with heart disease or failure -
  see Failure, ventricular, left; J81.0 Excludes1): J81.0 with an unspecified heart failure I50.9 is
  I50.1; with a heart failure of stated type (I50.2-I50.8) the edema is part of it, and J81.0 goes.
* An intervertebral disc disorder with radiculopathy (Index: Displacement, intervertebral disc, lumbar
  region, with radiculopathy M51.16; Disorder, disc, cervical, with neuritis M50.1-; M54.1 Excludes1):
  a displaced or degenerated disc stated with a radiculopathy of its region is the disc's "with
  radiculopathy" code of that region and level, not M51.26 and M54.16.
* A coagulopathy an anticoagulant causes ("coagulopathy, induced by Coumadin"; Index: Disorder,
  hemorrhagic, due to, extrinsic circulating anticoagulants): D68.9 with the anticoagulant's adverse
  effect (T45.51-) is D68.32, the adverse effect kept ("use additional code").
* A parapneumonic effusion's pneumonia (J91.8, "code first underlying disease"): a pleural effusion the
  note calls parapneumonic is J91.8 with the pneumonia coded first, J18.9 where no pneumonia code of its
  own is proposed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pipeline.code.types import CM, CodeProposal, Reason, ReasonKind

DIABETES = ("E08", "E09", "E10", "E11", "E13")


@dataclass(frozen=True)
class Complication:
    name: str
    matches: Callable[[CodeProposal], bool]
    suffix: Callable[[CodeProposal], str]  # characters after the diabetes category's dot
    keep: bool  # the complication code is still reported ("use additional code")


def _prefix(*prefixes: str) -> Callable[[CodeProposal], bool]:
    return lambda p: p.code.startswith(prefixes)


def _said(p: CodeProposal, *words: str) -> bool:
    return any(w in ev.text.lower() for ev in p.evidence for w in words)


COMPLICATIONS: tuple[Complication, ...] = (
    Complication("chronic kidney disease", _prefix("N18."), lambda p: "22", True),
    Complication(
        "neuropathy", _prefix("G62.", "G63", "G60.9", "G64"), lambda p: "42" if _said(p, "poly", "peripheral") else "40", False
    ),
    Complication("mononeuropathy", _prefix("G58.9"), lambda p: "41", False),
    Complication("hyperglycemia", _prefix("R73."), lambda p: "65", False),
    Complication("hypoglycemia", _prefix("E16.0", "E16.1", "E16.2"), lambda p: "649", False),
    Complication("retinopathy", _prefix("H35.00", "H35.0", "H36"), lambda p: "319", False),
    Complication("peripheral angiopathy", _prefix("I73.9"), lambda p: "51", False),
    Complication(
        "foot ulcer", lambda p: p.code.startswith("L97.") and _said(p, "foot", "heel", "toe", "ankle"), lambda p: "621", True
    ),
    Complication("gastroparesis", _prefix("K31.84"), lambda p: "43", True),
)


def _merge(code: str, parts: Sequence[CodeProposal], why: Sequence[Reason]) -> CodeProposal:
    from pipeline.code.lookup.codeset import get_codeset

    evidence = sorted({ev.start: ev for p in parts for ev in p.evidence}.values(), key=lambda ev: ev.start)
    return CodeProposal(CM, code, get_codeset().cm_description(code) or "", max(p.score for p in parts), evidence, tuple(why))


def _replaced(props: list[CodeProposal], gone: set[str], *combined: CodeProposal) -> list[CodeProposal]:
    """``props`` without the ICD-10-CM codes ``gone`` (the parts a combination code takes in), and the
    combination's proposals after them."""
    return [p for p in props if p.code not in gone or p.system != CM] + list(combined)


def _valid(code: str) -> bool:
    from pipeline.code.lookup.codeset import get_codeset

    return get_codeset().cm_is_billable(code)


def diabetes(props: list[CodeProposal]) -> list[CodeProposal]:
    cm = [p for p in props if p.system == CM]
    dm = [p for p in cm if p.code.startswith(DIABETES)]
    if not dm:
        return props
    base = max(dm, key=lambda p: p.score)
    cat = base.code[:3]
    added, dropped = [], set()
    for comp in COMPLICATIONS:
        for p in cm:
            if p.code.startswith(DIABETES) or not comp.matches(p):
                continue
            code = f"{cat}.{comp.suffix(p)}"
            if not _valid(code):
                continue
            why = [
                Reason(
                    ReasonKind.COMBINATION,
                    (base.code, p.code),
                    f'{base.code} documented with {comp.name} ({p.code}): combination code {code} (Guidelines I.A.15, "with")',
                )
            ]
            if comp.keep:
                why.append(Reason(ReasonKind.KEPT_ALONGSIDE, (p.code,), f"{p.code} kept as the use-additional code"))
            added.append(_merge(code, [base, p], why))
            if not comp.keep:
                dropped.add(p.code)
    if not added:
        return props
    dropped |= {p.code for p in dm if p.code.endswith(".9") or p.code[:3] != cat}
    added_codes = {p.code for p in added}
    return [p for p in props if p.code not in dropped and p.code not in added_codes] + _dedupe(added)


def _dedupe(props: list[CodeProposal]) -> list[CodeProposal]:
    out: dict[str, CodeProposal] = {}
    for p in props:
        if p.code not in out or p.score > out[p.code].score:
            out[p.code] = p
    return list(out.values())


def _stage5(code: str) -> bool:
    return code in ("N18.5", "N18.6")


HEART_INCLUDED = ("I51.4", "I51.5", "I51.6", "I51.7", "I51.89", "I51.9")  # heart disease I11/I13 take in


def hypertension(props: list[CodeProposal]) -> list[CodeProposal]:
    cm = [p for p in props if p.system == CM]
    htn = [p for p in cm if p.code == "I10" or p.code.startswith(("I11", "I12", "I13"))]
    if not htn:
        return props
    hf = [p for p in cm if p.code.startswith("I50")]
    heart = [p for p in cm if p.code.startswith(HEART_INCLUDED) or p.code.startswith("I11")]
    ckd = [p for p in cm if p.code.startswith("N18.")]
    if not (hf or heart or ckd):
        return props
    late = any(_stage5(p.code) for p in ckd)
    if ckd and (hf or heart):
        code = ("I13.2" if late else "I13.0") if hf else ("I13.11" if late else "I13.10")
    elif ckd:
        code = "I12.0" if late else "I12.9"
    else:
        code = "I11.0" if hf else "I11.9"
    parts = htn + hf + heart + ckd
    why = [
        Reason(
            ReasonKind.COMBINATION,
            tuple(p.code for p in parts),
            "hypertension documented with "
            f"{', '.join(x for x, ok in (('heart failure', hf), ('heart disease', heart), ('chronic kidney disease', ckd)) if ok)}: "
            f"the link is presumed (Guidelines I.C.9.a), combination code {code}",
        )
    ]
    if hf or ckd:
        kept = tuple(x for x, ok in (("I50.-", hf), ("N18.-", ckd)) if ok)
        why.append(Reason(ReasonKind.KEPT_ALONGSIDE, kept, f"{', '.join(kept)} kept as use-additional code"))
    # I11 "includes any condition in I51.4-I51.7, I51.89, I51.9 due to hypertension": not coded apart
    included = {p.code for p in heart if p.code.startswith(HEART_INCLUDED)}
    if included:
        why.append(Reason(ReasonKind.INCLUDED, tuple(sorted(included)), f"{', '.join(sorted(included))} included in it"))
    gone = {p.code for p in htn} | included
    return _replaced(props, gone, _merge(code, parts, why))


def gallbladder(props: list[CodeProposal]) -> list[CodeProposal]:
    """Gallbladder calculus with cholecystitis (K80.0-, K80.1-) says it all: a separate "calculus of
    gallbladder without cholecystitis" (K80.2-) or cholecystitis code (K81.-) goes into it."""
    combo = [p for p in props if p.system == CM and p.code.startswith(("K80.0", "K80.1"))]
    if not combo:
        return _calculus_with_cholecystitis(props)
    parts = [p for p in props if p.system == CM and p.code.startswith(("K80.2", "K81"))]
    if not parts:
        return props
    best = max(combo, key=lambda p: p.score)
    why = [
        *best.reasons,
        Reason(
            ReasonKind.COMBINATION,
            tuple(p.code for p in parts),
            f"{', '.join(p.code for p in parts)} "
            "included: gallbladder calculus with cholecystitis is one combination code (Index: Calculus, gallbladder, with cholecystitis)",
        ),
    ]
    gone = {p.code for p in parts} | {best.code}
    return _replaced(props, gone, _merge(best.code, [best, *parts], why))


# cholecystitis by acuity -> Calculus, gallbladder, with cholecystitis (acute K80.00, chronic K80.10,
# acute on chronic K80.12; unstated K80.10), the 6th character 1 with obstruction
_CHOLECYSTITIS_WITH_CALCULUS = {"K81.0": "K80.0", "K81.1": "K80.1", "K81.2": "K80.1", "K81.9": "K80.1"}


def _calculus_with_cholecystitis(props: list[CodeProposal]) -> list[CodeProposal]:
    """Gallbladder stones (K80.2-) and cholecystitis (K81.-) documented as two findings of the note
    ("cholelithiasis", "chronic cholecystitis") are one code (Index: Calculus, gallbladder, with
    cholecystitis; Guidelines I.A.15)."""
    stones = [
        p
        for p in props
        if p.system == CM
        and p.code.startswith("K80.2")
        and _said(p, "stone", "calcul", "lithiasis")
        and not _said(p, "cholecystitis")
    ]
    inflamed = [p for p in props if p.system == CM and p.code in _CHOLECYSTITIS_WITH_CALCULUS and _said(p, "cholecystitis")]
    ducts = [p for p in props if p.system == CM and p.code.startswith(("K80.3", "K80.4", "K80.5", "K80.6", "K80.7"))]
    if any(_said(p, "choledoch", "duct", "cbd") for p in ducts):
        return _duct_calculus_with_cholecystitis(props, stones, inflamed, ducts)  # K80.4-, K80.6-
    if not stones or not inflamed:
        return props
    stone, cholecystitis = max(stones, key=lambda p: p.score), max(inflamed, key=lambda p: p.score)
    obstructed = stone.code == "K80.21"
    if cholecystitis.code == "K81.2":  # acute and chronic: K80.12, with obstruction K80.13
        code = "K80.13" if obstructed else "K80.12"
    else:
        code = _CHOLECYSTITIS_WITH_CALCULUS[cholecystitis.code] + ("1" if obstructed else "0")
    if not _valid(code):
        return props
    why = [
        Reason(
            ReasonKind.COMBINATION,
            (stone.code, cholecystitis.code),
            f"gallbladder calculus ({stone.code}) documented with cholecystitis ({cholecystitis.code}): combination code "
            f'{code} (Index: Calculus, gallbladder, with cholecystitis; Guidelines I.A.15, "with")',
        )
    ]
    gone = {p.code for p in stones} | {p.code for p in inflamed}
    return _replaced(props, gone, _merge(code, [stone, cholecystitis], why))


# cholecystitis by acuity -> the 5th character of Calculus, bile duct, with cholecystitis (K80.4-) and of
# Calculus, gallbladder and bile duct, with cholecystitis (K80.6-): unspecified 0, acute 2, chronic 4,
# acute and chronic 6; the 6th character 1 with obstruction
_CHOLECYSTITIS_ACUITY = {"K81.0": 2, "K81.1": 4, "K81.2": 6, "K81.9": 0}


def _duct_calculus_with_cholecystitis(
    props: list[CodeProposal], stones: list[CodeProposal], inflamed: list[CodeProposal], ducts: list[CodeProposal]
) -> list[CodeProposal]:
    """Bile duct stones ("choledocholithiasis", K80.5-) documented with cholecystitis (K81.-) are one
    code (Index: Calculus, bile duct, with cholecystitis K80.4-); with gallbladder stones (K80.2-) too,
    Calculus, gallbladder and bile duct, with cholecystitis (K80.6-). "With" presumes the link (I.A.15)."""
    duct_stones = [p for p in ducts if p.code.startswith("K80.5") and _said(p, "choledoch", "duct", "cbd")]
    # the Index may already have read "cholecystitis, choledocholithiasis" as Cholecystitis, with,
    # choledocholithiasis (K80.4-): its acuity is that code's
    inflamed = inflamed + [p for p in ducts if p.code.startswith(("K80.4", "K80.6")) and _said(p, "cholecystitis")]
    if not duct_stones or not inflamed:
        return props
    duct, cholecystitis = max(duct_stones, key=lambda p: p.score), max(inflamed, key=lambda p: p.score)
    gallbladder = max(stones, key=lambda p: p.score) if stones else None
    obstructed = duct.code == "K80.51" or (gallbladder is not None and gallbladder.code == "K80.21")
    acuity = _CHOLECYSTITIS_ACUITY.get(cholecystitis.code, int(cholecystitis.code[5:6] or 0) // 2 * 2)
    code = f"K80.{6 if gallbladder else 4}{acuity + int(obstructed)}"
    if not _valid(code):
        return props
    parts = [p for p in (gallbladder, duct, cholecystitis) if p is not None]
    entry = "gallbladder and bile duct" if gallbladder else "bile duct"
    why = [
        Reason(
            ReasonKind.COMBINATION,
            tuple(p.code for p in parts),
            f"{' and '.join(p.code for p in parts)} documented together: combination code {code} "
            f'(Index: Calculus, {entry}, with cholecystitis; Guidelines I.A.15, "with")',
        )
    ]
    gone = {p.code for p in stones} | {p.code for p in inflamed} | {p.code for p in duct_stones}
    return _replaced(props, gone, _merge(code, parts, why))


# acute lower respiratory infections: pneumonia (J12-J18), influenza with pneumonia, acute bronchitis and
# bronchiolitis (J20, J21), unspecified acute lower respiratory infection (J22)
LOWER_RESPIRATORY_INFECTION = ("J12", "J13", "J14", "J15", "J16", "J17", "J18", "J09.X1", "J10.0", "J11.0", "J20", "J21", "J22")


def copd_infection(props: list[CodeProposal]) -> list[CodeProposal]:
    """COPD documented with an acute lower respiratory infection: J44.0 (the infection coded too)."""
    copd = [p for p in props if p.system == CM and p.code in ("J44.9", "J44.1")]
    infection = [p for p in props if p.system == CM and p.code.startswith(LOWER_RESPIRATORY_INFECTION)]
    # one code per infection mention: its best (not the alternates of the same words)
    best: dict[int, CodeProposal] = {}
    for p in infection:
        start = p.evidence[0].start if p.evidence else -1
        if start not in best or p.score > best[start].score:
            best[start] = p
    infection = [p for p in infection if p in best.values()]
    if not copd or not infection or any(p.code == "J44.0" for p in props):
        return props
    why = [
        Reason(
            ReasonKind.COMBINATION,
            tuple(p.code for p in [*copd, *infection]),
            f"COPD ({', '.join(p.code for p in copd)}) documented with an acute lower respiratory infection "
            f"({', '.join(p.code for p in infection)}): combination code J44.0 (Index: Disease, lung, obstructive, with, "
            f'acute, lower respiratory infection; Guidelines I.A.15, "with")',
        ),
        Reason(
            ReasonKind.KEPT_ALONGSIDE,
            tuple(p.code for p in infection),
            f"{', '.join(p.code for p in infection)} kept as the code-also code",
        ),
    ]
    gone = {"J44.9"}
    return _replaced(props, gone, _merge("J44.0", [*copd, *infection], why))


GI_BLEEDING = ("K92.0", "K92.1", "K92.2", "K62.5")  # hematemesis, melena, GI hemorrhage, rectal bleeding
BLEEDING_CODES = (*GI_BLEEDING, "R58")  # what a bleed with a named source is no longer coded as
# the bleed's source right after its words: "bleed from", "bleeding secondary to", "hemorrhage due to the"
_SOURCE_AFTER = re.compile(r"^[\s,]*(?:\w+\s+){0,2}?(?:from|due\s+to|secondary\s+to|caused\s+by|attributed\s+to)\b", re.I)
_SENTENCE_END = re.compile(r"\.\s|\n|;")
_BLEEDING_LEVEL = re.compile(r"\b(?:bleeding|hemorrhage)\b", re.I)


def bleeding_from_source(props: list[CodeProposal], text: str | None) -> list[CodeProposal]:
    """A gastrointestinal bleed and the condition that bleeds are the condition's "with bleeding" code,
    read in the Index (Guidelines I.A.15: "with" presumes the link; the combination code, not the two
    codes). The source is the condition the bleed's sentence names right after it ("upper GI bleed from
    erosive gastritis seen at endoscopy"), or else the one condition of the note with a "with
    bleeding" entry in the bleed's part of the tract: "Upper gastrointestinal bleed" among the
    diagnoses and "upper endoscopy revealed erosive gastritis" in the course is K29.01."""
    from pipeline.code.lookup.index_lookup import lookup

    if not text:
        return props
    bleeds = [p for p in props if p.system == CM and p.code.startswith(GI_BLEEDING)]
    for bleed in bleeds:
        for ev in bleed.evidence:
            stop = _SENTENCE_END.search(text, ev.end)
            sentence_end = stop.start() if stop else len(text)
            link = _SOURCE_AFTER.match(text[ev.end : sentence_end])
            if not link:
                continue
            after = ev.end + link.end()
            for source in props:
                if source is bleed or source.system != CM or not source.code.startswith("K"):
                    continue
                said = next((x for x in source.evidence if after <= x.start < sentence_end), None)
                if said is None:
                    continue
                # the source with the words before it in the sentence ("erosive" gastritis: Gastritis, acute)
                if (hit := _with_bleeding(lookup, text[after : said.end], source.code)) is not None:
                    return _bled(props, bleed, source, said.text, hit)
    for bleed in bleeds:
        part = _tract_part(bleed, text)
        if part is None:
            continue
        sources = []
        for source in props:
            if (
                source.system != CM
                or not source.code.startswith(part)
                or source.has(ReasonKind.PERSONAL_HISTORY, ReasonKind.FAMILY_HISTORY)
            ):
                continue
            for ev in source.evidence:
                if (hit := _with_bleeding(lookup, _words_before(text, ev.start) + ev.text, source.code)) is not None:
                    sources.append((source, ev.text, hit))
                    break
        if len({hit.code for _, _, hit in sources}) == 1:
            source, words, hit = sources[0]
            return _bled(props, bleed, source, words, hit)
    return props


UPPER_TRACT = ("K20", "K21", "K22", "K25", "K26", "K27", "K28", "K29", "K31")  # esophagus, stomach, duodenum
LOWER_TRACT = ("K50", "K51", "K52", "K55", "K57", "K62", "K63", "K64")  # the bowel, rectum and anus
_UPPER = re.compile(r"\bupper\b|\bugi\b|hematemesis|coffee[- ]ground", re.I)
_LOWER = re.compile(r"\blower\b|\blgi\b|rectal|hematochezia|\bbrbpr\b|per\s+rectum", re.I)


def _tract_part(bleed: CodeProposal, text: str) -> tuple[str, ...] | None:
    """Where the bleed is: hematemesis (K92.0) and an "upper GI bleed" are the upper tract's, melena
    and a "lower" or rectal bleed the lower tract's; an unplaced bleed, neither."""
    words = " ".join(_words_before(text, ev.start) + ev.text for ev in bleed.evidence)
    upper, lower = bool(_UPPER.search(words)) or bleed.code == "K92.0", bool(_LOWER.search(words)) or bleed.code == "K62.5"
    return UPPER_TRACT if upper and not lower else LOWER_TRACT if lower and not upper else None


def _words_before(text: str, start: int) -> str:
    """Up to two words before ``start`` in its sentence ("erosive" gastritis, "upper" GI bleed)."""
    head = re.split(r"[.;:\n]", text[max(0, start - 30) : start])[-1]
    return " ".join(head.split()[-2:]) + " " if head.strip() else ""


def _with_bleeding(lookup: Callable, words: str, source_code: str):
    hit = lookup(f"{words} with bleeding")
    if hit is None or not _BLEEDING_LEVEL.search(" ".join(hit.path)) or hit.code == source_code:
        return None
    return hit


def _bled(props: list[CodeProposal], bleed: CodeProposal, source: CodeProposal, said: str, hit) -> list[CodeProposal]:
    why = [
        Reason(
            ReasonKind.COMBINATION,
            (bleed.code, source.code),
            f'"{said}" is the source of the bleed ({bleed.code}): combination code {hit.code} '
            f"(Index: {', '.join(hit.path)}; Guidelines I.A.15)",
        )
    ]
    gone = {bleed.code, source.code}
    return _replaced(props, gone, _merge(hit.code, [source, bleed], why))


NAUSEA, VOMITING, NAUSEA_WITH_VOMITING = "R11.0", "R11.10", "R11.2"
SAME_STATEMENT_CHARS = 60  # "nausea and vomiting", "nausea, vomiting and diarrhea": the words of one statement


def nausea_with_vomiting(props: list[CodeProposal]) -> list[CodeProposal]:
    """Nausea and vomiting stated together are one code (Index: Nausea, with vomiting R11.2): R11.2
    takes the place of R11.0 and R11.10 when their words stand within one statement."""
    nausea = [p for p in props if p.system == CM and p.code == NAUSEA]
    vomiting = [p for p in props if p.system == CM and p.code == VOMITING]
    if not nausea or not vomiting or any(p.code == NAUSEA_WITH_VOMITING for p in props):
        return props
    together = any(
        abs(a.start - b.start) <= SAME_STATEMENT_CHARS for n in nausea for v in vomiting for a in n.evidence for b in v.evidence
    )
    if not together:
        return props
    why = [
        Reason(
            ReasonKind.COMBINATION,
            (NAUSEA, VOMITING),
            f"nausea ({NAUSEA}) stated with vomiting ({VOMITING}): one code, {NAUSEA_WITH_VOMITING} (Index: Nausea, with vomiting)",
        )
    ]
    gone = {NAUSEA, VOMITING}
    return _replaced(props, gone, _merge(NAUSEA_WITH_VOMITING, [*nausea, *vomiting], why))


UNSPECIFIED_DEMENTIA = "F03."
DEMENTIA_IN_DISEASE = "F02."
# the diseases the Index lists under "Dementia, in" whose codes the Tabular marks "use additional code"
# for F02.8- / F02.A- ...: Alzheimer's, Parkinson's, Lewy bodies, frontotemporal (Pick's), Huntington's
DEMENTIA_CAUSES = ("G30.", "G20", "G31.83", "G31.0", "G10")
ALZHEIMERS = "G30.9"
# "Alzheimer's dementia", "Alzheimer type dementia", "dementia of the Alzheimer's type", "dementia due to
# Alzheimer disease": the cause said in the dementia's own words, where extraction marked "dementia" alone
_ALZHEIMER_BEFORE = re.compile(r"\balzheimer(?:['\u2019]?s)?(?:[- ]type)?\s+(?:\w+\s+)?$", re.I)
_ALZHEIMER_AFTER = re.compile(r"^\s*(?:,\s*)?(?:of|in|due\s+to|from|secondary\s+to)\s+(?:the\s+)?alzheimer", re.I)


def _alzheimer_said(p: CodeProposal, text: str | None) -> bool:
    return any(
        "alzheimer" in ev.text.lower()
        or (
            text is not None
            and (
                _ALZHEIMER_BEFORE.search(text[max(0, ev.start - 40) : ev.start])
                or _ALZHEIMER_AFTER.match(text[ev.end : ev.end + 40])
            )
        )
        for ev in p.evidence
    )


def dementia_in_disease(props: list[CodeProposal], text: str | None = None) -> list[CodeProposal]:
    """Dementia stated with the disease that causes it: the disease's code and F02.- for the dementia
    (Index: Dementia, in; Guidelines I.A.13), in place of F03.- unspecified dementia. The cause is
    said in the dementia's own words ("Alzheimer's dementia", "dementia of the Alzheimer type"), or is
    a code of its own in the same statement ("Parkinson's disease with dementia")."""
    cm = [p for p in props if p.system == CM]
    causes = [p for p in cm if p.code.startswith(DEMENTIA_CAUSES)]
    dementia = [p for p in cm if p.code.startswith(UNSPECIFIED_DEMENTIA)]
    added: list[CodeProposal] = []
    said_with = [c for c in causes if _said(c, "dementia")]  # "Alzheimer's dementia" G30.9
    if said_with:
        cause = max(said_with, key=lambda p: p.score)
        parts, code = [cause], DEMENTIA_IN_DISEASE + "80"
    elif dementia:
        best = max(dementia, key=lambda p: p.score)
        linked = [
            c for c in causes if any(abs(a.start - b.start) <= SAME_STATEMENT_CHARS for a in c.evidence for b in best.evidence)
        ]
        if not linked and _alzheimer_said(best, text):
            said = best.evidence[0].text if best.evidence else "dementia"
            stated = Reason(
                ReasonKind.INDEX_MATCH,
                (ALZHEIMERS,),
                f"\"{said}\" is stated as Alzheimer's: {ALZHEIMERS} (Index: Dementia, in, Alzheimer's disease; Disease, Alzheimer's)",
            )
            linked = added = [_merge(ALZHEIMERS, [best], [stated])]
        if not linked:
            return props
        cause = max(linked, key=lambda p: p.score)
        parts, code = [best], DEMENTIA_IN_DISEASE + best.code[len(UNSPECIFIED_DEMENTIA) :].replace("9", "8", 1)
    else:
        return props
    if not _valid(code):
        return props
    why = [
        Reason(
            ReasonKind.COMBINATION,
            (cause.code, *(p.code for p in parts if p is not cause)),
            f"dementia stated with its cause ({cause.code}): {cause.code} first, then {code} for the dementia "
            f"(Index: Dementia, in; Guidelines I.A.13, etiology and manifestation)",
        ),
        Reason(ReasonKind.KEPT_ALONGSIDE, (cause.code,), f"{cause.code} kept, coded first"),
    ]
    gone = {p.code for p in dementia} | {code}
    return _replaced(props, gone, *added, _merge(code, parts, why))


def _best_of_their_mentions(props: list[CodeProposal]) -> list[CodeProposal]:
    """The ICD-10-CM proposals that are the best of their mention's codes (not the alternates of the same words)."""
    best: dict[int, CodeProposal] = {}
    for p in props:
        start = p.evidence[0].start if p.evidence else -1
        if p.system == CM and (start not in best or p.score > best[start].score):
            best[start] = p
    return list(best.values())


def _other_readings(props: list[CodeProposal], parts: list[CodeProposal], prefix: str) -> set[str]:
    """The codes of ``prefix`` that read the same words as ``parts`` (their mention's alternates: "acute
    pulmonary edema" J81.0 is not also J81.1, chronic, once a combination takes it in)."""
    said = {ev.start for p in parts for ev in p.evidence}
    return {p.code for p in props if p.code.startswith(prefix) and p.evidence and p.evidence[0].start in said}


# N40.1's "use additional code for associated symptoms": incomplete emptying, nocturia, straining,
# frequency, hesitancy, incontinence, obstruction, retention, urgency, weak stream; and the bladder
# neck obstruction and difficulty voiding dictations name
LOWER_URINARY_TRACT_SYMPTOMS = ("R39.1", "R35.0", "R35.1", "R33.", "N39.4", "N13.8", "N32.0")
_WITH_SYMPTOMS = {"N40.0": "N40.1", "N40.2": "N40.3"}


def prostate_with_symptoms(props: list[CodeProposal]) -> list[CodeProposal]:
    """An enlarged (or nodular) prostate documented with lower urinary tract symptoms: N40.1 (N40.3),
    the symptoms kept beside it (Index: Enlargement, prostate, with lower urinary tract symptoms)."""
    best = _best_of_their_mentions(props)
    prostate = [p for p in best if p.code in _WITH_SYMPTOMS]
    symptoms = [p for p in best if p.code.startswith(LOWER_URINARY_TRACT_SYMPTOMS)]
    if not prostate or not symptoms or any(p.code in _WITH_SYMPTOMS.values() for p in best):
        return props
    base = max(prostate, key=lambda p: p.score)
    code = _WITH_SYMPTOMS[base.code]
    kept = tuple(dict.fromkeys(p.code for p in symptoms))
    why = [
        Reason(
            ReasonKind.COMBINATION,
            (base.code, *kept),
            f"{base.code} documented with lower urinary tract symptoms ({', '.join(kept)}): combination code {code} "
            f'(Index: Enlargement, prostate, with lower urinary tract symptoms; Guidelines I.A.15, "with")',
        ),
        Reason(ReasonKind.KEPT_ALONGSIDE, kept, f"{', '.join(kept)} kept as the use-additional code"),
    ]
    return _replaced(props, {p.code for p in prostate}, _merge(code, [base, *symptoms], why))


ALLERGIC_REACTION, URTICARIA, ALLERGIC_URTICARIA = "T78.40", "L50.9", "L50.0"


def allergic_urticaria(props: list[CodeProposal]) -> list[CodeProposal]:
    """An allergic reaction stated with urticaria (hives) is allergic urticaria, L50.0 (Index:
    Urticaria, allergic); T78.4's Excludes1 keeps the unspecified allergic reaction off it."""
    best = _best_of_their_mentions(props)
    reaction = [p for p in best if p.code.startswith(ALLERGIC_REACTION)]
    hives = [p for p in best if p.code == URTICARIA]
    together = [
        (r, h)
        for r in reaction
        for h in hives
        if any(abs(a.start - b.start) <= SAME_STATEMENT_CHARS for a in r.evidence for b in h.evidence)
    ]
    if not together or any(p.code == ALLERGIC_URTICARIA for p in best):
        return props
    r, h = together[0]
    why = [
        Reason(
            ReasonKind.COMBINATION,
            (r.code, h.code),
            f"an allergic reaction ({r.code}) stated with urticaria ({h.code}): {ALLERGIC_URTICARIA} "
            f"(Index: Urticaria, allergic; {ALLERGIC_REACTION[:5]} Excludes1 urticaria)",
        )
    ]
    gone = {p.code for p in props if p.code.startswith(ALLERGIC_REACTION) or p.code == URTICARIA}
    return _replaced(props, gone, _merge(ALLERGIC_URTICARIA, [r, h], why))


ACUTE_PULMONARY_EDEMA, UNSPECIFIED_HEART_FAILURE, LEFT_VENTRICULAR_FAILURE = "J81.0", "I50.9", "I50.1"


def pulmonary_edema_with_heart_failure(props: list[CodeProposal]) -> list[CodeProposal]:
    """Acute pulmonary edema documented with heart failure is the heart's (J81.0 Excludes1): with an
    unspecified heart failure, left ventricular failure I50.1 (Index: Edema, lung, acute, with heart
    disease or failure - see Failure, ventricular, left); with a stated type, that type alone."""
    best = _best_of_their_mentions(props)
    edema = [p for p in best if p.code == ACUTE_PULMONARY_EDEMA]
    failure = [p for p in best if p.code.startswith("I50")]
    if not edema or not failure:
        return props
    typed = [p for p in failure if p.code not in (UNSPECIFIED_HEART_FAILURE, LEFT_VENTRICULAR_FAILURE)]
    if typed:
        t = max(typed, key=lambda p: p.score)
        why = [
            *t.reasons,
            Reason(
                ReasonKind.INCLUDED,
                (ACUTE_PULMONARY_EDEMA,),
                f"{ACUTE_PULMONARY_EDEMA} included: acute pulmonary edema with heart failure is the heart failure's "
                f"(J81.0 Excludes1; Index: Edema, lung, acute, with heart disease or failure)",
            ),
        ]
        gone = {ACUTE_PULMONARY_EDEMA, t.code} | _other_readings(props, edema, "J81")
        return _replaced(props, gone, _merge(t.code, [t, *edema], why))
    why = [
        Reason(
            ReasonKind.COMBINATION,
            (ACUTE_PULMONARY_EDEMA, *dict.fromkeys(p.code for p in failure)),
            f"acute pulmonary edema ({ACUTE_PULMONARY_EDEMA}) documented with heart failure: {LEFT_VENTRICULAR_FAILURE} "
            "(Index: Edema, lung, acute, with heart disease or failure - see Failure, ventricular, left)",
        )
    ]
    gone = {ACUTE_PULMONARY_EDEMA, UNSPECIFIED_HEART_FAILURE, LEFT_VENTRICULAR_FAILURE} | _other_readings(props, edema, "J81")
    return _replaced(props, gone, _merge(LEFT_VENTRICULAR_FAILURE, [*edema, *failure], why))


UNSPECIFIED_COAGULATION_DEFECT, ANTICOAGULANT_EFFECT, ANTICOAGULANT_COAGULOPATHY = "D68.9", "T45.51", "D68.32"


def anticoagulant_coagulopathy(props: list[CodeProposal]) -> list[CodeProposal]:
    """A coagulopathy documented with the adverse effect of an anticoagulant: D68.32, hemorrhagic disorder
    due to extrinsic circulating anticoagulants, with the T45.51- code beside it."""
    best = _best_of_their_mentions(props)
    defect = [p for p in best if p.code == UNSPECIFIED_COAGULATION_DEFECT]
    effect = [p for p in props if p.system == CM and p.code.startswith(ANTICOAGULANT_EFFECT)]
    if not defect or not effect or any(p.code == ANTICOAGULANT_COAGULOPATHY for p in props):
        return props
    kept = tuple(dict.fromkeys(p.code for p in effect))
    why = [
        Reason(
            ReasonKind.COMBINATION,
            (UNSPECIFIED_COAGULATION_DEFECT, *kept),
            f"a coagulopathy ({UNSPECIFIED_COAGULATION_DEFECT}) with the adverse effect of an anticoagulant "
            f"({', '.join(kept)}): {ANTICOAGULANT_COAGULOPATHY} (Index: Disorder, hemorrhagic, due to, extrinsic "
            "circulating anticoagulants)",
        ),
        Reason(ReasonKind.KEPT_ALONGSIDE, kept, f"{', '.join(kept)} kept as the use-additional code"),
    ]
    gone = {UNSPECIFIED_COAGULATION_DEFECT} | _other_readings(props, defect, "D68")
    return _replaced(props, gone, _merge(ANTICOAGULANT_COAGULOPATHY, [*defect, *effect], why))


EFFUSION_IN_OTHER_CONDITIONS, UNSPECIFIED_PNEUMONIA = "J91.8", "J18.9"
PNEUMONIA = ("J12", "J13", "J14", "J15", "J16", "J17", "J18", "J69", "A48.1", "B59")


def parapneumonic_pneumonia(props: list[CodeProposal], text: str | None) -> list[CodeProposal]:
    """J91.8 for an effusion the note calls parapneumonic: its underlying pneumonia is coded first (J91.8
    "code first underlying disease"); J18.9 (Pneumonia, unspecified organism) where the note's pneumonia
    has no code of its own among the proposals."""
    effusion = [
        p
        for p in props
        if p.system == CM
        and p.code == EFFUSION_IN_OTHER_CONDITIONS
        and text is not None
        and any("parapneumonic" in _statement(text, ev.start).lower() for ev in p.evidence)
    ]
    if not effusion or any(p.system == CM and p.code.startswith(PNEUMONIA) for p in _best_of_their_mentions(props)):
        return props
    why = [
        Reason(
            ReasonKind.COMBINATION,
            (EFFUSION_IN_OTHER_CONDITIONS, UNSPECIFIED_PNEUMONIA),
            f"a parapneumonic effusion ({EFFUSION_IN_OTHER_CONDITIONS}, code first underlying disease): its pneumonia, "
            f"{UNSPECIFIED_PNEUMONIA} (Index: Pneumonia), coded first",
        )
    ]
    return [*props, _merge(UNSPECIFIED_PNEUMONIA, effusion, why)]


RESPIRATORY_FAILURE = "J96."
# the blood gas finding a respiratory failure is documented with: its 5th character (J96.01 with hypoxia,
# J96.02 with hypercapnia; the finding is the failure's, Index: Failure, respiration, with, hypoxia)
_GAS_FINDING = {"R09.02": ("1", "hypoxia"), "R06.89": ("2", "hypercapnia")}


def respiratory_failure_with_gas(props: list[CodeProposal], text: str | None) -> list[CodeProposal]:
    """A respiratory failure whose statement gives it with hypoxia or hypercapnia ("Acute respiratory
    failure with hypoxia") is the Index's "Failure, respiration, acute, with, hypoxia" J96.01: the
    failure's code of unstated gas (J96.x0) takes the 5th character, and the finding is included."""
    if text is None:
        return props
    for failure in [p for p in props if p.system == CM and p.code.startswith(RESPIRATORY_FAILURE) and p.code.endswith("0")]:
        for gas in [p for p in props if p.system == CM and p.code in _GAS_FINDING]:
            fifth, name = _GAS_FINDING[gas.code]
            together = any(
                f.start <= g.start <= f.start + len(_statement(text, f.start)) for f in failure.evidence for g in gas.evidence
            )
            code = failure.code[:-1] + fifth
            if not together or not _valid(code):
                continue
            why = [
                Reason(
                    ReasonKind.COMBINATION,
                    (failure.code, gas.code),
                    f"respiratory failure ({failure.code}) documented with {name} ({gas.code}): {code} "
                    f"(Index: Failure, respiration, with, {name}); the {name} is the failure's",
                )
            ]
            return respiratory_failure_with_gas(
                _replaced(props, {failure.code, gas.code}, _merge(code, [failure, gas], why)), text
            )
    return props


RADICULOPATHY = "M54.1"
# disc disorders by region (displacement, degeneration, other, unspecified: M50.2-M50.9, M51.2-M51.9);
# the region or level is what follows the subcategory digit, kept in the "with radiculopathy" code
_DISC_DISORDER = re.compile(r"^(M5[01])\.[2-9](\d{1,2})$")
# a radiculopathy's region (M54.1x) and the disc category it may go with
_RADICULOPATHY_DISC = {"1": "M50", "2": "M50", "3": "M50", "4": "M51", "5": "M51", "6": "M51", "7": "M51"}


def _with_radiculopathy(disc: str) -> str | None:
    """The disc disorder's "with radiculopathy" code of its region and level (M51.26 -> M51.16, M50.222
    -> M50.122, M51.369 -> M51.16); None for a region M50.1/M51.1 does not code (M51.9)."""
    m = _DISC_DISORDER.match(disc)
    if not m:
        return None
    category, region = m.groups()
    if category == "M51":
        region = region[:1]  # M51.36x's back pain digit is not M51.1's
    code = f"{category}.1{region}"
    return code if _valid(code) else None


def disc_with_radiculopathy(props: list[CodeProposal]) -> list[CodeProposal]:
    """A disc disorder stated with a radiculopathy of its spine region: the disc's "with radiculopathy"
    code (M51.16 for "L4-L5 disc herniation with L5 radiculopathy"; M54.1 Excludes1 M50.1-, M51.1-)."""
    best = _best_of_their_mentions(props)
    discs = [(p, combined) for p in best if p.system == CM and (combined := _with_radiculopathy(p.code))]
    roots = [p for p in best if p.system == CM and p.code.startswith(RADICULOPATHY)]
    for disc, combined in discs:
        for root in roots:
            region = root.code[len(RADICULOPATHY) :][:1]
            if region not in ("0", "") and _RADICULOPATHY_DISC.get(region) != disc.code[:3]:
                continue  # a cervical disc and a lumbar radiculopathy are two conditions
            if not any(abs(a.start - b.start) <= SAME_STATEMENT_CHARS for a in disc.evidence for b in root.evidence):
                continue
            why = [
                Reason(
                    ReasonKind.COMBINATION,
                    (disc.code, root.code),
                    f"a disc disorder ({disc.code}) stated with radiculopathy ({root.code}): {combined} "
                    f"(Index: Displacement, intervertebral disc, with radiculopathy; M54.1 Excludes1)",
                )
            ]
            # one pair at a time: the next reads the proposals this one left
            return disc_with_radiculopathy(_replaced(props, {disc.code, root.code}, _merge(combined, [disc, root], why)))
    return props


# osteoporosis without a current pathological fracture (M81.-) -> with one (M80.-): age-related, other
_OSTEOPOROSIS_WITH_FRACTURE = {"M81.0": "M80.0", "M81.8": "M80.8"}
AGE_RELATED_OSTEOPOROSIS = "M81.0"  # the Index's "Osteoporosis" and "Fracture, pathological, due to osteoporosis"
COLLAPSED_VERTEBRA, PATHOLOGICAL_FRACTURE = "M48.5", "M84.4"
_VERTEBRA = re.compile(r"\b(?:vertebra\w*|spine|spinal|lumbar|thoracic|[LT]\d{1,2}\b)", re.I)
_OSTEOPOROTIC = re.compile(r"\bosteopor", re.I)


def _fracture_site(fracture: CodeProposal, text: str | None) -> str | None:
    """M80's site and side characters for a pathological fracture code (M84.451A right femur -> "51";
    M84.433A right radius -> "31", forearm; a collapsed vertebra -> "8X"); None where M80 names no such site."""
    code = fracture.code
    if code.startswith(COLLAPSED_VERTEBRA):
        return "8X"
    site = code[5:6]
    if site == "0":  # site unspecified: the vertebra its statement names ("pathological fracture of L2")
        said = " ".join(_statement(text, ev.start) for ev in fracture.evidence) if text else ""
        return "8X" if _VERTEBRA.search(said or " ".join(ev.text for ev in fracture.evidence)) else "0X"
    if site == "8":
        return "8X" if _VERTEBRA.search(" ".join(ev.text for ev in fracture.evidence)) else None
    if site not in "1234567" or (site == "5" and code[6:7] not in "129"):
        return None  # M84.454 pelvis, M84.459 hip: no M80.05 code of theirs
    side = {"1": "1", "2": "2"}.get(code[6:7], "9")
    if site == "3":  # M84.43: 1 2 ulna, 3 4 radius (right, left); M80.03: forearm
        side = {"1": "1", "2": "2", "3": "1", "4": "2"}.get(code[6:7], "9")
    return site + side


def osteoporosis_with_fracture(props: list[CodeProposal], text: str | None = None) -> list[CodeProposal]:
    """Osteoporosis documented with a current pathological fracture (a collapsed vertebra, a fracture the
    note calls pathological or osteoporotic) is one M80 code of the fracture's site: "pathological fracture
    of L2 due to osteoporosis" is M80.08XA, not M84.40XA and M81.0 (Guidelines I.C.13.d.2; M81 and M48.5
    Excludes1 "osteoporosis with current pathological fracture (M80.-)")."""
    best = _best_of_their_mentions(props)
    fractures = [p for p in best if p.code.startswith((COLLAPSED_VERTEBRA, PATHOLOGICAL_FRACTURE))]
    if not fractures:
        return props
    osteo = sorted((p for p in best if p.code in _OSTEOPOROSIS_WITH_FRACTURE), key=lambda p: -p.score)
    parts: dict[str, list[CodeProposal]] = {}
    gone: set[str] = set()
    for fracture in fractures:
        # "osteoporotic compression fracture", the adjective in the mention or right before it
        osteoporotic = any(
            _OSTEOPOROTIC.search((_words_before(text, ev.start) if text else "") + ev.text) for ev in fracture.evidence
        )
        site = _fracture_site(fracture, text)
        if not (osteo or osteoporotic) or site is None:
            continue
        kind = _OSTEOPOROSIS_WITH_FRACTURE[osteo[0].code if osteo else AGE_RELATED_OSTEOPOROSIS]
        combined = f"{kind}{site}{fracture.code[7:8] or 'A'}"
        if _valid(combined):
            parts.setdefault(combined, []).append(fracture)
            gone |= {fracture.code} | _other_readings(props, [fracture], "M84") | _other_readings(props, [fracture], "M48.5")
    if not parts:
        return props
    merged = []
    for combined, fractures_of_it in parts.items():
        taken = [*fractures_of_it, *osteo]
        why = Reason(
            ReasonKind.COMBINATION,
            tuple(dict.fromkeys(p.code for p in taken)),
            f"osteoporosis with a current pathological fracture ({', '.join(dict.fromkeys(p.code for p in taken))}): "
            f"{combined} (Index: Fracture, pathological, due to osteoporosis; Guidelines I.C.13.d.2; M81 Excludes1)",
        )
        merged.append(_merge(combined, taken, [why]))
    return _replaced(props, gone | {p.code for p in osteo}, *merged)


def _statement(text: str, start: int) -> str:
    """The words from ``start`` to the end of its line or sentence ("Left pleural effusion, parapneumonic")."""
    ends = [i for i in (text.find("\n", start), text.find(". ", start)) if i >= 0]
    return text[start : min(ends) if ends else len(text)]


def combine(props: list[CodeProposal], text: str | None = None) -> list[CodeProposal]:
    props = anticoagulant_coagulopathy(pulmonary_edema_with_heart_failure(diabetes(list(props))))
    props = parapneumonic_pneumonia(allergic_urticaria(prostate_with_symptoms(props)), text)
    props = osteoporosis_with_fracture(disc_with_radiculopathy(respiratory_failure_with_gas(props, text)), text)
    return dementia_in_disease(
        bleeding_from_source(nausea_with_vomiting(copd_infection(gallbladder(hypertension(props)))), text), text
    )
