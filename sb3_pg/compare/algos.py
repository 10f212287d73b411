"""What each name in ``sb3-pg compare --algos`` trains, and with which hyperparameters.

``--mode tuned``: each algorithm with its tuned RL Zoo entry: ours from ``zoo_configs/`` (a named
variant is its base algorithm's entry plus the variant's change), SB3's from the ``a2c.yml`` and
``ppo.yml`` bundled with RL Zoo. ``--mode equal``: the same shared hyperparameters for all
(:data:`EQUAL_HYPERPARAMETERS`, SB3's A2C defaults), every other argument at its algorithm's default,
so that ``pg_a2c`` and ``sb3_a2c`` differ only in speed.
"""

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import rl_zoo3
from sb3_contrib import RecurrentPPO
from stable_baselines3 import A2C as SB3_A2C
from stable_baselines3 import PPO
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

from sb3_pg.compare.tianshou_runner import TIANSHOU_ALGOS, TIANSHOU_VERSION, settings_for
from sb3_pg.variants import VARIANTS
from sb3_pg.zoo import OUR_ALGOS, ZooExperimentManager, config_path, load_config, parse_policy_kwargs

SB3_ALGOS: dict[str, tuple[type[OnPolicyAlgorithm], str]] = {
    "sb3_a2c": (SB3_A2C, "a2c"),
    "sb3_ppo": (PPO, "ppo"),
    "sb3_ppo_lstm": (RecurrentPPO, "ppo_lstm"),  # sb3-contrib's, with RL Zoo's ppo_lstm.yml
}
# Tianshou's algorithms, set up and trained by Tianshou's own code (the tianshou extra): each is the
# peer of one of ours, and the report gives the probability that ours is better
PEERS = {"pg_a2c": "tianshou_a2c", "reinforce": "tianshou_reinforce"}
ALGO_NAMES = sorted(VARIANTS) + sorted(SB3_ALGOS) + list(TIANSHOU_ALGOS)
MODES = ("tuned", "equal")
RL_ZOO_BUDGET = "rl-zoo"  # ``--timesteps rl-zoo``: each env at RL Zoo's A2C budget (its a2c.yml n_timesteps)
EQUAL_HYPERPARAMETERS: dict[str, Any] = {"n_envs": 8, "learning_rate": 7e-4, "gamma": 0.99}
BASELINE = "sb3_a2c"  # what the probability of improvement compares against


@dataclass(frozen=True)
class RunConfig:
    """One algorithm's set-up on one env: the class, its arguments, and RL Zoo's env options."""

    algo_class: type[OnPolicyAlgorithm] | None  # None for Tianshou's algorithms (``library``)
    kwargs: dict[str, Any]
    n_envs: int
    n_timesteps: int
    normalize: dict[str, Any] | None  # VecNormalize arguments, or None for no normalization
    source: str  # where the hyperparameters come from, for the report
    fingerprint: str  # changes when the set-up does: stored runs of another set-up are not reused
    policy: str = "MlpPolicy"
    library: str = "sb3"  # "sb3": an SB3 algorithm class; "tianshou": sb3_pg.compare.tianshou_runner trains it


def _fingerprint(algo_class: type[OnPolicyAlgorithm], *parts: Any) -> str:
    text = json.dumps([algo_class.__module__, algo_class.__qualname__, *parts], sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_config(
    algo: str, env_id: str, mode: str, conf_file: Path | str | None = None, hyperparams: dict[str, Any] | None = None
) -> RunConfig:
    """
    :param algo: one of :data:`ALGO_NAMES`
    :param env_id: the Gymnasium env id
    :param mode: ``"tuned"`` or ``"equal"``
    :param conf_file: an RL Zoo config file to read the entry from (tuned mode; default: ours from
        ``zoo_configs/``, SB3's from RL Zoo)
    :param hyperparams: entries that override the file's (RL Zoo's ``--hyperparams``), its keys included
    :return: the configuration
    """
    if algo in TIANSHOU_ALGOS:
        return _tianshou_config(algo, env_id)
    if algo in SB3_ALGOS:
        algo_class, zoo_name = SB3_ALGOS[algo]
        base_kwargs: dict[str, Any] = {}
        path = rl_zoo_config_path(zoo_name)
    else:
        variant = VARIANTS[algo]
        algo_class, base_kwargs = variant.algo, dict(variant.kwargs)
        path = config_path(zoo_name_of(algo))
    if mode == "equal":
        shared = dict(EQUAL_HYPERPARAMETERS)
        n_envs = shared.pop("n_envs")
        kwargs = {**shared, **base_kwargs}
        fingerprint = _fingerprint(algo_class, kwargs, n_envs)
        return RunConfig(algo_class, kwargs, n_envs, 100_000, None, "shared (equal mode)", fingerprint)
    path = Path(conf_file) if conf_file is not None else path
    config = load_config(path)
    # RL Zoo's own files have entries for older versions of some envs (MuJoCo's v4, not v5): use them
    key = entry_key(config, env_id, other_versions=algo in SB3_ALGOS and conf_file is None)
    entry = {**config.get(key, config.get("default", {})), **(hyperparams or {})}
    fingerprint = _fingerprint(algo_class, entry, base_kwargs)
    source = f"{path.parent.name}/{path.name}"
    if key not in config:
        source += " (default entry)"
    elif key != env_id:
        source += f" ({key} entry)"
    n_envs = int(entry.pop("n_envs", 1))
    n_timesteps = int(float(entry.pop("n_timesteps", 100_000)))
    policy = str(entry.pop("policy", "MlpPolicy"))
    normalize = _normalize_kwargs(entry.pop("normalize", False))
    if isinstance(entry.get("policy_kwargs"), str):
        entry["policy_kwargs"] = parse_policy_kwargs(entry["policy_kwargs"])
    kwargs = ZooExperimentManager._preprocess_schedules({**entry, **base_kwargs})
    return RunConfig(algo_class, kwargs, n_envs, n_timesteps, normalize, source, fingerprint, policy)


def _tianshou_config(algo: str, env_id: str) -> RunConfig:
    """Tianshou's set-up of ``algo`` for ``env_id``'s action space (the same in both modes: it is Tianshou's)."""
    settings = settings_for(algo, env_id)
    text = json.dumps(["tianshou", TIANSHOU_VERSION, algo, asdict(settings)], sort_keys=True)
    fingerprint = hashlib.sha256(text.encode()).hexdigest()[:16]
    source = f"{settings.source} ({TIANSHOU_VERSION})"
    kwargs = {"algo": algo, **asdict(settings)}
    return RunConfig(None, kwargs, settings.n_envs, 1_000_000, None, source, fingerprint, library="tianshou")


def entry_key(config: dict[str, Any], env_id: str, other_versions: bool = False) -> str:
    """
    The key of ``env_id``'s entry in an RL Zoo config: ``env_id`` itself, or with ``other_versions``
    and no entry of its own, the newest entry of the same env in an older version (RL Zoo has not
    caught up with Gymnasium's MuJoCo v5: ``HalfCheetah-v5`` reads its ``HalfCheetah-v4``; an env
    with only newer entries, such as ``CartPole-v0``, has none); ``env_id`` when there is none.
    """
    if env_id in config or not other_versions:
        return env_id
    name, _, version = env_id.rpartition("-v")
    if not name or not version.isdigit():
        return env_id
    older = []
    for key in config:
        other, _, other_version = key.rpartition("-v")
        if other == name and other_version.isdigit() and int(other_version) < int(version):
            older.append(int(other_version))
    return f"{name}-v{max(older)}" if older else env_id


def rl_zoo_config_path(zoo_name: str) -> Path:
    """The config file RL Zoo ships for one of its algorithms (``a2c``, ``ppo``, ...)."""
    return Path(rl_zoo3.__file__).parent / "hyperparams" / f"{zoo_name}.yml"


def zoo_name_of(algo: str) -> str:
    """The RL Zoo name (``pg_a2c``, ``reinforce``, ...: a key of ``OUR_ALGOS``) of one of our
    algorithms or named variants."""
    return next(name for name, algo_class in OUR_ALGOS.items() if algo_class is VARIANTS[algo].algo)


def rl_zoo_a2c_budget(env_id: str) -> int:
    """
    RL Zoo's training budget for A2C on ``env_id``: the ``n_timesteps`` of its entry in the
    ``a2c.yml`` bundled with RL Zoo (or of the same env's in another version, :func:`entry_key`).

    :raises ValueError: if RL Zoo's ``a2c.yml`` has no entry for the env
    """
    config = load_config(rl_zoo_config_path("a2c"))
    key = entry_key(config, env_id, other_versions=True)
    if key not in config or "n_timesteps" not in config[key]:
        known = ", ".join(sorted(key for key in config if "n_timesteps" in config[key]))
        raise ValueError(f"argument --timesteps: RL Zoo's a2c.yml has no budget for {env_id}; it has {known}")
    return int(float(config[key]["n_timesteps"]))


def budget(timesteps: int | str | None, env_id: str, config: RunConfig) -> int:
    """
    The training budget of a run.

    :param timesteps: a number of env steps, :data:`RL_ZOO_BUDGET` for RL Zoo's A2C budget of the
        env (the same for every algorithm), or None for the config's own ``n_timesteps``
    """
    if timesteps == RL_ZOO_BUDGET:
        return rl_zoo_a2c_budget(env_id)
    if timesteps is None:
        return config.n_timesteps
    return int(timesteps)


def _normalize_kwargs(normalize: bool | str | dict) -> dict[str, Any] | None:
    if isinstance(normalize, str):
        return parse_policy_kwargs(normalize)
    if isinstance(normalize, dict):
        return dict(normalize)
    return {} if normalize else None
