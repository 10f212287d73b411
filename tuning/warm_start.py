"""Warm starts: the configurations a study tries first, so that its best can never be worse than them.

For ``reinforce``: its defaults, its ``zoo_configs/`` entry for the env, and the settings of RL Zoo's
``a2c.yml`` entry for the env that REINFORCE shares (:func:`rl_zoo_a2c_shared`); for ``pg_a2c``: SB3's A2C
defaults (which ``pg_a2c`` shares), RL Zoo's own ``a2c.yml`` entry for the env, converted (with
that entry ``pg_a2c`` is SB3's A2C, update for update), its own ``zoo_configs/`` entry, so that
re-tuning at another budget cannot end below the entry it replaces, and on MuJoCo the settings of
Tianshou's published A2C benchmark (:data:`TIANSHOU_A2C_MUJOCO`). Each is enqueued with
:meth:`optuna.Study.enqueue_trial` as the trial parameters that give it
(:meth:`tuning.search_space.SearchSpace.params_for`; RL Zoo's ``lin_<x>`` schedules are a point of the
search); a value the search cannot express (a size outside the ranges) is left for the
sampler, and the trial's ``warm_start`` user attribute says which configuration it started from. The
study's own settings (``n_envs``, ``--normalize``, ``--fixed``) apply to these trials as to every other.

A user's own configurations (``sb3-pg tune --enqueue KEY=VALUE ...``) are enqueued the same way and
confirmed with the warm starts (:func:`enqueued_params`); each must be a point of the search, or it
is refused before the study starts.
"""

import inspect
import math
from collections.abc import Mapping, Sequence
from typing import Any

import optuna

from sb3_pg.configs import LinearSchedule, with_schedules
from sb3_pg.envs import in_env_family
from sb3_pg.experiment import run_config
from sb3_pg.reinforce import Reinforce
from sb3_pg.search_space import SEARCH_SPACES, constant_value, is_set

WARM_START_ATTR = "warm_start"
ENQUEUED_PREFIX = "enqueued-"  # the warm_start name of the Nth --enqueue configuration: enqueued-N

# Tianshou's examples/mujoco/mujoco_a2c.py, whose runs are its published A2C table (Ant-v3 3485.4
# where RL Zoo's SB3 settings score -44.0), as sb3_pg.A2C arguments: RMSprop (eps 1e-5, alpha 0.99:
# SB3's) at 7e-4 decayed linearly to 0, 80 steps a batch (5 per env of its 16), GAE 0.95, entropy
# bonus 0.01, clipping at 0.5, separate tanh [64, 64] actor and critic with orthogonal init and the
# mean's layer scaled by 0.01 (SB3's), log std initialised to -0.5; observations normalised and
# returns scaled (``--normalize``). Its 16 envs are the study's ``--n-envs``.
TIANSHOU_A2C_MUJOCO: dict[str, Any] = {
    "learning_rate": LinearSchedule(7e-4),
    "n_steps": 5,
    "gae_lambda": 0.95,
    "ent_coef": 0.01,
    "max_grad_norm": 0.5,
    "policy_kwargs": {"log_std_init": -0.5},
}


def warm_start_configs(algo: str, env_id: str) -> dict[str, dict[str, Any]]:
    """
    :param algo: ``"reinforce"`` or ``"pg_a2c"``
    :param env_id: the Gymnasium env id
    :return: the model keyword arguments of each known-good configuration, by name
    """
    if algo == "pg_a2c":
        configs = {
            "sb3_defaults": {},
            "rl_zoo_a2c.yml": dict(run_config("sb3_a2c", env_id, "tuned").kwargs),
            "zoo_configs": dict(run_config(algo, env_id, "tuned").kwargs),
        }
        if in_env_family(env_id, "mujoco"):
            configs["tianshou_a2c"] = dict(TIANSHOU_A2C_MUJOCO)
        return configs
    configs = {"defaults": {}, "zoo_configs": dict(run_config(algo, env_id, "tuned").kwargs)}
    if algo == "reinforce":
        configs["rl_zoo_a2c.yml_shared"] = rl_zoo_a2c_shared(env_id)
    return configs


# Not shared: A2C's own batch and loss (n_steps, gae_lambda, vf_coef), and its optimiser's settings.
# RL Zoo's rates are for RMSprop steps every n_steps; REINFORCE takes one Adam step per batch of
# episodes, so it keeps its own rates
_NOT_SHARED = ("learning_rate", "critic_learning_rate")


def rl_zoo_a2c_shared(env_id: str) -> dict[str, Any]:
    """
    What RL Zoo's ``a2c.yml`` entry for the env knows about the env itself, as ``Reinforce`` arguments:
    the discount, the exploration noise (``use_sde``, with a fresh draw at every step as REINFORCE needs;
    ``policy_kwargs``' ``log_std_init``), gradient
    clipping, advantage normalisation, the entropy bonus. Pendulum-v1's ``gamma: 0.9`` is the kind of
    setting a search started from ``gamma: 0.99`` may never reach.

    :param env_id: the Gymnasium env id
    :return: ``Reinforce`` keyword arguments
    """
    accepted = set(inspect.signature(Reinforce.__init__).parameters) - set(_NOT_SHARED)
    shared = {key: value for key, value in run_config("sb3_a2c", env_id, "tuned").kwargs.items() if key in accepted}
    if shared.get("use_sde"):
        shared["sde_sample_freq"] = 1  # the gSDE REINFORCE takes: a fresh noise draw at every step
    return shared


def _flat(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Model keyword arguments with ``policy_kwargs``' entries dotted, as :class:`Hyperparameter` keys are."""
    flat = {key: value for key, value in kwargs.items() if key != "policy_kwargs"}
    flat.update({f"policy_kwargs.{key}": value for key, value in (kwargs.get("policy_kwargs") or {}).items()})
    return flat


def _same(given: Any, made: Any) -> bool:
    """Whether the search's value is the user's: numbers up to rounding, schedules at three points. A
    constant rate is a number on both sides (RL Zoo makes the user's ``learning_rate=3e-4`` a
    ``ConstantSchedule``; the search's is a float)."""
    given, made = constant_value(given), constant_value(made)
    if callable(given) or callable(made):
        return callable(given) and callable(made) and all(_same(given(p), made(p)) for p in (1.0, 0.5, 0.0))
    if isinstance(given, (int, float)) and isinstance(made, (int, float)) and not isinstance(given, bool):
        return math.isclose(given, made, rel_tol=1e-9, abs_tol=1e-12)
    return bool(given == made)


def enqueued_params(
    algo: str, configs: Sequence[Mapping[str, Any]], extra: Sequence[str], fixed: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """
    The trial parameters of each user configuration (``--enqueue``): model keyword arguments as RL
    Zoo's ``--hyperparams`` take them (``lin_<x>`` schedules), the others the algorithm's defaults,
    as for the warm starts.

    :raises ValueError: naming ``--enqueue`` when a key is not searched (fixed, not an argument the
        search sets, or an optional hyperparameter not switched on) or its value is not a point of
        the search (outside its range or choices)
    """
    space = SEARCH_SPACES[algo]
    searched = {key for h in space.active(extra, fixed) for key in h.keys}
    all_params = []
    for config in configs:
        kwargs = with_schedules(dict(config))
        given = _flat(kwargs)
        for key in given:
            if is_set(fixed, key):  # what SearchSpace.active drops from the search
                raise ValueError(f"argument --enqueue: {key} is set by --fixed for every trial; drop it from --enqueue")
            if key not in searched:
                raise ValueError(
                    f"argument --enqueue: {key} is not searched by this study; it searches {', '.join(sorted(searched))}"
                    f" (switch on more with --extra-params: {', '.join(n for n in space.optional if n not in extra)})"
                )
        params = space.params_for(kwargs, extra, fixed)
        made = _flat(space.kwargs_from_params(params, fixed))
        for key, value in given.items():
            if not _same(value, made.get(key)):
                raise ValueError(
                    f"argument --enqueue: {key}={config.get(key, value)!r} is not a point of the search (its range or"
                    " choices); give a value it can sample"
                )
        all_params.append(params)
    return all_params


def enqueue_warm_starts(
    study: optuna.Study,
    algo: str,
    env_id: str,
    extra: list[str],
    fixed: dict[str, Any],
    user_params: Sequence[dict[str, Any]] = (),
    known: bool = True,
) -> list[dict[str, Any]]:
    """
    Enqueue each warm start (with ``known``) and then each of ``user_params`` (the trial parameters
    :func:`enqueued_params` gives) not already in the study (by parameters), the user's named
    ``enqueued-1``, ``enqueued-2``, ...

    :return: the parameters enqueued (or already there), in order
    """
    space = SEARCH_SPACES[algo]
    known_configs = warm_start_configs(algo, env_id) if known else {}
    named = [(name, space.params_for(kwargs, extra, fixed)) for name, kwargs in known_configs.items()]
    named += [(f"{ENQUEUED_PREFIX}{i}", params) for i, params in enumerate(user_params, 1)]
    verbosity = optuna.logging.get_verbosity()
    # Optuna logs each skipped duplicate with the search's internal parameter names: not for users
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        for name, params in named:
            study.enqueue_trial(params, user_attrs={WARM_START_ATTR: name}, skip_if_exists=True)
    finally:
        optuna.logging.set_verbosity(verbosity)
    return [params for _, params in named]
