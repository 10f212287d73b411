"""The benchmark scripts still run (a tiny smoke run: their figures are not checked, only their shape)."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

from benchmarks import solve_time, throughput


def test_throughput_measures_every_case_of_every_vec_env(monkeypatch):
    monkeypatch.setattr(throughput, "steps_per_repetition", lambda n_envs: 200)
    monkeypatch.setattr(throughput, "peak_memory_mb", lambda *args: 1.0)
    results = throughput.run("CartPole-v1", n_envs=2, repetitions=2, kinds=("dummy", "gymnasium-native"))
    assert [result["vec_env"] for result in results] == ["dummy", "gymnasium-native"]
    for result in results:
        assert set(result["rates"]) == set(throughput.CASES)
        for case in throughput.CASES:
            assert len(result["rates"][case]) == 2 and all(rate > 0 for rate in result["rates"][case])
            # time outside the env: positive, and less than the whole step
            for rate, outside_env in zip(result["rates"][case], result["framework_us_per_step"][case], strict=True):
                assert 0 < outside_env < 1e6 / rate
    table = throughput.table(results)
    assert all(f"| {case} |" in table for case in throughput.CASES) and "| gymnasium-native |" in table
    goals = throughput.goals(results)
    assert "SB3's A2C at its best on dummy" in goals and "pg_a2c on gymnasium-native x2" in goals


def test_peak_memory_runs_in_a_fresh_process():
    assert 100 < throughput.peak_memory_mb("pg_a2c", "CartPole-v1", 2, 100, "gymnasium-native") < 4096


def test_solve_time_times_training_only_and_finds_the_held_threshold(monkeypatch):
    monkeypatch.setattr(solve_time, "THRESHOLD", 0.0)  # every evaluation holds it: solved at the first
    result = solve_time.run("pg_a2c_native_64", seed=0, timesteps=2_048, eval_freq=1_024)  # 64 envs x 16 steps
    assert [record["steps"] for record in result["evaluations"]] == [1_024, 2_048]
    assert result["solved_steps"] == 1_024 and result["solved_seconds"] == result["evaluations"][0]["seconds"]
    assert 0 < result["solved_seconds"] < result["training_seconds"]
    assert "| pg_a2c_native_64 | gymnasium-native | 64 | 1/1 |" in solve_time.summary([result])
    assert json.loads(json.dumps(result))["hyperparameters"] == solve_time.CASES["pg_a2c_native_64"][3]  # as written
