"""The ICD-10-PCS Index read as a coder reads it: the procedure's word to its root operation, then the
body part the mention names, then the table's row.

A coder codes "biopsy of the left kidney" by the Index: Biopsy, "see Excision with qualifier
Diagnostic"; Excision, Kidney, Left, 0TB1; then the table's approach, device and qualifier values the
report states: 0TB10ZX when the report says no other approach. The code index
(:mod:`pipeline.code.lookup.candidates`) matches a mention to a code's title or an Index term with a code
and misses this path: a see reference that names only a root operation gives no code of its own, and
"evacuation of acute subdural hematoma" shares no word with "Extirpation of Matter from Intracranial
Subdural Space".

:func:`read` follows it for one mention:

* **Root operation**: the mention names one of :data:`ROOT_OPERATIONS` by its own name or verb
  ("excision", "drained"), or a term the Index sends to one ("Biopsy, see Excision with qualifier
  Diagnostic", "Evacuation, Hematoma, see Extirpation", "Puncture, see Drainage"); a reference that
  also names a table ("Craniotomy, see Drainage, Central Nervous System and Cranial Nerves 009") keeps
  the body part to that table. Root operations that place or take out a device (Insertion, Removal,
  Replacement ...) are not read: "removal of the hematoma" is no Removal.
* **Body part**: the one the reference names ("Puncture, lumbar, see Drainage, Spinal Canal 009U"), else
  the entry under the root operation whose every level the mention names by the words a report says
  for it ("subdural" for Subdural Space, Intracranial), the most of its words first; a site adjective read as its noun ("renal" kidney, :data:`pipeline.code.lookup.index_lookup.SITE_ADJECTIVES`),
  a Body Part Key term as the body part it uses ("pyloric antrum": Stomach, Pylorus). A side level
  ("Left") may be stated by the mention's sentence; an entry whose side nobody states is not read.
* **The row**: among the valid codes of the entry, the approach the words state, else the
  conventional one (:func:`pipeline.code.rules.pcs_approach.approach_preference`); no device, except a
  drainage device where a tube, drain or catheter is left; the diagnostic qualifier for a biopsy, and for
  a drainage whose fluid the sentence says was examined ("lumbar puncture showed ...").

Mentions with no root operation word, or whose body part the Index entries do not name, give nothing,
and the code index's candidates stand.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from pipeline.code.lookup.index_lookup import SITE_ADJECTIVES, SYNONYMS, words
from pipeline.code.rules.pcs_approach import approach_preference, root_preference, stated_approaches

# Medical and Surgical root operations that act on a body part, by their Index main term: the words
# that name them (the entries under the term give the codes, and with them the operation's character)
ROOT_OPERATIONS: dict[str, tuple[str, ...]] = {
    "Excision": ("excision", "excise", "excised", "excisional"),
    "Resection": ("resection", "resected"),
    "Drainage": ("drainage", "drained"),
    "Extirpation": ("extirpation",),
    "Destruction": ("destruction", "destroyed"),
    "Release": ("release", "released"),
    "Repair": ("repair", "repaired"),
    "Dilation": (),  # "dilatation of the ventricles" is mostly a finding: only the Index's references
    "Fragmentation": ("fragmentation",),
    "Extraction": ("extraction", "extracted"),
}
# where a reference offers several root operations ("Biopsy, see Drainage / Excision / Extraction"),
# the one a coder reads first when the body part fits each
_PREFERENCE = (
    "Excision",
    "Extirpation",
    "Extraction",
    "Drainage",
    "Destruction",
    "Release",
    "Dilation",
    "Repair",
    "Resection",
    "Fragmentation",
)
DIAGNOSTIC, NO_QUALIFIER, NO_DEVICE, DRAINAGE_DEVICE = "X", "Z", "Z", "0"
_WITH_QUALIFIER_DIAGNOSTIC = re.compile(r"\bwith qualifier diagnostic\b", re.I)
_DEVICE_LEFT = re.compile(r"\b(?:tube|drain|catheter|pigtail)s?\b", re.I)
SIDES = frozenset({"left", "right", "bilateral"})
# a drainage whose fluid the report says was examined is diagnostic ("lumbar puncture showed only a slight
# elevation of proteins", "fluid sent for culture"); "therapeutic" says otherwise
_EXAMINED = re.compile(
    r"\b(?:diagnostic|cultures?|cytolog\w*|analy[sz]\w*|stud(?:y|ies)|exam\w*|showed|revealed|results?|compatible|sent (?:for|to))\b",
    re.I,
)
_THERAPEUTIC = re.compile(r"\btherapeutic\b", re.I)
# the Device Key's and Substance Key's "use" entries ("Foley catheter use Drainage Device"): not body parts
_DEVICE_KEY = re.compile(
    r"device|substitute|stent|graft|implant|lead|electrode|catheter|pacemaker|defibrillator|monitor|pump|"
    r"stimulator|prosthe|infusion|expander|spacer|fixation|plate|screw|\brod\b|wire|substance|agent|radioactive",
    re.I,
)
READING = "PCS Index: "  # the alias of a candidate this reading gives
# a one-word operation term ("Cholecystectomy", "Gastrostomy"): the code index reads the body part its
# word names (pipeline.code.lookup.aliases), and the root operation by pipeline.code.rules.pcs_approach
_OPERATION_WORD = re.compile(r"^\w+(?:ectomy|otomy|ostomy|plasty|pexy|rrhaphy|lysis|centesis|desis|scopy)(?:,|$)", re.I)


@dataclass(frozen=True)
class PcsReading:
    """What the Index reading gives: the code, and the Index path a coder followed."""

    code: str
    path: tuple[str, ...]

    @property
    def alias(self) -> str:
        return READING + ", ".join(self.path)


@dataclass(frozen=True)
class _Reference:
    """A term that names a root operation: its words, the operation, the table it keeps to, the qualifier."""

    words: frozenset[str]
    operation: str
    table: str
    diagnostic: bool
    path: tuple[str, ...]


@dataclass(frozen=True)
class _BodyPart:
    levels: tuple[tuple[str, ...], ...]  # the words of each level below the root operation, in order
    code: str  # 4 to 7 characters
    path: tuple[str, ...]


# words a level's name adds that a report leaves out ("subdural hematoma" names Subdural Space)
_IMPLIED_WORDS = frozenset({"space", "cavity", "region", "tissue", "structure", "general"})


def _named_by(level: str) -> tuple[str, ...]:
    """The words a report must say to name an Index level: those of its first comma part up to an "and",
    less :data:`_IMPLIED_WORDS` ("Subdural Space, Intracranial": subdural; "Subcutaneous Tissue and Fascia":
    subcutaneous; "Bone Marrow": bone, marrow)."""
    first = re.split(r",|\band\b", level, maxsplit=1)[0]
    return tuple(w for w in words(first) if w not in _IMPLIED_WORDS) or words(first)


@lru_cache(maxsize=1)
def _adjectives() -> dict[str, str]:
    """A site's adjective or other word -> the Index's noun ("renal" kidney, "pleural" pleura)."""
    out = dict(SITE_ADJECTIVES)
    for noun, said in SYNONYMS.items():
        for w in said:
            out.setdefault(w, noun)
    return out


@lru_cache(maxsize=1)
def _index() -> tuple[
    tuple[_Reference, ...], dict[str, tuple[_BodyPart, ...]], tuple[tuple[frozenset[str], frozenset[str]], ...]
]:
    """(references to root operations, body part entries per root operation, Body Part Key terms)."""
    from pipeline.code.lookup.codeset import get_codeset

    references: list[_Reference] = []
    parts: dict[str, list[_BodyPart]] = defaultdict(list)
    key_terms: list[tuple[frozenset[str], frozenset[str]]] = []
    for name, said in ROOT_OPERATIONS.items():
        for w in said:
            references.append(_Reference(frozenset(words(w)), name, "", False, (name,)))
    for e in get_codeset().pcs_index:
        head = e.path[0] if e.path else ""
        if head in ROOT_OPERATIONS and e.kind == "code" and len(e.path) > 1 and e.code[:1] == "0" and len(e.code) >= 4:
            parts[head].append(_BodyPart(tuple(_named_by(level) for level in e.path[1:]), e.code, e.path))
        elif e.kind == "see" and head not in ROOT_OPERATIONS:
            target = e.target.split(",")[0].strip()
            target = _WITH_QUALIFIER_DIAGNOSTIC.sub("", target).strip()
            if target in ROOT_OPERATIONS and (not e.code or e.code[:1] == "0") and not _OPERATION_WORD.search(head):
                term = frozenset(w for level in e.path for w in words(level))
                diagnostic = bool(_WITH_QUALIFIER_DIAGNOSTIC.search(e.target))
                references.append(_Reference(term, target, e.code, diagnostic, (*e.path, f"see {e.target}")))
        elif e.kind == "use" and len(e.path) == 1 and not _DEVICE_KEY.search(e.target):
            key_terms.append((frozenset(words(head)), frozenset(words(e.target))))
    return tuple(references), {k: tuple(v) for k, v in parts.items()}, tuple(key_terms)


def _said(mention: str) -> frozenset[str]:
    """The mention's words, with each site adjective's noun and each Body Part Key term's body part."""
    adjectives = _adjectives()
    said = set(words(mention))
    said |= {adjectives[w] for w in said if w in adjectives}
    for term, body_part in _index()[2]:
        if term <= said:
            said |= body_part
    return frozenset(said)


def _body_parts(ref: _Reference, parts: dict[str, tuple[_BodyPart, ...]]) -> tuple[_BodyPart, ...]:
    """The entries a reference leaves to read: its root operation's, or the one body part it names itself
    ("Puncture, lumbar, see Drainage, Spinal Canal 009U")."""
    if len(ref.table) >= 4:
        return (_BodyPart((), ref.table, (ref.operation,)),)
    return parts.get(ref.operation, ())


def _names_level(level: tuple[str, ...], said: frozenset[str], sides: frozenset[str]) -> bool:
    """The mention names the level: every word a report says for it (:func:`_named_by`: "subdural" for
    Subdural Space, Intracranial), or, for a side, the mention or its sentence states it."""
    if level and set(level) <= SIDES:
        return any(w in said or w in sides for w in level)
    return bool(level) and all(w in said for w in level)


def read(mention: str, sentence: str = "") -> PcsReading | None:
    """The code the Index and the table give the procedure ``mention`` (the module doc), or None.
    ``sentence``: the mention's sentence, read for a side and a stated approach."""
    from pipeline.code.lookup.codeset import get_codeset

    references, parts, _ = _index()
    said = _said(mention)
    sides = SIDES & set(words(sentence)) if sentence else frozenset()
    if len(sides) > 1:
        sides = frozenset()  # both sides in the sentence: the mention's own words decide
    applying = [r for r in references if r.words and r.words <= said]
    if not applying:
        return None
    most = max(len(r.words) for r in applying)
    best: tuple[tuple, _Reference, _BodyPart] | None = None
    for ref in (r for r in applying if len(r.words) == most):
        for part in _body_parts(ref, parts):
            if ref.table and not part.code.startswith(ref.table):
                continue
            if not all(_names_level(level, said, sides) for level in part.levels):
                continue
            covered = sum(w in said or w in sides for level in part.levels for w in level)
            unread = sum(not (w in said or w in sides) for level in part.levels for w in level)
            rank = (-covered, unread, root_preference(part.code, mention), _PREFERENCE.index(ref.operation), part.code)
            if best is None or rank < best[0]:
                best = (rank, ref, part)
    if best is None:
        return None
    _, ref, part = best
    biopsy = ref.diagnostic or "biopsy" in said
    context = f"{mention} {sentence}"
    diagnostic = biopsy or (ref.operation == "Drainage" and bool(_EXAMINED.search(context)) and not _THERAPEUTIC.search(context))
    device_left = ref.operation == "Drainage" and bool(_DEVICE_LEFT.search(f"{mention} {sentence}"))
    stated = stated_approaches(mention) or stated_approaches(sentence)
    codes = [c for c in get_codeset().pcs_codes_with_prefix(part.code) if len(c) == 7]
    if not codes:
        return None

    def preference(code: str) -> tuple:
        device = 0 if code[5] == (DRAINAGE_DEVICE if device_left else NO_DEVICE) else 1 if code[5] == NO_DEVICE else 2
        qualifier = 0 if code[6] == (DIAGNOSTIC if diagnostic else NO_QUALIFIER) else 1
        return (approach_preference(code, stated), qualifier, device, code)

    code = min(codes, key=preference)
    if biopsy and code[6] != DIAGNOSTIC:
        return None  # a biopsy whose row has no diagnostic qualifier is not this body part's
    return PcsReading(code, (*ref.path, *part.path[1:]))
