"""The words around a mention that the Alphabetic Index reads with it.

Extraction marks a condition's own words ("chronic respiratory failure", "cholestasis"); a coder reads
the Index with the words the physician said around them as well. Each reader here takes the mention's
Index query and the note's words right before or after it, and returns the query the Index reads, or
the query itself where the Index has no entry that reads the words:

* :func:`in_pregnancy`: "cholestasis of pregnancy" under Pregnancy, complicated by (I.C.15.a.1);
* :func:`acute_on_chronic` and :func:`acute_form`: "acute on chronic" as the Index's combined subterm,
  or as its separate acute and chronic subentries, both coded (I.B.8);
* :func:`with_coordinated`: "hypertrophy of tonsils and adenoids" as the Index's "with" (I.A.15);
* :func:`with_organism`: the infectious agent named beside the infection;
* :func:`at_spine_level`: the vertebral level right before or after a spine condition ("L4-L5 disc
  herniation", "herniated disc at C5-C6"), which names its region and level;
* :func:`lead`: "acute exacerbation of" before the disease it qualifies;
* :func:`disc_without_region`: a displaced disc of no stated region, which the Index does not code.

:func:`read_query` applies the query readers in their order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pipeline.code.lookup.index_lookup import REGION_OF_VERTEBRA, SPINE_REGIONS, lookup
from pipeline.code.lookup.index_lookup import words as index_words
from pipeline.extract.types import Entity

_AND_AFTER = re.compile(r"^\s+and\s+([a-z]{4,})\b", re.I)


# "Acute on chronic respiratory failure": extraction marks "chronic respiratory failure"
# (or "chronic ..." with its "chronic" read from the words before it, :func:`_site_query`)
_ACUTE_ON_BEFORE = re.compile(r"\bacute\s+(?:on|and|superimposed\s+on)\s+(?:chronic\s+)?$", re.I)


def said_acute_on(query: str, before: str) -> bool:
    """Whether a chronic condition's query follows "acute on" ("acute on chronic renal failure")."""
    return bool(_ACUTE_ON_BEFORE.search(before)) and query.lower().startswith("chronic ")


def acute_on_chronic(query: str, before: str) -> str:
    """The query with the "acute on" said right before a chronic condition, where the Index has the
    condition's acute and chronic form as one subterm (Failure, respiration, acute and (on) chronic
    J96.20; Failure, heart, systolic, acute, and (on) chronic I50.23); the query itself otherwise."""
    if not said_acute_on(query, before):
        return query
    joined = f"acute and {query}"
    hit = lookup(joined)
    both = hit is not None and {"acute", "chronic"} <= set(index_words(" ".join(hit.path[1:])))
    return joined if both else query


def acute_form(query: str, before: str, chronic_code: str) -> tuple[str, str] | None:
    """(code, Index path) of the acute form of a chronic condition said "acute on" ("acute on chronic renal
    insufficiency": Insufficiency, renal N28.9 beside its chronic N18.9), where the Index lists the acute
    and chronic forms as separate subentries and has no "acute and chronic" one (the query then read
    that: :func:`acute_on_chronic`); both are coded, the acute first (Guidelines I.B.8). None otherwise."""
    if not said_acute_on(query, before):
        return None
    hit = lookup(f"acute {query[len('chronic ') :]}")
    if hit is None or not hit.complete or hit.code[:3] == chronic_code[:3] or hit.code.startswith("R"):
        return None
    if not any("acute" in level.lower() for level in hit.path[1:]):  # the Index's own acute subentry, not "Anemia"
        return None
    return hit.code, hit.phrase()


# "cholestasis of pregnancy", "anemia in pregnancy": the words right after the mention that make it a
# complication of the pregnancy
_OF_PREGNANCY = re.compile(r"^\s*(?:of|in|during|complicating)\s+(?:the\s+|her\s+|this\s+)?pregnancy\b", re.I)


def in_pregnancy(query: str, after: str) -> str:
    """The query read as the Index's "Pregnancy, complicated by" where the words after the mention say
    so and the Index reads it all there ("cholestasis of pregnancy": Pregnancy, complicated by,
    cholestasis O26.64-, not Cholestasis K83.1; chapter 15 codes come first, Guidelines I.C.15.a.1);
    the query itself otherwise."""
    if not _OF_PREGNANCY.match(after):
        return query
    joined = f"{query} of pregnancy"
    hit = lookup(joined)
    return joined if hit is not None and hit.path[0] == "Pregnancy" and hit.complete else query


def with_coordinated(query: str, after: str) -> str:
    """The query with the word coordinated after the mention read as the Index's "with", where the
    Index lists the combination under the term (Hypertrophy, tonsils, with adenoids J35.3 for
    "hypertrophy of tonsils and adenoids"; Guidelines I.A.15, "with"); the query itself otherwise,
    and where the word is a condition the Index lists as a term of its own ("COPD and pneumonia"),
    coded on its own and joined by the combination rules."""
    m = _AND_AFTER.match(after)
    if not m or lookup(m.group(1)) is not None:
        return query
    joined = f"{query} with {m.group(1)}"
    hit, alone = lookup(joined), lookup(query)
    if hit is None or hit.share < 1.0 or alone is None or len(hit.path) <= len(alone.path) or hit.code == alone.code:
        return query
    return joined


# an infectious agent a dictation names beside the infection ("Bronchiolitis, respiratory syncytial virus positive")
_ORGANISM = re.compile(
    r"virus|viral|bacteri|cocc|staph|strep|\bcoli\b|pseudomonas|klebsiella|mrsa|mssa|candida|influenza|syncytial|"
    r"proteus|enterococ|ha?emophilus|mycoplasma|chlamydia|legionella|clostridi|difficile",
    re.I,
)
_CLAUSE_BREAK = re.compile(r"[.;:\n]|\band\b", re.I)
_CAUSE_AFTER = re.compile(
    r"^\s*(?:,|\(|due\s+to|secondary\s+to|caused\s+by|with)\s*(?:an?\s+|the\s+)?([A-Za-z][\w.-]*(?:\s+[A-Za-z][\w.-]*){0,3})",
    re.I,
)


def with_organism(query: str, e: Entity, text: str | None, mentions: Sequence[Entity]) -> str:
    """The query with the infectious agent named right after the mention in its clause, where the Index
    lists the infection by it and reads every word (Bronchiolitis, due to, respiratory syncytial virus
    J21.0 for "Bronchiolitis, respiratory syncytial virus positive"; Pneumonia, Streptococcus
    pneumoniae J13 for "pneumonia due to Streptococcus pneumoniae"); the query itself otherwise. Only
    an organism is read as the cause: "due to" between two conditions is the physician's to state."""
    if not text:
        return query
    named = [
        o.query_text
        for o in mentions
        if e.end <= o.start <= e.end + 40
        and not (o.negated or o.family)
        and _ORGANISM.search(o.text)
        and not _CLAUSE_BREAK.search(text[e.end : o.start])
    ]
    if m := _CAUSE_AFTER.match(text[e.end : e.end + 60]):  # words extraction did not mark: "due to Streptococcus pneumoniae"
        agent = m.group(1).split()
        named += [" ".join(agent[:n]) for n in range(len(agent), 0, -1) if _ORGANISM.search(" ".join(agent[:n]))]
    alone = lookup(query)
    for organism in named:
        joined = f"{query} due to {organism}"
        hit = lookup(joined)
        if (
            hit is not None
            and alone is not None
            and hit.share == 1.0
            and len(hit.path) > len(alone.path)
            and hit.code != alone.code
        ):
            return joined
    return query


_EXACERBATION_BEFORE = re.compile(r"\b(?:acute\s+)?exacerbation\s+of\s+(?:(?:his|her|the|their)\s+)?$", re.I)


def lead(before: str) -> str:
    """ "Acute exacerbation of" right before a mention (``before``: its sentence's preceding words;
    "Acute exacerbation of chronic obstructive pulmonary disease" extracted as the disease): the Index
    reads it as the disease's subterm (Disease, lung, obstructive, with, exacerbation, J44.1)."""
    return "acute exacerbation of" if _EXACERBATION_BEFORE.search(before) else ""


# a vertebral level or the disc between two ("L4-L5", "C5-6", "L5/S1", "C6")
_SPINE_LEVEL = r"[ctls]\d{1,2}(?:\s*[-/]\s*[ctls]?\d{1,2})?"
_SPINE_REGION = "|".join(SPINE_REGIONS)
_LEVEL_BEFORE = re.compile(rf"\b({_SPINE_LEVEL}|{_SPINE_REGION})\s*$", re.I)
_LEVEL_AFTER = re.compile(
    rf"^\s*,?\s*(?:(?:at|of|in)\s+(?:the\s+)?)?(?:(?:right|left|bilateral)\s+)?({_SPINE_LEVEL})\b(?:\s+(?:level|disc|disk))?",
    re.I,
)
_LEVEL_IN = re.compile(rf"\b(?:{_SPINE_LEVEL}|{_SPINE_REGION})\b", re.I)
_SPINE_CONDITION = re.compile(
    r"\b(?:dis[ck]|herniat\w*|nucleus pulposus|radiculopathy|radiculitis|myelopathy|spondylo\w+|stenosis|protrusion|extrusion)\b",
    re.I,
)
# a condition of the spine whatever its words say of its site ("stenosis" may be the aorta's)
_DISC_CONDITION = re.compile(
    r"\b(?:dis[ck]|herniat\w*|nucleus pulposus|radiculopathy|radiculitis|spondylo\w+|spinal stenosis)\b", re.I
)
_NOTE_LEVEL = re.compile(
    rf"\b(?:({_SPINE_REGION})\s+(?:spine|disc|disk|region)|([ctl])\d{{1,2}}\s*[-/]\s*([ctls])?\d{{1,2}})\b", re.I
)


def _note_region(text: str) -> str | None:
    """The one spine region a note's levels and regions name ("C5-C6", "cervical spine"), or None when
    it names none or several: an operative note on one disc names its region once, in its heading."""
    regions = set()
    for m in _NOTE_LEVEL.finditer(text):
        if m.group(1):
            regions.add(m.group(1).lower())
        else:
            first, second = m.group(2).lower(), (m.group(3) or m.group(2)).lower()
            regions.add(REGION_OF_VERTEBRA[first] if first == second else REGION_OF_VERTEBRA.get(second, ""))
    return regions.pop() if len(regions) == 1 and "" not in regions else None


def at_spine_level(query: str, before: str, after: str, text: str = "") -> str:
    """The query with the vertebral level or spine region said right before or after it, where it states
    none, or else the one region the note names (``text``): the region the Index reads ("L4-L5 disc
    herniation": Displacement, intervertebral disc, lumbar region) and the Tabular's level ("at C5-C6":
    M50.222). "Disc herniation" with no region stated anywhere is left for the coder."""
    if _LEVEL_IN.search(query) or not _SPINE_CONDITION.search(query):
        return query  # "T2" before diabetes, "S1" after a heart sound are no vertebrae
    if m := _LEVEL_BEFORE.search(before):
        return f"{m.group(1)} {query}"
    if m := _LEVEL_AFTER.match(after):
        return f"{query} at {m.group(1)}"
    if text and _DISC_CONDITION.search(query) and (region := _note_region(text)):
        return f"{region} {query}"
    return query


# a disc out of place, which the Index reads only by its region (Displacement, intervertebral disc, by region)
_DISC_DISPLACEMENT = re.compile(
    r"\bdis[ck]s?\s+(?:herniation|protrusion|extrusion|bulge|displacement)s?\b|\bherniated\s+(?:dis[ck]s?|nucleus\s+pulposus)\b"
    r"|\b(?:herniation|protrusion|extrusion|displacement)\s+of\s+(?:the\s+|an?\s+)?(?:\w+\s+)?dis[ck]s?\b",
    re.I,
)


def disc_without_region(query: str) -> bool:
    """A displaced disc whose region nobody states (:func:`at_spine_level` found none): the Index has
    no code for it (Displacement, intervertebral disc NEC is read by region), so it is the coder's to
    read from the films, never an abdominal hernia (K46.9) by its word "herniation"."""
    return bool(_DISC_DISPLACEMENT.search(query)) and not _LEVEL_IN.search(query)


def read_query(query: str, e: Entity, text: str | None, before: str, mentions: Sequence[Entity]) -> str:
    """The mention's Index query with the words around it the Index reads: a spine level, of pregnancy,
    acute on chronic, a coordinated "and", the organism (``before``: the mention's sentence's preceding words;
    ``mentions``: the note's condition mentions, where an organism may be one)."""
    after = text[e.end : e.end + 40] if text else ""
    query = acute_on_chronic(in_pregnancy(at_spine_level(query, before, after, text or ""), after), before)
    return with_organism(with_coordinated(query, after), e, text, mentions)
