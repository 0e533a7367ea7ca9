"""One line that says which machine a benchmark ran on (printed with every measured figure)."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def describe() -> str:
    """E.g. ``2 cores AMD EPYC 7B13, 24 GiB, Linux 6.1.0``."""
    import psutil

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores {cpu}, {psutil.virtual_memory().total / 1024**3:.0f} GiB, {platform.system()} {platform.release()}"
