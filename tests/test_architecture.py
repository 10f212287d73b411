"""The layout's rules, checked on the sources: no import cycle, the core imports no tool and no tool
another tool, no module-global mutable state, and one entry adds an algorithm variant or a vec-env kind
everywhere (help, train, compare, tune)."""

import ast
import inspect
from pathlib import Path

import pytest

import sb3_pg

ROOT = Path(__file__).parent.parent
# The repository's folders and the modules they install as (pyproject.toml's package-dir)
PACKAGES = {"sb3_pg": "sb3_pg", "tuning": "sb3_pg.tuning", "zoo_configs": "sb3_pg.zoo_configs"}
# The tools: each may import the core and the tools' shared layer (SHARED), none another tool
TOOLS = {
    "tune": ("sb3_pg.tuning",),
    "compare": ("sb3_pg.compare",),
    "zoo": ("sb3_pg.zoo",),
    "cli": ("sb3_pg.cli", "sb3_pg.__main__"),
}
# What the tools share and the core never imports: Optuna storages and workers, the search spaces
SHARED = ("sb3_pg.storage", "sb3_pg.search_space")
CORE_COMMAND = ("sb3_pg.cli.train", "sb3_pg.cli.options")  # sb3-pg train runs on the core install


def modules() -> dict[str, Path]:
    out = {}
    for folder, package in PACKAGES.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            out[".".join((package, *parts)).removesuffix(".__init__")] = path
    return out


def imports(module: str, path: Path, known: set[str]) -> set[str]:
    """The project modules a module imports (at any depth: lazy imports inside functions count too)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's package
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        found |= {name for name in names if name in known}
    return found - {module}


def graph() -> dict[str, set[str]]:
    files = modules()
    edges = {module: imports(module, path, set(files)) for module, path in files.items()}
    # A package's __init__ re-exporting its own modules is not a cycle with them
    return {
        module: {m for m in targets if not (m.startswith(module + ".") and files[module].name == "__init__.py")}
        for module, targets in edges.items()
    }


def test_no_import_cycles():
    edges = graph()

    def cycle_from(start: str) -> list[str] | None:
        parent: dict[str, str] = {}
        frontier = [start]
        while frontier:
            node = frontier.pop()
            for nxt in sorted(edges[node]):
                if nxt == start:  # back at the start: walk the parents for the cycle
                    path = [node]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return [*reversed(path), start]
                if nxt not in parent:
                    parent[nxt] = node
                    frontier.append(nxt)
        return None

    cycles = [cycle for module in sorted(edges) if (cycle := cycle_from(module))]
    assert not cycles, " -> ".join(cycles[0])


def tool_of(module: str) -> str | None:
    return next((tool for tool, prefixes in TOOLS.items() if module.startswith(prefixes)), None)


def test_the_core_imports_no_tool_and_no_tool_imports_another():
    """The core (algorithms, ``sb3-pg train``) imports neither a tool nor their shared layer; a tool
    imports the core and the shared layer, never another tool (the command-line package imports each)."""
    wrong = []
    for module, targets in graph().items():
        own = None if module in CORE_COMMAND else tool_of(module)
        for target in targets:
            other = None if target in CORE_COMMAND else tool_of(target)
            shared = target.startswith(SHARED)
            core_module = own is None and not module.startswith(SHARED)
            if (core_module and (other is not None or shared)) or (own not in (None, "cli") and other not in (None, own)):
                wrong.append(f"{module} imports {target}")
    assert not wrong, wrong


def test_no_global_statement_or_module_level_mutable_cache():
    found = []
    for module, path in modules().items():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Global):
                found.append(f"{module}: global {', '.join(node.names)}")
            if isinstance(node, ast.FunctionDef) and any(
                ast.unparse(d) in ("functools.cache", "cache", "functools.lru_cache", "lru_cache")
                or "lru_cache(" in ast.unparse(d)
                for d in node.decorator_list
            ):
                found.append(f"{module}: cached function {node.name}")
        for node in tree.body:  # module-level assignments of mutable caches
            if isinstance(node, ast.Assign | ast.AnnAssign) and "WeakKeyDictionary" in ast.unparse(node):
                found.append(f"{module}: {ast.unparse(node)[:60]}")
    assert not found, found


@pytest.fixture
def one_more_variant(monkeypatch):
    """A named variant added as one entry of the registry."""
    from sb3_pg import registry

    variant = registry.Variant("pg_a2c", dict(gae_lambda=0.5), "A2C with GAE(0.5)")
    monkeypatch.setitem(registry.VARIANTS, "pg_a2c-gae-half", variant)
    monkeypatch.setattr(registry, "COMPARE_NAMES", [*registry.VARIANTS, *registry.PEERS])
    import sb3_pg.cli.compare as compare_command
    import sb3_pg.compare.algos as compare_algos

    monkeypatch.setattr(compare_algos, "ALGO_NAMES", registry.COMPARE_NAMES)
    monkeypatch.setattr(compare_command, "COMPARE_NAMES", registry.COMPARE_NAMES)
    return "pg_a2c-gae-half"


def test_a_variant_added_as_one_entry_is_everywhere(one_more_variant, tmp_path, capsys):
    from sb3_pg.cli import build_parser, main

    for command in ("train", "tune", "compare"):
        sub = build_parser()._subparsers._group_actions[0].choices[command]  # type: ignore[union-attr]
        assert one_more_variant in sub.format_help()
    quick = ["--timesteps", "300"]
    assert main(["train", "--algo", one_more_variant, *quick, "--eval-freq", "0", "--eval-episodes", "1"]) == 0
    assert "gae_lambda: 0.5" in capsys.readouterr().out
    argv = ["compare", "--envs", "CartPole-v1", "--algos", one_more_variant, "--seeds", "1", *quick]
    assert main([*argv, "--eval-freq", "300", "--eval-episodes", "1", "--out", str(tmp_path / "c"), "--no-progress-bar"]) == 0
    argv = ["tune", "--algo", one_more_variant, "--env", "CartPole-v1", "--n-trials", "1", *quick, "--n-evaluations", "1"]
    assert main([*argv, "--eval-episodes", "1", "--out", str(tmp_path / "t"), "--no-progress-bar", "--no-warm-start"]) == 0
    best = (tmp_path / "t" / "best.yml").read_text()
    assert "gae_lambda: 0.5" in best  # the variant's change, fixed in the study


def test_a_vec_env_kind_added_as_one_entry_is_everywhere(monkeypatch, tmp_path, capsys):
    from stable_baselines3.common.vec_env import DummyVecEnv

    from sb3_pg import vec_envs
    from sb3_pg.cli import build_parser, main

    made = []

    def make(env_id, n_envs, seed, env_kwargs, monitor, wrapper_class):
        made.append(n_envs)
        return vec_envs.VEC_ENV_KINDS["dummy"].make(env_id, n_envs, seed, env_kwargs, monitor, wrapper_class)

    kind = vec_envs.VecEnvKind("dummy-copy", "SB3's DummyVecEnv under another name", make)
    monkeypatch.setitem(vec_envs.VEC_ENV_KINDS, kind.name, kind)
    for command in ("train", "tune", "compare"):
        sub = build_parser()._subparsers._group_actions[0].choices[command]  # type: ignore[union-attr]
        assert "dummy-copy" in sub.format_help()
    argv = ["train", "--algo", "pg_a2c", "--timesteps", "300", "--eval-freq", "0", "--eval-episodes", "1"]
    assert main([*argv, "--vec-env", "dummy-copy"]) == 0
    argv = ["compare", "--envs", "CartPole-v1", "--algos", "pg_a2c", "--seeds", "1", "--timesteps", "300"]
    out = str(tmp_path / "c")
    assert (
        main(
            [*argv, "--eval-freq", "300", "--eval-episodes", "1", "--out", out, "--vec-env", "dummy-copy", "--no-progress-bar"]
        )
        == 0
    )
    argv = [
        "tune",
        "--algo",
        "pg_a2c",
        "--env",
        "CartPole-v1",
        "--n-trials",
        "1",
        "--timesteps",
        "300",
        "--n-evaluations",
        "1",
    ]
    assert (
        main([*argv, "--eval-episodes", "1", "--out", str(tmp_path / "t"), "--vec-env", "dummy-copy", "--no-progress-bar"])
        == 0
    )
    assert len(made) >= 3 and isinstance(DummyVecEnv, type)


@pytest.mark.parametrize("name", [name for name in sb3_pg.__all__ if name != "__version__"])
def test_public_classes_document_every_argument_in_their_source(name):
    """Docstrings written in the source (an IDE shows them), with a ``:param`` for every argument."""
    cls = getattr(sb3_pg, name)
    source = inspect.getsource(cls)
    doc = cls.__doc__ or ""
    assert doc.strip() and doc.strip().splitlines()[0] in source
    for argument in inspect.signature(cls.__init__).parameters:
        if argument != "self":
            assert f":param {argument}:" in doc, argument
