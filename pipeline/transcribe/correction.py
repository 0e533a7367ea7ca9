"""Medical term correction: spans that sound like a lexicon term but are not one.

Whisper tiny.en writes unfamiliar clinical words as familiar ones ("met for men" for metformin,
"listen April" for lisinopril) or as near-spellings ("adorvastatin"). Every run of 1-3 words is
compared, by sound (:func:`pipeline.transcribe.phonetic.sound_similarity`), with the lexicon's
clinical words (the extraction lexicon's words and the shipped vocabulary's clinical words that
general English does not use). A span is corrected when the evidence is strong:

* the span is not itself a lexicon term, and a span of common English words is only replaced when
  Whisper was unsure of it (a word under ``max_probability``) or its letters spell the term exactly
  ("a cute" -> "acute");
* the best term sounds alike above ``min_similarity`` (lower after a dose: "... 20 mg") and beats
  the runner-up by a margin;
* a span corrected once is corrected the same way everywhere in the dictation.

The corrected word keeps what was heard (``Word.original``) and a confidence (0-1).

The corrector rewrites the transcript only while its measured precision (right corrections out of
corrections made, on the development set: ``data/correction_precision.json``, written by
``mrt bench transcribe --split dev``) reaches ``Settings.correction_min_precision`` (0.95). Below it
the heard words stay and each one carries the term as ``Word.suggestion`` for the reviewer; the
``Correction`` is listed with ``applied=False``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import cast

from rapidfuzz import fuzz, process

from pipeline.transcribe.lexicon import is_common_word, read_lexicon_terms, read_vocabulary
from pipeline.transcribe.phonetic import skeleton_key, sound_similarity
from pipeline.transcribe.types import Correction, Segment, Word
from pipeline.transcribe.words import with_words

MAX_SPAN = 3
_ALPHA = re.compile(r"^[A-Za-z][A-Za-z'-]*$")
_EDGE_PUNCT = re.compile(r"^([\"'(]*)(.*?)([.,;:!?\"')]*)$")
_FUNCTION_WORDS = frozenset(
    "a an the of on in at to for with and or but by from as is was were are be been his her their its this that "
    "he she it we they no not off up out over into".split()
)
_DOSE = re.compile(r"^(\d[\d.,/]*|mg|milligrams?|mcg|micrograms?|units?|grams?|ml)[.,;]?$", re.I)


@dataclass(frozen=True)
class Target:
    word: str  # as written in the transcript
    label: str
    skeleton: str


class TermCorrector:
    def __init__(
        self,
        min_similarity: float = 86.0,
        dose_bonus: float = 4.0,
        max_probability: float = 0.6,
        margin: float = 3.0,
        rare_penalty: float = 6.0,
    ):
        self.min_similarity = min_similarity
        self.rare_penalty = rare_penalty
        self.dose_bonus = dose_bonus
        self.max_probability = max_probability
        self.margin = margin
        lexicon = read_lexicon_terms()
        self.lexicon_terms = frozenset(lexicon)
        self.lexicon_words: frozenset[str] = frozenset(w for t in lexicon for w in t.split())
        self.known_words: set[str] = set(self.lexicon_words)  # + the vocabulary's clinical words
        targets: dict[str, Target] = {}
        for term, label in lexicon.items():
            for w in term.split():
                if len(w) >= 5 and w.isalpha() and not is_common_word(w):
                    targets.setdefault(w, Target(w, label if " " not in term else "TERM_WORD", skeleton_key(w)))
        for e in read_vocabulary():
            w = e.term
            if " " not in w and len(w) >= 5 and w.isalpha() and w.lower() not in targets and not is_common_word(w):
                targets[w.lower()] = Target(w, e.label, skeleton_key(w))
                self.known_words.add(w.lower())
        self.targets = targets
        # how often each word occurs in clinical reports (vocabulary counts): obscure targets
        # (drug-table oddities never dictated) need stronger evidence
        self.frequency: dict[str, int] = {}
        for e in read_vocabulary():
            for w in e.term.lower().split():
                self.frequency[w] = self.frequency.get(w, 0) + e.total
        # block by first skeleton letter: the first sound is rarely misheard
        self._blocks: dict[str, list[str]] = {}
        for key, t in targets.items():
            self._blocks.setdefault(t.skeleton[:1], []).append(key)
        self._block_skeletons = {k: [targets[w].skeleton for w in v] for k, v in self._blocks.items()}

    # -- matching -------------------------------------------------------------------------------
    def _rare(self, word: str) -> bool:
        return self.frequency.get(word.lower(), 0) < 3

    def best_term(self, heard: str) -> tuple[Target, float, float] | None:
        """(target, similarity, lead over the runner-up) for the heard letters, or None. Ranking and
        lead count a rare target (never seen in clinical reports) ``rare_penalty`` points lower."""
        sk = skeleton_key(heard)
        if len(sk) < 3:
            return None
        keys, skels = self._blocks.get(sk[:1], []), self._block_skeletons.get(sk[:1], [])
        hits = process.extract(sk, skels, scorer=fuzz.ratio, limit=8, score_cutoff=60)
        scored = []
        letters = len(re.sub(r"[^a-z]", "", heard.lower()))
        for _, _, idx in hits:
            t = self.targets[keys[idx]]
            if not 0.7 <= len(t.word) / max(letters, 1) <= 1.45:
                continue
            sim = sound_similarity(heard, t.word)
            scored.append((sim - (self.rare_penalty if self._rare(t.word) else 0.0), sim, t))
        if not scored:
            return None
        scored.sort(key=lambda x: -x[0])
        best_adj, sim, target = scored[0]
        others = [a for a, _, t in scored[1:] if t.word.lower() != target.word.lower()]
        return target, sim, best_adj - (others[0] if others else 0.0)

    def _candidate(self, words: list[Word], i: int, n: int) -> tuple[str, str, str] | None:
        """(heard text, leading punct, trailing punct) if words[i:i+n] may be corrected."""
        parts = [cast("re.Match[str]", _EDGE_PUNCT.match(w.text)).groups() for w in words[i : i + n]]  # a word is one line
        core = [p[1] for p in parts]
        if not all(_ALPHA.match(c) for c in core):
            return None
        if any(p[2] for p in parts[:-1]) or any(p[0] for p in parts[1:]):
            return None  # punctuation inside the span: a sentence boundary
        heard = " ".join(core)
        low = heard.lower()
        if n > 1:
            lows = [c.lower() for c in core]
            if lows[0] in _FUNCTION_WORDS and "".join(lows) not in self.targets or lows[-1] in _FUNCTION_WORDS:
                return None  # "shortness of", "the distal": a function word at the edge is its own word
            if any(w in self.lexicon_words and not is_common_word(w) for w in lows):
                return None  # a clinical word heard right is not part of a mishearing
        elif is_common_word(low):
            return None  # one common word is never replaced by a term on sound alone
        if low in self.lexicon_terms or (n == 1 and low in self.known_words) or len(low.replace(" ", "")) < 5:
            return None
        return heard, parts[0][0], parts[-1][2]

    def correct_segments(self, segments: list[Segment], rewrite: bool = True) -> tuple[list[Segment], list[Correction]]:
        """Segments with misheard terms rewritten (``rewrite``) or flagged with a suggestion (not
        ``rewrite``: the words stay as heard), and the corrections found."""
        decided: dict[str, tuple[Target, float] | None] = {}
        out_segments, corrections = [], []
        for seg in segments:
            words = list(seg.words)
            new_words: list[Word] = []
            i = 0
            changed = False
            while i < len(words):
                best = None
                for n in range(min(MAX_SPAN, len(words) - i), 0, -1):
                    cand = self._candidate(words, i, n)
                    if cand is None:
                        continue
                    heard, lead, trail = cand
                    span = words[i : i + n]
                    dose = i + n < len(words) and bool(_DOSE.match(words[i + n].text))
                    prev = words[i - 1].text.strip(".,;:").lower() if i > 0 else ""
                    nxt = words[i + n].text.strip(".,;:").lower() if i + n < len(words) else ""
                    hit = self._decide(heard, span, dose, decided, (prev, nxt))
                    if hit and (best is None or hit[1] > best[1][1] + 1.0):
                        best = (n, hit, lead, trail, heard)
                if best is None:
                    new_words.append(words[i])
                    i += 1
                    continue
                n, (target, conf), lead, trail, heard = best
                span = words[i : i + n]
                text = (
                    target.word.capitalize()
                    if span[0].text.lstrip("\"'(")[:1].isupper() and target.word.islower()
                    else target.word
                )
                probs = [w.probability for w in span if w.probability is not None]
                if rewrite:
                    new_words.append(
                        Word(
                            span[0].start,
                            span[-1].end,
                            lead + text + trail,
                            min(probs) if probs else None,
                            original=" ".join(w.text for w in span),
                            correction_confidence=round(conf, 3),
                        )
                    )
                else:
                    new_words += [replace(w, suggestion=target.word, correction_confidence=round(conf, 3)) for w in span]
                corrections.append(
                    Correction(seg.id, span[0].start, span[-1].end, heard, target.word, target.label, round(conf, 3), rewrite)
                )
                changed = True
                i += n
            out_segments.append(with_words(seg, new_words) if changed else seg)
        return out_segments, corrections

    def _decide(
        self, heard: str, span: list[Word], dose: bool, decided: dict, around: tuple[str, str] = ("", "")
    ) -> tuple[Target, float] | None:
        key = heard.lower()
        common = all(is_common_word(p) for p in re.split(r"[ -]+", key) if p)
        letters = key.replace(" ", "").replace("-", "")
        probs = [w.probability for w in span if w.probability is not None]
        unsure = bool(probs) and min(probs) < self.max_probability
        if (
            len(span) > 1
            and letters in self.lexicon_words
            and unsure
            and not any(p in self.known_words for p in key.split() if len(p) > 1)
        ):
            return self.targets.get(letters) or Target(letters, "TERM_WORD", skeleton_key(letters)), 0.9  # "a cute" -> "acute"
        if common and not unsure:  # only if the same words were corrected elsewhere
            return decided.get(key)
        found = self.best_term(heard)
        if not found:
            return decided.get(key)
        target, sim, lead = found
        if target.word.lower() == letters and target.word.lower() not in self.lexicon_words:
            return decided.get(key)  # "follow up" -> "followup": only the spacing differs
        need = self.min_similarity
        if dose and target.label == "MEDICATION":
            need -= self.dose_bonus
        prev, nxt = around
        low = target.word.lower()
        if f"{prev} {low}" in self.lexicon_terms or f"{low} {nxt}" in self.lexicon_terms:
            need -= self.dose_bonus  # "diabetes malidus" -> "diabetes mellitus"
            lead = max(lead, self.margin)
        if common:
            need += 4.0 if len(span) == 1 else 2.0
        if self._rare(low):
            need += self.rare_penalty
        result = None
        if sim >= need and lead >= self.margin:
            result = (target, min(1.0, 0.5 + (sim - need) / (100 - need) * 0.5))
        if result is not None or key not in decided:
            decided[key] = result
        return result if result is not None else decided.get(key)


PRECISION_FILE = resources.files("pipeline.transcribe") / "data" / "correction_precision.json"


@lru_cache(maxsize=1)
def measured_precision() -> float | None:
    """The corrector's precision on the development set (None when it was never measured)."""
    try:
        return float(json.loads(PRECISION_FILE.read_text(encoding="utf-8"))["precision"])
    except (OSError, KeyError, TypeError, ValueError):
        return None


def may_rewrite(min_precision: float) -> bool:
    """Whether corrections rewrite the transcript (else they are suggestions for the reviewer)."""
    if min_precision <= 0:
        return True
    p = measured_precision()
    return p is not None and p >= min_precision


@lru_cache(maxsize=1)
def default_corrector() -> TermCorrector:
    return TermCorrector()
