"""Operations a report names by a name the ICD-10-PCS tables do not use, in the tables' words.

A coder codes these by the PCS Index and the conventions the guidelines and Coding Clinic give, not by
the words of the name:

* **hernia repair** (Index: Herniorrhaphy, see Repair, Anatomical Regions, General 0WQ / Lower
  Extremities 0YQ; with synthetic substitute, see Supplement 0WU / 0YU): an inguinal or femoral hernia
  is the inguinal or femoral region of its side (both sides: the bilateral body part), an umbilical,
  ventral, incisional or epigastric hernia the abdominal wall; with mesh placed it is the Supplement of
  the region with a synthetic substitute; laparoscopic is the percutaneous endoscopic approach, else open;
* **chest tube** (Index: Thoracostomy tube, use Drainage Device): the Drainage of the pleural cavity of
  its side with a drainage device, percutaneous approach;
* **carpal tunnel release**: the Release of the median nerve, open or, endoscopic, percutaneous endoscopic;
* **cesarean section** (Index: Cesarean section, see Extraction, Products of Conception 10D0): low
  (cervical, transverse) or classical (high), open approach; a cesarean whose incision is not stated is
  left to the mention's words;
* **heart catheterization** (Index: Catheterization, heart, see Measurement, Cardiac 4A02): the
  Measurement of cardiac sampling and pressure of the left, right or both sides, percutaneous;
* **cataract extraction by phacoemulsification** (Index: Phacoemulsification, lens, with IOL implant, see
  Replacement, Eye 08R; without, see Extraction, Eye 08D): the Replacement of the lens of its side with a
  synthetic substitute where an intraocular lens is placed, else its Extraction, percutaneous approach.

The side comes from the mention or its sentence; where the table has sided body parts and no side is
stated, nothing is written and the mention's own words are looked up. The query is looked up in the PCS
code index like any procedure mention, so only codes the tables hold come back.
"""

from __future__ import annotations

import re

from pipeline.code.rules.specificity import mention_side

_HERNIA_SITE = r"(?P<site>inguinal|femoral|umbilical|periumbilical|paraumbilical|ventral|incisional|epigastric|spigelian)"
_HERNIA_REPAIR = re.compile(
    rf"\b{_HERNIA_SITE}\s+(?:hernia\s+repair|herniorrhaphy|hernioplasty)\b"
    rf"|\b(?:repair|herniorrhaphy|hernioplasty)\s+of\s+(?:an?\s+|the\s+)?(?:(?:right|left|bilateral)\s+)?"
    rf"(?:(?:recurrent|incarcerated|reducible|direct|indirect)\s+)*{_HERNIA_SITE.replace('site', 'site2')}\s+hernias?\b",
    re.I,
)
_MESH = re.compile(r"\bmesh\b|\bprolene\s+plug\b|\bperfix\s+plug\b|\bkugel\b|\bventralex\b", re.I)
_NO_MESH = re.compile(r"\b(?:no|without|not)\s+(?:\w+\s+){0,2}mesh\b", re.I)
_LAPAROSCOPIC = re.compile(r"\blaparoscop\w*|\brobotic\w*", re.I)
_CHEST_TUBE = re.compile(
    r"\bchest\s+tubes?\s+(?:placement|insertion|thoracostomy)\b|\b(?:placement|insertion)\s+of\s+(?:an?\s+)?"
    r"(?:(?:right|left)\s+)?chest\s+tubes?\b|\btube\s+thoracostomy\b",
    re.I,
)
_CARPAL_TUNNEL = re.compile(
    r"\bcarpal\s+tunnel\s+release\b|\brelease\s+of\s+(?:the\s+)?(?:(?:right|left)\s+)?carpal\s+tunnel\b", re.I
)
_ENDOSCOPIC = re.compile(r"\bendoscop\w*", re.I)
_CESAREAN = re.compile(r"\b(?:c-?section|(?:cesarean|caesarean)(?:\s+section|\s+delivery)?|ltcs)\b", re.I)
_CLASSICAL = re.compile(r"\bclassical\b|\bvertical\s+(?:uterine\s+)?incision\b", re.I)
_LOW = re.compile(r"\blow\b|\btransverse\b|\bltcs\b|\bkerr\b", re.I)
_HEART_CATH = re.compile(
    r"\b(?:(?P<side>right\s+and\s+left|left\s+and\s+right|right|left|bilateral)\s+)?heart\s+cath(?:eterization)?\b"
    r"|\b(?P<abbr>lhc|rhc)\b",
    re.I,
)
_PHACO = re.compile(r"\bphaco(?:emulsification)?\b|\b(?:extracapsular\s+)?cataract\s+extraction\b", re.I)
_LENS_IMPLANT = re.compile(r"\bintraocular\s+lens\b|\biol\b|\blens\s+implant\w*", re.I)
_EYE_SIDE = {"od": "right", "os": "left"}


def named_procedure_query(mention: str, sentence: str = "", text: str | None = None) -> str | None:
    """PCS-table words for an operation named as above, or None. ``sentence``: the mention's sentence
    (its side, a lens implant); ``text``: the report (whether mesh was placed)."""
    said = f"{mention} {sentence}"
    if m := _HERNIA_REPAIR.search(mention):
        return _hernia(m.group("site") or m.group("site2"), said, text or sentence)
    if _CHEST_TUBE.search(mention):
        side = _side(mention, sentence)
        return (
            f"drainage of {side} pleural cavity with drainage device percutaneous approach" if side in ("right", "left") else None
        )
    if _CARPAL_TUNNEL.search(mention):
        return f"release median nerve {'percutaneous endoscopic' if _ENDOSCOPIC.search(said) else 'open'} approach"
    if _CESAREAN.search(mention):
        qualifier = "high" if _CLASSICAL.search(said) else "low" if _LOW.search(said) else None
        return f"extraction of products of conception {qualifier} open approach" if qualifier else None
    if m := _HEART_CATH.search(mention):
        which = (m.group("side") or {"lhc": "left", "rhc": "right"}.get((m.group("abbr") or "").lower(), "")).lower()
        heart = "bilateral" if " and " in which or which == "bilateral" else f"{which} heart" if which else None
        return f"measurement of cardiac sampling and pressure {heart} percutaneous approach" if heart else None
    if _PHACO.search(mention):
        side = _side(mention, sentence) or next((s for w, s in _EYE_SIDE.items() if re.search(rf"\b{w}\b", said, re.I)), None)
        if side not in ("right", "left"):
            return None
        if _LENS_IMPLANT.search(said):
            return f"replacement of {side} lens with synthetic substitute percutaneous approach"
        return f"extraction of {side} lens percutaneous approach"
    return None


def _side(mention: str, sentence: str) -> str | None:
    return mention_side(mention) or mention_side(sentence)


def _hernia(site: str, said: str, text: str) -> str | None:
    site = site.lower()
    if site in ("inguinal", "femoral"):
        side = mention_side(said)
        if side is None:
            return None
        part = f"{side} {site} region"
    else:
        part = "abdominal wall"
    approach = "percutaneous endoscopic" if _LAPAROSCOPIC.search(said) else "open"
    if _MESH.search(text) and not _NO_MESH.search(text):
        return f"supplement {part} with synthetic substitute {approach} approach"
    return f"repair {part} {approach} approach"
