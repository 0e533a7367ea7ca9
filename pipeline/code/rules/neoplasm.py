"""Neoplasms in the words of the Table of Neoplasms.

The Alphabetic Index sends most tumour morphology to the Table of Neoplasms, each with the column
to read: "Adenocarcinoma - see Neoplasm, malignant, by site", "Leiomyoma - see also Neoplasm,
connective tissue, benign", "Schwannoma - see Neoplasm, nerve, benign" (Guidelines I.C.2: the
Index first, then the Table). A mention is looked up the way a coder follows that reference:

* :func:`malignant_as_cancer`: a carcinoma of a site is a cancer of it;
* :func:`tumor_query`: a tumor of a site named by site words only is a neoplasm of unspecified
  behavior of it ("testicular tumor");
* :func:`morphology_query`: a morphology term of such a reference and a site is the Table row of the
  site in the column the reference names ("bladder leiomyoma" -> "benign neoplasm of bladder",
  D30.3). A reference to a tissue (connective tissue, bone, nerve, skin) reads the tissue's row for
  the site where the Table lists the site under the tissue ("leiomyoma of the thigh" -> connective
  tissue, thigh) and the site's own row otherwise, as the Table's note on connective tissue says; a
  morphology with no site reads the tissue's row ("schwannoma" -> D36.10) or, referred "by site",
  the Table's first row ("adenoma" -> D36.9). A subterm of the
  morphology's own Index entry that names the site wins ("uterine leiomyoma" stays Leiomyoma,
  uterus, D25.9).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from pipeline.code.lookup.codeset import subterm_words
from pipeline.code.lookup.index_lookup import SITE_ADJECTIVES, STOP
from pipeline.code.rules.note_text import clause_before
from pipeline.code.rules.sides import SIDE_WORDS
from pipeline.extract.types import Entity

_TUMOR = re.compile(
    r"\s*(?P<pre>[a-z ]*?)\s*\b(?:tumou?rs?|neoplasms?|neoplasia)\b(?:\s+(?:of|in|on)\s+(?:the\s+)?(?P<post>[a-z ]+?))?\s*", re.I
)

# morphology the Index sends to the Neoplasm Table's malignant primary column; not carcinoma in situ
# (D00-D09), carcinoid (C7A), secondary / metastatic (C77-C79) or skin carcinoma (C44, coded by type)
_MALIGNANT_MORPHOLOGY = re.compile(
    r"\b(?:(?:invasive|infiltrating|ductal|lobular|papillary|squamous cell|serous|mucinous|urothelial)\s+)*"
    r"(?:adeno)?carcinomas?\b|\bmalignant\s+(?:neoplasms?|tumou?rs?)\b",
    re.I,
)
_NOT_PRIMARY_MALIGNANT = re.compile(
    r"\bin situ\b|\bcarcinoid\b|\bmetasta\w*|\bsecondary\b|\bbenign\b|\bneuroendocrine\b|\bbasal cell\b|\bskin\b", re.I
)

#: the Table's columns as its alias patterns word them (pipeline.code.lookup.aliases); "... of <site>", or
#: alone for the Table's first row (no site: C80.1, D36.9, D48.9, D49.9 ...)
BEHAVIOUR_PHRASES = {
    "malignant": "malignant neoplasm",
    "benign": "benign neoplasm",
    "in situ": "carcinoma in situ",
    "uncertain behavior": "neoplasm of uncertain behavior",
    "unspecified behavior": "neoplasm of unspecified behavior",
}
# main terms read by the rules above (carcinoma, cancer, tumor), and the words a site phrase may
# carry besides the site
_HANDLED_ELSEWHERE = frozenset({"cancer", "cancerous", "carcinoma", "adenocarcinoma", "tumor"})
# the words that end a mention of a tumor named by its behaviour, whatever its site
MORPHOLOGY_HEADS = frozenset(
    {"cancer", "carcinoma", "carcinomas", "adenocarcinoma", "adenocarcinomas", "tumor", "tumors", "neoplasm"}
)
_FILLER = frozenset("of the in on at a an and large small huge multiple solitary single primary".split())
_WORD = re.compile(r"[a-z][a-z'-]*")
_POSSESSIVE = re.compile(r"'s?$|'s?(?= )")
_POSITIONS = frozenset("posterior anterior medial lateral proximal distal dorsal ventral superior inferior".split())
_OTHER_COLUMN = re.compile(r"\bin situ\b|\bmetasta\w*|\bsecondary\b", re.I)
_STATED_BEHAVIOUR = frozenset({"benign", "malignant"})


def is_neoplasm(code: str) -> bool:
    """A code of chapter 2, Neoplasms (C00-D49)."""
    return code[:1] == "C" or (code[:1] == "D" and code[1:3].isdigit() and int(code[1:3]) <= 49)


def malignant_as_cancer(q: str) -> str:
    """ "Papillary carcinoma of the thyroid" -> "cancer of the thyroid" (Index: Carcinoma - see
    Neoplasm, by site, malignant); not in situ, carcinoid, secondary or skin carcinoma. A site named
    by its adjective is read as the Table's row: "uterine cancer" -> "uterus cancer" (C55)."""
    if _NOT_PRIMARY_MALIGNANT.search(q):
        return q
    q = _MALIGNANT_MORPHOLOGY.sub("cancer", q)
    return _SITE_ADJECTIVE_CANCER.sub(lambda m: f"{_CANCER_SITE_ADJECTIVES[m.group(1).lower()]} cancer", q)


# a cancer's site adjectives; "cervical cancer" is a cancer of the cervix uteri (the Table's cervix row,
# "(cervical) (uteri)"), where "cervical" alone is the neck's region (cervical radiculopathy, C76.0)
_CANCER_SITE_ADJECTIVES = {**SITE_ADJECTIVES, "cervical": "cervix"}
_SITE_ADJECTIVE_CANCER = re.compile(r"\b(" + "|".join(_CANCER_SITE_ADJECTIVES) + r")\s+cancer\b", re.I)


# words of a carcinoma's type that a dictation puts between its site and the word ("uterine papillary
# serous carcinoma", "right breast invasive ductal carcinoma")
_TYPE_WORDS = frozenset(
    "invasive infiltrating ductal lobular papillary serous mucinous squamous cell urothelial transitional clear "
    "small large endometrioid poorly moderately well differentiated high low grade".split()
)
_MORPHOLOGY_WORD = frozenset({"carcinoma", "carcinomas", "adenocarcinoma", "adenocarcinomas", "cancer"})


def with_site_before(mention: str, preceding: str) -> str:
    """A bare carcinoma ("carcinoma", the words a mention may be cut to) with the site its clause names
    right before it, over the carcinoma's type words: "uterine papillary serous" + "carcinoma" ->
    "uterine papillary serous carcinoma" (the Table's uterus row); the mention itself where no site
    word comes before it."""
    if mention.lower().strip() not in _MORPHOLOGY_WORD:
        return mention
    taken: list[str] = []
    site = False
    for w in reversed(clause_before(preceding).split()[-6:]):
        word = w.lower()
        if word in SITE_ADJECTIVES or (word in site_words() and word not in STOP):
            site = True
        elif word not in _TYPE_WORDS and word not in SIDE_WORDS:
            break
        taken.insert(0, w)
    return " ".join([*taken, mention.strip()]) if site else mention


def tumor_query(q: str) -> str | None:
    """ "Testicular tumor", "tumor of the bladder": a tumor of a site named by site words only is a
    neoplasm of unspecified behavior of it (Index: Tumor - see Neoplasm, unspecified behavior, by
    site), a bare "tumor" one of unspecified site (D49.9); a named tumor (Wilms, carcinoid, giant
    cell, Leydig cell ...) keeps its own Index entry."""
    m = _TUMOR.fullmatch(q)
    if not m:
        return None
    words = [w for w in f"{m.group('pre')} {m.group('post') or ''}".lower().split() if w not in SIDE_WORDS]
    phrase = BEHAVIOUR_PHRASES["unspecified behavior"]
    if not words:
        return phrase
    if not all(w in SITE_ADJECTIVES or w in site_words() for w in words):
        return None
    return f"{phrase} of " + " ".join(SITE_ADJECTIVES.get(w, w) for w in words)


def morphology_query(q: str) -> str | None:
    """The Table row and column a morphology term's Index reference leads to for the site the
    mention names (see the module doc); None when the mention is not a referenced morphology with
    site words only, or its own Index entry names the site."""
    if _OTHER_COLUMN.search(q):  # metastatic, secondary, in situ: not the column the reference names
        return None
    words = _WORD.findall(q.lower())
    found = _find_morphology(words)
    if found is None:
        return None
    term, start, end = found
    tissue, behaviour, own_subterms = morphology_terms()[term]
    if _STATED_BEHAVIOUR & (set(words) - {behaviour}):  # "malignant schwannoma" has its own Index entry
        return None
    site = [
        SITE_ADJECTIVES.get(w, w)
        for w in words[:start] + words[end:]
        if w not in _FILLER and w not in SIDE_WORDS and w not in _STATED_BEHAVIOUR
    ]
    if not all(w in site_words() for w in site) or any(w in own_subterms for w in site):
        return None
    phrase = BEHAVIOUR_PHRASES[behaviour]
    if not site:
        return f"{phrase} of {tissue}" if tissue else phrase
    if tissue and set(site) <= tissue_site_words(tissue):
        return f"{phrase} of {tissue} {' '.join(site)}"
    # a position on the site is no row of the tissue's ("leiomyosarcoma of the posterior arm": connective tissue, arm)
    placed = [w for w in site if w not in _POSITIONS]
    if tissue and placed and len(placed) < len(site) and set(placed) <= tissue_site_words(tissue):
        return f"{phrase} of {tissue} {' '.join(placed)}"
    return f"{phrase} of {' '.join(site)}"


def _find_morphology(words: list[str]) -> tuple[str, int, int] | None:
    """(main term, first word, end) of the first referenced morphology term in ``words`` (a plural too)."""
    terms = morphology_terms()
    words = [_POSSESSIVE.sub("", w) for w in words]
    for size in (3, 2, 1):
        for i in range(len(words) - size + 1):
            phrase = " ".join(words[i : i + size])
            for form in (phrase, phrase[:-1] if phrase.endswith("s") else None):
                if form in terms:
                    return form, i, i + size
    return None


@lru_cache(maxsize=1)
def morphology_terms() -> dict[str, tuple[str | None, str, frozenset[str]]]:
    """Index main term (lower case) -> (tissue or None for "by site", Table column, words of the
    term's own first-level subterms), for the main terms whose see / see also is a Table column."""
    from pipeline.code.lookup.codeset import get_codeset

    index = get_codeset().cm_index
    subterms: dict[str, list[tuple[str, ...]]] = {}
    for e in index:
        if len(e.path) == 2:
            subterms.setdefault(e.path[0].lower(), []).append(e.path)
    out = {}
    for e in index:
        term = e.path[0].lower()
        ref = e.see or e.see_also
        if (
            len(e.path) != 1
            or e.code
            or not ref.startswith("Neoplasm,")
            or term in _HANDLED_ELSEWHERE
            or not _WORD.fullmatch(term.replace(" ", ""))
        ):
            continue
        parts = [_row_name(p) for p in ref.split(",")[1:]]
        behaviour = next((p for p in parts if p in BEHAVIOUR_PHRASES), None)
        rest = [p for p in parts if p != behaviour and not p.startswith("by ")]
        if behaviour is None or len(rest) > 1:
            continue
        read = (rest[0] if rest else None, behaviour, frozenset(subterm_words(subterms.get(term, []))))
        for name in _names(term):
            out[name] = read
    return out


def _names(term: str) -> list[str]:
    """The names a main term gives, without an eponym's possessive: "Ewing's sarcoma or tumor" is
    "ewing sarcoma" and "ewing tumor" (as a dictation writes them)."""
    term = _POSSESSIVE.sub("", term)
    if " or " not in term:
        return [term]
    first, *others = [p.strip() for p in term.split(" or ")]
    lead = first.rsplit(" ", 1)[0] + " " if " " in first else ""
    return [first, *(lead + o for o in others if o)]


@lru_cache(maxsize=1)
def site_words() -> frozenset[str]:
    """Words of the Neoplasm Table's site names (kidney, renal, bladder, brain ...)."""
    from pipeline.code.lookup.codeset import get_codeset

    out = subterm_words(t.path for t in get_codeset().cm_neoplasm_table)
    return frozenset(
        out
        - {
            "and",
            "with",
            "other",
            "specified",
            "unspecified",
            "see",
            "also",
            "benign",
            "malignant",
            "carcinoid",
            "cell",
            "cells",
            "giant",
            "germ",
            "stromal",
            "mixed",
            "tumor",
            "neoplasm",
            "metastatic",
            "secondary",
            "primary",
        }
    )


@lru_cache(maxsize=32)
def tissue_site_words(tissue: str) -> frozenset[str]:
    """Words of the sites the Table lists under a tissue (connective tissue: thigh, leg, abdomen ...)."""
    from pipeline.code.lookup.codeset import get_codeset

    return frozenset(
        subterm_words(t.path[1:] for t in get_codeset().cm_neoplasm_table if len(t.path) > 2 and _row_name(t.path[1]) == tissue)
    )


#: the Table's columns of a primary neoplasm's behaviour (one finding has one); a secondary site may
#: come with any of them
BEHAVIOUR_COLUMNS = ("malignant_primary", "in_situ", "benign", "uncertain", "unspecified")


SECONDARY_COLUMN = "malignant_secondary"
UNSPECIFIED_COLUMN = "unspecified"


@lru_cache(maxsize=2)
def _table_cells(columns: tuple[str, ...] = BEHAVIOUR_COLUMNS) -> dict[str, set[tuple[int, str]]]:
    """Code (undotted, as printed without '-') -> the (Table row, column) cells of ``columns`` naming it."""
    from pipeline.code.lookup.codeset import get_codeset

    out: dict[str, set[tuple[int, str]]] = {}
    for row, t in enumerate(get_codeset().cm_neoplasm_table):
        for col in columns:
            code = t.codes.get(col, "").rstrip("-").replace(".", "")
            if code:
                out.setdefault(code, set()).add((row, col))
    return out


def table_cells(code: str, columns: tuple[str, ...] = BEHAVIOUR_COLUMNS) -> set[tuple[int, str]]:
    """The Table cells a code (or the code it refines, "C50.911" under "C50.9-") stands in."""
    key = code.replace(".", "")
    cells = _table_cells(columns)
    return next((cells[key[:n]] for n in range(len(key), 2, -1) if key[:n] in cells), set())


def behaviour_known(code: str, documented: str) -> bool:
    """Whether ``code`` is only the Table's unspecified-behaviour cell of a site whose neoplasm
    ``documented`` codes with a behaviour (D49.6 brain next to C79.31, secondary of the brain: the
    tumor the note first called a tumor is the metastasis; Index: Tumor - see Neoplasm, unspecified
    behavior, by site, only where the behaviour is not documented)."""
    columns = (*BEHAVIOUR_COLUMNS, SECONDARY_COLUMN)
    mine = table_cells(code, columns)
    if not mine or any(col != UNSPECIFIED_COLUMN for _, col in mine):
        return False
    rows = {row for row, _ in mine}
    return any(row in rows and col != UNSPECIFIED_COLUMN for row, col in table_cells(documented, columns))


def behaviour_conflict(code: str, documented: str) -> tuple[str, str] | None:
    """(this code's column, the documented code's column) when both name a neoplasm of one Table
    site with different behaviour (C67.9 malignant next to the documented D30.3 benign), else None."""
    mine = table_cells(code)
    theirs = table_cells(documented)
    for row, col in mine:
        other = next((c for r, c in theirs if r == row and c != col), None)
        if other:
            return col, other
    return None


def _row_name(part: str) -> str:
    """ "connective tissue NEC" -> "connective tissue" (how a reference names the row)."""
    return re.sub(r"\s*\(.*?\)|\s+NEC\b", "", part).strip().lower()


# ---------------------------------------------------------------- secondary sites
# Index: Metastasis, metastatic, to specified site - see Neoplasm, secondary, by site. A dictation states
# the site after the word ("metastatic adenocarcinoma in the brain", "lung cancer metastatic to the bone",
# "metastases to the liver") or before it ("liver metastases", "bone mets"); extraction marks the
# morphology at most, so the site is read from the words
_METASTATIC_TO = re.compile(
    r"\bmetasta(?:tic|sis|ses|sized)\b(?:\s+[a-z]+){0,3}?\s+(?:to|in|into|within|involving)\s+"
    r"(?:the\s+|a\s+|an\s+|both\s+|multiple\s+|several\s+)?(?P<site>[a-z]+(?:[ -][a-z]+){0,5})",
    re.I,
)
# Index: Metastasis, from specified site - see Neoplasm, malignant, by site ("metastasis from breast",
# "metastatic adenocarcinoma from the colon"): the site after "from" is the primary
_METASTATIC_FROM = re.compile(
    r"\bmetasta(?:tic|sis|ses|sized)\b(?:\s+[a-z]+){0,5}?\s+from\s+(?:(?:the|a|an|his|her|their|known|primary)\s+)*"
    r"(?P<site>[a-z]+(?:[ -][a-z]+){0,3})",
    re.I,
)
_SITE_METASTASES = re.compile(
    r"\b(?P<site>(?:[a-z]+\s+){0,2}[a-z]+)\s+(?:metastas[ie]s|metastatic\s+(?:disease|deposits?|lesions?)|mets)\b", re.I
)
_NOT_A_SECONDARY_SITE = frozenset("site sites disease multiple region area widespread distant diffuse known".split())
_METASTASIS_DENIED = re.compile(r"\b(?:no|not|without|negative\s+for|free\s+of|rule\s+out|r/o|denies|absence\s+of)\b", re.I)
_DENIAL_REACH = 60  # characters before the metastasis's last word that a denial reaches
_METASTASIS_UNCERTAIN = re.compile(
    r"\b(?:possible|possibly|probable|probably|likely|suspicious|suspected|concerning|worrisome|questionable|"
    r"cannot\s+be\s+excluded|versus|vs\.?)\b",
    re.I,
)
SECONDARY_MORPHOLOGY = "the morphology of a metastasis: coded by its secondary site (Table of Neoplasms, secondary column)"
_MORPHOLOGY_ONLY = re.compile(
    r"^(?:\w+\s+){0,2}(?:(?:adeno)?carcinomas?|cancers?|malignancy|neoplasms?|tumou?rs?|disease)$", re.I
)
_WORD_SPAN = re.compile(r"[a-z]+", re.I)
_WHERE_IN = re.compile(r"\s+(?:in|of)\s+the\s+(?:(?:right|left)\s+)?", re.I)  # a site's own site, read with it


@dataclass(frozen=True)
class SecondarySite:
    """A site the note says a cancer has spread to, read as the Index's "Metastasis, to specified
    site" (``mention``, looked up as the Tabular's "secondary malignant neoplasm of <site>"), and the
    morphology mentions inside the same words, which name the metastasis rather than a primary. A
    metastasis's origin ("metastasis from breast": Metastasis, from specified site - see Neoplasm,
    malignant, by site) is read the same way, as a mention of the primary site."""

    mention: Entity
    replaces: tuple[Entity, ...]


def _site_run(text: str, start: int, end: int, sites: frozenset[str], after: bool) -> tuple[int, int, list[str]] | None:
    """The span and words of the run of Table site words in ``text[start:end]``: the first run when the
    site follows the metastasis ("in one lymph node in ...": lymph node), the last when it precedes it
    ("with liver metastases": liver, which must end right before it); sides inside the run are kept in
    the span, not in the words."""
    runs: list[list[re.Match[str]]] = [[]]
    for w in _WORD_SPAN.finditer(text, start, end):
        word = w.group(0).lower()
        if (word in sites or word[:-1] in sites and word.endswith("s")) and word not in STOP or (word in SIDE_WORDS and runs[-1]):
            runs[-1].append(w)
        elif runs[-1]:
            if after:
                break
            runs.append([])
    found = [r for r in runs if any(w.group(0).lower() not in SIDE_WORDS for w in r)]
    if not found or (not after and found[-1][-1].end() != end):
        return None  # "lung cancer with metastasis": the words right before are no site
    run = found[0] if after else found[-1]
    said = [w.group(0).lower() for w in run if w.group(0).lower() not in SIDE_WORDS]
    return run[0].start(), run[-1].end(), said


def secondary_sites(entities: Sequence[Entity], text: str | None) -> list[SecondarySite]:
    """Secondary neoplasm sites the note states (Guidelines I.C.2.d; the Table of Neoplasms' secondary
    column), each as a mention looked up as "secondary malignant neoplasm of <site>"; not where the
    note denies them, and as uncertain where it only suspects them. A site that already has a mention
    of its own ("pulmonary metastases") is left to it."""
    if not text:
        return []
    sites = site_words() - _NOT_A_SECONDARY_SITE
    out: list[SecondarySite] = []
    taken: list[tuple[int, int]] = []
    for pattern in (_METASTATIC_TO, _SITE_METASTASES):
        after = pattern is _METASTATIC_TO
        for m in pattern.finditer(text):
            run = _site_run(text, m.start("site"), m.end("site"), sites, after)
            if run is None:
                continue
            site_start, site_end, said = run
            if after and (where := _WHERE_IN.match(text, site_end)):  # "in one lymph node in the right obturator fossa"
                more = _site_run(text, where.end(), min(len(text), where.end() + 40), sites, True)
                if more is not None and more[0] == where.end():
                    site_end, said = more[1], said + more[2]
            start, end = (m.start(), site_end) if after else (site_start, m.end())
            if any(a < end and start < b for a, b in taken):
                continue
            line_start = max(text.rfind(".", 0, start), text.rfind("\n", 0, start)) + 1
            if _METASTASIS_DENIED.search(text[max(line_start, m.end() - _DENIAL_REACH) : end]):
                continue  # "Negative for distant metastasis", "no metastatic disease in the liver"
            if any(e.start <= site_start and site_end <= e.end and "metasta" in e.text.lower() for e in entities):
                continue  # "pulmonary metastases" is a mention of its own, site and all
            inside = [e for e in entities if start <= e.start < end]
            near = inside or [e for e in entities if e.start <= start]
            section = (inside[0] if inside else max(near, key=lambda e: e.start)).section if near else None
            mention = Entity(
                start,
                end,
                text[start:end],
                "PROBLEM",
                section=section,
                uncertain=bool(_METASTASIS_UNCERTAIN.search(text[line_start:end])),
                long_form=f"secondary malignant neoplasm of {' '.join(said)}",
            )
            replaces = tuple(
                e for e in entities if e.start < end and start < e.end <= end and _MORPHOLOGY_ONLY.match(e.text.strip())
            )
            taken.append((start, end))
            out.append(SecondarySite(mention, replaces))
    return out + _origins(entities, text, sites, taken)


_TUMOR_WORDS = re.compile(r"\b(?:tumou?rs?|mass(?:es)?|lesions?|neoplasms?)\b", re.I)


def _origins(entities: Sequence[Entity], text: str, sites: frozenset[str], taken: list[tuple[int, int]]) -> list[SecondarySite]:
    """The primary a metastasis comes from ("Brain tumors multiple - adenocarcinoma and metastasis from
    breast"): a mention of the origin's malignant neoplasm, and the statement's tumor of another site
    ("Brain tumors") read as that site's secondary neoplasm."""
    out: list[SecondarySite] = []
    for m in _METASTATIC_FROM.finditer(text):
        run = _site_run(text, m.start("site"), m.end("site"), sites, True)
        if run is None or run[0] != m.start("site"):
            continue  # "metastasis from an unknown primary": no site
        site_start, site_end, said = run
        line_start = max(text.rfind(".", 0, m.start()), text.rfind("\n", 0, m.start())) + 1
        if _METASTASIS_DENIED.search(text[max(line_start, m.end() - _DENIAL_REACH) : site_end]):
            continue
        uncertain = bool(_METASTASIS_UNCERTAIN.search(text[line_start:site_end]))
        near = [e for e in entities if e.start <= site_end]
        section = max(near, key=lambda e: e.start).section if near else None
        out.append(
            SecondarySite(
                Entity(
                    site_start,
                    site_end,
                    text[site_start:site_end],
                    "PROBLEM",
                    section=section,
                    uncertain=uncertain,
                    long_form=f"malignant neoplasm of {' '.join(said)}",
                ),
                (),
            )
        )
        for e in entities:  # the tumor the statement says is the metastasis: its site is a secondary site
            if not (line_start <= e.start and e.end <= m.start()) or not _TUMOR_WORDS.search(e.text):
                continue
            where = _site_run(e.text, 0, len(e.text), sites, True)
            start = e.start
            if where is None:  # the site right before the mention: "Brain" + "tumors"
                before = len(text[line_start : e.start].rstrip()) + line_start
                where = _site_run(text, line_start, before, sites, False)
                start = where[0] if where is not None else start
            if where is None or set(where[2]) & set(said) or any(a < e.end and start < b for a, b in taken):
                continue
            out.append(
                SecondarySite(
                    Entity(
                        start,
                        e.end,
                        text[start : e.end],
                        "PROBLEM",
                        section=e.section,
                        uncertain=uncertain,
                        long_form=f"secondary malignant neoplasm of {' '.join(where[2])}",
                    ),
                    (e,),
                )
            )
    return out


# "He has a history of acute leukemia. He is currently in the phase of his therapy where ...",
# "history of breast cancer, on chemotherapy": treatment still directed at the malignancy
_STILL_TREATED = re.compile(
    r"\b(?:currently|presently|now|still)\b[^.;]{0,60}?\b(?:therapy|chemotherapy|chemo|radiation|radiotherapy|treatment)\b"
    r"|\b(?:on|receiving|undergoing|continues|continuing)\s+(?:\w+\s+){0,2}?(?:chemotherapy|chemo|radiation|radiotherapy|immunotherapy)\b",
    re.I,
)


def still_treated(words: str) -> bool:
    """Whether ``words`` (the sentence of a malignancy told as history, and the next) say treatment is
    still directed at it: then it is a current malignancy, not a personal history (Guidelines I.C.2.d:
    Z85 once it is excised or eradicated and no further treatment is directed to its site)."""
    return bool(_STILL_TREATED.search(words))


# where the note places a mesothelioma whose own words give no site (the Tabular's C45 by lining)
_MESOTHELIAL_LININGS = (
    ("C45.0", "pleura", re.compile(r"\bpleur(?:a|al|isy|odesis|ectomy)\b|\bthoracentesis\b|\bdecortication\b", re.I)),
    (
        "C45.1",
        "peritoneum",
        re.compile(
            r"\bperitone(?:um|al)\b|\bparacentesis\b|\blining\s+of\s+(?:the\s+|her\s+|his\s+)?(?:stomach|abdomen)\b", re.I
        ),
    ),
    ("C45.2", "pericardium", re.compile(r"\bpericardi(?:um|al)\b", re.I)),
)


def mesothelioma_site(code: str, text: str | None) -> tuple[str, str | None]:
    """A mesothelioma of unspecified site (C45.9) at the one lining the note's words name ("pleural
    effusion ... decortication with pleural biopsy": the pleura, C45.0), with why; as it was where the
    note names none of the linings, or more than one."""
    if code != "C45.9" or not text:
        return code, None
    named = [(site_code, lining, m.group(0)) for site_code, lining, words in _MESOTHELIAL_LININGS if (m := words.search(text))]
    if len(named) != 1:
        return code, None
    site_code, lining, word = named[0]
    return site_code, f'the note places the mesothelioma in the {lining} ("{word}"): {site_code}'
