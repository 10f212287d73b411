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


def test_mujoco_report_is_what_its_report_only_command_writes(tmp_path, capsys):
    """README's --report-only command, over a copy of the committed store into a scratch folder, writes the
    committed MuJoCo report (so the report's figures come from that command and the stored runs)."""
    import shlex
    import shutil

    from sb3_pg.cli import main

    text = " ".join((ROOT / "README.md").read_text().split())  # the command wraps over lines
    start = text.index("`sb3-pg compare --envs HalfCheetah-v5 Hopper-v5 Walker2d-v5 Swimmer-v5 Ant-v5")
    argv = shlex.split(text[start + 1 : text.index("`", start + 1)])[1:]
    assert "--report-only" in argv
    committed = ROOT / argv[argv.index("--out") + 1]
    store = tmp_path / "runs.log"
    shutil.copy(ROOT / argv[argv.index("--storage") + 1], store)
    argv[argv.index("--storage") + 1], argv[argv.index("--out") + 1] = str(store), str(tmp_path / "out")
    assert main(argv) == 0
    assert (tmp_path / "out" / "report.md").read_text() == (committed / "report.md").read_text()
    assert (tmp_path / "out" / "results.csv").read_text() == (committed / "results.csv").read_text()
