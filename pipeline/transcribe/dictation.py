"""Dictation conventions: spoken commands and spoken section headers.

Commands ("period", "comma", "question mark", "new line", "new paragraph", "next section") become
punctuation and layout; the command words leave the transcript. "Period" stays a word where it is
one ("for a period of two weeks"). Spoken section headers ("history of present illness",
"assessment and plan"; the variants of ``pipeline/extract/data/section_headers.json``, the file
extraction's ``mrt_sections`` reads) start a new paragraph and end with a colon, so extraction finds
them as headers, and are listed in ``Transcript.sections``. A header counts at the start of a
sentence; one of three words or more also mid-sentence (recognizers drop punctuation), unless the
next word continues it as prose ("family history of ...").
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from functools import lru_cache
from importlib import resources

from pipeline.transcribe.types import Segment, Word
from pipeline.transcribe.words import with_words

HEADERS_FILE = resources.files("pipeline.extract") / "data" / "section_headers.json"
PUNCTUATION = {
    ("period",): ".",
    ("full", "stop"): ".",
    ("comma",): ",",
    ("question", "mark"): "?",
    ("semicolon",): ";",
    ("exclamation", "point"): "!",
}
BREAKS = {
    ("new", "paragraph"): "paragraph",
    ("next", "paragraph"): "paragraph",
    ("next", "section"): "paragraph",
    ("new", "section"): "paragraph",
    ("new", "line"): "line",
    ("next", "line"): "line",
}
# "period" is prose after these words and before "of"
_PROSE_BEFORE = {
    "a",
    "the",
    "this",
    "that",
    "each",
    "per",
    "postoperative",
    "perioperative",
    "recovery",
    "waiting",
    "same",
    "menstrual",
    "latent",
    "refractory",
    "short",
    "long",
    "brief",
    "one",
    "two",
    "three",
    "time",
    "trial",
}
_CONNECTORS = {
    "of",
    "is",
    "was",
    "were",
    "are",
    "and",
    "or",
    "to",
    "for",
    "in",
    "with",
    "from",
    "as",
    "at",
    "by",
    "on",
    "has",
    "had",
}
_SENTENCE_END = (".", "?", "!", ":")
_DETERMINERS = frozenset({"the", "a", "his", "her", "no"})  # "no chest pain ...": not a header before it
_CORE = re.compile(r"[^a-z'-]")


def _core(w: Word) -> str:
    return _CORE.sub("", w.text.lower())


@lru_cache(maxsize=1)
def header_variants() -> dict[tuple[str, ...], str]:
    """Spoken header word tuple -> canonical section name."""
    data = json.loads(HEADERS_FILE.read_text(encoding="utf-8"))
    out: dict[tuple[str, ...], str] = {}
    for group in ("headers", "strict"):
        for name, variants in data.get(group, {}).items():
            for v in variants:
                words = tuple(re.sub(r"[^a-z' -]", " ", v.lower()).replace("-", " ").split())
                if words and re.fullmatch(r"[a-z' -]+", v.lower()):
                    out.setdefault(words, name)
    return out


def _match(table: dict, keys: list[str], i: int, longest: int = 8):
    for n in range(min(longest, len(keys) - i), 0, -1):
        hit = table.get(tuple(keys[i : i + n]))
        if hit is not None:
            return n, hit
    return None


def _punctuate(word: Word, mark: str) -> Word:
    return replace(word, text=word.text.rstrip(".,;:?!") + mark)


def _capitalize(word: Word) -> Word:
    t = word.text
    return replace(word, text=t[:1].upper() + t[1:]) if t[:1].islower() else word


def apply_commands(segments: list[Segment]) -> tuple[list[Segment], int]:
    """Spoken punctuation and layout applied; returns the segments and how many commands were used."""
    out: list[Segment] = []
    used = 0
    next_para = cap = False
    for seg in segments:
        words = list(seg.words)
        keys = [_core(w) for w in words]
        pieces: list[tuple[list[Word], bool, float]] = []
        cur: list[Word] = []
        para = seg.paragraph or next_para
        changed = para != seg.paragraph
        next_para = False
        start = seg.start
        i = 0
        while i < len(words):
            hit = _match(PUNCTUATION, keys, i, 2) or _match(BREAKS, keys, i, 2)
            if hit:
                n, what = hit
                nxt = keys[i + n] if i + n < len(keys) else ""
                prev = keys[i - 1] if i > 0 else ""
                if not (keys[i] == "period" and (prev in _PROSE_BEFORE or nxt == "of")):
                    used += 1
                    changed = True
                    if what in ("paragraph", "line"):
                        _end_sentence(out, pieces, cur)
                        if cur:
                            pieces.append((cur, para, start))
                        cur, para, cap = [], True, True
                        start = words[i + n].start if i + n < len(words) else seg.end
                        next_para = i + n >= len(words)
                    else:
                        _end_sentence(out, pieces, cur, what)
                        cap = what in ".?!"
                    i += n
                    continue
            w = _capitalize(words[i]) if cap else words[i]
            changed = changed or w is not words[i]
            cap = False
            cur.append(w)
            i += 1
        if cur:
            pieces.append((cur, para, start))
        if not changed:
            out.append(seg)
            continue
        for k, (ws, p, st) in enumerate(pieces):
            end = pieces[k + 1][2] if k + 1 < len(pieces) else seg.end
            out.append(with_words(replace(seg, start=st, end=end), ws, paragraph=p))
    return out, used


def _end_sentence(out: list[Segment], pieces: list, cur: list[Word], mark: str = ".") -> None:
    """Put ``mark`` after the last word written so far (replacing Whisper's own punctuation)."""
    if cur:
        if mark != "." or not cur[-1].text.endswith(_SENTENCE_END):
            cur[-1] = _punctuate(cur[-1], mark)
    elif pieces:
        ws = pieces[-1][0]
        ws[-1] = _punctuate(ws[-1], mark)
    elif out and out[-1].words:
        last = out[-1]
        out[-1] = with_words(last, list(last.words[:-1]) + [_punctuate(last.words[-1], mark)])


def _may_start_mid_sentence(n: int, previous: str) -> bool:
    """A header of ``n`` words read in the middle of a sentence: three words or more, not after a
    connector or a determiner ("... and no chest pain": not a header)."""
    return n >= 3 and previous not in _CONNECTORS | _DETERMINERS


def _rejoin_split_headers(segments: list[Segment], table: dict) -> list[Segment]:
    """A header Whisper split between two segments ("... thrombosis, assessment and" | "plan: cellulitis")
    moves whole to the start of the second, where :func:`mark_sections` reads it, rather than leaving
    "plan" read as a header of its own."""
    out = list(segments)
    for k in range(len(out) - 1):
        before, after = out[k], out[k + 1]
        if not before.words or not after.words or before.words[-1].text.rstrip().endswith(_SENTENCE_END):
            continue
        keys = [_core(w) for w in before.words] + [_core(w) for w in after.words]
        own = _match(table, keys, len(before.words), 8)  # the header the second segment starts with, if any
        for back in range(min(7, len(before.words) - 1), 0, -1):  # a header that starts `back` words before the end
            i = len(before.words) - back
            hit = _match(table, keys, i, 8)
            # as mark_sections reads a header: at a sentence's start, or mid-sentence
            where = before.words[i - 1].text.rstrip().endswith(_SENTENCE_END) or (
                hit is not None and _may_start_mid_sentence(hit[0], keys[i - 1])
            )
            if hit and where and hit[0] > back and hit[0] >= 2 and (own is None or own[0] < hit[0] - back + 1):
                moved = list(before.words[i:])
                out[k] = with_words(replace(before, end=before.words[i - 1].end), list(before.words[:i]))
                out[k + 1] = with_words(replace(after, start=moved[0].start), moved + list(after.words))
                break
    return out


def mark_sections(segments: list[Segment]) -> tuple[list[Segment], list[tuple[int, str]]]:
    """Spoken headers start a new segment (paragraph) and end with a colon.

    Returns the segments and (segment index, canonical name) for every header."""
    table = header_variants()
    out: list[Segment] = []
    marks: list[tuple[int, str]] = []
    for seg in _rejoin_split_headers(segments, table):
        words = list(seg.words)
        if not words:
            out.append(seg)
            continue
        keys = [_CORE.sub("", w.text.lower()) for w in words]
        cur: list[Word] = []
        cur_para = seg.paragraph
        cur_start = seg.start
        i = 0
        pieces: list[tuple[list[Word], bool, float, str | None]] = []
        header_name: str | None = None
        while i < len(words):
            starts_sentence = i == 0 or words[i - 1].text.rstrip().endswith(_SENTENCE_END)
            hit = _match(table, keys, i, 8)
            if hit:
                n, name = hit
                last = words[i + n - 1].text
                nxt = keys[i + n] if i + n < len(keys) else ""
                ends = last.rstrip().endswith((".", ",", ":", ";")) or i + n == len(words)
                ok = (starts_sentence and (ends or (n >= 2 and nxt not in _CONNECTORS))) or (
                    nxt not in _CONNECTORS and _may_start_mid_sentence(n, keys[i - 1] if i > 0 else "")
                )
                if ok:
                    if cur:
                        pieces.append((cur, cur_para, cur_start, header_name))
                    head = [_capitalize(words[i])] + words[i + 1 : i + n]
                    head[-1] = _punctuate(head[-1], ":")
                    cur, cur_para, cur_start, header_name = head, True, words[i].start, name
                    i += n
                    if i < len(words):
                        words[i] = _capitalize(words[i])
                    continue
            cur.append(words[i])
            i += 1
        if cur:
            pieces.append((cur, cur_para, cur_start, header_name))
        if len(pieces) == 1 and pieces[0][3] is None:
            out.append(seg)
            continue
        for k, (ws, para, start, name) in enumerate(pieces):
            end = pieces[k + 1][2] if k + 1 < len(pieces) else seg.end
            if name is not None:
                marks.append((len(out), name))
            out.append(with_words(replace(seg, start=start, end=end), ws, paragraph=para))
    return out, marks


_SCRATCH = {("scratch", "that"), ("scratched", "that"), ("delete", "that"), ("strike", "that")}
_LETTERS = re.compile(r"^(?:[A-Za-z][.\-]?){1,}$")


def _letters(text: str) -> str | None:
    """The letters of a spelled-out token ("M", "M-E-T", "M.E.T.", "METOPROLOL"), else None."""
    core = text.strip(",;:!?\"'()").lstrip("-")  # Whisper writes "M", "-E", "-T", ... as words
    if core.endswith(".") and len(core) > 2 and "." not in core[:-1]:
        core = core[:-1]
    if not core:
        return None
    if len(core) == 1 and core.isalpha():
        return core.lower()
    if _LETTERS.match(core) and ("-" in core or "." in core):
        return re.sub(r"[^A-Za-z]", "", core).lower()
    if core.isalpha() and core.isupper() and len(core) >= 3:
        return core.lower()
    return None


def _letters_misheard(heard: str, letters: str) -> bool:
    """The spelling's letters are the word heard before it with one letter misheard (dropped, added or
    changed), and the word heard is a word (common English or a medical term) while the letters are
    not: the dictator spelled the word Whisper heard ("scissors", spelled S-C-I-S-S-O-R-S, heard as
    "SCIS-ORS"), so the word stays. A word heard wrongly ("meta pralled" for M-E-T-O-P-R-O-L-O-L) is no
    word, and the letters write it."""
    from rapidfuzz.distance import Levenshtein

    from pipeline.transcribe.lexicon import is_common_word, medical_terms

    if not heard.isalpha() or heard == letters or Levenshtein.distance(heard, letters) != 1:
        return False

    def known(w: str) -> bool:
        return is_common_word(w) or w in medical_terms()

    return known(heard) and not known(letters)


def apply_edits(segments: list[Segment]) -> tuple[list[Segment], int]:
    """Spoken edits: "scratch that" (also "delete that", "strike that") removes the sentence it ends,
    with the command; "spelled M E T O P R O L O L" after a word writes that word with those letters
    (the words heard before it that sound like it are replaced; ``Word.original`` keeps them).
    Returns the segments and how many edits were applied."""
    from rapidfuzz import fuzz

    flat: list[tuple[int, Word]] = [(k, w) for k, seg in enumerate(segments) for w in seg.words]
    keys = [_core(w) for _, w in flat]
    out: list[tuple[int, Word]] = []
    used = 0
    i = 0
    while i < len(flat):
        if i + 1 < len(flat) and (keys[i], keys[i + 1]) in _SCRATCH:
            # drop back to the end of the previous sentence (the word before the command may end one)
            while out and not (len(out) > 1 and out[-2][1].text.rstrip().endswith(_SENTENCE_END)):
                out.pop()
            if out:
                out.pop()
            used += 1
            i += 2
            continue
        if keys[i] in ("spelled", "spelt", "spelling") and out:
            j, letters = i + 1, ""
            while j < len(flat):
                got = _letters(flat[j][1].text)
                if got is None:
                    break
                letters += got
                j += 1
            if len(letters) >= 3:
                best_n, best = 1, -1.0
                for n in range(1, min(3, len(out)) + 1):
                    heard = "".join(_core(w) for _, w in out[-n:]).replace("-", "").replace("'", "")
                    score = fuzz.ratio(heard, letters)
                    if score > best + 5:
                        best_n, best = n, score
                replaced = out[-best_n:]
                del out[-best_n:]
                first = replaced[0][1]
                if best_n == 1 and _letters_misheard(_core(first).replace("-", ""), letters):
                    # "scissors spelled SCIS-ORS": the word was heard right and a letter of its spelling was not
                    out.append(replaced[0])
                    used += 1
                    i = j
                    continue
                text = letters.capitalize() if first.text.lstrip("\"'(")[:1].isupper() else letters
                trailing = re.search(r"[.,;:!?]*$", flat[j - 1][1].text)
                assert trailing is not None  # the pattern matches an empty string
                trail = trailing.group(0)
                heard = " ".join(w.text for _, w in replaced)
                probs = [w.probability for _, w in replaced if w.probability is not None]
                word = Word(
                    first.start,
                    flat[j - 1][1].end,
                    text + trail,
                    min(probs) if probs else None,
                    original=heard.rstrip(",") if heard.rstrip(",").lower() != letters else None,
                )
                out.append((replaced[0][0], word))
                used += 1
                i = j
                continue
        out.append(flat[i])
        i += 1
    if not used:
        return segments, 0
    by_seg: dict[int, list[Word]] = {}
    for k, w in out:
        by_seg.setdefault(k, []).append(w)
    result = [with_words(seg, by_seg[k]) for k, seg in enumerate(segments) if by_seg.get(k)]
    return result, used
