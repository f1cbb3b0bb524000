"""CPU accounting from /proc (Linux): who burnt the CPU during a round.

Used between rounds only (never on the request path): the gunicorn master and its workers,
the PostgreSQL backends connected to the bench database (found by their process title, so no
database query disturbs the statement counters), and the whole machine from /proc/stat.
"""

import os
from dataclasses import dataclass, field

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    # The command name is in parentheses and may contain spaces: split after the last ')'.
    return data[data.rindex(b")") + 2 :].decode().split()


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def cpu_ticks(pid: int) -> int | None:
    """utime + stime of one process, in clock ticks; None if it is gone."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    return int(fields[11]) + int(fields[12])


def parent_pid(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return None if fields is None else int(fields[1])


def process_tree(root: int) -> dict[int, int]:
    """``{pid: ticks}`` of ``root`` and its direct children (gunicorn master and workers)."""
    result = {}
    for pid in _pids():
        fields = _stat_fields(pid)
        if fields is None:
            continue
        if pid == root or int(fields[1]) == root:
            result[pid] = int(fields[11]) + int(fields[12])
    return result


def postgres_backends(dbname: str) -> dict[int, int]:
    """``{pid: ticks}`` of the PostgreSQL backends whose process title names ``dbname``.

    A backend's title is ``postgres: 15/main: USER DBNAME HOST(PORT) STATE``.
    """
    needle = f" {dbname} ".encode()
    result = {}
    for pid in _pids():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                cmdline = fh.read(300)
        except OSError:
            continue
        if cmdline.startswith(b"postgres: ") and needle in cmdline:
            ticks = cpu_ticks(pid)
            if ticks is not None:
                result[pid] = ticks
    return result


def machine_ticks() -> tuple[int, int]:
    """``(busy, total)`` ticks of all CPUs together, from /proc/stat."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (values + [0] * 8)[:8]
    busy = user + nice + system + irq + softirq + steal
    return busy, busy + idle + iowait


@dataclass
class CpuSample:
    gunicorn: dict[int, int] = field(default_factory=dict)
    postgres: dict[int, int] = field(default_factory=dict)
    machine_busy: int = 0
    machine_total: int = 0


def sample(gunicorn_master: int, dbname: str) -> CpuSample:
    busy, total = machine_ticks()
    return CpuSample(
        gunicorn=process_tree(gunicorn_master),
        postgres=postgres_backends(dbname),
        machine_busy=busy,
        machine_total=total,
    )


def _delta(before: dict[int, int], after: dict[int, int]) -> int:
    # A process started during the interval counts from zero; one that ended during it is lost
    # (PostgreSQL backends are replaced when Django's CONN_MAX_AGE expires: a few ticks at most).
    return sum(ticks - before.get(pid, 0) for pid, ticks in after.items())


def cpu_seconds(before: CpuSample, after: CpuSample) -> dict[str, float]:
    """CPU seconds spent between two samples: gunicorn, postgres, machine busy and capacity."""
    return {
        "gunicorn": _delta(before.gunicorn, after.gunicorn) / CLK_TCK,
        "postgres": _delta(before.postgres, after.postgres) / CLK_TCK,
        "machine_busy": (after.machine_busy - before.machine_busy) / CLK_TCK,
        "machine_total": (after.machine_total - before.machine_total) / CLK_TCK,
    }
