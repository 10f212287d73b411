"""benchmarks/probe_entry.py: bad input exits 2 naming the argument; --summarize prints each probe's
final-return IQM and its probability of improvement over another probe."""

import json
import subprocess
import sys

import pytest


def probe(*argv):
    return subprocess.run([sys.executable, "benchmarks/probe_entry.py", *argv], capture_output=True, text=True)


@pytest.fixture
def probes(tmp_path):
    """Two probes over seeds 0-4: 'low' ends at 1..5, 'high' at 11..15; seed 2 of 'low' is probed twice."""
    path = tmp_path / "probes.jsonl"
    lines = [{"name": "low", "seed": s, "returns": [-1.0, float(s + 1)]} for s in range(5)]
    lines.insert(2, {"name": "low", "seed": 2, "returns": [100.0]})  # replaced by the later line of seed 2
    lines += [{"name": "high", "seed": s, "returns": [float(s + 11)], "train_seconds": 1} for s in range(5)]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return path


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--algo", "no_such_algo", "--env", "CartPoleNoVel-v1"], "--algo"),
        (["--algo", "recurrent_a2c", "--env", "CartPoleNoVel-v1", "--hyperparams", "[1, 2]"], "--hyperparams"),
        (["--algo", "recurrent_a2c"], "--env"),
        (["--algo", "recurrent_a2c", "--env", "CartPoleNoVel-v1", "--against", "x"], "--against"),
        (["--summarize", "no/such/file.jsonl"], "--summarize"),
    ],
)
def test_bad_input_exits_2(argv, message):
    done = probe(*argv)
    assert done.returncode == 2 and message in done.stderr.strip().splitlines()[-1]


def test_summarize(probes):
    done = probe("--summarize", str(probes), "--against", "low")
    assert done.returncode == 0, done.stderr
    low, high = done.stdout.strip().splitlines()
    # rliable's IQM of five scores is the mean of the middle three
    assert low == "low: seeds 0 1 2 3 4; final 1.0 2.0 3.0 4.0 5.0; IQM 3.0 [1.3, 4.7]"
    assert high.startswith("high: seeds 0 1 2 3 4; final 11.0 12.0 13.0 14.0 15.0; IQM 13.0 [")
    assert high.endswith("; P(better than low) 1.00")


@pytest.mark.parametrize("against, message", [("nope", "--against: 'nope' is not a probe"), (None, "not a probe line")])
def test_summarize_bad_input_exits_2(probes, against, message):
    if against is None:
        probes.write_text(probes.read_text() + '{"name": "broken", "seed": 0}\n')
    done = probe("--summarize", str(probes), *(["--against", against] if against else []))
    assert done.returncode == 2 and message in done.stderr.strip().splitlines()[-1]
