"""Alias strings for the candidate index: every way the code sets name a code.

ICD-10-CM (billable FY2026 codes only): tabular descriptions, inclusion terms, Alphabetic Index
term paths rendered as phrases ("Diabetes, diabetic | type 2 | with | chronic kidney disease"
-> "type 2 diabetes with chronic kidney disease" and "diabetes type 2 with chronic kidney
disease"), resolved see-references and the Table of Neoplasms.

ICD-10-PCS (valid FY2026 codes): long descriptions, and Index terms expanded to codes through
their code prefix, one alias per approach ("cholecystectomy" -> 0FT4/0FB4 -> "laparoscopic
cholecystectomy" -> 0FT44ZZ, 0FB44ZZ).

All alias texts are lower-case with single spaces (see :func:`normalize_alias`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

from pipeline.code.lookup.codeset import CodeSet

Alias = tuple[str, str, str]  # (alias text, code, source)
_lock = threading.RLock()  # one alias build at a time (the code set's tables load on first use)

ALIAS_VERSION = "10"  # bump when the alias rules change (part of the index cache fingerprint)

_NOISE = re.compile(r"\b(NEC|NOS)\b")
_PAREN = re.compile(r"\s*\([^)]*\)")
_CONNECTORS = (
    "with",
    "without",
    "in",
    "due to",
    "of",
    "from",
    "by",
    "following",
    "complicating",
    "complicated",
    "affecting",
    "after",
    "during",
    "at",
    "on",
    "for",
    "to",
    "as",
    "involving",
    "associated",
    "related",
    "not",
    "and",
    "or",
    "causing",
    "resulting",
    "except",
    "other than",
    "between",
    "into",
    "via",
    "under",
)
_CONNECTOR_RE = re.compile(r"^(" + "|".join(re.escape(c) for c in _CONNECTORS) + r")\b", re.I)


def normalize_alias(text: str) -> str:
    """Lower case, 'NEC'/'NOS' dropped, punctuation other than ' - / turned to spaces."""
    text = re.sub(r"\((s|es)\)", r"\1", _NOISE.sub(" ", text)).lower()
    text = re.sub(r"[^\w'\-/+]+", " ", text)
    return " ".join(text.split()).strip(" -")


_UNSPECIFIED = re.compile(r"\bunspecified( organism| site| type| part| side)?\b", re.I)


def _variants(text: str) -> list[str]:
    """The text without its parenthesised nonessential words, with them inline, and without 'unspecified'."""
    stripped = normalize_alias(_PAREN.sub(" ", text))
    inline = normalize_alias(text)
    bare = normalize_alias(_UNSPECIFIED.sub(" ", _PAREN.sub(" ", text)))
    return [v for v in dict.fromkeys((stripped, inline, bare)) if v]


def _main_head(main: str) -> str:
    """'Diabetes, diabetic' -> 'diabetes'; 'Abduction contracture, hip or other joint' kept whole."""
    parts = [p.strip() for p in _PAREN.sub("", main).split(",")]
    head = parts[0]
    rest = [p for p in parts[1:] if p[:4].lower() != head[:4].lower()]
    return normalize_alias(" ".join([head, *rest]))


def index_phrases(path: Iterable[str]) -> list[str]:
    """Phrases for one CM Index term path: modifier moved before the main term, and the plain path."""
    levels = list(path)
    head = _main_head(levels[0])
    subs = [normalize_alias(_PAREN.sub(" ", s).rstrip(":")) for s in levels[1:]]
    subs = [s for s in subs if s]
    joined = " ".join([head, *subs])
    out = [joined]
    if subs and not _CONNECTOR_RE.match(subs[0]) and len(subs[0].split()) <= 4:
        firsts = [subs[0]]
        m = re.fullmatch(r"(\w+) or (\w+)", subs[0])
        if m:  # 'atrial or auricular' -> 'atrial ...', 'auricular ...'
            firsts = [m.group(1), m.group(2)]
        out += [" ".join([f, head, *subs[1:]]) for f in firsts]
    return [p for p in dict.fromkeys(out) if p]


_BEHAVIOUR = {
    "malignant_primary": ["malignant neoplasm of {}", "cancer of {}", "{} cancer"],
    "malignant_secondary": ["secondary malignant neoplasm of {}", "metastasis to {}"],
    "in_situ": ["carcinoma in situ of {}"],
    "benign": ["benign neoplasm of {}"],
    "uncertain": ["neoplasm of uncertain behavior of {}"],
    "unspecified": ["neoplasm of unspecified behavior of {}"],
}


def cm_aliases(cs: CodeSet) -> list[Alias]:
    """(alias text, billable FY2026 code, source) over descriptions, inclusion terms, Index and Neoplasm Table."""
    with _lock:
        return _cm_aliases(cs)


def _cm_aliases(cs: CodeSet) -> list[Alias]:
    out: dict[tuple[str, str], str] = {}

    def add(texts: Iterable[str], code: str | None, source: str) -> None:
        if not code:
            return
        for t in texts:
            if t and (t, code) not in out:
                out[(t, code)] = source

    cm = cs.cm_api
    billable = set(cs.cm_billable_codes)
    for code in cs.cm_billable_codes:
        add(_variants(cm.get_description(code)), code, "description")
        for term in cs.cm_inclusion_terms(code):
            add(_variants(term), code, "inclusion")
    # a category's title and inclusion terms also name its obvious unspecified code, if it has one
    # ("Type 2 diabetes mellitus" E11 -> E11.9; J44's inclusion terms -> J44.9; "Other ..." titles are skipped)
    for code in cm.get_all_codes(True):
        if code in billable or cm.is_chapter_or_block(code):
            continue
        child = cs.cm_unspecified_child(code)
        if not child:
            continue
        title = cm.get_description(code)
        if not title.lower().startswith("other "):
            add(_variants(title), child, "description-category")
        add((v for t in cs.cm_inclusion_terms(code) for v in _variants(t)), child, "inclusion-category")

    resolved: dict[tuple[str, bool], str | None] = {}

    def target(code: str, table: bool = False) -> str | None:
        if not code:
            return None
        # a code printed with "-" needs more characters (Table "C50.9-", Index "Seminoma C62.9-"), as
        # does an injury code printed without its 7th character ("Fracture, traumatic T14.8"): its
        # most unspecified code (initial encounter), which the specificity rules move to the side or
        # episode stated
        most = table or code.endswith("-") or code[:1] in "ST"
        code = code.rstrip("-").rstrip(".")
        if (code, most) not in resolved:
            resolved[code, most] = code if code in billable else cs.cm_unspecified_child(code, most_unspecified=most)
        return resolved[code, most]

    for e in cs.cm_index:
        if e.code and e.valid:
            add(index_phrases(e.path), target(e.code), "index")
        if e.see_code:
            add(index_phrases(e.path), target(e.see_code), "index-see")
    for t in cs.cm_neoplasm_table:
        site = " ".join(_main_head(p) for p in t.path[1:])
        for col, patterns in _BEHAVIOUR.items():
            # the Table's first row has no site: "neoplasm of unspecified behavior" is D49.9
            texts = (
                [p.format(site) for p in patterns]
                if site
                else [re.sub(r"\s+(?:of|to)$", "", p.format("").strip()) for p in patterns]
            )
            add(texts, target(t.codes.get(col, ""), table=True), "neoplasm")
    return [(text, code, source) for (text, code), source in out.items()]


# ---------------------------------------------------------------- PCS
_APPROACH_WORDS = {
    "0": ["open {}"],
    "3": ["percutaneous {}"],
    "4": ["laparoscopic {}", "percutaneous endoscopic {}", "endoscopic {}"],
    "7": ["{} via natural or artificial opening", "transorifice {}"],
    "8": ["endoscopic {}", "{} via natural or artificial opening endoscopic"],
    "F": ["{} via natural or artificial opening with percutaneous endoscopic assistance"],
    "X": ["external {}", "closed {}"],
}
_ARTHRO = ("0R", "0S", "0M", "0L")  # joints, bursae and ligaments, tendons
_THORACO = ("0B", "02", "0W", "03", "0D")  # lungs, heart, anatomical regions, upper arteries, GI


def _approach_phrases(phrase: str, code: str) -> list[str]:
    if code[0] not in "0X" or len(code) < 5:
        return []
    words = list(_APPROACH_WORDS.get(code[4], []))
    if code[4] == "4":
        if code[:2] in _ARTHRO:
            words = ["arthroscopic {}", "percutaneous endoscopic {}", "endoscopic {}"]
        elif code[:2] in _THORACO:
            words.append("thoracoscopic {}")
    return [w.format(phrase) for w in words]


def _default_codes(codes: list[str]) -> list[str]:
    """Per approach: codes with no device and no qualifier, else all of them when few (<= 8)."""
    by_approach: dict[str, list[str]] = {}
    for c in codes:
        by_approach.setdefault(c[4], []).append(c)
    out: list[str] = []
    for group in by_approach.values():
        plain = [c for c in group if c[5:] == "ZZ"]
        out += plain or (group if len(group) <= 8 else [])
    return out


# the operation a Medical and Surgical procedure word ends in: "thyroid|ectomy", "tonsill|ectomy", "tympan|oplasty"
_OPERATION_SUFFIX = re.compile(r"(?:ectomy|o?tomy|o?stomy|o?rrhaphy|o?plasty|o?pexy|o?lysis|o?centesis|o?desis)$")
MIN_STEM = 4


# the organ an operation word's Greek or Latin stem names, by the body part's name in the PCS tables
# ("nephr|ectomy": Kidney, "hyster|ectomy": Uterus, "hemicol|ectomy": the right or left large intestine).
# A stem that spells its body part ("thyroid|ectomy", "tonsill|ectomy") needs no entry; one listed here
# names only these ("hepat|ectomy" is the liver, not the hepatic ducts)
COMBINING_FORMS: dict[str, tuple[str, ...]] = {
    "col": ("large intestine", "colon"),
    "hemicol": ("large intestine, right", "large intestine, left"),
    "gastr": ("stomach",),
    "nephr": ("kidney",),
    "hepat": ("liver",),
    "splen": ("spleen",),
    "hyster": ("uterus",),
    "oophor": ("ovary",),
    "salping": ("fallopian tube",),
    "orchi": ("testis",),
    "orchid": ("testis",),
    "mast": ("breast",),
    "pneumon": ("lung",),
    "proct": ("rectum",),
    "laryng": ("larynx",),
    "pharyng": ("pharynx",),
    "gloss": ("tongue",),
    "cervic": ("cervix",),
    "lob": ("lobe",),
}
_PLURALS = (("ies", "y"), ("es", "is"), ("s", ""))  # "Ovaries" ovary, "Testes" testis, "Lungs" lung


def _singular(word: str) -> str:
    for plural, singular in _PLURALS:
        if word.endswith(plural) and len(word) > len(plural) + 2:
            return word[: -len(plural)] + singular
    return word


def _form_names(names: tuple[str, ...], label: str) -> bool:
    """The combining form names the body part's label: the whole label ("Large Intestine, Right"), its
    name before the side ("Kidneys, Bilateral": kidney) or that name's last words ("Sigmoid Colon":
    colon; "Upper Lung Lobe, Right": lobe)."""
    label = label.lower()
    first = label.split(",")[0].strip()
    head, _, last = first.rpartition(" ")
    first = f"{head} {_singular(last)}".strip()
    return any(label == n or first == n or first.endswith(" " + n) for n in names)


def _body_parts_named(cs: CodeSet, entry) -> tuple[list[tuple[str, str]], bool]:
    """(body part character, label) of a Medical and Surgical table (3 characters, ``entry.code``) whose
    label has a word that what the Index term names before its operation suffix names (:func:`_names`),
    or that its stem's combining form names (:data:`COMBINING_FORMS`): "Thyroidectomy" 0GT -> Thyroid
    Gland, and its lobes; "Tonsillectomy" 0CT -> Tonsils; "Nephrectomy" 0TT -> each kidney. With them,
    whether the word alone names the first of them: the one body part named, or the whole organ a
    combining form names ("colectomy": Large Intestine). A subterm, a term of several words or one
    naming no body part of the table gives none."""
    term = entry.path[0].split(",")[0].strip().lower() if len(entry.path) == 1 else ""
    suffix = _OPERATION_SUFFIX.search(term)
    if entry.code[0] != "0" or not suffix:
        return [], False
    stem = term[: suffix.start()]
    form = COMBINING_FORMS.get(stem)
    if " " in term or (len(stem) < MIN_STEM and form is None):
        return [], False
    parts: dict[str, str] = {}
    for code in cs.pcs_codes_with_prefix(entry.code):
        if code[3] not in parts:  # the body part's label, read once per body part
            parts[code[3]] = cs.pcs_axes(code)[3][2]
    if form is not None:
        named = [(part, label) for part, label in sorted(parts.items()) if _form_names(form, label)]
        whole = [pl for pl in named if pl[1].lower() in form]
        if len(whole) == 1:
            return [whole[0]] + [pl for pl in named if pl != whole[0]], True
        return named, len(named) == 1
    named = [
        (part, label)
        for part, label in sorted(parts.items())
        if any(_names(stem, w) for w in re.findall(r"[a-z]+", label.lower()))
    ]
    return named, len(named) == 1


def _names(stem: str, word: str) -> bool:
    """The stem names the label's word: "thyroid" Thyroid, "tonsill" Tonsils, not "acromion" Acromioclavicular."""
    singular = word[:-1] if word.endswith("s") else word
    return word.startswith(stem) or (len(singular) >= MIN_STEM and stem.startswith(singular))


def pcs_aliases(cs: CodeSet) -> list[Alias]:
    """(alias text, valid code, source) over long descriptions and Index terms expanded to codes."""
    with _lock:
        return _pcs_aliases(cs)


def _pcs_aliases(cs: CodeSet) -> list[Alias]:
    out: dict[tuple[str, str], str] = {}

    def add(texts: Iterable[str], code: str, source: str) -> None:
        for t in texts:
            if t and (t, code) not in out:
                out[(t, code)] = source

    for code, desc in cs.pcs_codes():
        add([normalize_alias(desc)], code, "description")
    for e in cs.pcs_index:
        if e.kind == "use" or len(e.code) < 3:
            continue
        phrase = " ".join(normalize_alias(_PAREN.sub(" ", p)) for p in e.path)
        if not phrase:
            continue
        if len(e.code) == 3:  # "Thyroidectomy - see Resection, Endocrine System 0GT": the body parts the word names
            parts, word_names_first = _body_parts_named(cs, e)
            for i, (part, label) in enumerate(parts):
                for code in _default_codes(cs.pcs_codes_with_prefix(e.code + part)):
                    named = f"{phrase} {normalize_alias(label)}"
                    # the word alone is the name of the one body part it names ("tonsillectomy"), or of
                    # the whole organ its combining form names ("colectomy": Large Intestine)
                    texts = [named, phrase] if i == 0 and word_names_first else [named]
                    add(texts, code, "index-body-system")
                    add([a for t in texts for a in _approach_phrases(t, code)], code, "index-body-system")
            continue
        if len(e.code) == 7:
            if cs.pcs_is_valid(e.code):
                add([phrase], e.code, "index")
            continue
        for code in _default_codes(cs.pcs_codes_with_prefix(e.code)):
            add([phrase], code, "index")
            add(_approach_phrases(phrase, code), code, "index-approach")
    return [(text, code, source) for (text, code), source in out.items()]
