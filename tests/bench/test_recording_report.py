"""The decision-log phase's report: ratios taken within each cycle, not between medians."""

from bench.recording import ModeResult, lines, round_lines


def result(rps, gunicorn=(800,), postgres=(100,)):
    rounds = len(rps)
    return ModeResult(
        rps=list(rps),
        cpu_us=[g + p for g, p in zip(gunicorn * rounds, postgres * rounds, strict=False)],
        gunicorn_us=list(gunicorn * rounds),
        postgres_us=list(postgres * rounds),
    )


def test_the_ratio_is_the_median_of_each_cycles_ratio():
    # The machine slows down in the third cycle: both modes drop, their ratio does not.
    results = {
        "queued": result([950, 930, 475]),
        "before each answer": result([700, 720, 350]),
        "off": result([1000, 1000, 500]),
    }
    (line,) = lines(results, "token")
    assert "medians of 3 cycles" in line
    # Median of 0.95, 0.93, 0.95: 0.95 (the ratio of the medians would be 930/1000 = 0.93).
    assert "**0.95x** the throughput of off (range 0.93-0.95)" in line
    assert "**0.70x** the throughput of off (range 0.70-0.72)" in line


def test_each_round_is_shown():
    results = {"queued": result([950]), "off": result([1000])}
    shown = round_lines(results)
    assert len(shown) == 3
    assert shown[1].split()[:3] == ["1", "queued", "950"]
    assert shown[2].split()[:3] == ["1", "off", "1,000"]
