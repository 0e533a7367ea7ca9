"""Tobacco use, coded as the Alphabetic Index codes it.

Extraction marks tobacco statements (:mod:`pipeline.extract.tobacco`); their code follows the Index
and the Tabular (Guidelines I.C.5.b.1, I.C.21.c.4):

* past use ("former smoker", "ex-smoker", "quit smoking", "smoked ... until 2001") -> Z87.891
  History, personal, nicotine dependence;
* "Smoker" -> Dependence, drug, nicotine: by the product the sentence names, cigarettes F17.210,
  chewing tobacco F17.220, cigars or a pipe F17.290, none named F17.200;
* "tobacco use" / "uses tobacco" with no dependence words -> Z72.0 Use, tobacco;
* other people's smoking where the patient lives ("lives in a home where there are smokers",
  "parents smoke at home") -> Z77.22 Exposure, tobacco smoke (second hand); a relative's smoking
  anywhere else is not the patient's and gets no code (None).

A negated statement ("denies tobacco use", "never smoked") is skipped before it gets here.
"""

from __future__ import annotations

import re

from pipeline.code.rules.note_text import sentence_bounds
from pipeline.extract.tobacco import PATTERN
from pipeline.extract.types import Entity

_PAST = re.compile(
    r"\b(?:ex|former|past|previous|prior|quit|quitting|stopped|gave\s+up|used\s+to|remote|formerly)\b[- ]?|"
    r"\bsmoked\b.{0,60}\b(?:ago|until|before|in\s+the\s+past|for\s+\d+\s+years?\s+but)\b",
    re.I,
)
# quitting as a wish or an attempt, not done: "would like to get something to help her quit smoking",
# "trying to quit", "ready to quit" (a current smoker)
_QUITTING_WISHED = re.compile(
    r"\b(?:help\w*|wants?|wanted|wish\w*|tr(?:y|ies|ied|ying)|like|desires?|ready|plans?|planning|interested|"
    r"motivated|attempt\w*|thinking|consider\w*|unable|cannot|can't)\b(?:\s+\w+){0,3}?\s+quit\w*",
    re.I,
)
# a "smoking history" read with what the note says next ("smoking history of 1 pack per day. Patient quit
# smoking 1 year ago"): past when a quitting follows and nothing says the use goes on
_HISTORY_OF_USE = re.compile(r"\bsmoking\s+history\b|\bhistory\s+of\s+smoking\b", re.I)
_GOES_ON = re.compile(r"\b(?:current(?:ly)?|still|continues?|continuing|active(?:ly)?|now)\b", re.I)
_QUIT_SMOKING = re.compile(r"\b(?:quit|stopped|gave\s+up)\s+(?:smoking|tobacco|cigarettes)\b|\b(?:former|ex)[- ]?smoker\b", re.I)
FOLLOWING_CHARS = 200
_CIGARETTES = re.compile(r"\bcigarettes?\b|\bpacks?\b|\bppd\b|\bpack[- ]years?\b|\bcigs?\b", re.I)
_CHEW = re.compile(r"\bchew(?:s|ing)?\b|\bsnuff\b|\bdip(?:s|ping)?\b|\bsmokeless\b", re.I)
_CIGAR_PIPE = re.compile(r"\bcigars?\b|\bpipes?\b", re.I)
_USE_ONLY = re.compile(r"\b(?:tobacco|nicotine)\s+use\b|\buses\s+tobacco\b", re.I)

HISTORY = "Z87.891"
USE = "Z72.0"
EXPOSURE = "Z77.22"
_OTHERS = re.compile(
    r"\b(?:mother|father|parents?|grand(?:mother|father|parents?)|brothers?|sisters?|siblings?|husband|wife|"
    r"spouse|partner|boyfriend|girlfriend|roommates?|family|household|caregivers?)\b",
    re.I,
)
_AT_HOME = re.compile(r"\b(?:home|house|household|lives?\s+with|living\s+with)\b", re.I)


def is_tobacco(e: Entity) -> bool:
    """Whether the mention is a tobacco statement as extraction marks them (all its words)."""
    return bool(PATTERN.fullmatch(e.text.strip()))


def tobacco_code(e: Entity, text: str | None) -> tuple[str, str] | None:
    """(code, Index path) for a tobacco statement, read with its sentence; None when the smoking is a
    relative's, not where the patient lives."""
    first, last = sentence_bounds(text, e.start, e.end) if text else (e.start, e.end)
    sentence = text[first:last] if text else e.text
    others = re.search(r"smokers\b", e.text, re.I) or _OTHERS.search(sentence[: max(0, e.start - first)] if text else "")
    if others:
        if _AT_HOME.search(sentence) or re.search(r"smokers\b", e.text, re.I):
            return EXPOSURE, "Exposure, tobacco smoke (second hand) Z77.22"
        return None
    if _past(e.text) or _past(sentence):
        return HISTORY, "History, personal, nicotine dependence Z87.891"
    if (
        text
        and _HISTORY_OF_USE.search(sentence)
        and not _GOES_ON.search(sentence)
        and _QUIT_SMOKING.search(_without_wishes(text[e.end : e.end + FOLLOWING_CHARS]))
    ):
        return HISTORY, "History, personal, nicotine dependence Z87.891"
    if _USE_ONLY.search(e.text) and not re.search(r"smok", sentence, re.I):
        return USE, "Use, tobacco Z72.0"
    if _CHEW.search(sentence) and not re.search(r"smok", e.text, re.I):
        return "F17.220", "Dependence, drug, nicotine, chewing tobacco F17.220"
    if _CIGARETTES.search(sentence):
        return "F17.210", "Dependence, drug, nicotine, cigarettes F17.210"
    if _CIGAR_PIPE.search(sentence):
        return "F17.290", "Dependence, drug, nicotine, specified product NEC F17.290"
    return "F17.200", "Smoker - see Dependence, drug, nicotine F17.200"


def _without_wishes(words: str) -> str:
    """``words`` without a wish or an attempt to quit, which says nothing of quitting done."""
    return _QUITTING_WISHED.sub(" ", words)


def _past(words: str) -> bool:
    """Whether ``words`` say the use is over (a wish to quit does not)."""
    return bool(_PAST.search(_without_wishes(words)))
