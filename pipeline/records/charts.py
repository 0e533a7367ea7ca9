"""Report charts drawn on the server with matplotlib (Agg) as PNG: the review app serves them
from its own route (the CSP allows images from 'self'), the nightly flow writes them to files."""

from __future__ import annotations

import io

from pipeline.records.reports import Report

CHARTS = {
    "chapters": ("chapters", 0, 2, "Records by ICD-10-CM chapter"),
    "codes": ("codes", 0, 2, "Top ICD-10-CM codes (records)"),
    "procedures": ("procedures", 0, 2, "Top ICD-10-PCS procedures (records)"),
    "physicians": ("physicians", 0, 1, "Records by physician"),
    "periods": ("periods", 0, 1, "Records by period of service"),
}


def _chapter_label(chapter: str, title: str) -> str:
    """'4', 'Endocrine, nutritional and metabolic diseases (E00-E89)' -> two short lines."""
    import textwrap

    lines = textwrap.wrap(f"{chapter}. {str(title).split(' (')[0]}", 34)
    return "\n".join(lines[:2]) + ("…" if len(lines) > 2 else "")


def chart_png(report: Report, kind: str, width: float = 7.5, dpi: int = 96) -> bytes:
    if kind not in CHARTS:
        raise ValueError(f"chart must be one of {', '.join(CHARTS)}")
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    table_name, label_col, value_col, title = CHARTS[kind]
    rows = report.table(table_name).rows[:15]
    labels = [str(r[label_col]) if kind != "chapters" else _chapter_label(r[0], r[1]) for r in rows]
    values = [r[value_col] or 0 for r in rows]
    fig = Figure(figsize=(width, max(2.2, (0.5 if kind == "chapters" else 0.38) * len(rows) + 1.2)), dpi=dpi)
    ax = fig.add_subplot()
    from matplotlib.ticker import MaxNLocator

    (ax.yaxis if kind == "periods" else ax.xaxis).set_major_locator(MaxNLocator(integer=True))
    if rows:
        if kind == "periods":
            ax.bar(labels, values, color="#3b6ea8")
            ax.tick_params(axis="x", labelrotation=45, labelsize=8)
        else:
            ax.barh(labels[::-1], values[::-1], color="#3b6ea8")
            ax.tick_params(axis="y", labelsize=8)
            for i, v in enumerate(values[::-1]):
                ax.text(v, i, f" {v}", va="center", fontsize=8)
    else:
        ax.text(0.5, 0.5, "no records in this period", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    span = f"{report.start or '…'} to {report.end or '…'}" if report.start or report.end else "all dates of service"
    codes = "" if report.final_only or kind in ("physicians", "periods") else "; final and provisional codes"
    ax.set_title(f"{title}, {span}{codes}", fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
