"""The benchmark scripts still run (a tiny smoke run: their figures are not checked, only their shape)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent))

from benchmarks import throughput


def test_throughput_measures_every_case(monkeypatch):
    monkeypatch.setattr(throughput, "steps_per_repetition", lambda n_envs: 200)
    monkeypatch.setattr(throughput, "peak_memory_mb", lambda *args: 1.0)
    result = throughput.run("CartPole-v1", n_envs=2, repetitions=2)
    assert set(result["rates"]) == set(throughput.CASES)
    for case in throughput.CASES:
        assert len(result["rates"][case]) == 2 and all(rate > 0 for rate in result["rates"][case])
        # time outside the env: positive, and less than the whole step
        for rate, outside_env in zip(result["rates"][case], result["framework_us_per_step"][case], strict=True):
            assert 0 < outside_env < 1e6 / rate
    table = throughput.table([result])
    assert all(f"| {case} |" in table for case in throughput.CASES)


@pytest.mark.parametrize("algo", ["pg_a2c"])
def test_peak_memory_runs_in_a_fresh_process(algo):
    assert 100 < throughput.peak_memory_mb(algo, "CartPole-v1", 1, 100) < 4096
