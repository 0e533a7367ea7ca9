"""Type-ahead code search over all FY2026 ICD-10-CM and ICD-10-PCS codes."""

from __future__ import annotations

import itertools

import pytest

from pipeline.code.search import get_index, search_codes
from pipeline.code.types import CM, PCS


@pytest.fixture(scope="module", autouse=True)
def index():
    return get_index()


def codes(query: str, **kw) -> list[str]:
    return [h.code for h in search_codes(query, **kw)]


# ---------------------------------------------------------------- by code
@pytest.mark.parametrize("query", ["E11.2", "e112", " E11.2 "])
def test_code_prefix_exact_code_first_then_its_children(query):
    hits = search_codes(query, system=CM)
    assert [h.code for h in hits] == ["E11.2", "E11.21", "E11.22", "E11.29"]
    assert hits[0].billable is False and all(h.billable for h in hits[1:])
    assert hits[1].description == "Type 2 diabetes mellitus with diabetic nephropathy"


def test_code_prefix_lists_shorter_codes_first_and_filters_billable():
    found = codes("E11", system=CM)
    assert found[0] == "E11" and found[1:4] == ["E11.0", "E11.1", "E11.2"]
    assert all(len(a.replace(".", "")) <= len(b.replace(".", "")) for a, b in itertools.pairwise(found))
    billable = search_codes("E11.6", billable_only=True)
    assert billable and all(h.billable for h in billable) and "E11.6" not in [h.code for h in billable]
    assert "E11.65" in [h.code for h in billable]


def test_pcs_code_prefix_is_undotted():
    hits = search_codes("0DT", limit=50)
    assert len(hits) == 50 and all(h.system == PCS and h.code.startswith("0DT") and len(h.code) == 7 for h in hits)
    assert codes("0dtj4zz")[0] == "0DTJ4ZZ"


def test_system_filter_and_same_named_block_categories():
    assert codes("B20", system=CM)[0] == "B20"  # HIV disease: a billable category named like its block
    both = search_codes("b20")
    assert both[0].code == "B20" and {h.system for h in both} == {CM, PCS}  # B20... are also PCS imaging codes
    assert codes("Z66") == ["Z66"]


# ---------------------------------------------------------------- by words
def test_words_type_2_diabetes_kidney():
    found = codes("type 2 diabetes kidney")
    assert found[0] == "E11.22" and {"E11.22", "E11.29", "E11.2"} <= set(found)
    assert not any(c.startswith("E10") for c in found)


@pytest.mark.parametrize("query", ["appendectomy laparoscopic", "laparoscopic appendectomy"])
def test_procedure_words_reach_pcs_through_the_index_and_approach(query):
    hits = search_codes(query, system=PCS)
    assert "0DTJ4ZZ" in [h.code for h in hits[:5]]
    assert all("Appendix" in h.description and "Percutaneous Endoscopic" in h.description for h in hits)


def test_last_word_is_a_prefix_and_all_words_must_match():
    found = search_codes("diabetes mell")
    assert found and all("mellitus" in h.description.lower() or h.code.startswith(("E0", "E1")) for h in found)
    assert search_codes("diabetes zzqx") == []
    assert search_codes("") == [] and search_codes("of the") == []


def test_billable_codes_and_short_titles_rank_first():
    hits = search_codes("hypertension", system=CM, limit=40)
    flags = [h.billable for h in hits]
    assert flags == sorted(flags, reverse=True)  # billable before header codes
    assert hits[0].code == "I10"  # the Alphabetic Index's code for the term (Hypertension, hypertensive I10) first
    titled = [h for h in hits if "hypertension" in h.description.lower()]  # then title matches
    assert hits[: len(titled)] == titled
    lengths = [len(h.description) for h in titled[1:] if h.billable]
    assert lengths == sorted(lengths) and lengths[0] < 25  # "Portal hypertension" before "Hypertensive ..."
    # the best-ranked of all matches, not of the first ones found
    assert [h.code for h in search_codes("hypertension", system=CM, limit=4)] == ["I10", "K76.6", "P29.2", "I1A.0"]


def test_plural_and_abbreviation():
    assert "N28.9" in codes("disorder of kidneys unspecified")  # 'kidneys' meets 'kidney'
    chf = search_codes("chf", system=CM)
    assert chf and all(h.code.startswith("I50") for h in chf[:5])
    assert "N39.0" in codes("uti")[:5]


def test_inclusion_terms_and_index_paths_are_searched():
    # "high blood pressure" is an inclusion term of I10, not its title
    assert "I10" in codes("high blood pressure")[:5]
    # "Attack, attacks | panic" in the Alphabetic Index leads to F41.0 (title: Panic disorder ...)
    assert "F41.0" in codes("panic attack")[:5]


def test_index_covers_every_code():
    from pipeline.code import search

    ix = search.get_index()
    assert len(ix[CM].docs) > 98_000 and len(ix[PCS].docs) == 79_115


# ---------------------------------------------------------------- the Index path (issue 19, item 7)
@pytest.mark.parametrize(
    ("query", "system", "family"),
    [
        ("community acquired pneumonia", None, "J18"),
        ("pneumonia right lower lobe", None, "J18"),
        ("copd with pneumonia", None, "J44.0"),
        ("afib rvr", None, "I48"),
        ("former smoker", None, "Z87.891"),  # data/search_phrases.tsv: History, personal, nicotine dependence
        ("displaced fracture distal radius left", None, "S52.502"),  # Fracture, radius, lower end; the left side
        ("total knee arthroplasty", PCS, "0SR"),  # PCS Index: Arthroplasty, see Replacement, Lower Joints
        ("reduction radius", PCS, "0PS"),  # PCS Index: Reduction, fracture, see Reposition
    ],
)
def test_phrases_a_coder_types_find_the_code_family_through_the_index(query, system, family):
    top5 = codes(query, system=system)[:5]
    assert any(c.startswith(family) for c in top5), top5


def test_pneumonia_ranks_the_index_default_code_first():
    assert "J18.9" in codes("pneumonia")[:3]


def test_pcs_see_references_name_root_operations():
    from pipeline.code.search import pcs_see_terms

    see = pcs_see_terms()
    assert see["arthroplasty"][0] == "replacement" and "reposition" == see["reduction"][0]
    assert "appendectomy" not in see  # its see names a body part: already in the codes' own terms
    assert codes("laparoscopic appendectomy", system=PCS)[:2] == ["0DBJ4ZZ", "0DTJ4ZZ"]


def test_a_code_that_takes_a_7th_character_is_one_hit_with_its_choices():
    hits = search_codes("fracture distal radius left", limit=10)
    stems = [h.stem for h in hits if h.stem]
    assert len(stems) == len(set(stems)), stems  # never one row per 7th character
    top = hits[0]
    assert top.stem == "S52.502" and top.code == "S52.502A"
    choices = dict(top.seventh)
    assert {"A", "B", "C", "D", "S"} <= set(choices) and "initial encounter for closed fracture" in choices["A"].lower()
    assert not next(h for h in search_codes("pneumonia") if h.code == "J18.9").seventh  # codes without one: none
