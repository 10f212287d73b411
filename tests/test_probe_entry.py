"""benchmarks/probe_entry.py (README's issue-18 probes): bad input exits 2 naming the argument."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--algo", "no_such_algo", "--env", "CartPoleNoVel-v1"], "--algo"),
        (["--algo", "recurrent_a2c", "--env", "CartPoleNoVel-v1", "--hyperparams", "[1, 2]"], "--hyperparams"),
    ],
)
def test_bad_input_exits_2(argv, message):
    done = subprocess.run([sys.executable, "benchmarks/probe_entry.py", *argv], capture_output=True, text=True)
    assert done.returncode == 2 and message in done.stderr.strip().splitlines()[-1]
