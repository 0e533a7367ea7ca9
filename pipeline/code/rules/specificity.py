"""The detail a CM code states must be the detail the documentation states.

* Laterality: a code naming a side (right / left / bilateral) is moved to the sibling code for the
  side the mention states; when the mention states none, to the "unspecified" side code, with
  "missing: laterality" in the rationale for the coder to query. A bilateral condition whose category
  has no bilateral code is coded for each side (Guidelines I.B.13, :func:`other_side`).
* Episode of care (7th character A / D / S): when the text does not say, the initial encounter is
  assumed (active treatment) and "missing: episode of care" is noted.
* Acuity: a code silent on acuity (I50.20 "unspecified systolic heart failure") moves to the sibling
  for the acuity stated right before or in the mention ("acute on chronic systolic congestive heart
  failure" -> I50.23); when none is stated and the category has such siblings, "missing: acuity".
* Chronic kidney disease stage: N18.9 / N18.30 move to the stage the text states ("stage 3a",
  "stage IV", "ESRD").
* Stated site: a code whose title leaves the site unspecified ("radiculopathy, site unspecified")
  moves to the sibling for the site the mention's sentence states ("cervical radiculopathy" -> M54.12).
* Site: a bare finding word ("pain", "mass", "fracture") is looked up with the site phrase that
  follows it ("pain in the right testicle" -> N50.811), and R52 "pain, unspecified" is then not coded.
  A finding an endoscopy shows is in the organ the scope examines ("Colonoscopy showed diverticulosis":
  Diverticulosis, large intestine, K57.30; :func:`examined_organ`).

Siblings are found by description: the code with the same tabular title but for the changed
words, within the same category (so placeholder X and 7th characters carry over).
"""

from __future__ import annotations

import re
from functools import lru_cache

from pipeline.code.lookup import see_references
from pipeline.code.lookup.codeset import subterm_words
from pipeline.code.rules import neoplasm
from pipeline.code.rules.sides import SIDE_WORDS, SIDES

_BONES = r"(radius|ulna|femur|humerus|tibia|fibula|radial|ulnar|femoral|humeral|tibial|fibular)"
_DISTAL = re.compile(rf"\bdistal\s+{_BONES}\b", re.I)
_PROXIMAL = re.compile(rf"\bproximal\s+{_BONES}\b", re.I)
_SIDE_WORD = re.compile(r"\b(right|left|bilateral)\b")
_EPISODE_WORDS = re.compile(r"\b(initial|subsequent|sequela|follow[- ]?up|healing|nonunion|malunion)\b", re.I)
CKD_STAGES = (
    (re.compile(r"\b(end[- ]stage|esrd|eskd|dialysis)\b", re.I), "N18.6"),
    (re.compile(r"\bstage\s*(3a|iiia)\b", re.I), "N18.31"),
    (re.compile(r"\bstage\s*(3b|iiib)\b", re.I), "N18.32"),
    (re.compile(r"\bstage\s*(5|v)\b", re.I), "N18.5"),
    (re.compile(r"\bstage\s*(4|iv)\b", re.I), "N18.4"),
    (re.compile(r"\bstage\s*(3|iii)\b", re.I), "N18.30"),
    (re.compile(r"\bstage\s*(2|ii)\b", re.I), "N18.2"),
    (re.compile(r"\bstage\s*(1|i)\b", re.I), "N18.1"),
)


@lru_cache(maxsize=512)
def _titles(category: str) -> dict[str, str]:
    """{lower-case title: code} for the billable codes of a CM category."""
    from pipeline.code.lookup.codeset import get_codeset

    cm = get_codeset().cm_api
    if not cm.is_valid_item(category):
        return {}
    return {cm.get_description(c).lower(): c for c in cm.get_descendants(category) if cm.is_leaf(c)}


def variant(code: str, old: str, new: str) -> str | None:
    """The code in the same category whose title is this code's with word ``old`` replaced by ``new``."""
    from pipeline.code.lookup.codeset import get_codeset

    title = (get_codeset().cm_description(code) or "").lower()
    target = re.sub(rf"\b{re.escape(old)}\b", new, title)
    return _titles(code[:3]).get(target) if target != title else None


def _unspecified_side(code: str, title: str, side: str) -> str | None:
    """The sibling naming ``side`` where this code's title says "unspecified <site>"."""
    titles = _titles(code[:3])
    for m in re.finditer(r"\bunspecified\b", title):
        other = titles.get(title[: m.start()] + side + title[m.end() :])
        if other:
            return other
    # the side where the title's order differs: "pain in leg, unspecified" (M79.606) -> "pain in left leg"
    if "unspecified" in title:
        said = sorted(re.findall(r"[a-z]+", title.replace("unspecified", side, 1)))
        found = [c for t, c in titles.items() if sorted(re.findall(r"[a-z]+", t)) == said]
        if len(found) == 1:
            return found[0]
    return None


# "both bone forearm fracture": the radius and the ulna of one forearm, not both sides
_BOTH_BONES = re.compile(r"\bboth[- ]bones?\b")


def mention_side(text: str) -> str | None:
    t = _BOTH_BONES.sub(" ", text.lower())
    found = [side for side, words in SIDES.items() if any(re.search(rf"\b{w}\b", t) for w in words)]
    return found[0] if len(found) == 1 else None


def same_phrase(context: str) -> str:
    """The context up to the next coordinated finding ("..., and ..."); a side after a comma is the
    finding's own ("Nuclear sclerotic cataract, right eye")."""
    return re.split(r",(?!\s*(?:right|left|bilateral)\b)|;|\band\b|\bwith\b", context, maxsplit=1)[0]


# "acute on chronic" is one acuity, not a cut ("acute on chronic systolic heart failure" is a failure)
_HEAD_CUT = re.compile(r"\s+(?:of|with|in|on(?!\s+chronic\b)|over|involving|due to)\s+", re.I)


def head_word(mention: str) -> str | None:
    """The finding's head word, the last word before "of", "with" ... ("pneumonia" of "community
    acquired pneumonia of the right lower lobe"); None for a short one."""
    words = re.findall(r"[a-z]+", _HEAD_CUT.split(mention.lower())[0])
    return words[-1] if words and len(words[-1]) >= 4 else None


def head_stem(mention: str) -> str | None:
    """The first five letters of the finding's head word (:func:`head_word`)."""
    head = head_word(mention)
    return head[:5] if head else None


@lru_cache(maxsize=8192)
def index_query(mention: str) -> str:
    """The mention in the Index's words: "distal radius" is the "lower end of radius"; a carcinoma
    of a site is a cancer of it, a "bladder leiomyoma" a benign neoplasm of the bladder (the Index's
    morphology terms that send to the Table of Neoplasms, :mod:`pipeline.code.rules.neoplasm`); a word the
    Index only cross-references is the term it names ("pulmonary thromboembolism" is a pulmonary
    embolism, :mod:`pipeline.code.lookup.see_references`)."""
    if _PARAPNEUMONIC.search(mention) and _EFFUSION.search(mention):
        return "pleural effusion in conditions classified elsewhere"
    q = _DISTAL.sub(lambda m: f"lower end of {m.group(1)}", mention)
    q = _PROXIMAL.sub(lambda m: f"upper end of {m.group(1)}", q)
    q = neoplasm.malignant_as_cancer(see_references.as_indexed(q))
    return neoplasm.tumor_query(q) or neoplasm.morphology_query(q) or _injury_query(q) or q


# an effusion beside a pneumonia: Effusion, pleura, in conditions classified elsewhere (J91.8, whose
# "code first" note asks for the pneumonia too)
_PARAPNEUMONIC = re.compile(r"\bpara-?pneumonic\b", re.I)
_EFFUSION = re.compile(r"\beffusions?\b", re.I)
_INJURY = re.compile(r"\b(?:fractures?|injur(?:y|ies)|trauma(?:tism)?|contusions?|lacerations?|sprains?|dislocations?)\b", re.I)
_NOT_ACUTE_INJURY = re.compile(r"\b(?:encounter|sequela|history|old|healed|nonunion|malunion)\b", re.I)
_BONE_DISEASE_FRACTURE = re.compile(r"\b(?:stress|pathologic(?:al)?|osteoporotic|fragility|insufficiency|fatigue)\b", re.I)
_INJURY_SITE_ADJECTIVES = {
    "ocular": "eye",
    "orbital": "orbit",
    "cranial": "head",
    "facial": "face",
    "nasal": "nose",
    "mandibular": "mandible",
    "dental": "tooth",
    "vertebral": "vertebra",
    "thoracic": "thorax",
    "costal": "rib",
    "clavicular": "clavicle",
    "scapular": "scapula",
    "humeral": "humerus",
    "radial": "radius",
    "ulnar": "ulna",
    "pelvic": "pelvis",
    "femoral": "femur",
    "tibial": "tibia",
    "fibular": "fibula",
    "abdominal": "abdomen",
    "renal": "kidney",
    "hepatic": "liver",
    "splenic": "spleen",
    "diaphyseal": "shaft",
    "diaphysis": "shaft",
}
_OPEN = re.compile(r"\bopen\b", re.I)
_BONE_PARTS = frozenset("shaft plateau condyle malleolus epiphysis metaphysis diaphysis".split())
_INJURY_ADJECTIVE = re.compile(r"\b(" + "|".join(_INJURY_SITE_ADJECTIVES) + r")\b", re.I)


UNSPECIFIED_BODY_REGION = "T14."  # injury of unspecified body region (Tabular T14: only when no site is documented)
# the query of an injury of no stated site: T14.8's title words, for the title search (the Index has no such
# entry: its "body" would be the pancreas's, Injury, pancreas, body)
UNSPECIFIED_REGION_INJURY_QUERY = "other injury of unspecified body region initial encounter"
_INJURY_QUERY_WORDS = (
    frozenset(
        "fracture fractures injury injuries contusion contusions laceration lacerations sprain sprains dislocation "
        "dislocations initial encounter for closed open of the in a an multiple severe mild minor".split()
    )
    | SIDE_WORDS
)


def injury_site_named(query: str) -> bool:
    """An injury query that names where ("eye injury initial encounter"), so T14 (injury of unspecified
    body region) does not apply; "injury initial encounter" names no site."""
    if not _INJURY.search(query):
        return False
    return any(w not in _INJURY_QUERY_WORDS for w in re.findall(r"[a-z]+", query.lower()))


def _injury_query(q: str) -> str | None:
    """An acute injury in the Tabular's words, with the episode dictations describe unless they say
    otherwise (the initial encounter): "ocular trauma" -> "eye injury initial encounter", "femoral
    diaphysis fracture" -> "femur shaft fracture initial encounter for closed fracture". The 7th
    character is part of every injury code's title, and a query without it matched the titles of
    unrelated bones with the same encounter words (Index: Trauma - see Injury). A fracture, contusion,
    sprain ... with no site is "other injury of unspecified body region" (T14.8), not a hand fracture."""
    if not _INJURY.search(q) or _NOT_ACUTE_INJURY.search(q):
        return None
    out = re.sub(r"\btrauma(?:tism)?\b", "injury", q, flags=re.I)
    out = _INJURY_ADJECTIVE.sub(lambda m: _INJURY_SITE_ADJECTIVES[m.group(1).lower()], out)
    if not injury_site_named(out) and not re.search(r"\binjur(?:y|ies)\b", out, re.I):
        # a fracture, contusion, sprain ... of no stated site: T14.8 (Index: Fracture, traumatic T14.8)
        return UNSPECIFIED_REGION_INJURY_QUERY
    if re.search(r"\bfractures?\b", out, re.I):
        if _BONE_DISEASE_FRACTURE.search(out):
            return f"{out} initial encounter for fracture"
        kind = "open" if _OPEN.search(out) else "closed"
        return f"{out} initial encounter for {kind} fracture"
    return f"{out} initial encounter"


# Findings named by a bare word whose code depends on the site the next words give ("pain in the
# left knee" is M25.562, not R52 pain unspecified)
SITE_HEADS = frozenset(
    "pain pains ache discomfort tenderness swelling mass lump nodule ulcer ulceration fracture edema oedema "
    "bleeding hemorrhage haemorrhage cyst abscess injury wound laceration contusion stenosis obstruction "
    "abrasion abrasions sprain strain bite bites bruise bruises puncture dislocation dislocations".split()
)
UNSPECIFIED_SITE_CODES = ("R52",)  # codes for the finding without its site (Pain, unspecified)
UNSPECIFIED_SITE = frozenset(UNSPECIFIED_SITE_CODES)
# "in the right testicle", "over the base of the chin", "laceration to the right foot" (the part of a site: the site's code)
_SITE_AFTER = re.compile(
    r"^\s*(?:(?:in|of|at|on|over|to)\s+(?:the\s+|his\s+|her\s+|both\s+)?|,?\s*(?=(?:right|left|bilateral)\s+[a-z]))"
    r"(?P<part>(?:base|tip|side|front|back|dorsum|top|bridge|area|region|aspect|surface)\s+of\s+(?:the\s+|his\s+|her\s+)?)?"
    r"((?:[a-z]+\s+){0,2}[a-z]+)(?![a-z0-9])",  # not the letter of a vertebral level ("at L3-L4", :mod:`.index_query`)
    re.I,
)
_NOT_A_SITE = frozenset(
    "a an one two three four five six seven eight nine ten several few many some days weeks months years hours "
    "day week month year hour evolution onset intensity duration moderate severe mild sudden long short type "
    "character characteristics origin unknown which that this these sufficient great palpation rest exertion night "
    "movement mobilization pressure time admission examination level touch light".split()
)
_SITE_STOP = re.compile(r"\b(?:and|with|without|that|which|who|for|since|after|of|radiating|accompanied|associated)\b.*$", re.I)


# the part of an organ a site phrase may name without the organ ("in the right lobe ... of the prostate")
_SITE_PARTS = frozenset(
    "lobe lobes side wall segment portion quadrant region area pole aspect surface margin base apex tip".split()
)


def _names_a_morphology(word: str) -> bool:
    """A tumor's morphology the Index sends to the Table of Neoplasms by site ("leiomyosarcoma", "carcinoma"):
    the site the dictation names after it is the Table row ("leiomyosarcoma of the left arm")."""
    from pipeline.code.rules.neoplasm import MORPHOLOGY_HEADS, morphology_terms

    return word in MORPHOLOGY_HEADS or word in morphology_terms() or (word.endswith("s") and word[:-1] in morphology_terms())


def site_query(mention: str, following: str, preceding: str = "") -> str:
    """The Index query for a mention: with the site phrase that follows it when the mention is a
    bare finding word ("pain" + " in the right testicle" -> "pain in the right testicle"), or else
    with the site words right before it ("right knee" + "pain" -> "pain in right knee"); any other
    mention with the Index's words for it that the dictation puts around it (:func:`with_modifiers`)."""
    if (sited := neoplasm.with_site_before(mention, preceding)) != mention:  # "uterine papillary serous" + "carcinoma"
        return index_query(sited)
    if _EFFUSION.search(mention) and _PARAPNEUMONIC.search(re.split(r"[.;\n]", following, maxsplit=1)[0]):
        return index_query(f"parapneumonic {mention}")  # "Left pleural effusion, parapneumonic, loculated"
    q = index_query(mention)
    words = mention.lower().split()
    m = _SITE_AFTER.match(following)
    if words and words[-1] not in SITE_HEADS and _names_a_morphology(words[-1]) and m:
        # "leiomyosarcoma of the left arm"
        named = _SITE_STOP.sub("", m.group(2)).strip().lower().split()
        if not m.group("part") and set(named) - SIDE_WORDS - _SITE_PARTS and not set(named) & _NOT_A_SITE:
            return index_query(f"{mention} {_site_lead(following[: m.start(2)])} {' '.join(named)}")
    if not words or words[-1] not in SITE_HEADS:
        said = with_modifiers(mention, following, preceding)
        return index_query(said) if said != mention else q
    if not m:
        site = site_before(mention, preceding)
        if site:
            return index_query(f"{mention} in {site}")
        # no site word before it, but a word the Index reads under the term ("Macular" + "edema": Edema, macula)
        said = with_modifiers(mention, following, preceding)
        return index_query(said) if said != mention else q
    site = _SITE_STOP.sub("", m.group(2)).strip()
    if not site or site.split()[0].lower() in _NOT_A_SITE:
        return q
    lead = _site_lead(following[: m.start("part") if m.group("part") else m.start(2)])
    return index_query(f"{mention} {lead} {site}")


def _site_lead(words_before_site: str) -> str:
    """The preposition before a site phrase, "of" where the dictation gives the side and site without one
    ("Dislocation, right ankle": dislocation of right ankle)."""
    return words_before_site.strip().strip(",").strip() or "of"


_CLAUSE_END = re.compile(r"[.;:,()\n]")
# "Atrial fibrillation, chronic,", "Diabetes mellitus (poorly controlled)."
_AFTER_COMMA = re.compile(r"^\s*[,(]?\s*([a-z]+(?:\s+[a-z]+)?)\s*(?=[,.;)\n]|$)", re.I)
MAX_MODIFIERS = 3


def with_modifiers(mention: str, following: str, preceding: str) -> str:
    """``mention`` with the words a coder reads with it under its main term that the dictation puts
    right before it in its clause ("Nuclear sclerotic" + "cataract": Cataract, senile, nuclear) or
    alone after it, up to a comma ("Atrial fibrillation, chronic,": Fibrillation, atrial, chronic, I48.20)
    or in parentheses ("Diabetes mellitus (poorly controlled)": Diabetes, poorly controlled, E11.65).
    A word the Index does not list under the term ends the reading ("history of acute gastritis"
    reads "acute", not "history"), and the words are kept only when the Index entry then reads them
    ("Second and third degree" + "burns" is not read: the Index's burn degrees are under a site)."""
    from pipeline.code.lookup.index_lookup import lookup, modifier_words, words

    known = modifier_words(mention)
    if not known:
        return mention
    before: list[str] = []
    for w in reversed(_CLAUSE_END.split(preceding)[-1].split()[-MAX_MODIFIERS:]):
        read = words(w)
        if len(read) != 1 or read[0] not in known or read[0] in SIDE_WORDS:
            break
        before.insert(0, w)
    after = ""
    if m := _AFTER_COMMA.match(following):
        read = words(m.group(1))
        # modifiers only: "with pneumonia" names another finding, which the combination rules read
        if read and len(read) == len(m.group(1).split()) and all(w in known and w not in SIDE_WORDS for w in read):
            after = m.group(1)
    said = " ".join([*before, mention, after]).strip()
    if said == mention:
        return mention
    # only words the Index then reads: "third degree" + "burns" needs a site the mention lacks
    hit, plain = lookup(index_query(said)), lookup(index_query(mention))
    return said if hit is not None and hit.complete and hit.covered > (plain.covered if plain else 0) else mention


# the organ an endoscope examines: a finding it shows, with no site of its own, is in that organ
EXAMINED_ORGANS = (
    (re.compile(r"\b(?:colonoscop|(?:procto)?sigmoidoscop)\w*", re.I), "colon"),
    (re.compile(r"\bcystoscop\w*", re.I), "bladder"),
    (re.compile(r"\bbronchoscop\w*", re.I), "bronchus"),
)


def examined_organ(query: str, sentence: str) -> str | None:
    """The organ that the endoscope its sentence names examines ("Colonoscopy ... showed internal
    hemorrhoids and diverticulosis": the colon, Diverticulosis, large intestine, K57.30), where the Index
    reads the organ one level below the entry ``query`` reaches on its own, or gives the code the bare
    main term lacks ("polyp": Polyp, colon, K63.5); else None (a finding whose entry has no such
    subterm, or whose site the query already names)."""
    from pipeline.code.lookup.index_lookup import lookup

    organs = [organ for scope, organ in EXAMINED_ORGANS if scope.search(sentence)]
    if len(organs) != 1:
        return None
    hit = lookup(index_query(f"{query} {organs[0]}"))
    if hit is None or not hit.complete or len(hit.path) < 2:
        return None
    plain = lookup(index_query(query))
    if plain is None:  # a main term with no code of its own ("polyp"): the organ's subterm gives it (K63.5)
        return organs[0]
    deeper = len(hit.path) > len(plain.path) and hit.path[: len(plain.path)] == plain.path
    return organs[0] if plain.complete and deeper and hit.code != plain.code else None


def names_a_site(mention: str) -> bool:
    """A finding word with its site in the mention itself ("Ankle pain", "knee swelling")."""
    words = mention.lower().split()
    return len(words) > 1 and words[-1] in SITE_HEADS and any(w in _index_site_words() for w in words[:-1])


def site_before(mention: str, preceding: str) -> str | None:
    """For a bare finding word ("pain"), the site words that end ``preceding`` (its clause): sides
    and words the Index uses as sites under a bare finding word (Pain, joint, knee); None when the
    mention is not a bare finding word or the last word is not a site."""
    if mention.lower().strip() not in SITE_HEADS:
        return None
    clause = re.split(r"[.;:,\n]", preceding)[-1]
    site: list[str] = []
    for w in reversed(clause.split()[-3:]):
        w = w.lower()
        if w in _NOT_A_SITE or not (
            w in SIDE_WORDS or w in _index_site_words() or w in _INJURY_SITE_ADJECTIVES or w in _BONE_PARTS
        ):
            break
        site.insert(0, _INJURY_SITE_ADJECTIVES.get(w, w))  # "femoral shaft" + "fracture": the femur's shaft
    return " ".join(site) if site and site[-1] not in SIDE_WORDS else None


@lru_cache(maxsize=1)
def _index_site_words() -> frozenset[str]:
    """Words of the Alphabetic Index's subterms under the bare finding words (Pain | joint | knee)."""
    from pipeline.code.lookup.codeset import get_codeset

    heads = {h.capitalize() for h in SITE_HEADS}
    out = subterm_words(e.path for e in get_codeset().cm_index if e.path[0] in heads)
    return frozenset(
        out - _NOT_A_SITE - {"acute", "chronic", "and", "with", "without", "due", "other", "specified", "unspecified"}
    )


def lateral(code: str, mention: str, phrase: str = "") -> tuple[str, str | None]:
    """(code for the side the mention, or else its phrase, states; note) — note is 'missing:
    laterality' when neither states a side."""
    from pipeline.code.lookup.codeset import get_codeset

    title = (get_codeset().cm_description(code) or "").lower()
    m = _SIDE_WORD.search(title)
    side = mention_side(mention) or mention_side(phrase)
    if side == "bilateral" and (both := _bilateral_sibling(code, title)):
        return both, None
    if not m:
        if side:
            found = _unspecified_side(code, title, side) or _limb_side(code, title, side, f"{mention} {phrase}")
            if found is None and side == "bilateral":  # no bilateral code: the right side's, then the left's (other_side)
                found = _unspecified_side(code, title, "right") or _limb_side(code, title, "right", f"{mention} {phrase}")
            return found or code, None
        return code, ("missing: laterality" if _unspecified_side(code, title, "left") else None)
    if side == m.group(1):
        return code, None
    if side is None:
        other = variant(code, m.group(1), "unspecified")
        return (other, "missing: laterality") if other else (code, "missing: laterality")
    other = variant(code, m.group(1), side)
    if other is None and side == "bilateral" and m.group(1) == "left":
        other = variant(code, "left", "right")
    return (other or code), None


# the words a dictation names a limb by, as the Tabular's "lower limb" / "upper limb" (L03.11- cellulitis,
# L02.41- abscess: "cellulitis of the left leg" is L03.116, not L03.119 "of unspecified part of limb")
_LIMB_WORDS = {
    "lower limb": re.compile(
        r"\b(?:legs?|thighs?|knees?|calf|calves|shins?|ankles?|foot|feet|lower (?:extremit(?:y|ies)|limbs?))\b", re.I
    ),
    "upper limb": re.compile(r"\b(?:arms?|forearms?|elbows?|wrists?|hands?|upper (?:extremit(?:y|ies)|limbs?))\b", re.I),
    "axilla": re.compile(r"\baxilla(?:e|ry)?\b", re.I),
}


def _limb_side(code: str, title: str, side: str, context: str) -> str | None:
    """The sibling for ``side`` and the limb the context names, where this code's title leaves the
    part of the limb unspecified ("cellulitis of unspecified part of limb" -> "cellulitis of left lower
    limb"); None when the title names a part, the context names no limb or both, or no sibling is one."""
    if not re.search(r"\bunspecified part of limb\b|\blimb, unspecified\b", title):
        return None
    limbs = [limb for limb, said in _LIMB_WORDS.items() if said.search(context)]
    if len(limbs) != 1:
        return None
    head = re.split(r"\b(?:of|,)\b", title, maxsplit=1)[0].strip()
    found = [c for t, c in _titles(code[:3]).items() if t.startswith(head) and f"{side} {limbs[0]}" in t]
    return found[0] if len(found) == 1 else None


def _bilateral_sibling(code: str, title: str) -> str | None:
    """The category's bilateral code for this code's condition, however its title words the side
    ("otitis media, unspecified, right ear" -> H66.93 "otitis media, unspecified, bilateral")."""
    titles = _titles(code[:3])
    for m in re.finditer(r"\b(right|left|unspecified|bilateral)(\s+[a-z]+)?", title):
        for end in (m.end(1), m.end()):
            found = titles.get(title[: m.start()] + "bilateral" + title[end:])
            if found:
                return found
    return None


_UNSPECIFIED_SITE_PHRASE = re.compile(
    r"\b(?:site unspecified|unspecified site|part unspecified|unspecified part|unspecified region|region unspecified)\b"
)
_SITE_FILLER = frozenset("region site part of the and or".split())


def _site_frame(title: str) -> tuple[str, str] | None:
    """A lower-case title's words before and after its unspecified site phrase ("discitis, unspecified, "
    and "" for "discitis, unspecified, site unspecified"); None for a title without one."""
    m = _UNSPECIFIED_SITE_PHRASE.search(title)
    return (title[: m.start()], title[m.end() :]) if m else None


def stated_site(code: str, context: str) -> str | None:
    """The sibling for the site the context states, where this code's title leaves the site
    unspecified ("left cervical radiculopathy": M54.10 "radiculopathy, site unspecified" -> M54.12
    "radiculopathy, cervical region"): the sibling whose title is this one's with the unspecified
    site phrase replaced by words the context all holds (the most such words); None when none is."""
    from pipeline.code.lookup.codeset import get_codeset

    frame = _site_frame((get_codeset().cm_description(code) or "").lower())
    if frame is None:
        return None
    prefix, suffix = frame
    said = set(re.findall(r"[a-z]+", context.lower()))
    best: tuple[int, str] | None = None
    for other_title, other in _titles(code[:3]).items():
        if other == code or not (other_title.startswith(prefix) and other_title.endswith(suffix)):
            continue
        middle = other_title[len(prefix) : len(other_title) - len(suffix)]
        words = [w for w in re.findall(r"[a-z]+", middle) if w not in _SITE_FILLER]
        if words and not set(words) & SIDE_WORDS and all(w in said for w in words):
            if best is None or len(words) > best[0]:
                best = (len(words), other)
    return best[1] if best else None


# a disc level as dictated: "C5-C6", "C5-6", "C5/C6"; the Tabular's titles spell it "at C5-C6 level"
_DISC_LEVEL = re.compile(r"\b([ctl])(\d{1,2})\s*[-/]\s*([ctls]?)(\d{1,2})\b", re.I)
_LEVEL_IN_TITLE = re.compile(r"\bat ([ctls]\d{1,2}-[ctls]\d{1,2}) level\b")
# the title words of a code's region or level, where sibling titles differ (the rest names the disorder)
_REGION_WORDS = frozenset("at level unspecified region cervical high mid cervicothoracic".split())


def _disc_levels(context: str) -> set[str]:
    """The disc levels the context states, as the Tabular spells them ("c5-c6")."""
    out = set()
    for m in _DISC_LEVEL.finditer(context.lower()):
        first, low, second, high = m.group(1), m.group(2), m.group(3) or m.group(1), m.group(4)
        out.add(f"{first}{low}-{second}{high}")
    return out


def _disorder_words(title: str) -> frozenset[str]:
    return frozenset(re.findall(r"[a-z]+", _LEVEL_IN_TITLE.sub(" ", title))) - _REGION_WORDS


def stated_disc_level(code: str, context: str) -> str | None:
    """The sibling for the disc level the context states, where the category codes levels or the region
    between two ("C5-C6 herniated nucleus pulposus": M50.20 "other cervical disc displacement, unspecified
    cervical region" -> M50.222 "other cervical disc displacement at C5-C6 level"; C7-T1 its cervicothoracic
    region): the code whose title names the same disorder at that level, the most superior of several (M50:
    "code to the most superior level of disorder"); None when the category has no such code or the context
    states no level."""
    from pipeline.code.lookup.codeset import get_codeset

    levels = _disc_levels(context)
    if not levels:
        return None
    title = (get_codeset().cm_description(code) or "").lower()
    if _LEVEL_IN_TITLE.search(title):
        return None  # already at a level
    disorder = _disorder_words(title)
    found = {
        other
        for other_title, other in _titles(code[:3]).items()
        if _disorder_words(other_title) == disorder
        and (
            ((m := _LEVEL_IN_TITLE.search(other_title)) and m.group(1) in levels)
            or ("c7-t1" in levels and "cervicothoracic region" in other_title)  # the disc between the regions
        )
    }
    # several levels: "code to the most superior level of disorder" (M50's note)
    return min(found, key=_superior_first) if found else None


_REGION_ORDER = "ctls"


def _superior_first(code: str) -> tuple[int, int]:
    """A level code's place down the spine (C4-C5 before C5-C6; a region code last)."""
    from pipeline.code.lookup.codeset import get_codeset

    m = _LEVEL_IN_TITLE.search((get_codeset().cm_description(code) or "").lower())
    return (_REGION_ORDER.index(m.group(1)[0]), int(re.findall(r"\d+", m.group(1))[0])) if m else (len(_REGION_ORDER), 0)


@lru_cache(maxsize=4096)
def names_the_site(code: str) -> bool:
    """Whether the code is one of :func:`stated_site`'s siblings: its title is a sibling's with the
    unspecified site phrase replaced by a site (M46.46 "... lumbar region" beside M46.40 "... site
    unspecified"), so the mention that reads it states its site."""
    from pipeline.code.lookup.codeset import get_codeset

    if neoplasm.is_neoplasm(code):  # a neoplasm's site is the Table of Neoplasms' to read
        return False
    title = (get_codeset().cm_description(code) or "").lower()
    frames = (_site_frame(other) for other in _titles(code[:3]) if other != title)
    return any(
        title.startswith(prefix) and title.endswith(suffix) and len(title) > len(prefix) + len(suffix)
        for prefix, suffix in filter(None, frames)
    )


def other_side(code: str, mention: str, phrase: str = "") -> str | None:
    """The left side's code for a bilateral condition whose category has no bilateral code (Guidelines
    I.B.13: "If no bilateral code is provided and the condition is bilateral, assign separate codes for
    both the left and right side"): :func:`lateral` gives such a mention the right side's code, this
    the left's ("bilateral bunions" -> M21.611 and M21.612); None for any other mention or code."""
    from pipeline.code.lookup.codeset import get_codeset

    if (mention_side(mention) or mention_side(phrase)) != "bilateral":
        return None
    m = _SIDE_WORD.search((get_codeset().cm_description(code) or "").lower())
    return variant(code, "right", "left") if m and m.group(1) == "right" else None


def episode(code: str, context: str) -> tuple[str, str | None]:
    """(code, note): with no episode of care in the text, the initial-encounter code (7th
    character A, or B for open fractures kept as coded) and "missing: episode of care"."""
    from pipeline.code.lookup.codeset import get_codeset

    cs = get_codeset()
    title = (cs.cm_description(code) or "").lower()
    if not ("encounter" in title or title.endswith("sequela")) or _EPISODE_WORDS.search(context):
        return code, None
    if len(code) == 8 and code[-1] not in "AB" and cs.cm_is_billable(code[:-1] + "A"):
        code = code[:-1] + "A"
    return code, "missing: episode of care (initial encounter assumed)"


_ACUITY = r"acute (?:on|and) chronic|subacute|acute|chronic"
_ACUITY_BEFORE = re.compile(rf"\b({_ACUITY})\s*$", re.I)
_ACUITY_LEAD = re.compile(rf"^\s*({_ACUITY})\b", re.I)
_ACUITY_IN_TITLE = re.compile(rf"\b({_ACUITY})\b")
_ACUITY_FREE = re.compile(rf"\b(?:{_ACUITY})\b(?:\s+or\s+unspecified)?|\bunspecified\b|[,()]")


def _acuity_key(words: str) -> str:
    """ "Acute and chronic" (the Tabular's J96.2 wording) is "acute on chronic"."""
    return " ".join(words.lower().split()).replace("acute and chronic", "acute on chronic")


def _without_acuity(title: str) -> str:
    return " ".join(_ACUITY_FREE.sub(" ", title).split())


def _acuity_siblings(code: str) -> dict[str, str]:
    """{acuity: code} of the codes of ``code``'s category whose title is its own with an acuity word."""
    from pipeline.code.lookup.codeset import get_codeset

    title = (get_codeset().cm_description(code) or "").lower()
    if not title or _ACUITY_IN_TITLE.search(title):
        return {}
    stem = _without_acuity(title)
    out: dict[str, str] = {}
    for t, c in _titles(code[:3]).items():
        if c != code and (m := _ACUITY_IN_TITLE.search(t)) and _without_acuity(t) == stem:
            out.setdefault(_acuity_key(m.group(1)), c)
    return out


_ACUITY_CLAUSE_AFTER = re.compile(rf"^[\s,]*which\s+(?:is|was|has\s+been)\s+(?:a\s+|an\s+)?({_ACUITY})\b", re.I)


def acuity(code: str, mention: str, before: str, after: str = "") -> tuple[str, str | None]:
    """The sibling code for the acuity stated just before the mention (``before``: its sentence's
    preceding words), as its first word, or in a clause right after it (``after``: "atrial
    fibrillation, which is a chronic problem for her"); "missing: acuity" when the category
    distinguishes acuity and the text does not state it."""
    siblings = _acuity_siblings(code)
    if not siblings:
        return code, None
    m = _ACUITY_LEAD.search(mention) or _ACUITY_BEFORE.search(before) or _ACUITY_CLAUSE_AFTER.search(after)
    stated = _acuity_key(m.group(1)) if m else None
    if stated in siblings:
        return siblings[stated], None
    return code, f"missing: acuity ({', '.join(sorted(siblings))})"


def acuity_included(codes: list[str]) -> dict[str, str]:
    """{code: the code that includes it}: an acute or a chronic code next to the "acute on chronic"
    code of the same condition (I50.22 from "chronic systolic heart failure" in the history and I50.23
    from the assessment's "acute on chronic ..." are one condition, coded I50.23)."""
    from pipeline.code.lookup.codeset import get_codeset

    cs = get_codeset()
    both = {}
    for c in codes:
        title = (cs.cm_description(c) or "").lower()
        if (m := _ACUITY_IN_TITLE.search(title)) and _acuity_key(m.group(1)) == "acute on chronic":
            both[(c[:3], _without_acuity(title))] = c
    out = {}
    for c in codes:
        title = (cs.cm_description(c) or "").lower()
        m = _ACUITY_IN_TITLE.search(title)
        if m and _acuity_key(m.group(1)) in ("acute", "chronic") and (whole := both.get((c[:3], _without_acuity(title)))):
            out[c] = whole
    return out


_TOBACCO_PRODUCTS = (
    ("cigarettes", re.compile(r"\bcigarettes?\b|\bpacks?\b|\bpack[- ]years?\b", re.I)),
    ("chewing tobacco", re.compile(r"\bchewing tobacco\b|\bsnuff\b|\bsmokeless\b", re.I)),
    ("other tobacco product", re.compile(r"\bcigars?\b|\bpipe\b|\bhookah\b", re.I)),
)


def tobacco_product(code: str, context: str) -> tuple[str, str | None]:
    """Nicotine dependence of an unspecified product (F17.20-) moves to the product the sentence
    names ("Nicotine dependence, cigarettes" F17.210); "missing: tobacco product" otherwise."""
    if not code.startswith("F17.20"):
        return code, None
    for product, pattern in _TOBACCO_PRODUCTS:
        if pattern.search(context) and (other := variant(code, "unspecified", product)):
            return other, None
    return code, "missing: tobacco product (cigarettes, chewing tobacco or other)"


# a hematologic malignancy the note says is in remission ("He is without evidence of disease at the
# present time"), not "not in remission" / "not having achieved remission"
# ("... which was treated with CHOP. The patient again went into complete remission.")
_REMISSION = re.compile(
    r"(?<!not )(?<!never )(?<!failed to )(?<!not having )\b(?:(?:in|into) (?:a )?(?:complete |partial |continued |clinical )?"
    r"remission|achieved (?:a )?(?:complete |partial )?remission|without (?:any )?evidence of (?:active |residual )?"
    r"disease|no evidence of (?:active |residual )?disease|NED)\b",
    re.I,
)


def remission(code: str, item: str) -> str:
    """The "in remission" code of a lymphoma, leukemia or myeloma (C81-C96: C83.10 -> C83.1A, C91.00 ->
    C91.01) when ``item`` (the mention's line of the note) says the disease is in remission; else ``code``."""
    if not code.startswith("C") or not ("C81" <= code[:3] <= "C96") or not _REMISSION.search(item):
        return code
    from pipeline.code.lookup.codeset import get_codeset

    cs = get_codeset()
    siblings = [c for c in cs.cm_api.get_children(code[:5]) if cs.cm_is_billable(c)] if len(code) > 5 else []
    return next((c for c in siblings if "in remission" in (cs.cm_description(c) or "").lower() and c != code), code)


# a pressure ulcer's stage (Guidelines I.C.12.a): the 6th character of L89.xx-, said before or after the
# ulcer's words ("stage IV sacral decubitus", "sacral decubitus ulcer, stage 4", "unstageable")
PRESSURE_ULCER = "L89."
PRESSURE_ULCER_STAGES = (
    (re.compile(r"\bunstage(?:able|d)\b", re.I), "0"),
    (re.compile(r"\bstage\s*(?:4|iv|four)\b", re.I), "4"),
    (re.compile(r"\bstage\s*(?:3|iii|three)\b", re.I), "3"),
    (re.compile(r"\bstage\s*(?:2|ii|two)\b", re.I), "2"),
    (re.compile(r"\bstage\s*(?:1|i|one)\b", re.I), "1"),
)


def pressure_ulcer_stage(code: str, context: str) -> str:
    """A pressure ulcer's code with the stage the documentation states (L89.159 "stage IV" -> L89.154);
    the code itself when no stage is said or the site has no such code."""
    from pipeline.code.lookup.codeset import get_codeset

    if not code.startswith(PRESSURE_ULCER) or len(code) != 7:
        return code
    for pattern, digit in PRESSURE_ULCER_STAGES:
        if pattern.search(context):
            staged = code[:-1] + digit
            return staged if get_codeset().cm_is_billable(staged) else code
    return code


def ckd_stage(context: str) -> str | None:
    for pattern, code in CKD_STAGES:
        if pattern.search(context):
            return code
    return None


_CALCULUS = re.compile(r"\b(?:calcul(?:us|ous|i)|stones?|gallstones?|cholelithiasis)\b", re.I)
_ACUTE = re.compile(r"\bacute\b", re.I)
_CHRONIC = re.compile(r"\bchronic\b", re.I)
_OBSTRUCTION = re.compile(r"\bobstruct(?:ion|ed|ing)\b", re.I)
_DUCT = re.compile(r"\b(?:duct|ductal|choledoch\w*|cholangitis)\b", re.I)


def gallbladder_calculus(code: str, context: str) -> tuple[str, str | None]:
    """Cholecystitis documented with gallbladder stones is one combination code (Alphabetic Index:
    Calculus, gallbladder, with cholecystitis): "acute calculous cholecystitis" K81.0 -> K80.00,
    chronic K80.10, acute on chronic K80.12; "with obstruction" the next code. ``context``: the
    mention with the words around it in its sentence."""
    cholecystitis = code.startswith("K81") or (
        # the index's nearest "calculus ... with cholecystitis" may be a bile-duct code (K80.3-/K80.4-/K80.6-);
        # without a duct in the text the stones are the gallbladder's
        code.startswith(("K80.3", "K80.4", "K80.6")) and "cholecystitis" in context.lower() and not _DUCT.search(context)
    )
    if not cholecystitis or not _CALCULUS.search(context):
        return code, None
    acute = code in ("K81.0", "K81.2") or bool(_ACUTE.search(context))
    chronic = code in ("K81.1", "K81.2") or bool(_CHRONIC.search(context))
    base = "K80.12" if acute and chronic else "K80.00" if acute else "K80.10"
    if _OBSTRUCTION.search(context):
        base = base[:-1] + str(int(base[-1]) + 1)
    return base, "with gallbladder calculus: combination code (Index: Calculus, gallbladder, with cholecystitis)"
