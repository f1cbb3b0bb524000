"""Pacing for bulk work that shares a node's CPUs with registry traffic (a CSV export of the
whole activity log, say).

The web pool's lower priority (``WEB_POOL_NICE``) decides who runs when two tasks want a CPU at
once. It does not stop a long export from filling every gap the token pool leaves, and those
gaps are where the token pool's workers wake up to answer: an export streaming at a niced
worker's full speed still cost the token pool a sixth of its throughput on two CPUs. So bulk
work also asks the kernel whether others are waiting: Linux's pressure stall information
(``/proc/pressure/cpu``, "some": the time in which at least one task was ready to run but had
no CPU). When others waited for a quarter of a piece of work or more, it pauses long enough
to use at most ``share`` of one CPU's time, and goes at full speed on a quiet node. Where the
file is missing (not Linux, or a kernel without PSI) it never pauses.
"""

import time
from collections.abc import Callable
from pathlib import Path

CPU_PRESSURE = Path("/proc/pressure/cpu")
#: Others waited for a CPU during at least this part of the last piece of work: pause. (Measured
#: on the bench's two CPUs: an export alone on them sees under 0.08 in 50 ms windows, a node
#: saturated by token requests 0.5 and more.)
CONTENDED = 0.25
#: The longest pause after one piece of work (seconds): a stream always makes progress.
MAX_PAUSE = 0.5


def cpu_stall_microseconds(path: Path = CPU_PRESSURE) -> int | None:
    """The kernel's total "some" CPU stall time in µs (the first line of ``path``:
    ``some avg10=0.00 avg60=0.00 avg300=0.00 total=N``); None without PSI."""
    try:
        with path.open("rb") as pressure:
            line = pressure.readline()
    except OSError:
        return None
    head, _, total = line.rpartition(b" total=")
    if not head.startswith(b"some ") or not total.strip().isdigit():
        return None
    return int(total)


class CpuPacer:
    """Call :meth:`pace` after each piece of a bulk stream (a chunk of rows). ``share`` (0 to
    1) is the part of one CPU the stream may use while others wait for a CPU; 1 never pauses.
    ``clock`` and ``sleep`` are ``time.monotonic`` and ``time.sleep`` unless given."""

    def __init__(
        self,
        share: float,
        *,
        path: Path = CPU_PRESSURE,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not 0 < share <= 1:
            raise ValueError(f"share must be more than 0 and at most 1, not {share}")
        self.share, self.path, self.clock, self.sleep = share, path, clock, sleep
        self.paused = 0.0  # seconds paused in all
        self._since = clock()
        self._stalled = cpu_stall_microseconds(path) if share < 1 else None

    def pace(self) -> None:
        """Pause if others waited for a CPU during the work since the last call."""
        if self._stalled is None:
            return
        now, stalled = self.clock(), cpu_stall_microseconds(self.path)
        if stalled is None:
            self._stalled = None
            return
        worked = now - self._since
        if worked > 0 and (stalled - self._stalled) / 1e6 >= CONTENDED * worked:
            pause = min(worked * (1 / self.share - 1), MAX_PAUSE)
            self.sleep(pause)
            self.paused += pause
            now, after = self.clock(), cpu_stall_microseconds(self.path)
            stalled = stalled if after is None else after
        self._since, self._stalled = now, stalled
