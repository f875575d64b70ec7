"""The benchmarks' wait for a quiet machine (``bench.runner.wait_for_quiet_machine``)."""

import itertools

from bench import runner


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def cpus_busy(monkeypatch, shares):
    """Each second the two CPUs are busy by the next share."""
    clock = FakeClock()
    monkeypatch.setattr(runner, "time", clock)
    totals = itertools.accumulate(itertools.chain([0], itertools.repeat(2)))
    busy = itertools.accumulate(itertools.chain([0], (2 * share for share in shares)))
    monkeypatch.setattr(runner, "machine_cpu_seconds", lambda: (next(busy), next(totals), 0.0))
    return clock


def test_measuring_waits_until_the_cpus_have_been_quiet_three_seconds_in_a_row(monkeypatch):
    clock = cpus_busy(monkeypatch, [0.9, 0.5, 0.05, 0.9, 0.05, 0.1, 0.02, 0.9])

    quiet = runner.wait_for_quiet_machine()

    assert clock.now == 7  # the quiet run began in the fifth second
    assert quiet == {"waited_s": 7.0, "busy_share": 0.02}


def test_a_machine_that_stays_busy_is_measured_after_the_limit_and_said_so(monkeypatch, capsys):
    cpus_busy(monkeypatch, itertools.repeat(0.6))

    quiet = runner.wait_for_quiet_machine(limit_s=10)

    assert quiet == {"waited_s": 10.0, "busy_share": 0.6}
    assert "still 60% busy after 10 s" in capsys.readouterr().out
