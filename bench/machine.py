"""Describe the machine a benchmark ran on, for the line each benchmark prints first."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def describe(*extras: str) -> str:
    """CPU model, cores, Python version, and any `extras` (library versions)."""
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    parts = [cpu, f"{os.cpu_count()} cores", f"Python {platform.python_version()}", *extras]
    return ", ".join(parts)
