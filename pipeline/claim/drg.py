"""MS-DRG grouping with CMS's logic: the ``msdrg`` package (mz-drg, MIT), a line-by-line port of
the CMS Java MS-DRG grouper and MCE that its authors validated claim by claim against the Java
originals (50,000+ claims, 100% match). It runs offline (a shared library and an LMDB file inside
the wheel). Pinned: ``msdrg==1.2.0`` and grouper version 431 (MS-DRG v43.1, FY2026, April 2026
update), the fiscal year of the FY2026 code sets the coder uses (``Settings.ms_drg_version``).

Relative weights are not in the grouper: they come from CMS FY2026 IPPS Final Rule Table 5
(``data/ms_drg_weights_fy2026.tsv``; ``scripts/build_claim_data.py``). Weights are per fiscal
year, so v43.0 and v43.1 share them.

:func:`group` gives the DRG, MDC, weight and the secondary diagnoses that drive it (the CC or MCC
the grouper marked as affecting the final DRG); :func:`what_if` regroups with the principal
changed or codes removed; :func:`mce_findings` runs the Medicare Code Editor and returns the
edits the local coding edits (``pipeline.code.edits.checks``) do not already give.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from pathlib import Path

from pipeline.claim.poa import Poa, undotted

log = logging.getLogger(__name__)
DATA_DIR = Path(__file__).parent / "data"
GROUPER_PACKAGE = "msdrg"
DEFAULT_VERSION = 431
VERSION_FY = {400: 2023, 401: 2023, 410: 2024, 411: 2024, 420: 2025, 421: 2025, 430: 2026, 431: 2026, 440: 2027}
SEX_CODE = {"M": 0, "F": 1}  # anything else: 2 (unknown)
#: MCE edits the local coding edits already report with the codes named (pipeline.code.edits.checks)
MCE_COVERED_LOCALLY = frozenset(
    {
        "INVALID_CODE",
        "SEX_CONFLICT",
        "AGE_CONFLICT",
        "E_CODE_AS_PDX",
        "MANIFESTATION_AS_PDX",
        "UNACCEPTABLE_PDX",
        "QUESTIONABLE_ADMISSION",
    }
)
#: MCE edits that make the claim wrong as coded (the rest are payer-side coverage reviews: warnings)
MCE_ERRORS = frozenset(
    {"DUPLICATE_OF_PDX", "INVALID_DISCHARGE_STATUS", "WRONG_PROCEDURE_PERFORMED", "INVALID_AGE", "INVALID_SEX"}
)


class GrouperError(RuntimeError):
    pass


@dataclass(frozen=True)
class DrgWeight:
    drg: int
    weight: float
    gmlos: float | None
    amlos: float | None
    post_acute: bool
    title: str


@lru_cache(maxsize=1)
def drg_weights() -> dict[int, DrgWeight]:
    out = {}
    for line in (DATA_DIR / "ms_drg_weights_fy2026.tsv").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#") or line.startswith("drg\t"):
            continue
        drg, _mdc, _type, w, g, a, post, _special, title = line.split("\t")
        out[int(drg)] = DrgWeight(
            int(drg),
            float(w),
            float(g) if g not in ("", ".") else None,
            float(a) if a not in ("", ".") else None,
            post == "Yes",
            title,
        )
    return out


@dataclass(frozen=True)
class GroupingInput:
    principal: str
    secondary: tuple[tuple[str, Poa | None], ...] = ()  # (code, POA) in reported order
    procedures: tuple[str, ...] = ()
    age: int = 65
    sex: str | None = None  # M | F | other
    discharge_status: str = "01"
    principal_poa: Poa | None = None
    discharge_date: date | None = None

    def without(self, *codes: str) -> GroupingInput:
        drop = {undotted(c) for c in codes}
        return replace(
            self,
            secondary=tuple(s for s in self.secondary if undotted(s[0]) not in drop),
            procedures=tuple(p for p in self.procedures if undotted(p) not in drop),
        )

    def with_principal(self, code: str) -> GroupingInput:
        """The same stay with ``code`` as principal; the old principal becomes a secondary."""
        if undotted(code) == undotted(self.principal):
            return self
        rest = tuple(s for s in self.secondary if undotted(s[0]) != undotted(code))
        new_poa = next((p for c, p in self.secondary if undotted(c) == undotted(code)), None)
        return replace(self, principal=code, principal_poa=new_poa, secondary=((self.principal, self.principal_poa),) + rest)

    def replacing(self, old: str, new: str) -> GroupingInput:
        """The same stay with one diagnosis code changed (the answer to a query)."""
        if undotted(old) == undotted(self.principal):
            return replace(self, principal=new)
        return replace(self, secondary=tuple((new if undotted(c) == undotted(old) else c, p) for c, p in self.secondary))

    def adding(self, code: str, poa: Poa | None = Poa.YES) -> GroupingInput:
        if undotted(code) == undotted(self.principal) or any(undotted(c) == undotted(code) for c, _ in self.secondary):
            return self
        return replace(self, secondary=self.secondary + ((code, poa),))


@dataclass(frozen=True)
class DrgDriver:
    code: str
    severity: str  # CC | MCC
    role: str  # principal | secondary


@dataclass(frozen=True)
class DrgResult:
    drg: int | None
    drg_title: str | None
    mdc: int | None
    mdc_title: str | None
    weight: float | None
    gmlos: float | None
    severity: str  # MCC | CC | NONE: the level the final DRG was grouped at
    drivers: tuple[DrgDriver, ...]  # the CC/MCC codes the grouper marked as changing the final DRG
    cc_mcc_codes: tuple[tuple[str, str], ...]  # every secondary CC/MCC (code, level), driving or not
    return_code: str
    initial_drg: int | None
    hac_codes: tuple[str, ...]  # secondary codes whose hospital-acquired condition criteria were met
    grouper: str  # package and version, e.g. "msdrg 1.2.0 v431"

    @property
    def groupable(self) -> bool:
        return self.return_code == "OK" and self.drg not in (None, 998, 999)


@dataclass(frozen=True)
class WhatIf:
    change: str  # what was changed, in words
    before: DrgResult
    after: DrgResult

    @property
    def drg_changed(self) -> bool:
        return self.before.drg != self.after.drg

    @property
    def weight_delta(self) -> float | None:
        if self.before.weight is None or self.after.weight is None:
            return None
        return round(self.after.weight - self.before.weight, 4)


_lock = threading.Lock()
_grouper = None
_mce = None


def grouper_version_text(version: int) -> str:
    import msdrg

    return f"{GROUPER_PACKAGE} {getattr(msdrg, '__version__', '?')} v{version} (MS-DRG {version // 10}.{version % 10}, FY{VERSION_FY.get(version, '?')})"


def _engines():
    global _grouper, _mce
    with _lock:
        if _grouper is None:
            import atexit

            import msdrg

            _grouper = msdrg.MsdrgGrouper()
            _mce = msdrg.MceEditor()
            atexit.register(_close)
        return _grouper, _mce


def _close() -> None:
    global _grouper, _mce
    with _lock:
        for engine in (_grouper, _mce):
            if engine is not None:
                engine.close()
        _grouper = _mce = None


def _poa_for_grouper(poa: Poa | None) -> str:
    """The grouper takes Y/N/U/W or blank; an exempt code (1) is reported blank (UB-04 paper)."""
    if poa is None or poa == Poa.EXEMPT:
        return " "
    return poa.value


def _claim(inp: GroupingInput, version: int) -> dict:
    claim = {
        "version": version,
        "age": max(0, min(124, int(inp.age))),
        "sex": SEX_CODE.get((inp.sex or "").upper()[:1], 2),
        "discharge_status": int(inp.discharge_status or "1"),
        "pdx": {"code": undotted(inp.principal), "poa": _poa_for_grouper(inp.principal_poa)},
        "sdx": [{"code": undotted(c), "poa": _poa_for_grouper(p)} for c, p in inp.secondary],
        "procedures": [{"code": undotted(p)} for p in inp.procedures],
    }
    if inp.discharge_date is not None:
        claim["discharge_date"] = int(inp.discharge_date.strftime("%Y%m%d"))
    return claim


def group(inp: GroupingInput, version: int = DEFAULT_VERSION) -> DrgResult:
    """Group one stay. Raises :class:`GrouperError` only when the grouper itself fails (bad input
    the grouper cannot read); an ungroupable claim is a result (DRG 999, ``return_code`` says why)."""
    g, _ = _engines()
    try:
        with _lock:  # the native context is shared; msdrg documents it thread-safe, a lock costs nothing here
            out = g.group(_claim(inp, version))
    except (ValueError, RuntimeError) as e:
        raise GrouperError(f"the grouper refused the claim: {e}") from e
    drg = out.get("final_drg")
    w = drg_weights().get(drg) if drg is not None else None
    drivers, cc_mcc, hacs = [], [], []
    final_level = (out.get("grouper_flags") or {}).get("final_drg_secondary_dx_cc_mcc") or "NONE"
    for s in out.get("sdx_output") or []:
        sev = s.get("severity")
        hac = any(h.get("hac_status") == "HAC_CRITERIA_MET" for h in s.get("hacs") or [])
        if hac:
            hacs.append(s["code"])  # its CC/MCC is disregarded for the final DRG (HAC payment rule)
        if sev in ("CC", "MCC"):
            cc_mcc.append((s["code"], sev))
            if s.get("drg_impact") in ("FINAL", "BOTH") and not hac and final_level != "NONE":
                drivers.append(DrgDriver(s["code"], sev, "secondary"))
    return DrgResult(
        drg=drg,
        drg_title=out.get("final_drg_description"),
        mdc=out.get("final_mdc"),
        mdc_title=out.get("final_mdc_description"),
        weight=w.weight if w else None,
        gmlos=w.gmlos if w else None,
        severity=final_level,
        drivers=tuple(sorted(drivers, key=lambda d: (d.severity != "MCC", d.code))),
        cc_mcc_codes=tuple(cc_mcc),
        return_code=str(out.get("return_code")),
        initial_drg=out.get("initial_drg"),
        hac_codes=tuple(hacs),
        grouper=grouper_version_text(version),
    )


def what_if(
    inp: GroupingInput, *, principal: str | None = None, remove: tuple[str, ...] = (), version: int = DEFAULT_VERSION
) -> WhatIf:
    """Regroup with another principal and/or codes removed; before and after side by side."""
    changed = inp
    words = []
    if principal:
        changed = changed.with_principal(principal)
        words.append(f"principal {principal}")
    if remove:
        changed = changed.without(*remove)
        words.append("without " + ", ".join(remove))
    return WhatIf("; ".join(words) or "no change", group(inp, version), group(changed, version))


@dataclass(frozen=True)
class MceEdit:
    name: str  # the MCE's edit name, e.g. NON_COVERED
    severity: str  # error | warning
    code_type: str  # DIAGNOSIS | PROCEDURE
    count: int
    message: str


def mce_edits(inp: GroupingInput, discharge_date: date | None = None) -> list[MceEdit]:
    """The Medicare Code Editor's edits on the stay that the local coding edits do not already give."""
    _, m = _engines()
    claim = _claim(inp, DEFAULT_VERSION)
    claim.pop("version", None)
    claim["discharge_date"] = int((discharge_date or inp.discharge_date or date.today()).strftime("%Y%m%d"))
    with _lock:
        out = m.edit(claim)
    found = []
    for e in out.get("edits") or []:
        name = str(e.get("name"))
        if name in MCE_COVERED_LOCALLY:
            continue
        words = name.replace("_", " ").lower()
        found.append(
            MceEdit(
                name,
                "error" if name in MCE_ERRORS else "warning",
                str(e.get("code_type")),
                int(e.get("count") or 1),
                f"Medicare Code Editor: {words} ({e.get('count', 1)} {str(e.get('code_type', '')).lower()} code(s); {str(e.get('edit_type', '')).lower()} edit)",
            )
        )
    return found
