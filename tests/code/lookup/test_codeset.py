"""Code sets (validity, descriptions, axes, index) and the candidate index over their aliases."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pipeline.code.lookup.aliases import cm_aliases, pcs_aliases
from pipeline.code.lookup.codeset import CodeSet, get_codeset


@pytest.fixture(scope="session")
def cs() -> CodeSet:
    return get_codeset()


# ---------------------------------------------------------------- ICD-10-CM
@pytest.mark.parametrize(
    ("code", "billable"),
    [
        ("E11.9", True),
        ("E119", True),
        ("e11.9", True),
        ("E11", False),
        ("I10", True),
        ("J18.9", True),
        ("S52.502A", True),
        ("S52.502", False),
        ("I48.91", True),
        ("J44.9", True),
        ("E11.22", True),
        ("A00-A09", False),
        ("Z99.99", False),
        ("", False),
    ],
)
def test_cm_billable(cs: CodeSet, code: str, billable: bool) -> None:
    assert cs.cm_is_billable(code) is billable


def test_cm_lookups(cs: CodeSet) -> None:
    assert cs.cm_normalize(" e119 ") == "E11.9"
    assert cs.cm_normalize("S52502A") == "S52.502A"
    assert cs.cm_normalize("I10") == "I10"
    assert cs.cm_description("E119") == "Type 2 diabetes mellitus without complications"
    assert cs.cm_description("I10") == "Essential (primary) hypertension"
    assert cs.cm_description("Q99.99") is None
    assert "E11.9" in cs.cm_children("E11")
    assert "high blood pressure" in cs.cm_inclusion_terms("I10")
    assert cs.cm_excludes("I10")["excludes1"]
    assert cs.cm_unspecified_child("J18") == "J18.9"
    assert cs.cm_unspecified_child("E11") == "E11.9"
    assert cs.cm_unspecified_child("I48.9") is None  # I48.91 or I48.92: ambiguous
    assert cs.cm_unspecified_child("C92.0") == "C92.00"  # not having achieved remission: "AML NOS" is included there
    assert len(cs.cm_billable_codes) > 70_000


def test_cm_index_paths(cs: CodeSet) -> None:
    rows = [e for e in cs.cm_index if e.path == ("Diabetes, diabetic", "type 2", "with", "chronic kidney disease")]
    assert len(rows) == 1
    e = rows[0]
    assert (e.code, e.valid, e.billable, e.incomplete) == ("E11.22", True, True, False)
    assert e.nemod[0] == "(mellitus) (sugar)"
    assert any(e.incomplete and e.code.endswith("-") for e in cs.cm_index)
    abdominalgia = next(e for e in cs.cm_index if e.path == ("Abdominalgia",))
    assert abdominalgia.see == "Pain, abdominal" and abdominalgia.see_code == "R10.9"


def test_cm_tables(cs: CodeSet) -> None:
    lung = next(t for t in cs.cm_neoplasm_table if t.path[1:] == ("lung",))
    assert lung.codes["malignant_primary"].startswith("C34.9")
    assert lung.codes["malignant_secondary"].startswith("C78.0")
    acetaminophen = next(t for t in cs.cm_drug_table if t.path == ("Acetaminophen",))
    assert acetaminophen.codes["adverse_effect"] == "T39.1X5"


# ---------------------------------------------------------------- ICD-10-PCS
def test_pcs_validity_and_description(cs: CodeSet) -> None:
    assert cs.pcs_is_valid("0FT44ZZ")
    assert cs.pcs_description("0FT44ZZ") == "Resection of Gallbladder, Percutaneous Endoscopic Approach"
    assert not cs.pcs_is_valid("0FT4ZZZ")
    assert cs.pcs_description("0FT4ZZZ") is None
    assert cs.pcs_description("0SR9019") == (
        "Replacement of Right Hip Joint with Metal Synthetic Substitute, Cemented, Open Approach"
    )
    assert cs.pcs_description("0DB60ZX") == "Excision of Stomach, Open Approach, Diagnostic"
    assert 78_000 < sum(1 for _ in cs.pcs_codes()) < 81_000


def test_pcs_axes(cs: CodeSet) -> None:
    assert cs.pcs_axes("0FT44ZZ") == [
        ("Section", "0", "Medical and Surgical"),
        ("Body System", "F", "Hepatobiliary System and Pancreas"),
        ("Operation", "T", "Resection"),
        ("Body Part", "4", "Gallbladder"),
        ("Approach", "4", "Percutaneous Endoscopic"),
        ("Device", "Z", "No Device"),
        ("Qualifier", "Z", "No Qualifier"),
    ]
    assert cs.pcs_axes("0FT4ZZZ") == []
    assert cs.pcs_axes("BW25ZZZ")[2][0] == "Type"


def test_pcs_prefix_and_index(cs: CodeSet) -> None:
    assert cs.pcs_codes_with_prefix("0FT4") == ["0FT40ZZ", "0FT44ZG", "0FT44ZZ"]
    assert cs.pcs_codes_with_prefix("0FT4Q") == []
    chole = {(e.target, e.code) for e in cs.pcs_index if e.path == ("Cholecystectomy",)}
    assert chole == {("Resection, Gallbladder", "0FT4"), ("Excision, Gallbladder", "0FB4")}


# ---------------------------------------------------------------- aliases
def test_aliases(cs: CodeSet) -> None:
    pcs = {(text, code) for text, code, _ in pcs_aliases(cs)}
    assert ("laparoscopic cholecystectomy", "0FT44ZZ") in pcs
    assert ("laparoscopic cholecystectomy", "0FB44ZZ") in pcs
    assert ("resection of gallbladder percutaneous endoscopic approach", "0FT44ZZ") in pcs
    assert all(cs.pcs_is_valid(code) for _, code in list(pcs)[:2000])
    # "Thyroidectomy - see Resection, Endocrine System 0GT": the body part the word names
    assert ("thyroidectomy thyroid gland", "0GTK0ZZ") in pcs
    assert ("tonsillectomy tonsils", "0CTPXZZ") in pcs
    # a word that names one body part of its table is that part's name; one naming several is not
    assert ("tonsillectomy", "0CTPXZZ") in pcs
    assert ("thyroidectomy", "0GTK0ZZ") not in pcs
    cm = cm_aliases(cs)
    pairs = {(text, code) for text, code, _ in cm}
    assert ("type 2 diabetes with chronic kidney disease", "E11.22") in pairs
    assert ("atrial fibrillation", "I48.91") in pairs
    assert ("high blood pressure", "I10") in pairs
    assert ("type 2 diabetes mellitus", "E11.9") in pairs  # category title -> its .9 code
    billable = set(cs.cm_billable_codes)
    assert all(code in billable for _, code, _ in cm)


def test_a_body_system_see_reference_reads_the_body_part_its_word_names(cs: CodeSet) -> None:
    from pipeline.code.lookup.aliases import _body_parts_named

    def parts(term: str, table: str) -> list[str]:
        entry = next(e for e in cs.pcs_index if e.path == (term,) and e.code == table)
        return [label for _, label in _body_parts_named(cs, entry)[0]]

    assert parts("Thyroidectomy", "0GT") == [
        "Thyroid Gland Lobe, Left",
        "Thyroid Gland Lobe, Right",
        "Thyroid Gland Isthmus",
        "Thyroid Gland",
    ]
    assert parts("Tonsillectomy", "0CT") == ["Tonsils"]
    assert parts("Acromionectomy", "0RT") == []  # "acromion" is not the acromioclavicular joint
    # a Greek or Latin stem names its organ by the combining form, and only it
    assert parts("Nephrectomy", "0TT") == ["Kidney, Right", "Kidney, Left", "Kidneys, Bilateral"]
    assert parts("Hepatectomy", "0FT") == ["Liver", "Liver, Right Lobe", "Liver, Left Lobe"]  # no hepatic duct
    assert parts("Splenectomy", "07T") == ["Spleen"]
    assert parts("Hemicolectomy", "0DT") == ["Large Intestine, Right", "Large Intestine, Left"]
    colectomy = next(e for e in cs.pcs_index if e.path == ("Colectomy",) and e.code == "0DT")
    named, word_names_first = _body_parts_named(cs, colectomy)
    assert named[0][1] == "Large Intestine" and word_names_first  # "colectomy" alone: the whole large intestine
    assert {label for _, label in named} >= {"Sigmoid Colon", "Large Intestine, Right"}
    assert not _body_parts_named(cs, next(e for e in cs.pcs_index if e.path == ("Nephrectomy",) and e.code == "0TT"))[1]


# ---------------------------------------------------------------- candidate index (slow: builds once)
@pytest.fixture(scope="session")
def index_cache() -> Path:
    """The product's own index cache: built once (content-fingerprinted), reused by every run."""
    from pipeline.settings import get_settings

    return get_settings().cache_dir / "code-index"


@pytest.fixture(scope="session")
def cm_index(index_cache: Path):
    from pipeline.code.lookup.candidates import CodeIndex

    return CodeIndex.load_or_build("ICD-10-CM", index_cache)


@pytest.fixture(scope="session")
def pcs_index(index_cache: Path):
    from pipeline.code.lookup.candidates import CodeIndex

    return CodeIndex.load_or_build("ICD-10-PCS", index_cache)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("mention", "code"),
    [
        ("type 2 diabetes mellitus", "E11.9"),
        ("essential hypertension", "I10"),
        ("community acquired pneumonia", "J18.9"),
        ("atrial fibrillation", "I48.91"),
        ("chronic obstructive pulmonary disease", "J44.9"),
    ],
)
def test_cm_candidates(cm_index, mention: str, code: str) -> None:
    (cands,) = cm_index.candidates([mention], k=10)
    assert code in [c.code for c in cands[:3]], [(c.code, c.score, c.alias) for c in cands[:5]]
    assert all(0.0 <= c.score <= 1.0 for c in cands)
    assert [c.score for c in cands] == sorted((c.score for c in cands), reverse=True)
    top = next(c for c in cands if c.code == code)
    assert top.description and top.alias


@pytest.mark.slow
def test_pcs_candidates(pcs_index) -> None:
    (cands,) = pcs_index.candidates(["laparoscopic cholecystectomy"], k=10)
    assert "0FT44ZZ" in [c.code for c in cands[:3]]
    best = next(c for c in cands if c.code == "0FT44ZZ")
    assert best.description == "Resection of Gallbladder, Percutaneous Endoscopic Approach"
    assert best.score == pytest.approx(1.0, abs=1e-3)


@pytest.mark.slow
def test_index_search_is_exact_and_cached(cm_index, index_cache: Path) -> None:
    from pipeline.code.lookup.candidates import CodeIndex

    ix = cm_index.exact_index
    query = ix.vectors(["atrial fibrillation"])
    brute = (query @ ix.by_feature).toarray().ravel()  # every alias scored: the search must find the true best
    hits = ix.top(["atrial fibrillation"], 30)[0]
    assert [round(s, 6) for _, s in hits] == [round(float(s), 6) for s in sorted(brute, reverse=True)[:30]]
    assert all(a < b for (a, s), (b, t) in zip(hits, hits[1:]) if s == t)  # ties in alias order
    assert any("I48.91" in cm_index.codes_of(a) for a, _ in hits)
    assert cm_index.candidates([]) == []
    assert cm_index.candidates(["???"], k=5) == [[]]  # no 3-gram in the vocabulary
    assert "atrial fibrillation" in cm_index.code_aliases("I48.91")
    t = time.perf_counter()
    again = CodeIndex.load_or_build("ICD-10-CM", index_cache)
    assert time.perf_counter() - t < 15  # from the cache, not rebuilt
    assert again.directory == cm_index.directory
    assert not (again.directory / "nmslib_index.bin").exists()


def test_exact_search_breaks_ties_by_alias_number_not_by_partition_order() -> None:
    """Many aliases tied on score around the k-th place: the kept ones are the lowest-numbered, in order."""
    from pipeline.code.lookup._exact import ExactIndex

    texts = [f"fever {c}" for c in "abcdefghijklmnopqrstuvwxyz"] * 2 + ["fever"]
    ix, kept = ExactIndex.fit(texts, min_df=1)
    assert kept.all()
    hits = ix.top(["fever"], 5)[0]
    assert hits[0] == (len(texts) - 1, pytest.approx(1.0))
    assert len({s for _, s in hits[1:]}) == 1  # 52 aliases tie for second place
    assert [a for a, _ in hits[1:]] == [0, 1, 2, 3]


@pytest.mark.slow
def test_index_build_is_deterministic(tmp_path: Path) -> None:
    """Two builds in two empty cache folders write byte-identical files (PCS: the faster of the two)."""
    from pipeline.code.lookup.candidates import CodeIndex

    a = CodeIndex.load_or_build("ICD-10-PCS", tmp_path / "a").directory
    b = CodeIndex.load_or_build("ICD-10-PCS", tmp_path / "b").directory
    files = sorted(p.name for p in a.iterdir())
    assert files == sorted(p.name for p in b.iterdir()) and "meta.json" in files
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)


def test_the_index_fingerprint_follows_the_code_that_builds_it(monkeypatch) -> None:
    """A change to the code that builds the aliases builds a new index: an upgrade never searches an
    index its aliases no longer match (a cached one from before made a fresh install and an old one
    code differently)."""
    from pipeline.code.lookup import index_build
    from pipeline.code.lookup.codeset import get_codeset

    cs = get_codeset()
    before = index_build.fingerprint(cs, "ICD-10-PCS")
    assert index_build.fingerprint(cs, "ICD-10-PCS") == before
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: real(self) + (b"# changed" if self.name == "aliases.py" else b""))
    assert index_build.fingerprint(cs, "ICD-10-PCS") != before
