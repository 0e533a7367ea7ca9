"""Operations a report names by a name the ICD-10-PCS tables do not use, in the tables' words.

A coder codes these by the PCS Index and the conventions the guidelines and Coding Clinic give, not by
the words of the name:

* **implanted venous access port** (Index: Implanted (venous) (access) port, use Vascular Access Device,
  Totally Implantable in Subcutaneous Tissue and Fascia): a MediPort or Port-A-Cath placed is the
  Insertion of a totally implantable vascular access device into the subcutaneous tissue and fascia of
  the chest, where its pocket is made, open approach (the pocket is cut); one in the arm the upper arm's;
  taking one out its Removal from the trunk's. The catheter is part of the device. A laparoscopy's ports
  are trocars: a bare "port" is never read as one;
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
  synthetic substitute where an intraocular lens is placed, else its Extraction, percutaneous approach;
* **an organ taken out** by its Greek or Latin name ("left nephrectomy", "right hemicolectomy",
  "splenectomy"; Index: Nephrectomy, see Resection, Urinary System 0TT; see Excision 0TB): the Resection
  of the organ the word names (:data:`pipeline.code.lookup.aliases.COMBINING_FORMS`), of its side; the
  Excision where only part of it is taken ("partial nephrectomy", "partial colectomy", "wedge
  hepatectomy"); a colectomy of a named segment ("sigmoid colectomy") or side ("right hemicolectomy") is
  the Resection of that body part; a lung lobectomy the Resection of the lobe. Laparoscopic, robotic
  and thoracoscopic are the percutaneous endoscopic approach, a vaginal hysterectomy via natural
  opening (laparoscopically assisted: with percutaneous endoscopic assistance), else open. An organ
  with sides whose side nobody states, and a hepatectomy or lobectomy of no stated lobe, are left to the
  mention's words; a lumpectomy is the Excision of the breast of its side;
* **bedside and endoscopic procedures** by their usual names: an endotracheal intubation the Insertion of
  an endotracheal airway into the trachea via natural opening (the intubation of a general anesthetic is
  not coded at all: :func:`pipeline.code.coder._anesthetic_given`); a thoracentesis the Drainage of the
  pleural cavity of its side, a paracentesis of the peritoneal cavity, percutaneous; a central line or
  PICC placed the Insertion of an infusion device into the superior vena cava, percutaneous; a
  transfusion of red cells or platelets their nonautologous Transfusion into a peripheral vein; a
  sigmoidoscopy the Inspection of the lower intestinal tract, endoscopic; a vertebroplasty or kyphoplasty
  (bone cement in the vertebral body) the Supplement of the vertebra of its region (the level's letter:
  "T11" thoracic) with a synthetic substitute, percutaneous. The paracentesis of an eye
  operation ("A paracentesis was created at 2 o'clock") is a step of it, not read.

The side comes from the mention or its sentence; where the table has sided body parts and no side is
stated, nothing is written and the mention's own words are looked up. The query is looked up in the PCS
code index like any procedure mention, so only codes the tables hold come back.
"""

from __future__ import annotations

import re

from pipeline.code.lookup.aliases import COMBINING_FORMS
from pipeline.code.lookup.index_lookup import REGION_OF_VERTEBRA
from pipeline.code.rules.note_text import clause_before
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


def named_procedure_query(mention: str, sentence: str = "", text: str | None = None, preceding: str = "") -> str | None:
    """PCS-table words for an operation named as above, or None. ``sentence``: the mention's sentence
    (its side, a lens implant); ``text``: the report (whether mesh was placed); ``preceding``: the words
    of its clause before it (an operation named before its device)."""
    if port := _port(mention, preceding):
        return port
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
    if removal := _organ_removal(_with_its_approach(mention, text or ""), sentence):
        return removal
    if bedside := _bedside_procedure(mention, sentence, text or ""):
        return bedside
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


# the device by the names a dictation gives it: brand names, or "port" with a word that makes it an implant
_PORT = re.compile(
    r"\b(?:medi[- ]?port|port[- ]?a[- ]?cath|porta[- ]?cath|power[- ]?port|infus[- ]?a[- ]?port|bard\s+port"
    r"|(?:implant(?:ed|able)|(?:central\s+)?venous(?:\s+access)?|vascular\s+access|chemo(?:therapy)?|infusion|subcutaneous)"
    r"\s+(?:access\s+)?port)s?\b",
    re.I,
)
_REMOVAL = re.compile(r"\b(?:remov\w*|explant\w*|take\s*down|taken\s+out)\b", re.I)
_INSERTION = re.compile(r"\b(?:placement|placed|place|insert\w*|implant(?:ation|ed)?)\b", re.I)
_ARM = re.compile(r"\b(?:upper\s+)?arm\b", re.I)


def _port(mention: str, preceding: str) -> str | None:
    """The insertion or removal of an implanted venous access port, or None when the mention names no
    such device or no operation on it ("Removal of" + "Port-A-Cath": the operation may come before it)."""
    if not _PORT.search(mention):
        return None
    clause = clause_before(preceding)
    if not (_REMOVAL.search(mention) or _INSERTION.search(mention)):
        mention = f"{clause} {mention}"
    if _REMOVAL.search(mention):
        return "removal of totally implantable vascular access device from trunk subcutaneous tissue and fascia open approach"
    if not _INSERTION.search(mention):
        return None
    if _ARM.search(mention):
        side = mention_side(mention)
        where = f"{side + ' ' if side else ''}upper arm"
    else:
        where = "chest"
    return f"insertion of totally implantable vascular access device into {where} subcutaneous tissue and fascia open approach"


# organs the tables hold by side: their bilateral body part in the tables' words
_BILATERAL = {
    "kidney": "bilateral kidneys",
    "ovary": "bilateral ovaries",
    "fallopian tube": "bilateral fallopian tubes",
    "testis": "bilateral testes",
    "breast": "bilateral breast",
    "lung": "bilateral lungs",
    "adrenal gland": "bilateral adrenal glands",
}
# stems that spell their organ, and the organ in the tables' words
_SPELLED_ORGANS = {
    "append": "appendix",
    "cholecyst": "gallbladder",
    "prostat": "prostate",
    "thyroid": "thyroid gland",
    "adrenal": "adrenal gland",
}
_ECTOMY = re.compile(r"\b(?P<hemi>hemi-?)?(?:salpingo-?)?(?P<stem>[a-z]+?)ectomy\b", re.I)
_PART_TAKEN = re.compile(r"\b(?:partial|subtotal|segmental|wedge|sleeve|limited|portion)\b", re.I)
_COLON_SEGMENT = re.compile(r"\b(?P<segment>sigmoid|transverse|ascending|descending)\s+(?:hemi)?colectomy\b", re.I)
_LUNG_LOBE = re.compile(
    r"\b(?P<side>right|left)\s+(?P<lobe>upper|middle|lower)\s+(?:lung\s+)?lobectomy\b"
    r"|\blobectomy\s+of\s+(?:the\s+)?(?P<side2>right|left)\s+(?P<lobe2>upper|middle|lower)\s+lobe\b",
    re.I,
)
_THYROID_LOBE = re.compile(r"\b(?P<side>right|left)\s+(?:thyroid\s+lobectomy|hemithyroidectomy)\b", re.I)
_VAGINAL = re.compile(r"\bvaginal\b|\btvh\b", re.I)
_ASSISTED = re.compile(r"\blaparoscop\w*[- ]assisted\b|\blavh\b", re.I)
_ENDOSCOPIC_APPROACH = re.compile(r"\blaparoscop\w*|\brobotic\w*|\bthoracoscop\w*|\bvats\b|\bvideo[- ]assisted\b", re.I)


def _organ_removal(mention: str, sentence: str) -> str | None:
    """The Resection (or Excision) of the organ an "-ectomy" names, in the tables' words, or None."""
    m = _ECTOMY.search(mention)
    lobe = _LUNG_LOBE.search(mention)
    if m is None and lobe is None:
        return None
    approach = _removal_approach(mention)
    if m is not None and m.group("stem").lower() == "lump":  # "right breast lumpectomy"
        side = _side(mention, sentence)
        return f"excision of {side} breast {approach}" if side in ("right", "left") else None
    if thyroid_lobe := _THYROID_LOBE.search(mention):
        return f"resection of {thyroid_lobe.group('side').lower()} thyroid gland lobe {approach}"
    if lobe:
        side, which = (lobe.group("side") or lobe.group("side2")).lower(), (lobe.group("lobe") or lobe.group("lobe2")).lower()
        return None if (side, which) == ("left", "middle") else f"resection of {side} {which} lung lobe {approach}"
    assert m is not None
    stem, hemi = m.group("stem").lower(), bool(m.group("hemi"))
    root = "excision" if _PART_TAKEN.search(mention) else "resection"
    side = _side(mention, sentence)
    if stem == "col":
        if segment := _COLON_SEGMENT.search(mention):
            return f"resection of {segment.group('segment').lower()} colon {approach}"
        if side in ("right", "left"):
            return f"resection of {side} large intestine {approach}"
        return None if hemi else f"{root} of large intestine {approach}"
    if stem == "thyroid" and hemi and side in ("right", "left"):  # "hemithyroidectomy, right"
        return f"resection of {side} thyroid gland lobe {approach}"
    # ("hemi" is read apart, so only a lobectomy of no stated lobe has a form that names no organ)
    organ = COMBINING_FORMS[stem][0] if stem in COMBINING_FORMS and stem != "lob" else _SPELLED_ORGANS.get(stem)
    if organ is None or hemi or (organ == "liver" and root == "resection"):  # a hepatectomy of no stated lobe
        return None
    if organ == "uterus" and approach == _OPEN:
        approach = (
            "via natural or artificial opening with percutaneous endoscopic assistance"
            if _ASSISTED.search(mention)
            else "via natural or artificial opening"
            if _VAGINAL.search(mention)
            else _OPEN
        )
    if organ in _BILATERAL:
        if side is None:
            return None
        organ = _BILATERAL[organ] if side == "bilateral" else f"{side} {organ}"
    return f"{root} of {organ} {approach}"


_OPEN = "open approach"


def _with_its_approach(mention: str, text: str) -> str:
    """The mention with the approach the note states for the same operation where the mention states
    none: the narrative's "attention was turned to the vaginal hysterectomy" is the heading's
    "Laparoscopic-assisted vaginal hysterectomy", one operation, one code."""
    m = _ECTOMY.search(mention)
    if m is None or _ASSISTED.search(mention) or _ENDOSCOPIC_APPROACH.search(mention):
        return mention
    for named in re.finditer(rf"((?:[\w-]+\s+){{1,3}}){re.escape(m.group(0))}\b", text, re.I):
        words_before = named.group(1)
        if _ASSISTED.search(words_before) or _ENDOSCOPIC_APPROACH.search(words_before):
            return f"{words_before}{mention}"
    return mention


def _removal_approach(mention: str) -> str:
    """The approach an organ removal's words state: laparoscopically assisted is Open (PCS guideline
    B5.2: open with percutaneous endoscopic assistance), except a vaginal hysterectomy's, read with the
    organ; laparoscopic, robotic, thoracoscopic percutaneous endoscopic; else Open."""
    if _ASSISTED.search(mention):
        return _OPEN
    return "percutaneous endoscopic approach" if _ENDOSCOPIC_APPROACH.search(mention) else _OPEN


_TRACHEAL_INTUBATION = re.compile(
    r"\b(?:endotracheal|orotracheal|nasotracheal|oral|nasal|emergent|emergency)\s+intubation\b|^intubation$", re.I
)
_THORACENTESIS = re.compile(r"\bthoracentes[ie]s\b", re.I)
_PARACENTESIS = re.compile(r"\b(?:abdominal\s+)?paracentes[ie]s\b", re.I)
_CENTRAL_LINE = re.compile(
    r"\bcentral\s+(?:venous\s+)?(?:line|catheter)s?\b|\bpicc(?:\s+line)?\b|\bperipherally\s+inserted\s+central\s+catheter\b"
    r"|\btriple[- ]lumen\s+catheter\b",
    re.I,
)
_TRANSFUSION = re.compile(r"\btransfus\w*", re.I)
_RED_CELLS = re.compile(r"\b(?:packed\s+red|prbcs?|red\s+(?:blood\s+)?cells|blood)\b", re.I)
_PLATELETS = re.compile(r"\bplatelets?\b", re.I)
_EYE = re.compile(r"\b(?:created|made|chamber|corneal?|eyes?|ocular|side[- ]?port)\b", re.I)
_SIGMOIDOSCOPY = re.compile(r"\b(?:flexible\s+)?(?:procto)?sigmoidoscopy\b", re.I)


_VERTEBRAL_AUGMENTATION = re.compile(r"\b(?:vertebroplast(?:y|ies)|kyphoplast(?:y|ies))\b", re.I)
_VERTEBRA = re.compile(r"\b(?P<letter>[ctl])(?:[1-9]|1[0-2])\b", re.I)
_SPINE_REGION = re.compile(r"\b(?P<region>cervical|thoracic|lumbar)\b", re.I)


_EYE_OPERATION = re.compile(r"\b(?:cataract|phaco\w*|intraocular|cornea[l]?|anterior\s+chamber)\b", re.I)


def _bedside_procedure(mention: str, sentence: str, text: str = "") -> str | None:
    """A bedside or endoscopic procedure named by its usual name (the module doc), in the tables' words;
    ``text``: the note (an eye operation's paracentesis is a step of it)."""
    said = f"{mention} {sentence}"
    if _TRACHEAL_INTUBATION.search(mention.strip()):
        return "insertion of endotracheal airway into trachea via natural or artificial opening"
    if _THORACENTESIS.search(mention):
        side = _side(mention, sentence)
        return f"drainage of {side} pleural cavity percutaneous approach" if side in ("right", "left") else None
    if _PARACENTESIS.search(mention):
        eye = _EYE.search(sentence) or _EYE_OPERATION.search(text)
        return None if eye else "drainage of peritoneal cavity percutaneous approach"
    if _CENTRAL_LINE.search(mention):
        placed = _INSERTION.search(said) and not _REMOVAL.search(said)
        return "insertion of infusion device into superior vena cava percutaneous approach" if placed else None
    if _TRANSFUSION.search(mention):
        if _PLATELETS.search(said):
            return "transfusion of nonautologous platelets into peripheral vein percutaneous approach"
        if _RED_CELLS.search(said):
            return "transfusion of nonautologous red blood cells into peripheral vein percutaneous approach"
        return None
    if _SIGMOIDOSCOPY.search(mention):
        return "inspection of lower intestinal tract via natural or artificial opening endoscopic"
    if _VERTEBRAL_AUGMENTATION.search(mention):
        region = _vertebral_region(mention) or _vertebral_region(sentence)
        return f"supplement {region} vertebra with synthetic substitute percutaneous approach" if region else None
    return None


def _vertebral_region(words: str) -> str | None:
    """The one spine region a vertebral level ("T11", "L1") or region word names; None for none or two."""
    regions = {REGION_OF_VERTEBRA[m.group("letter").lower()] for m in _VERTEBRA.finditer(words)}
    regions |= {m.group("region").lower() for m in _SPINE_REGION.finditer(words)}
    return regions.pop() if len(regions) == 1 else None
