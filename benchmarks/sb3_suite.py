"""SB3's own test suite with ``sb3_pg.A2C`` in place of SB3's ``A2C``: the tests that fail only with ours.

SB3's test files that use ``A2C`` run twice in one command, each from its own copy of SB3's tests:
as they are (SB3's ``A2C``) and with ``from sb3_pg import A2C`` after their imports (ours in every
place the file names ``A2C``). A test that fails in both is about the installed SB3 against the
checkout's tests, not about our A2C; the ones that fail only with ours are listed.

Usage: python benchmarks/sb3_suite.py --sb3 PATH [--files test_run.py test_save_load.py ...]
           [--out benchmarks/results/sb3-suite] [-n 2]

``PATH`` is a checkout of DLR-RM/stable-baselines3 (``git clone https://github.com/DLR-RM/stable-baselines3``),
or its bare git directory; its ``tests/`` should match the installed SB3's version.
"""

import argparse
import ast
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

VARIANTS = ("sb3", "sb3_pg")
SUBSTITUTION = "from sb3_pg import A2C  # benchmarks/sb3_suite.py: sb3_pg's A2C in place of SB3's\n"


def export_tests(sb3: Path, target: Path) -> None:
    """SB3's ``tests/`` into ``target`` (from a checkout, or with ``git archive`` from a bare git dir)."""
    if (sb3 / "tests").is_dir():
        shutil.copytree(sb3 / "tests", target / "tests")
        return
    target.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "--git-dir", str(sb3), "archive", "HEAD", "tests"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)


def substitute(path: Path) -> bool:
    """Import our ``A2C`` after a test file's last top-level import, where it names SB3's; return whether it did."""
    text = path.read_text()
    tree = ast.parse(text)
    imports_a2c = any(
        isinstance(node, ast.ImportFrom)
        and (node.module or "").startswith("stable_baselines3")
        and any(alias.name == "A2C" for alias in node.names)
        for node in tree.body
    )
    if not imports_a2c:
        return False
    last = max(node.end_lineno or 0 for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom))
    lines = text.splitlines(keepends=True)
    path.write_text("".join([*lines[:last], SUBSTITUTION, *lines[last:]]))
    return True


def files_using_a2c(tests: Path) -> list[str]:
    return sorted(path.name for path in tests.glob("test_*.py") if "A2C" in path.read_text())


@dataclass
class Outcome:
    """What one variant's pytest run did, from its JUnit XML report."""

    ran: int  # test cases collected and run (collection errors of a file count as one each)
    skipped: int
    failed: set[str]  # the failed or erroring test ids


def outcome(report: Path) -> Outcome:
    ran, skipped, failed = 0, 0, set()
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        ran += 1
        if case.find("skipped") is not None:
            skipped += 1
        if case.find("failure") is not None or case.find("error") is not None:
            failed.add(f"{case.get('classname')}::{case.get('name')}")
    return Outcome(ran, skipped, failed)


def run(folder: Path, files: list[str], workers: int) -> Outcome:
    report = folder / "report.xml"
    command = [sys.executable, "-m", "pytest", *[f"tests/{name}" for name in files], "-q", "-p", "no:cacheprovider"]
    # A file that cannot be imported here (an optional dependency, such as ale_py) fails alone: without
    # the flag, one collection error stops the whole run and nothing is compared
    command += ["-p", "no:randomly", f"--junitxml={report}", "-o", "addopts=", "--rootdir", str(folder)]
    command += ["--continue-on-collection-errors"]
    if workers > 1:
        command += ["-n", str(workers)]
    subprocess.run(command, cwd=folder, check=False)
    return outcome(report)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sb3", type=Path, required=True, help="a checkout (or bare git dir) of DLR-RM/stable-baselines3")
    parser.add_argument("--files", nargs="+", default=None, help="SB3's test files (default: every one that uses A2C)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/sb3-suite"))
    parser.add_argument("-n", type=int, default=2, help="pytest-xdist workers")
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    outcomes: dict[str, Outcome] = {}
    with tempfile.TemporaryDirectory(prefix="sb3_suite_") as scratch:  # the copies of SB3's tests
        for variant in VARIANTS:
            folder = Path(scratch) / variant
            export_tests(args.sb3, folder)
            files = args.files or files_using_a2c(folder / "tests")
            if variant == "sb3_pg":
                substituted = [name for name in files if substitute(folder / "tests" / name)]
                print(f"sb3_pg's A2C in {len(substituted)} of {len(files)} files")
            outcomes[variant] = run(folder, files, args.n)
    sb3, ours = outcomes["sb3"], outcomes["sb3_pg"]
    only_ours = sorted(ours.failed - sb3.failed)
    lines = [
        "# SB3's test suite with sb3_pg's A2C",
        "",
        f"Files: {', '.join(files)}.",
        "",
        f"- tests run: {sb3.ran} with SB3's A2C ({sb3.skipped} skipped), {ours.ran} with sb3_pg's ({ours.skipped} skipped)",
        f"- failing with SB3's A2C: {len(sb3.failed)}",
        f"- failing with sb3_pg's A2C: {len(ours.failed)}",
        f"- failing only with sb3_pg's A2C: {len(only_ours)}",
        "",
        *[f"  - `{test}`" for test in only_ours],
        "",
        "Failing with both (the installed SB3 against the checkout's tests):",
        "",
        *[f"- `{test}`" for test in sorted(sb3.failed & ours.failed)],
    ]
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:9]))
    # Nothing compared (every file failed to import) is no result either
    sys.exit(1 if only_ours or ours.ran <= len(files) else 0)


if __name__ == "__main__":
    main()
