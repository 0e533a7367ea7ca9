"""The Alphabetic Index read as a coder reads it: main term first, then subterms.

A coder looks a diagnosis up by its main term (the condition: "pneumonia", "disease",
"fracture"), then reads down the subterms for the mention's other words, and takes the code of
the deepest entry whose subterms the documentation states. Words the Index does not list under
the term (essential modifiers it lacks, such as "community acquired" under Pneumonia, or a site
word such as "right lower lobe") leave the code of the entry above: "community acquired
pneumonia" is Pneumonia, J18.9.

:func:`lookup` does this for one mention (after :func:`pipeline.code.rules.specificity.index_query` has
put it in the Index's words and followed the main terms that only say "see"): every main term
whose words the mention holds is tried; an entry applies when every one of its subterm levels
(connector levels "with", "in", "due to" apart) has its words in the mention; nonessential
modifiers (in parentheses) count as read when present and are not needed. Index words a mention
states differently are matched through :data:`SYNONYMS` ("pulmonary" is "lung") and, in subterms
only, :data:`IMPLIED` ("pneumonia" is an acute lower respiratory infection, so "COPD with
pneumonia" reads Disease, lung, obstructive, with, acute, lower respiratory infection, J44.0). An entry that says "see" is
followed to the code of the entry it names (``see_code``); a subterm with no code of its own whose
"see" or "see also" names a term with subterms is read on there, with the mention's words it did not
read ("left ear infection": Infection, ear, see also Otitis media, left, H66.92).

A coder also reads past one subterm level the mention leaves unstated, above a level it states
("ankle pain" is Pain, joint, ankle, M25.57-), when every entry that reads the mention so gives the
same code (:data:`LOOSE_LEVELS`). A level stated only by its nonessential modifier is not read so:
"(venous)" in Thrombosis, cavernous (venous) sinus does not make a venous thrombosis a sinus one. The
best entry covers the most mention words; of equals, the one that skips no level, then the
shallower (the default code of the term) comes first, then the code.

The char-3-gram search (:mod:`pipeline.code.lookup.candidates`) stays the fallback, for misspellings and
wordings the Index lacks; :func:`pipeline.code.coder._cm_candidates` puts an Index hit first.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

# "region" too: "cervical radiculopathy" states Radiculopathy, cervical region (M54.12), "sacral" pressure
# ulcer Ulcer, pressure, sacral region; a dictation names the region by its adjective alone
STOP = frozenset(
    "a an and the of in on at to by for with without due from as or over nos nec is was his her their this "
    "that other specified unspecified region".split()
)
CONNECTOR_LEVELS = frozenset(
    {
        "with",
        "without",
        "in",
        "due to",
        "due",
        "of",
        "by",
        "following",
        "during",
        "complicating",
        "affecting",
        "associated with",
        "in (due to)",
        # the kind of finding the analytes under it are: "Elevated, liver function, test, bilirubin" is
        # stated by "elevated bilirubin" (the dictation names the analyte, not the panel)
        "test",
    }
)
# a site's adjective -> the Index's and the Table of Neoplasms' word for the site: "rectal polyps" is
# Polyp, rectum; "uterine cancer" is Neoplasm, uterus, malignant
SITE_ADJECTIVES = {
    "pulmonary": "lung",
    "renal": "kidney",
    "cardiac": "heart",
    "hepatic": "liver",
    "gastric": "stomach",
    "cerebral": "brain",
    "cutaneous": "skin",
    "rectal": "rectum",
    "colonic": "colon",
    "uterine": "uterus",
    "ovarian": "ovary",
    "prostatic": "prostate",
    "vaginal": "vagina",
    "vulvar": "vulva",
    "nasal": "nose",
    "laryngeal": "larynx",
    "pharyngeal": "pharynx",
    "esophageal": "esophagus",
    "duodenal": "duodenum",
    "pancreatic": "pancreas",
    "splenic": "spleen",
    "vesical": "bladder",
    "testicular": "testis",
    "mammary": "breast",
    "facial": "face",
}
# a spine region -> the vertebral levels that name it
SPINE_REGION_LEVELS = {
    "cervical": tuple(f"c{n}" for n in range(1, 9)),
    "thoracic": tuple(f"t{n}" for n in range(1, 13)),
    "lumbar": tuple(f"l{n}" for n in range(1, 6)),
}
# "lumbar region", "cervical" (Displacement, intervertebral disc, cervical): a spine region's level; "lumbar"
# alone is also the abdominal wall's (Hernia, lumbar)
_SPINE_REGION = re.compile(r"^\s*(?:(cervical|thoracic)(?:\s+region)?|(lumbar)\s+region)\s*$")

# the Index's word -> the words a dictation uses for it (each also matches itself)
_BRAIN_LOBES = ("temporoparietal", "frontoparietal", "parietooccipital", "frontotemporal", "temporooccipital")
SYNONYMS = {
    "lung": ("pulmonary", "lungs"),
    "kidney": ("renal", "kidneys"),
    "legs": ("leg",),  # Edema, legs
    "limb": ("extremity",),  # "cellulitis of the right lower extremity": Cellulitis, lower limb
    **{site: (adjective,) for adjective, site in SITE_ADJECTIVES.items() if site not in ("lung", "kidney")},
    "obstructive": ("obstruction",),
    "exacerbation": ("exacerbated", "exacerbations", "flare"),
    "decompensated": ("decompensation",),
    "sclerosis": ("sclerotic",),
    "drug": ("substance", "substances"),  # Abuse, drug NEC: "substance abuse"
    "cannabis": ("marijuana", "marihuana"),
    # "acute hypoxic respiratory failure": Failure, respiration, acute, with, hypoxia
    "hypoxia": ("hypoxic",),
    "hypercapnia": ("hypercapnic",),
    "opioid": ("heroin", "opiate", "opiates"),  # Use, opioid; Abuse, drug, opioid; Dependence, drug, opioid
    "stimulant": ("methamphetamine",),  # Use, stimulant NEC (F15: other stimulants)
    "malnutrition": ("malnourishment", "malnourished"),
    "hernia": ("herniated",),  # "herniated nucleus pulposus": Hernia, nucleus pulposus
    # a condition's adjective reads its "with" subterm: "gangrenous appendicitis" is Appendicitis, gangrenous
    # - see Appendicitis, acute, read on as its "with gangrene" (K35.891); "perforated duodenal ulcer" Ulcer,
    # duodenum, with perforation (K26.5)
    "gangrene": ("gangrenous",),
    "perforation": ("perforated",),
    "disc": ("disk",),  # "C5-6 disk herniation": Hernia, intervertebral cartilage or disc
    # a vertebral level names its spine region (:data:`SPINE_REGION_LEVELS`): "C6 radiculopathy" is
    # Radiculopathy, cervical region (M54.12), where "L4" is not the lumbar of Hernia, lumbar
    **{f"{region} spine": levels for region, levels in SPINE_REGION_LEVELS.items()},
    "lumbosacral": ("s1",),  # the S1 root leaves at the lumbosacral junction: "S1 radiculopathy" is M54.17
    # more sites the Index names by the noun where a dictation says the adjective ("macular edema": Edema, macula)
    "macula": ("macular",),
    "retina": ("retinal",),
    "cornea": ("corneal",),
    "conjunctiva": ("conjunctival",),
    "scrotum": ("scrotal",),
    "penis": ("penile",),
    "trachea": ("tracheal",),
    "urethra": ("urethral",),
    "ureter": ("ureteral",),
    "gingiva": ("gingival",),
    "tonsil": ("tonsillar",),
    "pleura": ("pleural",),
    "mandible": ("mandibular",),
    "patella": ("patellar",),
    "clavicle": ("clavicular",),
    "brain": ("cerebral", "intracranial", "intracerebral"),  # "intracranial aneurysm": Aneurysm, brain
    # a hemorrhage of the brain's lobes or substance as a scan reads it: "right temporoparietal hemorrhage"
    # is Hemorrhage, cerebral, lobe (I61.1), "intraparenchymal hemorrhage" Hemorrhage, intracerebral,
    # "pontine hemorrhage" Hemorrhage, brainstem
    "cerebral": _BRAIN_LOBES,
    "intracerebral": ("intraparenchymal",),
    "brainstem": ("pontine", "pons"),
    # lab findings in a dictation's words: "elevated liver enzymes" is Elevated, liver function, test,
    # hepatic enzyme; "elevated transaminases" its aminotransferase
    "hepatic": ("liver",),
    "aminotransferase": ("transaminase", "transaminitis"),
    "pressure": ("decubitus",),  # Index: Decubitus (ulcer) - see Ulcer, pressure, by site
    # "GI bleed": Hemorrhage, gastrointestinal; "intracranial bleed": Hemorrhage, intracranial
    "hemorrhage": ("bleed", "bleeds"),
    "gastrointestinal": ("gi",),
    # a stage or type dictated in Roman numerals: "stage IV decubitus" is Ulcer, pressure, stage 4
    "2": ("ii",),
    "3": ("iii",),
    "4": ("iv",),
}
_LARGE_INTESTINE = ("colon", "colonic", "sigmoid", "rectosigmoid", "cecum", "cecal")
_SMALL_INTESTINE = ("duodenum", "duodenal", "jejunum", "jejunal", "ileum", "ileal")
# subterm words a dictation word implies (never a main term): pneumonia is an acute lower respiratory
# infection (J44.0's "COPD with acute lower respiratory infection"), an exacerbation is acute
IMPLIED = {
    "infection": ("pneumonia", "bronchopneumonia"),
    "lobe": _BRAIN_LOBES + ("lobar",),  # a lobe's adjective names its lobe ("lobar hemorrhage")
    "respiratory": ("pneumonia", "bronchopneumonia"),
    "lower": ("pneumonia", "bronchopneumonia"),
    "acute": ("pneumonia", "bronchopneumonia", "exacerbation"),
    # a part of the bowel names the bowel: "sigmoid diverticulosis" is Diverticulosis, large intestine
    "large": _LARGE_INTESTINE,
    "small": _SMALL_INTESTINE,
    "intestine": _LARGE_INTESTINE + _SMALL_INTESTINE,
    # a finding of the feet or ankles is localized: "pedal edema" is Edema, localized, R60.0
    "localized": ("pedal", "ankle", "ankles", "feet"),
    # a blood pressure the note calls elevated is a reading: Elevated, blood pressure, reading R03.0 (the
    # "see also Hypertension" is for hypertension the physician diagnoses; "high blood pressure" is its name)
    "reading": ("elevated",),
    # a chamber of the heart names the heart: "left atrial enlargement" is Enlargement, heart (I51.7)
    "heart": ("atrial", "atrium", "ventricular", "ventricle"),
    # an osteoporotic fracture is a pathological one, due to osteoporosis: "osteoporotic compression fracture
    # of L1" is Fracture, pathological, due to, osteoporosis - see Osteoporosis, with fracture (M80.08XA)
    "pathological": ("osteoporotic",),
    "osteoporosis": ("osteoporotic",),
}
# words that state what the code is anyway: a fracture not stated open or closed is closed, not stated
# displaced or not is displaced (Guidelines I.C.19.c.1), so an entry that does not read them reads the mention
DEFAULT_READINGS = frozenset({"displaced", "closed"})
# a side is the Tabular's to read (its codes by laterality, I.B.13), rarely the Index's: an entry that reads
# every other word ("fracture of the right hip": Fracture, hip) reads the whole mention's share of words
SIDES = frozenset({"right", "left", "bilateral"})
# an acuity is the Tabular's to read too (I50.23 acute on chronic; pipeline.code.rules.specificity.acuity),
# where the entry does not: "acute subdural hematoma" is read as far as Hematoma, subdural goes
TABULAR_READS = SIDES | frozenset({"acute", "chronic", "subacute"})
LOOSE_LEVELS = 1  # subterm levels an entry may skip (unstated, above a level the mention states)
# a level that makes the condition another kind is never read past unstated: "cerebellar" hemorrhage
# is not Hemorrhage, traumatic - code to specific injury, cerebellar
_UNSKIPPABLE = re.compile(
    r"\b(?:traumatic|nontraumatic|newborn|congenital|pathologic(?:al)?|fetal|perinatal|maternal|puerperal|pregnancy|"
    r"obstetric|postoperative|postprocedural|induced|drug|sequelae?|late effect|old|healed|history|family|"
    r"hemolytic|blood loss|(?:post)?hemorrhagic|cerebral)\b|\bcode to\b",  # "chronic anemia" is not Anemia, hemolytic, chronic (hereditary,
    # D58.9); "acute anemia" is not Anemia, blood loss, acute (D62): the cause is the physician's to state;
    # nor is a site: a lung's "right upper lobe hemorrhage" is not Hemorrhage, cerebral, lobe (I61.1)
    re.I,
)
_CAUSE_CONNECTORS = frozenset({"due to", "secondary to"})


def _level_key(level: str) -> str:
    """An Index level as a connector is spelled in :data:`CONNECTOR_LEVELS`: without its nonessential
    modifiers, lower case, no closing colon."""
    return _PAREN.sub("", level).strip().lower().rstrip(":")


_NO_REDIRECT = re.compile(r"\b(?:condition|by site|by type|category)\b", re.I)  # "see condition": nothing to read on under
# "see Diabetes, by type, with hyperglycemia": the type the mention states is read on its own, so the
# reference is read on as Diabetes, with hyperglycemia (the default type unless the mention names one)
_BY_TYPE = re.compile(r",\s*by type\b", re.I)
MAX_REDIRECTS = 2
_LIMB_TITLE_WORD: dict[tuple[str, ...], str] = {
    ("lower",): "leg",
    ("upper",): "arm",
}  # the Tabular's word for the limb an Index level names
_STAGE = re.compile(r"\bstage\s+\d\b", re.I)
_WORD = re.compile(r"[a-z0-9]+")
_PAREN = re.compile(r"\([^)]*\)")
_BRACKETS = re.compile(r"\[([^\]]*)\]")
MIN_HEAD_LETTERS = 4  # a main term shorter than this ("ear", "leg") is not looked up as a head
# ... save these, main terms that name a condition by themselves ("marijuana use": Use, cannabis F12.90)
SHORT_MAIN_TERMS = frozenset({"use"})


@dataclass(frozen=True)
class IndexHit:
    code: str  # billable FY2026 code
    path: tuple[str, ...]  # the Index entry read
    covered: int  # mention words the entry reads
    words: int  # mention words (without stop words)
    unlisted: bool  # the words it does not read are nowhere under its main term (modifiers the Index lacks)
    by_adjective: bool = False  # the main term was read in another spelling ("diabetic" for Diabetes)

    @property
    def complete(self) -> bool:
        """The entry reads the mention as far as the Index goes: every word, or every word the Index
        lists under the term ("community acquired" is not under Pneumonia: J18.9); not so
        "nicotine dependence" at Dependence, F19.20, where nicotine is under Dependence, drug."""
        return self.covered == self.words or self.unlisted

    @property
    def share(self) -> float:
        return self.covered / self.words if self.words else 0.0

    def phrase(self) -> str:
        return ", ".join(self.path)


def _stem(w: str) -> str:
    """A word without a plural ending ("lobes" -> "lobe", "diseases" -> "disease"); "diabetes" kept whole."""
    if len(w) > 4 and w.endswith("s") and not w.endswith(("ss", "is", "us", "tes")):
        return w[:-1]
    return w


# the Index's own convention, never a dictation's words: "Anemia, due to, chronic disease classified
# elsewhere NEC" is read as "chronic disease" (NEC is a stop word)
_CLASSIFIED_ELSEWHERE = re.compile(r"\bclassified\s+elsewhere\b")
# an eponym's possessive is the same name: "Parkinson's disease" and "Parkinson disease" both read
# Disease, Parkinson's (the Index writes "Graves' disease", a dictation "Graves disease")
_POSSESSIVE = re.compile(r"(?<=[a-z])['\u2019]s?\b")
# the disc between two spine regions is in the region the Index names by both: "L5-S1" is the lumbosacral
# region (M51.27), not the lumbar (L5) one
SPINE_JUNCTIONS = {"c7 t1": "cervicothoracic", "t12 l1": "thoracolumbar", "l5 s1": "lumbosacral"}
# the spine's regions as the Index names them, and the region a vertebra's letter names (S1's is the junction)
SPINE_REGIONS = ("cervical", "cervicothoracic", "thoracic", "thoracolumbar", "lumbar", "lumbosacral")
REGION_OF_VERTEBRA = {"c": "cervical", "t": "thoracic", "l": "lumbar", "s": "lumbosacral"}
_SPINE_JUNCTION = re.compile(r"\b(c7|t12|l5)\s*[-/]?\s*(t1|l1|s1)\b")
_SHORT_SPINE_LEVELS = re.compile(r"\b([ctl])(\d{1,2})\s*[-/]\s*(\d{1,2})\b")


@lru_cache(maxsize=200000)
def words(text: str) -> tuple[str, ...]:
    plain = _POSSESSIVE.sub("", _CLASSIFIED_ELSEWHERE.sub(" ", _PAREN.sub(" ", text.lower())))
    plain = _SHORT_SPINE_LEVELS.sub(r"\1\2-\1\3", plain)  # "C5-6" is C5-C6
    plain = _SPINE_JUNCTION.sub(lambda m: SPINE_JUNCTIONS.get(f"{m[1]} {m[2]}", m[0]), plain)
    return tuple(_stem(w) for w in _WORD.findall(plain.replace("-", " ")) if w not in STOP)


@dataclass(frozen=True)
class _Entry:
    # per subterm level: its comma parts, each with its alternatives' essential words (a connector
    # level such as "with": none needed)
    levels: tuple[tuple[tuple[frozenset[str], ...], ...], ...]
    level_words: tuple[frozenset[str], ...]  # every word of each level (a quick test before the full one)
    nemod: frozenset[str]  # nonessential modifier words of every level
    code: str | None  # None: the entry only sends on (``redirect``)
    path: tuple[str, ...]
    level_nemod: tuple[frozenset[str], ...] = ()  # each level's nonessential modifier words
    skippable: tuple[bool, ...] = ()  # per level: may be read past when the mention leaves it unstated
    redirect: str = ""  # the term a codeless subterm's "see" or "see also" names, read on with the mention's other words
    default_kind: frozenset[str] = frozenset()  # the main term's own kind ("Hematoma (traumatic)"), never read for its opposite


@lru_cache(maxsize=1)
def _entries() -> dict[frozenset[str], list[_Entry]]:
    """Main term (its words, one key per comma spelling: "Disease, diseased") -> entries with a code."""
    from pipeline.code.lookup.codeset import get_codeset

    cs = get_codeset()
    billable = set(cs.cm_billable_codes)
    resolved: dict[str, str | None] = {}

    def target(code: str) -> str | None:
        if code not in resolved:
            c = code.rstrip("-").rstrip(".")
            most = code.endswith("-") or c[:1] in "ST"
            # a code printed without its 7th character is the initial encounter ("Laceration, forehead S01.81")
            resolved[code] = c if c in billable else cs.cm_unspecified_child(c, most_unspecified=most, initial_encounter=True)
        return resolved[code]

    ordered = sorted(billable)

    def staged(code: str, path: tuple[str, ...]) -> str | None:
        """An incomplete code whose Index entry names its stage ("Ulcer, pressure, stage 4, sacral
        region L89.15-") or its limb ("Pain, limb, lower M79.60-"): the child the Tabular titles with that
        stage (L89.154) or limb, of unstated side (M79.606 "pain in leg, unspecified"), else :func:`target`."""
        stage = next((m.group(0).lower() for level in path[1:] if (m := _STAGE.search(level))), None)
        if code.endswith("-") and stage is None and len(path) >= 3 and words(path[-2]) == ("limb",):
            # "Pain, limb, lower M79.60-": the limb the level names, of unstated side ("pain in leg,
            # unspecified", M79.606; the upper limb's is the arm's); the side is read from the note later
            stage = _LIMB_TITLE_WORD.get(words(path[-1]))
        if code.endswith("-") and stage:
            prefix = code.rstrip("-").rstrip(".")
            first = bisect.bisect_left(ordered, prefix)
            kids = []
            for k in ordered[first:]:
                if not k.startswith(prefix):
                    break
                if stage in (cs.cm_description(k) or "").lower():
                    kids.append(k)
            # of a stage's children by side, the one of unstated side (the side is read from the note later)
            if len(kids) > 1:
                kids = [k for k in kids if "unspecified" in (cs.cm_description(k) or "").lower()]
            if len(kids) == 1:
                return kids[0]
        return target(code)

    qualified = _qualified_terms(cs.cm_index)
    out: dict[frozenset[str], list[_Entry]] = {}
    for e in cs.cm_index:
        code = (
            staged(e.see_code, tuple(level.strip() for level in e.see.split(",")))
            if e.see_code
            else (staged(e.code, e.path) if e.code and e.valid else None)
        )
        redirect = ""
        if code and e.see_code and len(e.path) >= 2 and "," in e.see:
            # "Pain, foot - see Pain, limb, lower" (M79.60-): the coder reads on there to foot (M79.67-)
            redirect = e.see
        if not code:
            redirect = _BY_TYPE.sub("", e.see or e.see_also)
            if len(e.path) < 2 or not redirect or _NO_REDIRECT.search(redirect):
                continue
        main = e.path[0]
        spellings = _spellings(main)
        head = spellings[0] if spellings else main
        # "Disease, diseased": each spelling is the term; "Abduction contracture, hip": the first part only
        keys = [head] + [s for s in spellings[1:] if _same_term(s, head)]
        # "Fracture, pathological (pathologic)": a qualifier that makes the condition another kind is
        # read only when stated, as its first level ("femur fracture" is not Fracture, pathological, femur)
        others = [s for s in spellings[1:] if not _same_term(s, head)]
        qualifier = _kind_qualifier(others, e.nemod[0] if e.nemod else "") or (
            _named_qualifier(others) if main in qualified else ()
        )
        # a subterm's comma part that only repeats the main term's own kind ("Hematoma (traumatic),
        # intracerebral, traumatic") is the term's default there, as nonessential as the main term says
        default_kind = _one_word_modifiers(e.nemod[0]) & _KIND_DEFAULTS if e.nemod else frozenset()
        subterms = [
            ((), frozenset(words(s)))
            if _DEFAULT_KIND_LEVEL.match(s)
            else _implied_parts(_level(s, deeper=j < len(e.path) - 1), default_kind)
            for j, s in enumerate(e.path[1:], 1)
        ]
        levels = qualifier + tuple(parts for parts, _ in subterms)
        level_nemod: tuple[frozenset[str], ...] = (frozenset(),) * len(qualifier) + tuple(
            _one_word_modifiers(n) | implied for n, (_, implied) in zip(e.nemod[1:], subterms)
        )
        nemod = frozenset(w for n in e.nemod for w in _nemod_words(n)) | frozenset(
            w for s in e.path[1:] if _DEFAULT_KIND_LEVEL.match(s) for w in words(s)
        )
        level_words = tuple(frozenset(w for part in level for alt in part for w in alt) for level in levels)
        # a level that names a cause (under "due to") is read only when stated: "acute anemia" is not
        # Anemia, due to, hemorrhage, acute (D62)
        skippable = (False,) * len(qualifier) + tuple(
            not _UNSKIPPABLE.search(level) and _level_key(e.path[j]) not in _CAUSE_CONNECTORS
            for j, level in enumerate(e.path[1:])
        )
        entry = _Entry(
            levels,
            level_words,
            nemod,
            code,
            e.path,
            level_nemod=level_nemod,
            skippable=skippable,
            redirect=redirect,
            default_kind=default_kind,
        )
        for key in dict.fromkeys(frozenset(words(k)) for k in keys):
            if key:
                out.setdefault(key, []).append(entry)
    return out


def _spellings(main_term: str) -> list[str]:
    """A main term's comma parts without nonessential modifiers: "Disease, diseased" -> [Disease,
    diseased]; "Pattern, sleep-wake, irregular" -> [Pattern, sleep-wake, irregular]."""
    return [p.strip() for p in _PAREN.sub("", main_term).split(",") if p.strip()]


def _kind_qualifier(qualifiers: list[str], nemod: str) -> tuple[tuple[tuple[frozenset[str], ...], ...], ...]:
    """A main term's qualifier after its comma that makes the condition another kind (pathological,
    nontraumatic, congenital ...: :data:`_UNSKIPPABLE`), as one level any of its words (or its
    one-word nonessential modifiers: "(pathologic)") states; () for none, or for "traumatic", the
    reading an injury term has unless another kind is stated."""
    said = [q for q in qualifiers if _UNSKIPPABLE.search(q) and q.lower() != "traumatic"]
    if not said:
        return ()
    forms = [w for q in said for w in words(q)] + sorted(_one_word_modifiers(nemod))
    return (((tuple(frozenset({w}) for w in dict.fromkeys(forms))),),)


def _named_qualifier(qualifiers: list[str]) -> tuple[tuple[tuple[frozenset[str], ...], ...], ...]:
    """A one-entry main term's qualifier after its comma (:func:`_qualified_terms`) as one level any of its
    words states: "Implant, endometrial" is read for "endometrial implant", never for "breast implant"."""
    forms = [w for q in qualifiers for w in words(q)]
    return (((tuple(frozenset({w}) for w in dict.fromkeys(forms))),),) if forms else ()


def _qualified_terms(index: Sequence) -> frozenset[str]:
    """Main terms of one entry, no subterms under them, whose comma qualifier names what the condition is:
    their head word is a word of entries coded in other categories, so alone it names something else
    ("Implant, endometrial" N80.9: an implant is also a device, T85; "Assault, sexual"; "Movements,
    dystonic"; "Intubation, difficult or failed"). A term whose qualifier only spells the head again
    ("Keloid, cheloid"), lists other heads ("Reiter's disease, syndrome, or urethritis") or states a kind
    (:func:`_kind_qualifier`) is not one."""
    with_subterms = {e.path[0] for e in index if len(e.path) > 1}
    candidates: dict[str, tuple[str, str]] = {}  # main term -> (its head word, its code's category)
    for e in index:
        if len(e.path) != 1 or e.path[0] in with_subterms or not (e.code or e.see_code):
            continue
        spellings = _spellings(e.path[0])
        head = words(spellings[0]) if spellings else ()
        others = [s for s in spellings[1:] if not _same_term(s, spellings[0])]
        if len(head) != 1 or not others or others[-1].lower().startswith("or ") or any(_UNSKIPPABLE.search(q) for q in others):
            continue
        candidates[e.path[0]] = (head[0], (e.code or e.see_code)[:3])
    heads = {head for head, _ in candidates.values()}
    categories: dict[str, set[str]] = {head: set() for head in heads}  # the categories coded where a head word stands
    for e in index:
        code = e.code or e.see_code
        if code:
            for w in heads.intersection(words.__wrapped__(" ".join(e.path))):  # not cached: read once
                categories[w].add(code[:3])
    return frozenset(term for term, (head, category) in candidates.items() if categories[head] - {category})


_KIND_DEFAULTS = frozenset({"traumatic"})  # a main term's kind its subterms may repeat after a comma
# the kind the Index reads when the mention states none ("Compression, fracture, nontraumatic NOS - see
# Collapse, vertebra": a "compression fracture" of no stated cause is M48.5-, not Fracture, traumatic):
# a level no mention need state, read when stated
_DEFAULT_KIND_LEVEL = re.compile(r"^\s*nontraumatic\s+NOS\s*$", re.I)


def _implied_parts(
    parts: tuple[tuple[frozenset[str], ...], ...], default_kind: frozenset[str]
) -> tuple[tuple[tuple[frozenset[str], ...], ...], frozenset[str]]:
    """A level's parts less those the main term's own kind states (``default_kind``), and their words:
    "intracerebral, traumatic" under Hematoma (traumatic) is stated by "intracerebral" alone."""
    kept = tuple(part for part in parts if not all(alt <= default_kind for alt in part))
    if not default_kind or not kept or len(kept) == len(parts):
        return parts, frozenset()
    return kept, frozenset(w for part in parts if part not in kept for alt in part for w in alt)


def _states(entry: _Entry, word: str) -> bool:
    """Whether one of the entry's subterm levels has the word ("Hematoma, subdural, nontraumatic")."""
    return any(word in level for level in entry.level_words)


def _one_word_modifiers(nemod: str) -> frozenset[str]:
    """The nonessential modifiers of one word that may state their level ("(erosive)"; not
    "(involving lobes)", whose "lobe" does not make a right lower lobe pneumonia a bronchopneumonia)."""
    return frozenset(w for group in re.findall(r"\(([^)]*)\)", nemod) for w in words(group) if len(words(group)) == 1)


def _nemod_words(nemod: str) -> frozenset[str]:
    return frozenset(words(nemod.replace("(", " ").replace(")", " "))) if nemod else frozenset()


def _same_term(spelling: str, head: str) -> bool:
    """Another spelling of the main term ("Dilated, dilation", "Discitis, diskitis"), not a qualifier
    after its comma ("Abduction contracture, hip")."""
    a, b = spelling.lower().strip(), head.lower().strip()
    return a[:4] == b[:4] or (" " not in a and " " not in b and a[:3] == b[:3] and abs(len(a) - len(b)) <= 2)


# "specified NEC" above a deeper level: a level no mention states in words, so only read past (a mention
# that names no other type is not of a type not elsewhere classified: "lumbar spondylosis" is Spondylosis,
# without myelopathy or radiculopathy, lumbar region M47.816, not Spondylosis, specified NEC, lumbar region)
_NOT_ELSEWHERE_CLASSIFIED = ((frozenset({"<another type>"}),),)
_NEC_LEVEL = re.compile(r"\bNEC\b|\bspecified\b", re.I)


def _level(subterm: str, deeper: bool) -> tuple[tuple[frozenset[str], ...], ...]:
    """A subterm level's parts (:func:`_alternatives`): none for a connector ("with", "due to"), one no
    mention states for a type not elsewhere classified with levels below it (``deeper``)."""
    if _level_key(subterm) in CONNECTOR_LEVELS:
        return ()
    parts = _alternatives(subterm)
    return parts or (_NOT_ELSEWHERE_CLASSIFIED if deeper and _NEC_LEVEL.search(subterm) else parts)


@lru_cache(maxsize=100000)
def _alternatives(subterm: str) -> tuple[tuple[frozenset[str], ...], ...]:
    """A subterm as parts that must all be stated (split at its commas), each with its
    alternatives (split at "or"): "atrial or auricular" -> ({atrial}, {auricular}); "pneumococcal,
    acute or subacute" -> ({pneumococcal},), ({acute}, {subacute}). Square brackets enclose another
    wording of their part (the Index's convention): "electrocardiogram [ECG] [EKG]" is stated by
    any of the three, "prostate specific antigen [PSA]" by "PSA"."""
    parts: list[tuple[frozenset[str], ...]] = []
    for part in _PAREN.sub(" ", subterm.lower()).split(","):
        bracketed = _BRACKETS.findall(part)
        alts = tuple(
            a
            for a in dict.fromkeys(
                [frozenset(words(a)) for a in re.split(r"\bor\b", _BRACKETS.sub(" ", part))]
                + [frozenset(words(b)) for b in bracketed]
            )
            if a
        )
        if m := _SPINE_REGION.match(part):  # "lumbar region" of the spine: stated by a vertebral level too
            alts = (*alts, frozenset({f"{m.group(1) or m.group(2)} spine"}))
        if alts and parts and _spelling_of(alts, parts[-1]):
            parts[-1] = parts[-1] + alts  # "cerebellar, cerebellum": two spellings, either states the level
        elif alts:
            parts.append(alts)
    if not parts and (named := frozenset(_WORD.findall(_PAREN.sub(" ", subterm.lower()))) - _NOT_A_NAME):
        # a subterm of stop words only that is still a name ("Disease, His" A79.0, "Hepatitis, viral,
        # type, A"): its words must be stated, never read as a connector any mention passes
        parts.append((named,))
    return tuple(parts)


# the stop words of subterms that name nothing (connectors and the Index's "specified NEC" levels)
_NOT_A_NAME = frozenset("to for on and from at due or with of in by specified unspecified other nec".split())


def _spelling_of(alts: tuple[frozenset[str], ...], previous: tuple[frozenset[str], ...]) -> bool:
    """One word that is another spelling of the previous part's one word (:func:`_same_term`:
    "cerebellar, cerebellum", "femur, femoral")."""
    if len(alts) != 1 or len(alts[0]) != 1:
        return False
    (word,) = alts[0]
    return any(len(p) == 1 and len(word) >= 5 and _same_term(word, next(iter(p))) for p in previous)


def _expanded(mention_words: set[str], table: dict[str, tuple[str, ...]]) -> dict[str, set[str]]:
    """Index word -> the mention words that state it (the word itself, or a dictation word for it)."""
    out: dict[str, set[str]] = {w: {w} for w in mention_words}
    for index_word, said in table.items():
        hits = {w for w in said if w in mention_words}
        if hits:
            out.setdefault(index_word, set()).update(hits)
    return out


_EPISODE_WORDS = re.compile(r"\s+initial encounter(?:\s+for\s+(?:closed\s+|open\s+)?fracture)?\s*$", re.I)


def without_episode(query: str) -> str:
    """An injury query without the Tabular's episode words (pipeline.code.rules.specificity adds
    them for the title search): the Alphabetic Index lists no episode, so "laceration of the forehead
    initial encounter" is Laceration, forehead, not Encounter."""
    return _EPISODE_WORDS.sub("", query)


@lru_cache(maxsize=20000)
def lookup(mention: str, _redirects: int = MAX_REDIRECTS, main_term: str | None = None) -> IndexHit | None:
    """The Index entry a coder would read for ``mention`` (in the Index's words; an injury query's
    episode words are not read: :func:`without_episode`), or None when no main term of the Index is
    a word of the mention. ``main_term``: read under that main term only ("screening": Screening,
    neoplasm, breast for "screening breast cancer", not Cancer, breast). Where the main term's
    entries leave words unread, the term its "see also" names may read them all ("carotid artery
    stenosis": Stenosis, artery NEC reads two words of three; Stricture, artery, carotid all three)."""
    hit = _lookup_entry(mention, _redirects, main_term)
    if hit is not None and hit.share < 1.0 and main_term is None:
        mention_words = set(words(without_episode(mention)))
        also = _read_at_see_also(mention_words, _main_terms(frozenset(_expanded(mention_words, SYNONYMS))), _redirects)
        if also is not None:
            return also
        if hit.unlisted and _listed_at_see_also(mention_words, _main_terms(frozenset(_expanded(mention_words, SYNONYMS)))):
            # the words left are the Index's own under the term its "see also" names, not modifiers it
            # lacks: "disc herniation" of no stated region (Herniation - see also Hernia; Hernia,
            # intervertebral disc - see Displacement, intervertebral disc, by region) is not read as far
            # as the Index goes at Herniation, K46.9
            return replace(hit, unlisted=False)
    return hit


def _expanded_words(mention_words: set[str]) -> set[str]:
    """The Index words the mention states, itself or by a dictation word for one (:data:`SYNONYMS`)."""
    return set(mention_words) | set(_expanded(mention_words, SYNONYMS))


def _listed_at_see_also(mention_words: set[str], terms: dict[frozenset[str], list[_Entry]]) -> bool:
    """Whether a mention word besides a main term is a subterm word of the term that term's "see also" names."""
    for key in terms:
        see_also = _main_term_see_also().get(key)
        if see_also and (mention_words - key) & _term_words().get(frozenset(words(see_also)), frozenset()):
            return True
    return False


def _stated_in(mention_words: set[str], path: Sequence[str]) -> set[str]:
    """The mention words an Index path reads: its own words, or a dictation word for one (:data:`SYNONYMS`:
    "L4" for "lumbar region")."""
    there = set(words(" ".join(path)))
    said_there = set().union(*(SYNONYMS.get(p, ()) + SYNONYMS.get(f"{p} spine", ()) for p in there))
    return {w for w in mention_words if w in there or w in said_there}


def _lookup_entry(mention: str, _redirects: int, main_term: str | None) -> IndexHit | None:
    mention_words = set(words(without_episode(mention)))
    if not mention_words:
        return None
    negated = bool(_NEGATION.search(mention))
    absent = set(words(_WITHOUT_WORDS.split(mention, maxsplit=1)[1])) if _WITHOUT_WORDS.search(mention) else set()
    named = _expanded(mention_words, SYNONYMS)
    said = _expanded(mention_words, {**SYNONYMS, **{w: SYNONYMS.get(w, ()) + IMPLIED[w] for w in IMPLIED}})
    implied = frozenset(w for w in said.keys() - named.keys())  # Index words only a dictation word implies
    readings: list[_Reading] = []
    terms = _main_terms(frozenset(named))
    if main_term is not None:
        terms = {key: entries for key, entries in terms.items() if key == frozenset(words(main_term))}
    for key, entries in terms.items():
        head = set().union(*(named[w] for w in key))
        for entry in entries:
            if any(f"non{kind}" in mention_words and not _states(entry, f"non{kind}") for kind in entry.default_kind):
                continue  # "nontraumatic intracerebral hematoma" is no Hematoma (traumatic), intracerebral
            reading = _read(entry, head, said, implied)
            if reading is None:
                continue
            covered, skips, by_synonym, stated_by_levels = reading
            # "with lower urinary tract symptoms" is not the Index's "without lower urinary tract symptoms"
            if not negated and any(_WITHOUT_LEVEL.match(level) and covered & set(words(level)) for level in entry.path[1:]):
                continue
            # ... nor "without obstruction" the Index's "with, obstruction"
            if absent and any(
                level.lower() == "with" and covered & absent & set(words(after))
                for level, after in zip(entry.path[1:], entry.path[2:])
            ):
                continue
            # of two readings of as many words, the one that reads the Index's own words: "intracranial
            # hemorrhage" is Hemorrhage, intracranial, not Hemorrhage, brain (a synonym of intracranial)
            # ... and of two readings of as many words, the one whose subterms state more of them: "acute systolic
            # heart failure" is Failure, heart, systolic, acute I50.21, not Failure (acute), heart, systolic I50.20
            rank = (-len(covered), skips, -stated_by_levels, by_synonym, len(entry.path), entry.code or "", entry.path)
            readings.append((rank, entry, covered, key, skips))
    best = _best(readings)
    if best is None:
        return _read_at_see_also(mention_words, terms, _redirects)
    _, entry, covered, key, _ = best
    if entry.code is not None and not entry.redirect:
        return _hit(entry, covered, key, said, len(mention_words))
    # "Infection, ear - see also Otitis media": read on under the term it names, with the words left
    rest = sorted(mention_words - covered)
    on = lookup(" ".join([entry.redirect.replace(",", " "), *rest]), _redirects - 1) if _redirects else None
    # the words the redirecting subterm read go on too when the term it names reads them deeper
    # ("foot pain": Pain, foot - see Pain, limb, lower, whose foot is M79.67-)
    carried = sorted(mention_words - {m for w in key for m in named.get(w, {w})})
    if _redirects and carried != rest:
        deeper = lookup(" ".join([entry.redirect.replace(",", " "), *carried]), _redirects - 1)
        # only a level the mention's own words state: "leg pain" is Pain, leg - see Pain, limb, lower
        # (M79.60-), not its "lower leg" (M79.66-), whose "lower" only the reference says
        beyond = deeper.path[entry.redirect.count(",") + 1 :] if deeper is not None else ()
        if (
            deeper is not None
            and (on is None or len(deeper.path) > len(on.path))
            and all(set(words(level)) <= _expanded_words(mention_words) for level in beyond)
        ):
            on = deeper
    # the redirecting subterm's nonessential modifier is what it stands for there: "Hematoma, subdural
    # (traumatic) - see Injury, intracranial, subdural hemorrhage" reads on to its "traumatic" entry (S06.5X-)
    # (stated or not: "traumatic intracerebral hematoma" reads Injury, intracranial, intracerebral hemorrhage, traumatic)
    # An acuity or side among them is the Tabular's to read, not a word to read on with ("Dilatation, heart
    # (acute) (chronic) - see Hypertrophy, cardiac" is I51.7, not its "rheumatic, active or acute" I01.8)
    implied_there = sorted(entry.level_nemod[-1] - set(rest) - TABULAR_READS) if entry.level_nemod else []
    if _redirects and implied_there:
        deeper = lookup(" ".join([entry.redirect.replace(",", " "), *rest, *implied_there]), _redirects - 1)
        if (
            deeper is not None
            and _under(deeper, entry.redirect)
            and _reads_the_subterms(deeper, entry.redirect)  # "urethra (valve)" is not Stricture, valve
            and (on is None or not _under(on, entry.redirect) or len(deeper.path) > len(on.path))
        ):
            on = deeper
    if entry.code is not None:  # a reference with its own code: only a deeper reading there improves on it
        # deeper by the words it reads, not by its levels: "chest subcutaneous nodule" is Nodule, subcutaneous
        # - see Swelling, localized (R22.9), read on there as Swelling, chest, localized (R22.2), one level
        reads_more = (
            on is not None
            and on.code != entry.code
            and _under(on, entry.redirect)
            and _reads_the_subterms(on, entry.redirect)
            and bool(_stated_in(set(rest), on.path))
        )
        if on is None or (len(on.path) <= entry.redirect.count(",") + 1 and not reads_more):
            return _hit(entry, covered, key, said, len(mention_words))
    if on is not None and _under(on, entry.redirect):
        read_there = _stated_in(set(rest), on.path)
        read = len(covered) + len(read_there)
        n_words = len(mention_words) - len((mention_words & TABULAR_READS) - covered - read_there)
        by_adjective = _hit(entry, covered, key, said, len(mention_words)).by_adjective
        path = (*entry.path, f"see {entry.redirect}")
        return IndexHit(on.code, path, min(read, n_words), n_words, on.complete, by_adjective)
    # nothing to read on there (or only under another term the words hold): the best entry with a code
    coded = next((r for r in readings if r[1].code is not None and not r[4]), None)
    return _hit(coded[1], coded[2], coded[3], said, len(mention_words)) if coded else None


def _read_at_see_also(mention_words: set[str], terms: dict[frozenset[str], list[_Entry]], redirects: int) -> IndexHit | None:
    """A main term none of whose entries reads the mention, read on at the term its "see also" names
    with the mention's other words ("carotid stenosis": Stenosis - see also Stricture; Stricture,
    artery, carotid - see Occlusion, artery, carotid, I65.2-); only a reading of every word counts."""
    if not redirects:
        return None
    for key in sorted(terms, key=sorted):
        see_also = _main_term_see_also().get(key)
        if not see_also:
            continue
        rest = sorted(mention_words - key)
        on = lookup(" ".join([see_also.replace(",", " "), *rest]), redirects - 1)
        if on is not None and on.share == 1.0:
            return IndexHit(on.code, (f"see also {see_also}", *on.path), on.covered, on.words, on.unlisted, on.by_adjective)
    return None


@lru_cache(maxsize=1)
def _main_term_see_also() -> dict[frozenset[str], str]:
    """Main term (its words) -> the term its own "see also" names (Stenosis -> Stricture; Illness R69 ->
    Disease, where "respiratory illness" reads Disease, respiratory, J98.9, not R69)."""
    from pipeline.code.lookup.codeset import get_codeset

    out: dict[frozenset[str], str] = {}
    for e in get_codeset().cm_index:
        if len(e.path) == 1 and e.see_also and not _NO_REDIRECT.search(e.see_also):
            spellings = _spellings(e.path[0])
            key = frozenset(words(spellings[0])) if spellings else frozenset()
            # "Gout, gouty - see also Gout, chronic": the same term, nothing else to read on under
            if key and frozenset(words(e.see_also.split(",")[0])) != key:
                out.setdefault(key, _BY_TYPE.sub("", e.see_also))
    return out


def _under(hit: IndexHit, redirect: str) -> bool:
    """Whether ``hit`` reads the main term a "see" reference names."""
    return words(hit.path[0].split(",")[0]) == words(redirect.split(",")[0].split()[0])


def _reads_the_subterms(hit: IndexHit, redirect: str) -> bool:
    """Whether ``hit`` reads the subterms a "see" reference names after its main term ("Stricture,
    urethra": a reading under urethra)."""
    return set(words(" ".join(redirect.split(",")[1:]))) <= set(words(" ".join(hit.path[1:])))


def names_the_main_term(stem: str, hit: IndexHit) -> bool:
    """Whether the word stem ``stem`` (a mention's head) names the main term ``hit`` read, itself or as
    the word a dictation uses for it ("bleed" for Hemorrhage: :data:`SYNONYMS`)."""
    main = hit.path[0].lower()
    if stem in main:
        return True
    first = words(main.split(",")[0])
    return bool(first) and any(said.startswith(stem) for said in SYNONYMS.get(first[0], ()))


def states_the_main_term(mention: str, hit: IndexHit) -> bool:
    """Whether ``mention`` states every word of the main term ``hit`` reads, the words after its comma
    that are no other spelling of it included: "patterns" does not state "Pattern, sleep-wake,
    irregular"; "diskitis" states "Discitis, diskitis"."""
    spellings = _spellings(hit.path[0])
    if not spellings:
        return False
    same = [spellings[0], *(s for s in spellings[1:] if _same_term(s, spellings[0]))]
    named = [s for s in spellings[1:] if s not in same]
    said = set(words(mention))
    return any(set(words(s)) <= said for s in same) and all(set(words(s)) <= said for s in named)


def _hit(entry: _Entry, covered: set[str], key: frozenset[str], said: dict[str, set[str]], n_words: int) -> IndexHit:
    # Index words the mention states but the entry does not read (a default reading need not be read)
    unread = {w for w, ms in said.items() if not ms & covered}
    # a side the entry does not read is the Tabular's to read: not a word it leaves out of its share
    defaults = len(unread & TABULAR_READS)
    unread -= DEFAULT_READINGS
    first = _spellings(entry.path[0])[:1]
    by_adjective = bool(first) and key != frozenset(words(first[0]))
    return IndexHit(
        entry.code or "",
        entry.path,
        len(covered),
        max(n_words - defaults, len(covered)),
        unread.isdisjoint(_term_words()[key]),
        by_adjective,
    )


_Reading = tuple[tuple, _Entry, set[str], frozenset[str], int]  # (rank, entry, words read, main term, levels skipped)


def _best(readings: list[_Reading]) -> _Reading | None:
    """The best reading: the first by rank; one that skips a level only when every reading that reads
    as many words by skipping agrees on the code ("femur" under Fracture, pathological and Fracture,
    traumatic does not)."""
    if not readings:
        return None
    readings.sort(key=lambda r: r[0])
    best = readings[0]
    if best[1].code is None:
        # a "see also" is read only when none of the entry's own subterms fits: Elevated, blood pressure
        # (see also Hypertension), reading R03.0 for an elevated reading
        own = next(
            (
                r
                for r in readings[1:]
                if r[0][:2] == best[0][:2]
                and r[1].code is not None
                and r[1].path[: len(best[1].path)] == best[1].path
                and not any(_NOT_A_NAME.issuperset(words(level) or {"nec"}) for level in r[1].path[len(best[1].path) :])
            ),
            None,
        )
        if own is not None:
            best = own
    if best[4] and len({r[1].code or r[1].redirect for r in readings if r[4] and r[0][0] == best[0][0]}) > 1:
        # the level a mention that states no type skips by default: "acute leukemia" is Leukemia,
        # unspecified cell type, acute (C95.0-), not Leukemia, myeloid, acute
        default = [
            r
            for r in readings
            if r[4] == 1 and r[0][0] == best[0][0] and any(_UNSPECIFIED_LEVEL.match(level) for level in r[1].path[1:])
        ]
        if len({r[1].code for r in default}) == 1 and default[0][1].code is not None:
            return default[0]
        return next((r for r in readings if not r[4]), None)
    return best


_WITHOUT_LEVEL = re.compile(r"^without\b", re.I)  # a subterm that states what is absent
_NEGATION = re.compile(r"\b(?:without|no|not|non)\b", re.I)
_WITHOUT_WORDS = re.compile(r"\bwithout\b", re.I)
# "unspecified cell type", "unspecified site"; "without myelopathy or radiculopathy": the level a mention
# that states no type, or no "with", is read under
_UNSPECIFIED_LEVEL = re.compile(r"^(?:unspecified|without)\b", re.I)


def _read(
    entry: _Entry, head: set[str], said: dict[str, set[str]], implied: frozenset[str] = frozenset()
) -> tuple[set[str], int, int, int] | None:
    """The mention words ``entry`` reads, how many of its levels it skips, how many it reads only
    through a dictation word for them (:data:`SYNONYMS`) and how many of the words its levels (not its
    nonessential modifiers) state; None when the mention does not state the entry. A level the mention states only by implication (:data:`IMPLIED`) is
    never read past an unstated one ("elevated right hemidiaphragm" is not Elevated, blood pressure,
    reading)."""
    real = [i for i, level in enumerate(entry.levels) if level]
    unstated = [i for i in real if entry.level_words[i].isdisjoint(said)]
    if len(unstated) > LOOSE_LEVELS or (unstated and (unstated[-1] == real[-1] or not entry.skippable[unstated[0]])):
        return None  # a quick test: more levels unstated than may be skipped, or the deepest one
    covered = set(head)
    skips = by_synonym = 0
    literal = {w for w, ms in said.items() if w in ms}  # the words the mention itself says
    for i in real:
        stated = [[alt for alt in part if alt <= said.keys()] for part in entry.levels[i]]
        if all(stated):
            if skips and all(alt <= implied for part in stated for alt in part):
                return None
            covered |= {m for part in stated for alt in part for w in alt for m in said[w]}
            if not any(alt <= literal for part in stated for alt in part):
                by_synonym += 1
        elif i == real[-1] or any(stated) or skips == LOOSE_LEVELS or not entry.skippable[i]:
            return None
        else:
            skips += 1  # "nuclear sclerotic cataract": Cataract, senile, nuclear
    stated_by_levels = len(covered)
    covered |= set().union(*(said[w] for w in entry.nemod if w in said))
    return covered, skips, by_synonym, stated_by_levels


@lru_cache(maxsize=20000)
def modifier_words(mention: str) -> frozenset[str]:
    """Words the Index reads under the main terms ``mention`` names (their subterms' words, one-word
    nonessential modifiers, and the dictation words :data:`SYNONYMS` gives for them): the words a
    coder reads with the mention when the dictation puts them before it ("Nuclear sclerotic" +
    "cataract") or after a comma ("Atrial fibrillation, chronic")."""
    named = _expanded(set(words(mention)), SYNONYMS)
    out: set[str] = set()
    for key in _main_terms(frozenset(named)):
        out |= _term_words()[key] | _modifier_words()[key]
    for index_word, said in SYNONYMS.items():
        if index_word in out:
            out.update(said)
    return frozenset(out)


@lru_cache(maxsize=1)
def _modifier_words() -> dict[frozenset[str], frozenset[str]]:
    return {key: frozenset(w for e in entries for ws in e.level_nemod for w in ws) for key, entries in _entries().items()}


@lru_cache(maxsize=1)
def _term_words() -> dict[frozenset[str], frozenset[str]]:
    """Main term -> every word of its subterms (not of the nonessential modifiers, which never
    change the code: "Pneumonia, lobar" lists "(lobe)", yet "right lower lobe" pneumonia is J18.9)."""
    return {key: frozenset(w for e in entries for ws in e.level_words for w in ws) for key, entries in _entries().items()}


def _main_terms(said: frozenset[str]) -> dict[frozenset[str], list[_Entry]]:
    """The Index's main terms whose words the mention states (a one-word term of at least
    :data:`MIN_HEAD_LETTERS` letters, or a longer term)."""
    entries = _entries()
    out = {}
    for w in said:
        key = frozenset({w})
        if (len(w) >= MIN_HEAD_LETTERS or w in SHORT_MAIN_TERMS) and key in entries:
            out[key] = entries[key]
        for key in _multi_word_terms().get(w, ()):
            if key <= said:
                out[key] = entries[key]
    return out


@lru_cache(maxsize=1)
def _multi_word_terms() -> dict[str, tuple[frozenset[str], ...]]:
    """Word -> the main terms of several words that hold it."""
    out: dict[str, list[frozenset[str]]] = {}
    for key in sorted((k for k in _entries() if len(k) > 1), key=sorted):
        for w in key:
            out.setdefault(w, []).append(key)
    return {w: tuple(keys) for w, keys in out.items()}
