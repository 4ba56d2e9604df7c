"""How many cores this process may use: the size for ONNX Runtime's thread pools.

`os.cpu_count()` is the host's count. A container limited by a CPU quota, or a
process pinned to some cores, that sizes its pools from it runs more threads
than it has cores, and they wait on each other. The smaller of the affinity
mask and the cgroup quota is what the process really gets.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

__all__ = ["cgroup_quota", "cores"]

#: cgroup v2 (`max 100000` or `150000 100000`) and v1 (quota and period in two files)
CGROUP_V2 = Path("/sys/fs/cgroup/cpu.max")
CGROUP_V1 = (
    Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"),
    Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us"),
)


def cgroup_quota(v2: Path = CGROUP_V2, v1: tuple[Path, Path] = CGROUP_V1) -> int | None:
    """Whole cores the cgroup's quota allows (rounded up), or None without a quota."""
    try:
        if v2.is_file():
            quota, period = v2.read_text().split()[:2]
        elif v1[0].is_file():
            quota, period = v1[0].read_text().strip(), v1[1].read_text().strip()
        else:
            return None
        if quota in ("max", "-1"):
            return None
        return max(1, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        return None


def cores() -> int:
    """Cores this process may run on: its affinity mask, capped by a cgroup CPU quota."""
    allowed = (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )
    quota = cgroup_quota()
    return min(allowed, quota) if quota is not None else allowed
