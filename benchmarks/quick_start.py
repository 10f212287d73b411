"""Wall-clock time of README's Quick start, each run in a fresh process, with torch's default number
of threads and with one thread (``torch.set_num_threads(1)`` before the Quick start's code).

Usage: python benchmarks/quick_start.py [--repetitions 2] [--out benchmarks/results/quick-start.json]

The Quick start's code is read from README.md (its first ``python`` block) and run as it is, so the
figure is the one a user meets. The cases alternate (default, one thread, default, ...). The
library itself never changes torch's global settings: this measures what a user's own script gets.
"""

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch as th

README = Path(__file__).resolve().parents[1] / "README.md"
CASES = {"default threads": "", "one thread": "import torch\ntorch.set_num_threads(1)\n"}


def quick_start_code() -> str:
    """The first ``python`` block of README.md, without the line that saves a file."""
    match = re.search(r"```python\n(.*?)```", README.read_text(), re.S)
    if match is None:
        raise SystemExit("README.md has no python block")
    return "\n".join(line for line in match.group(1).splitlines() if ".save(" not in line) + "\n"


def time_case(prelude: str, code: str) -> float:
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", prelude + code], cwd=folder, check=True)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    code = quick_start_code()
    print(f"torch {th.__version__}, default threads here: {th.get_num_threads()}\n--- Quick start ---\n{code}---")
    seconds: dict[str, list[float]] = {name: [] for name in CASES}
    for repetition in range(args.repetitions):
        for name, prelude in CASES.items():
            seconds[name].append(time_case(prelude, code))
            print(f"round {repetition + 1}, {name}: {seconds[name][-1]:.1f} s", flush=True)
    for name, values in seconds.items():
        print(f"{name}: median {statistics.median(values):.1f} s ({', '.join(f'{v:.1f}' for v in values)})")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"default_threads": th.get_num_threads(), "seconds": seconds}, indent=2))


if __name__ == "__main__":
    main()
