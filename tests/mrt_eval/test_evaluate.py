"""The coding evaluation: metric definitions on hand-worked cases, CodiEsp loading, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mrt_eval.coding.codiesp import codiesp_dir, load_split, normalize_gold
from mrt_eval.coding.metrics import DocumentRun, average_precision, reliability, score_level
from pipeline.code.types import CM, PCS

needs_codiesp = pytest.mark.skipif(not (codiesp_dir() / "dev").is_dir(), reason="CodiEsp not in ../shared/data")


def test_average_precision_codiesp_definition():
    # gold a, c: hits at ranks 1 and 3 -> (1/1 + 2/3) / 2
    assert average_precision(["a", "b", "c"], {"a", "c"}) == pytest.approx((1 + 2 / 3) / 2)
    # a gold code never proposed still counts in the denominator
    assert average_precision(["a"], {"a", "z"}) == pytest.approx(0.5)
    assert average_precision([], {"a"}) == 0.0


def test_levels_threshold_and_documents_without_gold():
    runs = [
        DocumentRun(("E11.9", "I10"), (("E11.9", 0.9), ("E10.9", 0.7), ("I10", 0.6), ("R52", 0.4))),
        DocumentRun((), (("J18.9", 0.9),)),  # no gold: not in MAP, but a false positive
    ]
    full = score_level(CM, runs, "full", 0.5)
    assert full.documents == 1 and full.gold == 2
    assert full.map == pytest.approx((1 + 2 / 3) / 2)
    assert full.proposed == 4 and full.precision == pytest.approx(0.5) and full.recall == 1.0
    cat = score_level(CM, [DocumentRun(("E11.65",), (("E11.9", 0.9), ("E11.65", 0.8)))], "category", 0.5)
    assert cat.map == 1.0 and cat.proposed == 1  # E11.9 and E11.65 are one category, counted once


def test_pcs_prefix_gold_matches_full_codes():
    run = DocumentRun(("BW20", "0FT44ZZ"), (("BW201ZZ", 0.9), ("BW20ZZZ", 0.8), ("0FT40ZZ", 0.7)))
    full = score_level(PCS, [run], "full", 0.5)
    assert full.map == pytest.approx(0.5) and full.proposed == 2 and full.recall == pytest.approx(0.5)
    assert score_level(PCS, [run], "category", 0.5).map == 1.0


def test_reliability_bins():
    run = DocumentRun(("A00.0",), (("A00.0", 0.95), ("B00.0", 0.92), ("C00.0", 0.55)))
    bins = reliability(CM, [run], (0.0, 0.5, 0.9, 1.0))
    assert [(b.low, b.proposals) for b in bins] == [(0.5, 1), (0.9, 2)]
    assert bins[1].correct == pytest.approx(0.5) and bins[1].mean_score == pytest.approx(0.935)


def test_gold_normalization():
    assert normalize_gold(CM, "q62.11") == "Q62.11" and normalize_gold(CM, "i10") == "I10"
    assert normalize_gold(PCS, "bt41zzz") == "BT41ZZZ"


@needs_codiesp
def test_load_dev_split():
    docs = load_split("dev")
    assert len(docs) == 250
    first = docs[0]
    assert first.doc_id == "S0004-06142005000900016-1" and first.text
    assert first.gold[CM][:3] == ("Q62.11", "N28.89", "N39.0") and "BT41ZZZ" in first.gold[PCS]
    assert sum(len(d.gold[CM]) for d in docs) == 2677
    assert len(load_split("train", limit=5)) == 5
    with pytest.raises(ValueError):
        load_split("test")


@needs_codiesp
@pytest.mark.slow
def test_eval_cli_json_on_a_few_documents():
    out = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "eval", "coding", "--split", "dev", "--limit", "4", "--json"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    report = json.loads(out.stdout)
    assert report["documents"] == 4 and report["split"] == "dev"
    for system in (CM, PCS):
        for level in ("full", "category"):
            s = report["results"][system][level]
            assert 0.0 <= s["map"] <= 1.0 and 0.0 <= s["f1"] <= 1.0
            assert s["recall_at_5"] <= s["recall_at_10"]
    assert report["results"][CM]["full"]["gold"] > 0
