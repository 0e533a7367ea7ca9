"""Procedure recognizer: ``mrt_procedures``.

Finds procedure names the way ICD-10-PCS builds them, from ``data/procedure_lexicon.json``
(``scripts/build_procedure_lexicon.py``: PCS body part words from the Tables and the Body Part
Key, root operation nouns, approaches, lesion words):

* root operation + object: "excision of left breast mass", "repair of the right inguinal hernia",
  "removal of foreign body", "arthroscopy of the left knee";
* object + root operation: "right carpal tunnel release", "rotator cuff repair", "skin biopsy",
  "cataract extraction", "left knee arthroscopy";
* both: "laparoscopic repair of incisional hernia";
* a surgical-suffix word (-ectomy, -otomy, -ostomy, -plasty, -scopy, -pexy, -rrhaphy, -desis,
  -centesis, -tripsy) or a procedure noun that names a procedure by itself ("colonoscopy",
  "biopsy", "cardioversion"), widened over approach, extent and laterality words ("total
  abdominal hysterectomy", "diagnostic colonoscopy").

Surgical steps ("skin incision", "closure", "dissection") are not procedures. Spans are labelled
``PROCEDURE`` and merged with ``doc.ents`` (the longest span wins).
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from pipeline.extract import _extensions  # noqa: F401

DATA = resources.files("pipeline.extract") / "data"
OBJECT_LINKS = frozenset({"of"})
DETERMINERS = frozenset({"the", "a", "an", "his", "her", "their", "this"})
SIDES = frozenset({"left", "right", "bilateral"})
# nouns that are a surgical step, not a procedure, on their own or with a site
STEPS = frozenset(
    {
        "incision",
        "closure",
        "dissection",
        "irrigation",
        "cauterization",
        "inspection",
        "manipulation",
        "division",
        "control",
        "change",
        "transfer",
        "mapping",
        "creation",
        "exchange",
    }
)
# nouns that name a procedure without an object
STANDALONE = frozenset(
    {
        "biopsy",
        "biopsies",
        "cystoscopy",
        "arthroscopy",
        "endoscopy",
        "colonoscopy",
        "bronchoscopy",
        "laparoscopy",
        "thoracoscopy",
        "cardioversion",
        "transfusion",
        "intubation",
        "tracheostomy",
        "dialysis",
        "circumcision",
        "cerclage",
        "amputation",
        "debridement",
        "embolization",
        "ablation",
        "cryoablation",
        "marsupialization",
        "transplantation",
        "transplant",
        "lavage",
        "curettage",
        "arthrodesis",
        "instrumentation",
        "thermocoagulation",
        "stenting",
    }
)
# "X and Y" that name one procedure
PAIRS = frozenset(
    {
        ("incision", "drainage"),
        ("dilation", "curettage"),
        ("dilatation", "curettage"),
        ("ligation", "stripping"),
        ("irrigation", "debridement"),
        ("discectomy", "fusion"),
        ("reduction", "fixation"),
    }
)
# words that report how the procedure went or when, not what it is
STATUS = frozenset(
    {
        "failed",
        "attempted",
        "successful",
        "repeat",
        "previous",
        "prior",
        "possible",
        "planned",
        "recent",
        "new",
        "old",
        "uncomplicated",
    }
)
# the terminology suffixes, plurals included ("antrostomies", "vertebroplasties")
SUFFIX = r"(ectomy|ectomies|otomy|otomies|ostomy|ostomies|oplasty|oplasties|plasty|plasties|oscopy|oscopies|opexy|orrhaphy|odesis|centesis|otripsy)$"
_ADJECTIVE = re.compile(r"[a-z]{3,}(al|ar|ic|ous|ive|ary|eal|ial|oid)$")


def read_lexicon(path: str | Path | None = None) -> dict[str, frozenset[str]]:
    data = json.loads(Path(path or str(DATA / "procedure_lexicon.json")).read_text(encoding="utf-8"))
    return {k: frozenset(v) for k, v in data.items() if isinstance(v, list)}


class ProcedureRecognizer:
    def __init__(self, nlp: Language, name: str, lexicon_file: str | None, max_object_words: int, suffix: str) -> None:
        self.name = name
        lex = read_lexicon(lexicon_file)
        self.roots = lex["root_operations"]
        self.approaches = lex["approaches"]
        self.objects = lex["body_parts"] | lex["lesions"]
        self.max_object_words = max_object_words
        self.suffix_re = re.compile(suffix)
        self.named = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.named.add("NAMED", list(nlp.tokenizer.pipe(sorted(lex.get("named", ())))))  # type: ignore[union-attr]  # spaCy types Language.tokenizer as a callable; it is a Tokenizer

    def _is_suffix_word(self, lower: str) -> bool:
        return len(lower) > 6 and bool(self.suffix_re.search(lower))

    def _is_object(self, tok) -> bool:
        low = tok.lower_
        return low in self.objects or any(part in self.objects for part in low.split("-") if part)

    def _is_root(self, low: str) -> bool:
        return low in self.roots or self._is_suffix_word(low)

    def __call__(self, doc: Doc) -> Doc:
        spans: list[Span] = []
        heads = [(m_start, m_end) for _, m_start, m_end in self.named(doc)]
        heads += [(t.i, t.i + 1) for t in doc if self._is_root(t.lower_)]
        for start, end in heads:
            low = doc[end - 1].lower_
            sent = doc[start].sent
            named = end - start > 1 or not self._is_root(low)
            if low in STEPS and not self._pair_end(doc, end - 1, sent.end):
                continue
            end = self._pair_end(doc, end - 1, sent.end) or end
            head_end = end
            end = self._object_after(doc, end, sent.end)
            left = self._modifiers_before(doc, start, sent.start)
            generic = not (named or self._is_suffix_word(low) or low in STANDALONE or head_end - start > 1)
            if generic and end == head_end and left == start:
                continue  # a bare generic root noun ("repair", "removal")
            span = Span(doc, left, end, label="PROCEDURE")
            span._.source = "procedure"
            spans.append(span)
        ents = [e for e in doc.ents if not self._bare_generic(e)]
        if spans or len(ents) != len(doc.ents):
            doc.ents = filter_spans(ents + spans)
        return doc

    def _bare_generic(self, ent: Span) -> bool:
        """A lexicon PROCEDURE match that is only a root noun ("Excision", "Repair", "Open reduction")."""
        if ent.label_ != "PROCEDURE":
            return False
        words = [t.lower_ for t in ent]
        return (
            words[-1] in self.roots
            and words[-1] not in STANDALONE
            and not self._is_suffix_word(words[-1])
            and all(w in self.approaches for w in words[:-1])
        )

    @staticmethod
    def _pair_end(doc: Doc, i: int, limit: int) -> int | None:
        """End of "<root> and [internal] <root>" when the pair names one procedure."""
        j = i + 1
        if j < limit and doc[j].lower_ == "and":
            j += 1
        if j < limit and doc[j].lower_ in ("internal", "open"):
            j += 1
        if j < limit and (doc[i].lower_, doc[j].lower_) in PAIRS:
            return j + 1
        return None

    def _object_after(self, doc: Doc, end: int, limit: int) -> int:
        """End of the object after the root: "of (the) <noun phrase>" or "<side> <site words>"."""
        if end < limit and doc[end].lower_ in SIDES:
            i, best = end + 1, end
            while i < limit and i - end <= self.max_object_words and doc[i].is_alpha and not doc[i].is_stop:
                i += 1
                if self._is_object(doc[i - 1]):
                    best = i
            return best if best > end else end
        if end >= limit or doc[end].lower_ not in OBJECT_LINKS:
            return end
        i = end + 1
        while i < limit and doc[i].lower_ in DETERMINERS:
            i += 1
        best = end
        words = 0
        while i < limit and words < self.max_object_words:
            t = doc[i]
            if t.text == "-" and i + 1 < limit and doc[i + 1].is_alpha and best == i:
                i += 1
                continue
            if t.text == "," and best == i and i + 1 < limit and _ADJECTIVE.match(doc[i - 1].lower_):
                i += 1  # "the left supracondylar, intercondylar distal femur fracture"
                continue
            if t.lower_ in OBJECT_LINKS and best == i and i + 1 < limit and doc[i + 1].is_alpha:
                i += 1  # "removal of foreign body of right foot"
                while i < limit and doc[i].lower_ in DETERMINERS:
                    i += 1
                continue
            if not (t.is_alpha or t.like_num and doc[i - 1].lower_ in DETERMINERS) or (t.is_stop and t.lower_ not in ("back",)):
                break
            if t.lower_.endswith("ing") and not self._is_object(t) or t.lower_ in STATUS:
                break
            words += 1
            i += 1
            best = i
        return best

    def _modifiers_before(self, doc: Doc, start: int, limit: int) -> int:
        """Start of the approach, side, site, eponym and root words right before the head."""
        i = start
        while i - 1 >= limit and start - (i - 1) <= self.max_object_words:
            t = doc[i - 1]
            low = t.lower_
            if t.text == "-" and i - 2 >= limit and doc[i - 2].is_alpha and not doc[i - 2].like_num:
                i -= 2  # "salpingo-oophorectomy", "robotic-assisted", "full-mouth", "low-transverse"
                continue
            if not t.is_alpha or low in STATUS or t.is_stop and low not in self.approaches and low != "back":
                break
            if (
                low in self.approaches
                or self._is_object(t)
                or _ADJECTIVE.match(low)
                or low in SIDES
                or self._is_root(low)
                or any(c.isupper() for c in t.text)
            ):
                i -= 1  # eponyms and trade names too: "Fogarty thrombectomy", "Marlex repair", "MediPort"
            else:
                break
        return i


@Language.factory("mrt_procedures", default_config={"lexicon_file": None, "max_object_words": 6, "suffix": SUFFIX})
def make_procedures(
    nlp: Language, name: str, lexicon_file: str | None, max_object_words: int, suffix: str
) -> ProcedureRecognizer:
    """spaCy factory: ``nlp.add_pipe("mrt_procedures")`` after ``mrt_terminology``."""
    return ProcedureRecognizer(nlp, name, lexicon_file, max_object_words, suffix)
