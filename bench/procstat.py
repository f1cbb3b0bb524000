"""CPU accounting from /proc (Linux): who burnt the CPU during a round.

Read from outside the server (never on the request path): the gunicorn master and its workers,
the PostgreSQL backends connected to the bench database (found by their process title, so no
database query disturbs the statement counters), and the whole machine from /proc/stat.
"""

import os
import threading
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


class CpuMeter:
    """CPU seconds of gunicorn (master and workers), the bench database's backends and the whole
    machine while the ``with`` block runs.

    Processes are sampled every ``interval`` seconds from a thread: a backend that exits during
    the block (Django replaces its connection every CONN_MAX_AGE seconds) keeps the time it had
    used at its last sample instead of vanishing from the sum. A process started during the
    block counts from zero.
    """

    def __init__(self, gunicorn_master: int, dbname: str, interval: float = 0.25):
        self.master, self.dbname, self.interval = gunicorn_master, dbname, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "CpuMeter":
        self.before = sample(self.master, self.dbname)
        self.latest = CpuSample(dict(self.before.gunicorn), dict(self.before.postgres))
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        last = sample(self.master, self.dbname)
        self._keep(last)
        self.latest.machine_busy, self.latest.machine_total = last.machine_busy, last.machine_total

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._keep(sample(self.master, self.dbname))

    def _keep(self, now: CpuSample) -> None:
        self.latest.gunicorn.update(now.gunicorn)
        self.latest.postgres.update(now.postgres)

    def seconds(self) -> dict[str, float]:
        """Seconds spent in the block: gunicorn, postgres, machine busy and capacity."""
        before, after = self.before, self.latest
        return {
            "gunicorn": _delta(before.gunicorn, after.gunicorn) / CLK_TCK,
            "postgres": _delta(before.postgres, after.postgres) / CLK_TCK,
            "machine_busy": (after.machine_busy - before.machine_busy) / CLK_TCK,
            "machine_total": (after.machine_total - before.machine_total) / CLK_TCK,
        }


def _delta(before: dict[int, int], after: dict[int, int]) -> int:
    return sum(ticks - before.get(pid, 0) for pid, ticks in after.items())
