import os
import sys
import tempfile
from pathlib import Path

import torch as th

# One torch thread: faster for these small networks, and two threads on two cores stall at times.
th.set_num_threads(1)
# One SB3 log folder for the suite's thousands of learn() calls, as for the command's processes
os.environ.setdefault("SB3_LOGDIR", os.path.join(tempfile.gettempdir(), "SB3-sb3-pg-tests"))
sys.path.insert(0, str(Path(__file__).parent))


def pytest_addoption(parser) -> None:  # type: ignore[no-untyped-def]
    parser.addoption(
        "--gradient-precision",
        type=float,
        default=None,
        help="the standard error of the ratio to the exact gradient that the gradient tests reach "
        "(default: each test's; 0.01 makes a 5%% bias fail them: docs/maths.md)",
    )


def pytest_configure(config) -> None:  # type: ignore[no-untyped-def]
    import gradient_check

    precision = config.getoption("--gradient-precision")
    if precision is not None:
        gradient_check.PRECISION_OVERRIDE = precision
