"""ConText-style assertion detection: ``mrt_context`` spaCy component.

Implements ConText (Harkema et al., J Biomed Inform 2009) on top of NegEx (Chapman et al., 2001):
trigger phrases open a scope in a direction (forward, backward, bidirectional) that runs to the
end of the sentence, a termination term, a section boundary or ``max_scope`` word tokens, whichever
comes first; pseudo-triggers ("no increase", "gram negative") overlap and so disable the triggers
they contain. Every entity of ``doc.ents`` inside a scope gets the trigger's category flag:
``negated``, ``uncertain``, ``historical``, ``hypothetical`` or ``family``; ``context_cues`` lists
the trigger phrases that fired (``"section:<name>"`` for flags that come from the section).

Sections (``mrt_sections`` must run before this component) add two rules: entities in a family
history section are ``family`` unless their sentence names the patient, and entities in the past
medical / surgical history sections are ``historical``. ``historical`` therefore means "documented
as past history", chronic conditions listed there (hypertension, diabetes) included: whether such
a condition is also a current problem is for the coder to decide (e.g. it recurs in the assessment).
A condition dated by a year right after it ("Breast cancer in 1992") is ``historical`` too.
"likely"/"probable" count as ``uncertain``; "unlikely" (NegEx) as ``negated``.

Rules live in ``data/context_rules.json`` (built by ``scripts/build_context_rules.py``).
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from spacy.attrs import IS_PUNCT, IS_SPACE, SENT_START
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span

from . import _extensions  # noqa: F401  (registers the Span/Doc attributes)
from ._extensions import SPAN_FLAGS

DEFAULT_RULES = Path(__file__).parent / "data" / "context_rules.json"
DIRECTIONS = ("forward", "backward", "bidirectional", "pseudo", "terminate")
_SELF_KEY = "__self__"


@dataclass(frozen=True)
class ContextRule:
    """One trigger: ``category`` is a flag name, or ``all`` for pseudo/terminate rules."""

    literal: str
    category: str
    direction: str
    max_scope: int | None = None


def load_rules(path: str | Path | None = None) -> list[ContextRule]:
    """Read a rule file (JSON with a ``rules`` list) and validate it."""
    data = json.loads(Path(path or DEFAULT_RULES).read_text(encoding="utf-8"))
    rules: list[ContextRule] = []
    for r in data["rules"]:
        rule = ContextRule(r["literal"].lower(), r["category"], r["direction"], r.get("max_scope"))
        if rule.direction not in DIRECTIONS:
            raise ValueError(f"context rule {rule.literal!r}: unknown direction {rule.direction!r}")
        if rule.category not in SPAN_FLAGS and not (rule.category == "all" and rule.direction in ("pseudo", "terminate")):
            raise ValueError(f"context rule {rule.literal!r}: unknown category {rule.category!r}")
        rules.append(rule)
    return rules


@dataclass
class _Trigger:
    start: int
    end: int
    rule: ContextRule
    text: str


class ContextComponent:
    """Sets the assertion flags and ``context_cues`` on every entity in ``doc.ents``."""

    def __init__(
        self,
        nlp: Language,
        name: str = "mrt_context",
        rules_path: str | None = None,
        max_scope: int = 15,
        use_sections: bool = True,
        family_sections: Iterable[str] = ("family_history",),
        historical_sections: Iterable[str] = ("past_medical_history", "past_surgical_history"),
        self_terms: Iterable[str] = ("patient", "patient's", "pt"),
        terminate_on_newline: bool = True,
        list_scope: bool = True,
    ) -> None:
        self.name = name
        self.max_scope = max_scope
        self.list_scope = list_scope  # a negation runs through a list longer than max_scope (see _in_scope)
        self.use_sections = use_sections
        self.family_sections = frozenset(family_sections)
        self.historical_sections = frozenset(historical_sections)
        self.terminate_on_newline = terminate_on_newline
        self.rules = load_rules(rules_path)
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        by_literal: dict[str, list[ContextRule]] = {}
        for rule in self.rules:
            by_literal.setdefault(rule.literal, []).append(rule)
        self._rules_by_key: dict[int, list[ContextRule]] = {}
        literals = list(by_literal)
        for literal, pattern in zip(literals, nlp.tokenizer.pipe(literals)):  # type: ignore[union-attr]  # spaCy types Language.tokenizer as a callable; it is a Tokenizer
            self.matcher.add(literal, [pattern])
            self._rules_by_key[nlp.vocab.strings[literal]] = by_literal[literal]
        self.matcher.add(_SELF_KEY, list(nlp.tokenizer.pipe([t.lower() for t in self_terms])))  # type: ignore[union-attr]  # spaCy types Language.tokenizer as a callable; it is a Tokenizer
        self._self_key = nlp.vocab.strings[_SELF_KEY]

    # -- matching -------------------------------------------------------------------------
    def _match(self, doc: Doc) -> tuple[list[_Trigger], list[int]]:
        """Longest-match triggers (pseudo-triggers included) and the starts of patient mentions."""
        selfs: list[int] = []
        cands: list[tuple[int, int, int]] = []
        for key, start, end in self.matcher(doc):
            if key == self._self_key:
                selfs.append(start)
            else:
                cands.append((key, start, end))
        cands.sort(key=lambda m: (m[1] - m[2], m[1]))  # longest first, then leftmost
        taken: dict[int, tuple[int, int]] = {}  # token -> span that owns it
        out: list[_Trigger] = []
        for key, start, end in cands:
            owners = {taken[i] for i in range(start, end) if i in taken}
            if owners and owners != {(start, end)}:
                continue  # overlaps a longer (or earlier) match
            for i in range(start, end):
                taken[i] = (start, end)
            text = doc[start:end].text
            out += [_Trigger(start, end, rule, text) for rule in self._rules_by_key[key]]
        out.sort(key=lambda t: t.start)
        return out, sorted(selfs)

    # -- main -----------------------------------------------------------------------------
    def __call__(self, doc: Doc) -> Doc:
        ents = doc.ents
        if not ents:
            return doc
        triggers, selfs = self._match(doc)

        # Sentence bounds (whole doc when there is no sentence annotation).
        arrays = doc.to_array([SENT_START, IS_SPACE, IS_PUNCT])
        sent_starts = [0] + [int(i) for i in np.flatnonzero(arrays[1:, 0] == 1) + 1]
        sent_ends = sent_starts[1:] + [len(doc)]

        # Word counts (spaces and punctuation excluded: scope is measured in words) and newline terminators.
        cum: list[int] = [0] + np.cumsum((arrays[:, 1] == 0) & (arrays[:, 2] == 0)).tolist()
        # list separators, so a negation runs through a list longer than max_scope ("denies chest pain,
        # palpitations, ..., diabetes"): see :meth:`_in_scope`
        commas: list[int] = [0] + np.cumsum([tok.text in (",", ";") for tok in doc]).tolist()
        newlines: list[int] = []
        if self.terminate_on_newline:
            newlines = [int(i) for i in np.flatnonzero(arrays[:, 1]) if "\n" in doc[int(i)].text]

        # Terminators per category, as sorted (start, end) lists.
        term: dict[str, list[tuple[int, int]]] = {c: [(i, i + 1) for i in newlines] for c in SPAN_FLAGS}
        active: list[_Trigger] = []
        for t in triggers:
            if t.rule.direction == "terminate":
                for c in SPAN_FLAGS if t.rule.category == "all" else (t.rule.category,):
                    term[c].append((t.start, t.end))
            elif t.rule.direction != "pseudo":
                active.append(t)
        for spans in term.values():
            spans.sort()
        term_starts = {c: [s for s, _ in spans] for c, spans in term.items()}

        # Section bounds in characters, for scope limits and section rules.
        sections = doc._.sections if self.use_sections else None
        sec_starts = [s for s, _, _ in sections] if sections else []

        def sec_index(char: int) -> int:
            return bisect_right(sec_starts, char) - 1

        # a trigger inside parentheses speaks of what is inside them: "The left eardrum (not the
        # surgical ear) has a definite infection" does not negate the infection
        groups = _parenthesised(doc)
        trig_starts = [t.start for t in active]
        for ent in ents:
            si = bisect_right(sent_starts, ent.start) - 1
            s_lo, s_hi = sent_starts[si], sent_ends[si]
            flags: dict[str, bool] = {f: False for f in SPAN_FLAGS}
            cues: list[str] = []
            ent_sec = sec_index(ent.start_char) if sec_starts else -1
            for t in active[bisect_left(trig_starts, s_lo) : bisect_left(trig_starts, s_hi)]:
                if ent.start <= t.start and t.end <= ent.end:
                    continue  # a trigger inside the entity is part of its wording
                if sec_starts and sec_index(doc[t.start].idx) != ent_sec:
                    continue
                group = groups.get(t.start)
                if group and not (group[0] < ent.start and ent.end <= group[1]):
                    continue
                if self._in_scope(t, ent, s_lo, s_hi, cum, term[t.rule.category], term_starts[t.rule.category], commas):
                    flags[t.rule.category] = True
                    if t.text not in cues:
                        cues.append(t.text)
            if sections and ent_sec >= 0:
                self._section_flags(sections[ent_sec][2], ent, selfs, s_lo, s_hi, flags, cues)
            if not flags["historical"] and (dated := _DATED_IN_A_PAST_YEAR.match(doc.text, ent.end_char)):
                flags["historical"] = True
                cues.append(dated.group(0).strip(" ,"))
            for f, v in flags.items():
                setattr(ent._, f, v)
            ent._.context_cues = cues
        return doc

    def _in_scope(
        self,
        t: _Trigger,
        ent: Span,
        s_lo: int,
        s_hi: int,
        cum: list[int],
        term: list[tuple[int, int]],
        term_starts: list[int],
        commas: list[int] | None = None,
    ) -> bool:
        """Whether ``ent`` falls in the scope of trigger ``t`` (sentence, terminators, max words). A
        forward negation with no rule-set limit also reaches past ``max_scope`` words through a list
        (at least :data:`LIST_MIN_SEPARATORS` commas, one per :data:`LIST_WORDS_PER_SEPARATOR` words
        or fewer): a review of systems' "denies ..." covers the whole list, to the sentence's end or a
        terminator ("but", "(+)")."""
        limit = t.rule.max_scope or self.max_scope
        d = t.rule.direction
        if d in ("forward", "bidirectional") and ent.start > t.start:
            if ent.start < t.end:
                return True  # the trigger runs into the entity ("no acute" + "acute distress")
            k = bisect_left(term_starts, t.end)
            hi = min(s_hi, term[k][0]) if k < len(term) else s_hi
            if ent.start >= hi:
                return False
            words = cum[ent.start] - cum[t.end]
            if words < limit:
                return True
            if commas is None or not self.list_scope or t.rule.category != "negated" or t.rule.max_scope:
                return False
            separators = commas[ent.start] - commas[t.end]
            return separators >= LIST_MIN_SEPARATORS and separators * LIST_WORDS_PER_SEPARATOR >= words
        if d in ("backward", "bidirectional") and ent.end < t.end:
            if ent.end > t.start:
                return True
            k = bisect_left(term_starts, t.start) - 1
            lo = max(s_lo, term[k][1]) if k >= 0 else s_lo
            return ent.end > lo and cum[t.start] - cum[ent.end] < limit
        return False

    def _section_flags(
        self, section: str, ent: Span, selfs: list[int], s_lo: int, s_hi: int, flags: dict[str, bool], cues: list[str]
    ) -> None:
        """Family / historical flags implied by the entity's section."""
        if section in self.family_sections and not flags["family"]:
            k = bisect_left(selfs, s_lo)
            if not (k < len(selfs) and selfs[k] < s_hi):  # the sentence does not name the patient
                flags["family"] = True
                cues.append(f"section:{section}")
        if section in self.historical_sections and not flags["historical"]:
            flags["historical"] = True
            cues.append(f"section:{section}")


# "Breast cancer in 1992", "mastectomy for breast cancer in 1992": a condition dated by a year is a past
# episode (one "since 2005" or "diagnosed in 2005 and treated since" is not read here)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
# "in 2005", "in March 2007", "in August of 2003", "in 11/07", "in 01/2007", "performed in 2003": a date in
# a past year or month
_DATED_IN_A_PAST_YEAR = re.compile(
    r"[ \t]*,?[ \t]*(?:(?:was[ \t]+|were[ \t]+)?(?:performed|done)[ \t]+)?in[ \t]+(?:(?:"
    + _MONTH
    + r"[ \t]+(?:of[ \t]+)?)?(?:19|20)\d\d|(?:0?[1-9]|1[0-2])/(?:(?:19|20)\d\d|\d\d))\b"
    r"(?![ \t]*(?:-|to|until|through)\b)(?!/)",
    re.I,
)

LIST_MIN_SEPARATORS = 3
LIST_WORDS_PER_SEPARATOR = 4


@Language.factory(
    "mrt_context",
    default_config={
        "rules_path": None,
        "max_scope": 15,
        "use_sections": True,
        "family_sections": ["family_history"],
        "historical_sections": ["past_medical_history", "past_surgical_history"],
        "self_terms": ["patient", "patient's", "pt"],
        "terminate_on_newline": True,
        "list_scope": True,
    },
)
def make_context(
    nlp: Language,
    name: str,
    rules_path: str | None,
    max_scope: int,
    use_sections: bool,
    family_sections: list[str],
    historical_sections: list[str],
    self_terms: list[str],
    terminate_on_newline: bool,
    list_scope: bool,
) -> ContextComponent:
    """spaCy factory for :class:`ContextComponent` (``nlp.add_pipe("mrt_context")``)."""
    return ContextComponent(
        nlp,
        name,
        rules_path,
        max_scope,
        use_sections,
        family_sections,
        historical_sections,
        self_terms,
        terminate_on_newline,
        list_scope,
    )


def _parenthesised(doc: Doc) -> dict[int, tuple[int, int]]:
    """Token index -> (its opening "(", its closing ")") for the tokens inside a closed pair of
    parentheses (the innermost pair)."""
    out: dict[int, tuple[int, int]] = {}
    opened: list[int] = []
    for tok in doc:
        if tok.text == "(":
            opened.append(tok.i)
        elif tok.text == ")" and opened:
            start = opened.pop()
            for i in range(start + 1, tok.i):
                out.setdefault(i, (start, tok.i))
    return out
