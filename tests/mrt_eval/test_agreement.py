"""Two coders on the dictation set: the second reading (tests/data/dictation/second_reading.jsonl)
and the agreement report (mrt_eval/coding/agreement.py, ``mrt eval agreement``)."""

from __future__ import annotations

import json
import re

import pytest

from mrt_eval.coding.agreement import (
    SECOND_READING_FILE,
    agreement,
    code_group,
    load_second_reading,
    score_sets,
)
from mrt_eval.coding.dictation import DictationNote, GoldCode, NoteType, load_gold
from pipeline.code.types import CM, PCS


def _note(note_id: str, *codes: str, note_type: NoteType = NoteType.CLINIC_NOTE) -> DictationNote:
    return DictationNote(
        note_id, "0" * 64, note_type, "outpatient", "dev", tuple(GoldCode(c, CM, "a rationale line") for c in codes)
    )


def test_set_scores_are_micro_averaged_over_notes():
    s = score_sets([({"I10", "E11.9"}, {"I10"}), ({"J18.9"}, {"J18.9", "R05.9", "R50.9"})])
    assert (s.notes, s.reference, s.compared, s.both) == (2, 3, 4, 2)
    assert s.precision == pytest.approx(0.5) and s.recall == pytest.approx(2 / 3)
    assert s.f1 == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert score_sets([(set(), set())]).f1 == 0.0


def test_code_groups_follow_the_chapters_coders_differ_on():
    assert code_group("Z79.01") == "status_and_history"
    assert code_group("R50.9") == "symptoms_and_findings"
    assert code_group("W01.0XXA") == "external_causes" and code_group("Y92.009") == "external_causes"
    assert code_group("J18.9") == "diagnoses"


def test_agreement_scores_the_second_reading_and_the_product_between_the_two():
    first = [_note("1", "J18.9", "I10", "Z87.891"), _note("2", "S52.502A", "W01.0XXA", note_type=NoteType.ED_NOTE)]
    second = [_note("1", "J18.9", "I10"), _note("2", "S52.502A", "Y92.009", note_type=NoteType.ED_NOTE), _note("9", "A00.0")]
    product = {"1": {"J18.9", "R05.9"}, "2": {"S52.502A"}}
    r = agreement(first, second, product)
    assert r["notes"] == 2  # note 9 is not in the first reading
    full = r["second_vs_first"]["full"]
    assert (full["reference"], full["compared"], full["both"]) == (5, 4, 3)
    assert r["by_note_type"]["ed_note"]["both"] == 1
    assert r["by_code_group"]["status_and_history"]["recall"] == 0.0
    assert r["by_code_group"]["diagnoses"]["f1"] == 1.0
    # both coders assign J18.9, I10 and S52.502A; the product has J18.9 and S52.502A
    assert r["product"]["recall_of_codes_both_assign"] == pytest.approx(2 / 3)
    # either coder: J18.9, I10, Z87.891, S52.502A, W01.0XXA, Y92.009; the product's R05.9 is neither's
    assert r["product"]["precision_against_codes_either_assigns"] == pytest.approx(2 / 3)
    assert r["product"]["vs_first"]["recall"] == pytest.approx(2 / 5)


def test_a_second_reading_of_another_text_is_an_error(tmp_path):
    gold = load_gold()
    n = gold[0]
    p = tmp_path / "second.jsonl"
    p.write_text(
        json.dumps({"note_id": n.note_id, "sha256": "f" * 64, "codes": [{"code": "I10", "system": CM, "rationale": "x" * 20}]})
        + "\n"
    )
    with pytest.raises(ValueError, match="text hash"):
        load_second_reading(p)
    with pytest.raises(FileNotFoundError):
        load_second_reading(tmp_path / "none.jsonl")


@pytest.fixture(scope="module")
def second():
    return load_second_reading()


def test_the_second_reading_covers_the_dev_notes_only(second):
    gold = {n.note_id: n for n in load_gold()}
    assert {n.split for n in second} == {"dev"}
    assert {n.note_id for n in second} == {i for i, n in gold.items() if n.split == "dev"}
    raw = [json.loads(line) for line in SECOND_READING_FILE.read_text().splitlines() if line.strip()]
    assert all(d["sha256"] == gold[d["note_id"]].sha256 for d in raw)


def test_every_second_reading_code_is_billable_with_a_rationale(second):
    from pipeline.code.lookup.codeset import get_codeset

    cs = get_codeset()
    for n in second:
        assert len({(c.system, c.code) for c in n.codes}) == len(n.codes), n.note_id
        for c in n.codes:
            assert c.rationale.strip(), (n.note_id, c.code)  # the Index path, at least ("Snoring")
            if c.system == CM:
                assert cs.cm_is_billable(c.code), (n.note_id, c.code)
            else:
                assert c.system == PCS and re.fullmatch(r"[0-9A-HJ-NP-Z]{7}", c.code) and cs.pcs_is_valid(c.code), (
                    n.note_id,
                    c.code,
                )


def test_the_agreement_command_reports_the_two_readings():
    from typer.testing import CliRunner

    from pipeline.cli import app

    r = CliRunner().invoke(app, ["eval", "agreement", "--no-product", "--json"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.output.strip().splitlines()[-1])
    full = report["second_vs_first"]["full"]
    assert report["notes"] == 36 and full["reference"] > 100 and 0.0 < full["f1"] < 1.0
    assert set(report["by_code_group"]) == {"diagnoses", "status_and_history", "symptoms_and_findings", "external_causes"}
    r = CliRunner().invoke(app, ["eval", "agreement", "--split", "test", "--no-product"])
    assert r.exit_code == 2 and "covers no test note" in r.output
