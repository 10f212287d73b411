"""The package as users install it: one top-level import package, the licence, an sdist whose tests
run, and a core whose import brings none of the tools' packages."""

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from sb3_pg.cli.options import TOOLS_MODULES

ROOT = Path(__file__).parent.parent
SDIST_TEST_FILES = ["conftest.py", "helpers.py", "algos.py", "envs.py", "postgres.py", "gradient_check.py"]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """The sdist and the wheel built from it (``python -m build``, no network: the installed setuptools)."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)], check=True, capture_output=True
    )
    (sdist,), (wheel,) = list(out.glob("*.tar.gz")), list(out.glob("*.whl"))
    return sdist, wheel


def test_the_wheel_installs_one_top_level_package_and_the_licence(built):
    _, wheel = built
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")} == {"sb3_pg"}
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    # The repository's tuning/ and zoo_configs/ are inside sb3_pg, the tuned entries as package data
    assert "sb3_pg/tuning/study.py" in names and "sb3_pg/zoo_configs/reinforce.yml" in names
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "License-Expression: MIT" in metadata and "Provides-Extra: extra" in metadata
    core = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert not any(module.replace("_", "-") in line.lower().replace("_", "-") for line in core for module in TOOLS_MODULES)
    assert any("sb3-contrib" in line.lower().replace("_", "-") for line in core)


def test_the_sdist_has_the_licence_and_what_its_tests_need(built):
    sdist, _ = built
    names = {name.split("/", 1)[1] for name in tarfile.open(sdist).getnames() if "/" in name}
    assert {"LICENSE", "pyproject.toml", "tuning/study.py", "zoo_configs/reinforce.yml"} <= names
    assert {f"tests/{name}" for name in SDIST_TEST_FILES} <= names


def test_importing_sb3_pg_imports_none_of_the_tools_packages():
    code = (
        "import sys, sb3_pg; from sb3_pg import A2C, Reinforce; import sb3_pg.cli.train; "
        f"print(','.join(sorted(m for m in {list(TOOLS_MODULES)} if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == ""


def test_a_tool_without_its_extra_exits_2_naming_it(monkeypatch, capsys):
    import importlib.util

    from sb3_pg.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "optuna" else real(name, *a))
    for argv in (["tune", "--algo", "reinforce", "--env", "CartPole-v1"], ["compare"], ["zoo", "train"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
        assert 'pip install "sb3-pg[extra]"' in capsys.readouterr().err
