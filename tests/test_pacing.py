"""core.pacing: bulk work pauses while others wait for the CPUs (Linux PSI), and only then."""

import os
from pathlib import Path

import pytest

from core.pacing import CPU_PRESSURE, MAX_PAUSE, CpuPacer, cpu_stall_microseconds


class Clock:
    """The time the pacer reads, moved by the test (and by the pacer's pauses)."""

    def __init__(self):
        self.now = 100.0
        self.pauses = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


def write_pressure(path: Path, stalled_us: int) -> None:
    path.write_text(
        f"some avg10=1.00 avg60=2.00 avg300=3.00 total={stalled_us}\n"
        "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
    )


@pytest.fixture
def pressure(tmp_path):
    path = tmp_path / "cpu"
    write_pressure(path, 5_000_000)
    return path


def test_the_kernels_own_file_is_read():
    """On Linux with PSI (CI's machines), the real file parses; elsewhere there is none."""
    if not CPU_PRESSURE.exists():
        assert os.environ.get("CI") != "true", "CI's kernel has pressure stall information"
        assert cpu_stall_microseconds() is None
        return
    first = cpu_stall_microseconds()
    assert isinstance(first, int) and first >= 0
    assert cpu_stall_microseconds() >= first


def test_contended_work_pauses_for_the_rest_of_its_share(pressure):
    clock = Clock()
    pacer = CpuPacer(0.1, path=pressure, clock=clock, sleep=clock.sleep)
    clock.now += 0.010  # 10 ms of work, during which others waited 5 ms
    write_pressure(pressure, 5_005_000)
    pacer.pace()
    assert clock.pauses == [pytest.approx(0.090)]  # 10 ms of every 100 ms
    assert pacer.paused == pytest.approx(0.090)


def test_the_pause_is_bounded(pressure):
    clock = Clock()
    pacer = CpuPacer(0.1, path=pressure, clock=clock, sleep=clock.sleep)
    clock.now += 2.0
    write_pressure(pressure, 6_000_000)
    pacer.pace()
    assert clock.pauses == [MAX_PAUSE]


def test_a_quiet_node_never_pauses(pressure):
    """Others waited less than a quarter of the time (an export alone on two CPUs sees under a
    tenth): full speed."""
    clock = Clock()
    pacer = CpuPacer(0.1, path=pressure, clock=clock, sleep=clock.sleep)
    for stalled in (5_000_000, 5_002_400, 5_004_800):
        clock.now += 0.010
        write_pressure(pressure, stalled)
        pacer.pace()
    assert clock.pauses == []


def test_the_time_paused_is_not_counted_as_work(pressure):
    """After a pause, the next piece of work is measured from the pause's end, with the
    stalls counted from then too."""
    clock = Clock()
    pacer = CpuPacer(0.5, path=pressure, clock=clock, sleep=clock.sleep)
    clock.now += 0.010
    write_pressure(pressure, 5_010_000)
    pacer.pace()
    assert clock.pauses == [pytest.approx(0.010)]
    clock.now += 0.010  # quiet now: the stall total has not moved since the pause
    pacer.pace()
    assert len(clock.pauses) == 1


def test_without_psi_or_with_a_full_share_it_never_pauses(pressure, tmp_path):
    clock = Clock()
    missing = CpuPacer(0.1, path=tmp_path / "absent", clock=clock, sleep=clock.sleep)
    full = CpuPacer(1, path=pressure, clock=clock, sleep=clock.sleep)
    clock.now += 0.010
    write_pressure(pressure, 9_000_000)
    missing.pace()
    full.pace()
    assert clock.pauses == []


@pytest.mark.parametrize("text", ["", "full avg10=0 total=5\n", "some avg10=0 total=x\n"])
def test_an_unreadable_file_means_no_psi(tmp_path, text):
    path = tmp_path / "cpu"
    path.write_text(text)
    assert cpu_stall_microseconds(path) is None


@pytest.mark.parametrize("share", [0, -0.5, 1.5])
def test_a_share_outside_0_to_1_is_refused(share):
    with pytest.raises(ValueError):
        CpuPacer(share)


def test_the_csv_export_is_paced_chunk_by_chunk(db, pressure):
    """activity.views.csv_chunks asks the pacer after each chunk it hands to the client."""
    from activity.views import csv_chunks

    clock = Clock()
    pacer = CpuPacer(0.1, path=pressure, clock=clock, sleep=clock.sleep)
    rows = iter([["a", "b"]] * 25)
    stalled = 5_000_000
    chunks = []
    for chunk in csv_chunks(rows, per_chunk=10, pacer=pacer):
        chunks.append(chunk)
        clock.now += 0.010
        stalled += 5_000  # others waited half the time
        write_pressure(pressure, stalled)
    assert "".join(chunks) == "a,b\r\n" * 25
    assert len(chunks) == 3
    assert clock.pauses == [pytest.approx(0.090)] * 2  # after each full chunk
