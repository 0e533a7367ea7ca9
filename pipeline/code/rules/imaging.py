"""Imaging studies as ICD-10-PCS asks for them: modality and body part.

A dictated imaging study names its modality in the mention ("CT", "MRI", "chest X-ray") and often
its body part only next to it ("abdominal-pelvic CT", "CT scan of the chest, abdomen and pelvis").
The PCS imaging codes (section B) need both axes: BW20 is CT of the abdomen, BW21 of the abdomen
and pelvis, BW25 of the chest, abdomen and pelvis. :func:`imaging_query` rewrites an imaging
mention into the words of the PCS table ("computerized tomography of abdomen and pelvis") from the
mention and the words of its sentence around it, so the code index finds the right body part.
"""

from __future__ import annotations

import re

# modality pattern -> the words PCS uses for the type axis
MODALITIES: tuple[tuple[re.Pattern, str], ...] = tuple(
    (re.compile(p, re.I), q)
    for p, q in (
        (
            r"\b(?:CT|CAT|computed tomograph\w*|computeri[sz]ed tomograph\w*|tomograph\w*|angio-?CT|CT angiograph\w*)\b",
            "computerized tomography",
        ),
        (r"\b(?:MRI|MR|NMR|magnetic resonance(?: imaging)?)\b", "magnetic resonance imaging"),
        (r"\b(?:x-?rays?|radiograph\w*|plain films?|roentgenogra\w*)\b", "plain radiography"),
        (r"\b(?:ultrasound|ultrasonograph\w*|sonograph\w*|echograph\w*|ecograph\w*|US|doppler)\b", "ultrasonography"),
    )
)


# the spine's regions, read first: a "thoracic spine" is not the chest, a "cervical spine" not the neck,
# and a spine MRI is not the brain MRI the bare modality's closest title would give (BR39ZZZ, not B030ZZZ)
def _named(*regions: tuple[str, str]) -> tuple[tuple[str, re.Pattern], ...]:
    return tuple((name, re.compile(p, re.I)) for name, p in regions)


SPINE_REGIONS = _named(
    # "her cervical MRI": the cervical spine's (the neck's soft tissue is named "neck")
    ("cervical spine", r"\b(?:cervical ?|c-?\s?)spine\b|\bcervical (?:MRI|MR|CT|CAT|x-?rays?|films?|radiographs?)\b"),
    ("thoracic spine", r"\b(?:thoracic ?|dorsal ?|t-?\s?)spine\b"),
    ("lumbar spine", r"\b(?:lumbar ?|lumbosacral ?|l-?\s?)spine\b|\blumbar\b"),
    ("whole spine", r"\b(?:whole|entire|total) spine\b"),
)
# body-part words (nouns and adjectives) -> PCS body part words; order of the tuple is the order
# PCS names combined regions in ("chest, abdomen and pelvis")
REGIONS = _named(
    ("chest", r"\b(?:chest|thora(?:x|cic|co\w*)|lungs?|pulmonary)\b"),
    ("abdomen", r"\b(?:abdom\w*|abdomino\w*)\b"),
    ("pelvis", r"\b(?:pelvi[cs]|pelvis|\w*-?pelvic)\b"),
    ("brain", r"\b(?:brain|cranial|cerebral|head|skull|encephal\w*)\b"),
    ("neck", r"\b(?:neck|cervical)\b"),
    ("kidneys", r"\b(?:renal|kidneys?|nephr\w*)\b"),
)
COMBINED = {  # PCS body part values for combined regions
    ("abdomen", "pelvis"): "abdomen and pelvis",
    ("abdomen", "chest"): "chest and abdomen",
    ("abdomen", "chest", "pelvis"): "chest, abdomen and pelvis",
    ("brain", "neck"): "head and neck",
}
BEFORE, AFTER = 40, 60  # characters of the sentence read around the mention


def modality(text: str) -> str | None:
    for pattern, words in MODALITIES:
        if pattern.search(text):
            return words
    return None


def _sentence_window(text: str, start: int, end: int) -> tuple[str, str]:
    """The words before and after a mention, within its sentence and the window."""
    left = text[max(0, start - BEFORE) : start]
    left = re.split(r"[.;:\n]\s", left)[-1]
    right = text[end : end + AFTER]
    right = re.split(r"[.;:\n](?:\s|$)", right)[0]
    # only the words that describe this study: stop at the next verb-like break ("... CT showed")
    right = re.split(
        r"\b(?:showed|shows|revealed|reveals|was|were|is|are|with|without|which|that|and then)\b", right, maxsplit=1
    )[0]
    return left, right


def imaging_query(mention: str, text: str | None, start: int, end: int) -> str | None:
    """PCS-table words for an imaging mention ("computerized tomography of abdomen and pelvis"),
    or None when the mention is not an imaging study or names no body part nearby."""
    kind = modality(mention)
    if kind is None:
        return None
    words = mention
    if text:
        left, right = _sentence_window(text, start, end)
        # the adjectives right before the mention and an "of the ..." phrase right after it
        words = " ".join([*left.split()[-2:], mention, right])
    spine = [name for name, pattern in SPINE_REGIONS if pattern.search(words)]
    if spine:
        return f"{kind} of {spine[0]}"
    found = tuple(sorted({name for name, pattern in REGIONS if pattern.search(words)}))
    if not found:
        return None
    part = COMBINED.get(found) or " ".join(found)
    return f"{kind} of {part}"


def other_body_part(title: str, read: str | None) -> bool:
    """``title`` is an imaging study of the modality ``read`` (:func:`imaging_query`) at another body
    part: the stated "MRI of the lumbar spine" is no B030ZZZ "MRI of brain", though case reports
    coded a bare "MRI" so."""
    if not read:
        return False
    kind, _, part = read.partition(" of ")
    title = title.lower()
    return title.startswith(kind) and part not in title.replace(",", "")
