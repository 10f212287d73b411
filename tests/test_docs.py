"""The documentation's code runs as written: every ```python block of the quickstart and the algorithm
pages (each page's blocks in order, in one namespace, in a scratch folder); the README keeps its two
set-up commands, and CI runs its test command."""

import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
EXECUTED = [
    "guide/quickstart.md",
    "guide/masking.md",
    "guide/vec_envs.md",
    "modules/reinforce.md",
    "modules/a2c.md",
    "modules/maskable.md",
    "modules/recurrent.md",
]


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.DOTALL)


@pytest.mark.parametrize("page", EXECUTED)
def test_the_pages_code_runs_as_written(page, tmp_path, monkeypatch):
    blocks = python_blocks(DOCS / page)
    assert blocks, f"{page} has no python block"
    monkeypatch.chdir(tmp_path)  # what the examples save stays in the scratch folder
    namespace: dict = {"__name__": "__main__"}
    for block in blocks:
        exec(compile(block, str(DOCS / page), "exec"), namespace)


def readme_commands() -> list[str]:
    lines = (ROOT / "README.md").read_text().splitlines()
    return [line for line in lines if line.startswith("pip install torch==2.13.0")]


def test_readme_has_exactly_two_setup_commands():
    commands = readme_commands()
    assert len(commands) == 2
    main_job, tests = commands
    assert '".[extra]"' in main_job and "sb3-pg compare" in main_job  # the tools' extra, no server
    assert '".[dev]"' in tests and "pytest" in tests


def test_ci_runs_readme_test_command():
    test_command = next(c for c in readme_commands() if "pytest" in c)
    assert test_command in (ROOT / ".ci" / "run").read_text().splitlines()


def test_readme_is_short_and_free_of_internal_wording():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 200
    assert not re.search(r"\bissues? \d+\b|this machine|this session", text, flags=re.IGNORECASE)


def test_docs_sources_are_small():
    size = sum(path.stat().st_size for path in DOCS.rglob("*") if path.is_file() and "_build" not in path.parts)
    assert size < 5_000_000, f"docs/ holds {size / 1e6:.1f} MB: raw results belong in benchmarks/results"
    assert not [p for p in DOCS.rglob("*") if p.suffix in (".log", ".csv", ".jsonl", ".html") and "_build" not in p.parts]


def test_every_page_is_in_the_table_of_contents():
    index = (DOCS / "index.md").read_text()
    pages = [p.relative_to(DOCS).with_suffix("").as_posix() for p in DOCS.rglob("*.md") if "_build" not in p.parts]
    missing = [page for page in pages if page not in ("index",) and page not in index]
    assert not missing, missing


def readme_compare_commands() -> list[str]:
    """Every ``sb3-pg compare`` command README shows, its continuation lines joined."""
    text = (ROOT / "README.md").read_text().replace("\\\n", " ")
    return [line[line.index("sb3-pg compare") :] for line in text.splitlines() if "sb3-pg compare" in line]


@pytest.mark.parametrize("command", readme_compare_commands())
def test_readme_compare_commands_parse_and_validate(command, tmp_path, monkeypatch):
    """Each as written: its algorithms, envs (their RL Zoo budgets) and options are accepted."""
    from sb3_pg.cli import build_parser
    from sb3_pg.cli.compare import validate

    monkeypatch.chdir(tmp_path)  # the default --out
    args = build_parser().parse_args(shlex.split(command)[1:])
    validate(args)
