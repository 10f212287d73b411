"""README's two set-up commands stay the ones CI and users run."""

from pathlib import Path

ROOT = Path(__file__).parent.parent


def readme_commands() -> list[str]:
    lines = (ROOT / "README.md").read_text().splitlines()
    return [line for line in lines if line.startswith("pip install torch==2.13.0")]


def test_readme_has_exactly_two_setup_commands():
    assert len(readme_commands()) == 2


def test_ci_runs_readme_test_command():
    test_command = next(c for c in readme_commands() if "pytest" in c)
    assert test_command in (ROOT / ".ci" / "run").read_text().splitlines()


def python_block_after(heading: str) -> str:
    """The first ```python block of README's section ``heading``."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index(heading) :]
    start = section.index("```python\n") + len("```python\n")
    return section[start : section.index("```", start)]


def test_masking_and_recurrence_example_runs_as_written(capsys):
    code = python_block_after("## Action masking and recurrent policies")
    exec(compile(code, "README.md", "exec"), {})
    mean = float(capsys.readouterr().out.strip().splitlines()[-1].split()[0])  # the printed evaluation
    assert mean > 100 / 15  # better than an untrained masked policy's expected score


def test_native_vector_envs_example_runs_as_written():
    code = python_block_after("## Native vector envs")
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["model"].num_timesteps >= 100_000
