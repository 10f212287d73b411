"""Search spaces: what ``sb3-pg tune`` (and RL Zoo's ``-optimize``, through :mod:`tuning.zoo`) samples.

One :class:`SearchSpace` per algorithm, made of named :class:`Hyperparameter` s. Each one suggests
its values on an Optuna trial and returns the keyword arguments it sets on the model, so the same
code samples a new trial and, replayed on an :class:`optuna.trial.FixedTrial`, turns a stored
trial's parameters back into model arguments (no second copy of the conversion). Sizes and
discounts are sampled as RL Zoo does (exponents, ``1 - gamma`` on a log scale), with the real
values recorded by ``trial.set_user_attr``.

Extending: ``SEARCH_SPACES["pg_a2c"].add(Hyperparameter("rms_prop_eps", my_sampler, ("rms_prop_eps",)))``.
"""

import copy
import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import optuna
from optuna.trial import BaseTrial, FixedTrial

from sb3_pg.a2c import A2C
from sb3_pg.configs import LinearSchedule, linear_initial_value
from sb3_pg.maskable.algorithms import MaskableMixin
from sb3_pg.registry import ALGORITHMS, AlgoSpec
from sb3_pg.reinforce import Reinforce

Sample = Callable[[BaseTrial], dict[str, Any]]
"""Suggests values on the trial and returns the model keyword arguments they make."""

ACTOR_NET_ARCH = [64, 64]  # SB3's default; the search varies the critic only


@dataclass(frozen=True)
class Hyperparameter:
    """
    One entry of a search space.

    :param name: the name users give to ``--extra-params`` and see in reports
    :param sample: suggests the values and returns the model keyword arguments they set
    :param keys: the model keyword arguments it sets, nested ones dotted (``policy_kwargs.net_arch``):
        fixing any of them (``--fixed``) removes it from the search
    :param default_on: sampled unless switched off; the others are switched on with ``--extra-params``
    :param needs_critic: sampled only when the model has a learned critic
    :param params_of: the inverse of ``sample``: the trial parameters that give these model keyword
        arguments (all of them, defaults included), or None where the search cannot express them
        (warm starts enqueue these; Optuna samples what is missing)
    """

    name: str
    sample: Sample
    keys: tuple[str, ...]
    default_on: bool = True
    needs_critic: bool = False
    params_of: Callable[[Mapping[str, Any]], dict[str, Any] | None] | None = None


@dataclass
class SearchSpace:
    """
    The hyperparameters of one algorithm.

    :param algo: the algorithm class
    :param n_envs: the number of training envs used unless the user gives one
    :param hyperparameters: by name, in sampling order (a parameter others depend on comes first)
    """

    algo: type[Reinforce] | type[A2C]
    n_envs: int
    hyperparameters: dict[str, Hyperparameter] = field(default_factory=dict)

    def add(self, hyperparameter: Hyperparameter) -> None:
        """Add (or replace) a hyperparameter."""
        self.hyperparameters[hyperparameter.name] = hyperparameter

    @property
    def optional(self) -> list[str]:
        """The names that ``--extra-params`` switches on."""
        return [name for name, h in self.hyperparameters.items() if not h.default_on]

    def active(self, extra: Iterable[str] = (), fixed: Mapping[str, Any] | None = None) -> list[Hyperparameter]:
        """The hyperparameters sampled with these options, in order."""
        extra, fixed = set(extra), fixed or {}
        return [
            h
            for h in self.hyperparameters.values()
            if (h.default_on or h.name in extra) and not any(is_set(fixed, key) for key in h.keys)
        ]

    def sample(self, trial: BaseTrial, extra: Iterable[str] = (), fixed: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """
        Suggest a configuration on ``trial``.

        :param trial: an Optuna trial (or a ``FixedTrial`` to replay stored parameters)
        :param extra: names of optional hyperparameters to sample too
        :param fixed: model keyword arguments that are not searched; they override sampled ones
        :return: the model keyword arguments (without ``policy``, ``env`` and ``seed``)
        """
        fixed = copy.deepcopy(dict(fixed or {}))  # models mutate their policy_kwargs (as SB3's do)
        kwargs: dict[str, Any] = {}
        for hyperparameter in self.active(extra, fixed):
            if hyperparameter.needs_critic and not self.has_critic({**kwargs, **fixed}):
                continue
            merge_kwargs(kwargs, hyperparameter.sample(trial))
        merge_kwargs(kwargs, fixed)
        return kwargs

    def kwargs_from_params(self, params: Mapping[str, Any], fixed: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """
        Model keyword arguments from a finished trial's ``params`` (RL Zoo's "converter"): each
        hyperparameter is replayed on a ``FixedTrial``; one whose values the trial lacks was not sampled.
        """
        fixed = copy.deepcopy(dict(fixed or {}))  # models mutate their policy_kwargs (as SB3's do)
        trial = FixedTrial(dict(params))
        kwargs: dict[str, Any] = {}
        for hyperparameter in self.active(self.optional, fixed):
            try:
                merge_kwargs(kwargs, hyperparameter.sample(trial))
            except ValueError:  # FixedTrial: "the value of the parameter ... is not found"
                continue
        merge_kwargs(kwargs, fixed)
        return kwargs

    def params_for(
        self, kwargs: Mapping[str, Any], extra: Iterable[str] = (), fixed: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """
        The trial parameters that make a model with ``kwargs`` (arguments not given take the
        algorithm's defaults), for the hyperparameters active with ``extra`` and ``fixed``: what
        :meth:`optuna.Study.enqueue_trial` takes to try a known configuration first.

        :param kwargs: the model's keyword arguments
        :param extra: names of optional hyperparameters switched on
        :param fixed: arguments that are not searched
        :return: the trial parameters; a hyperparameter the search cannot express is left out
        """
        full = {**algorithm_defaults(self.algo), **kwargs}
        params: dict[str, Any] = {}
        for hyperparameter in self.active(extra, fixed):
            if hyperparameter.needs_critic and not self.has_critic({**full, **(fixed or {})}):
                continue
            found = hyperparameter.params_of(full) if hyperparameter.params_of else None
            params.update(found or {})
        return params

    def has_critic(self, kwargs: Mapping[str, Any]) -> bool:
        """Whether a model with these arguments learns a value function."""
        return issubclass(self.algo, A2C) or kwargs.get("baseline", "value") == "value"


def is_set(kwargs: Mapping[str, Any], dotted_key: str) -> bool:
    """Whether ``kwargs`` sets ``dotted_key`` (``"policy_kwargs.net_arch"``: a key of a nested dict)."""
    head, _, rest = dotted_key.partition(".")
    if head not in kwargs:
        return False
    return not rest or (isinstance(kwargs[head], Mapping) and is_set(kwargs[head], rest))


def merge_kwargs(into: dict[str, Any], update: Mapping[str, Any]) -> None:
    """Update model keyword arguments in place, merging ``policy_kwargs`` key by key."""
    for key, value in update.items():
        if key == "policy_kwargs" and isinstance(into.get(key), dict):
            into[key] = {**into[key], **value}
        else:
            into[key] = value


def algorithm_defaults(algo: type) -> dict[str, Any]:
    """The defaults of an algorithm's ``__init__`` arguments."""
    return {
        name: parameter.default
        for name, parameter in inspect.signature(algo).parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }


def constant_value(value: Any) -> Any:
    """A constant schedule's value (RL Zoo makes every learning rate a schedule); a real schedule as is."""
    if callable(value) and value(1.0) == value(0.5) == value(0.0):
        return value(1.0)
    return value


def _float_in(name: str, low: float, high: float, value: Any, param: str | None = None) -> dict[str, Any] | None:
    value = constant_value(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        return None  # a schedule, or outside the searched range
    return {param or name: float(value)}


def _power_of_two(param: str, low_exp: int, high_exp: int, value: Any) -> dict[str, Any] | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return None
    exp = value.bit_length() - 1
    return {param: exp} if 2**exp == value and low_exp <= exp <= high_exp else None


def _choice(name: str, choices: Sequence[Any], value: Any) -> dict[str, Any] | None:
    return {name: value} if any(value == c and type(value) is type(c) for c in choices) else None


# Samplers. Ranges follow RL Zoo's A2C/PPO samplers where they overlap.


def _suggest_choice(trial: BaseTrial, name: str, choices: Sequence[Any], before_it_existed: Any) -> Any:
    """``trial.suggest_categorical``; replaying a stored trial of a study from before the choice
    existed (a ``FixedTrial`` without it), the value such trials had."""
    try:
        return trial.suggest_categorical(name, choices)
    except ValueError:  # FixedTrial: "the value of the parameter ... is not found"
        if not isinstance(trial, FixedTrial):
            raise
        return before_it_existed


LEARNING_RATES = (1e-5, 1e-2)  # the actor's and the critic's, on a log scale


def sample_learning_rate(trial: BaseTrial) -> dict[str, Any]:
    return {"learning_rate": trial.suggest_float("learning_rate", *LEARNING_RATES, log=True)}


LR_SCHEDULES = ("constant", "linear")


def sample_lr_schedule(trial: BaseTrial) -> dict[str, Any]:
    # RL Zoo's linear schedule (lin_<x>: from x at the start to 0 at the end), applied to the learning
    # rate sampled just before; many of RL Zoo's entries use it, so their warm starts need it
    if _suggest_choice(trial, "lr_schedule", LR_SCHEDULES, before_it_existed="constant") == "constant":
        return {}
    return {"learning_rate": LinearSchedule(trial.params["learning_rate"])}


def lr_schedule_params(kwargs: Mapping[str, Any]) -> dict[str, Any] | None:
    """The inverse of :func:`sample_lr_schedule` with the learning rate's sampler: constant or
    RL Zoo's linear schedule, its initial value within the searched range."""
    value = kwargs["learning_rate"]
    if linear_initial_value(value) is not None:
        initial = _float_in("learning_rate", *LEARNING_RATES, linear_initial_value(value))
        return {"learning_rate": initial["learning_rate"], "lr_schedule": "linear"} if initial else None
    return {"lr_schedule": "constant"} if _float_in("learning_rate", *LEARNING_RATES, value) else None


def sample_critic_learning_rate(trial: BaseTrial) -> dict[str, Any]:
    return {"critic_learning_rate": trial.suggest_float("critic_learning_rate", *LEARNING_RATES, log=True)}


CRITIC_OPTIMIZERS = ("joint", "separate")


def sample_critic_optimizer(trial: BaseTrial) -> dict[str, Any]:
    """A2C: SB3's one joint optimizer (no ``critic_learning_rate``), or a separate critic optimizer
    with its own learning rate."""
    # A stored trial of a study from before this choice always had a critic rate
    choice = _suggest_choice(trial, "critic_optimizer", CRITIC_OPTIMIZERS, before_it_existed="separate")
    return {} if choice == "joint" else sample_critic_learning_rate(trial)


def sample_gamma(trial: BaseTrial) -> dict[str, Any]:
    gamma = 1.0 - trial.suggest_float("one_minus_gamma", 1e-4, 0.1, log=True)
    trial.set_user_attr("gamma", gamma)
    return {"gamma": gamma}


def critic_size_params(kwargs: Mapping[str, Any]) -> dict[str, Any] | None:
    net_arch = (kwargs.get("policy_kwargs") or {}).get("net_arch", [64, 64])  # SB3's default
    vf = net_arch.get("vf") if isinstance(net_arch, dict) else net_arch
    pi = net_arch.get("pi") if isinstance(net_arch, dict) else net_arch
    if pi != ACTOR_NET_ARCH or not isinstance(vf, list) or not 1 <= len(vf) <= 3 or len(set(vf)) != 1:
        return None
    width = _power_of_two("vf_width_exp", 4, 8, vf[0])
    return None if width is None else {"vf_depth": len(vf), **width}


def sample_critic_size(trial: BaseTrial) -> dict[str, Any]:
    depth = trial.suggest_int("vf_depth", 1, 3)
    width = 2 ** trial.suggest_int("vf_width_exp", 4, 8)  # 16 to 256 units
    net_arch = {"pi": list(ACTOR_NET_ARCH), "vf": [width] * depth}
    trial.set_user_attr("net_arch", net_arch)
    return {"policy_kwargs": {"net_arch": net_arch}}


SB3_A2C_N_STEPS = 5  # SB3's default, and 12 of RL Zoo's 22 A2C entries: not a power of two


def _sample_n_steps(low_exp: int, high_exp: int) -> Sample:
    def sample_n_steps(trial: BaseTrial) -> dict[str, Any]:
        # Powers of two, or SB3's default, so that RL Zoo's entries that keep it are points of the search
        kind = _suggest_choice(trial, "n_steps_kind", ("power_of_two", "sb3_default"), before_it_existed="power_of_two")
        n_steps = SB3_A2C_N_STEPS if kind == "sb3_default" else 2 ** trial.suggest_int("n_steps_exp", low_exp, high_exp)
        trial.set_user_attr("n_steps", n_steps)
        return {"n_steps": n_steps}

    return sample_n_steps


def _n_steps_params(low_exp: int, high_exp: int) -> Callable[[Mapping[str, Any]], dict[str, Any] | None]:
    def n_steps_params(kwargs: Mapping[str, Any]) -> dict[str, Any] | None:
        if kwargs["n_steps"] == SB3_A2C_N_STEPS:
            return {"n_steps_kind": "sb3_default"}
        found = _power_of_two("n_steps_exp", low_exp, high_exp, kwargs["n_steps"])
        return None if found is None else {"n_steps_kind": "power_of_two", **found}

    return n_steps_params


def _sample_n_episodes(low_exp: int, high_exp: int) -> Sample:
    def sample_n_episodes(trial: BaseTrial) -> dict[str, Any]:
        n_episodes = 2 ** trial.suggest_int("n_episodes_exp", low_exp, high_exp)
        trial.set_user_attr("n_episodes", n_episodes)
        return {"n_episodes": n_episodes}

    return sample_n_episodes


VF_COEFS = [0.1, 0.25, 0.4, 0.5, 0.75, 1.0]  # SB3's 0.5 and RL Zoo's A2C entries' 0.25 and 0.4 among them


def sample_vf_coef(trial: BaseTrial) -> dict[str, Any]:
    return {"vf_coef": trial.suggest_categorical("vf_coef", VF_COEFS)}


def sample_gae_lambda(trial: BaseTrial) -> dict[str, Any]:
    # 0 is the TD(0) advantage and 1 the n-step Monte Carlo one: both ends are variants we ship
    return {"gae_lambda": trial.suggest_categorical("gae_lambda", GAE_LAMBDAS)}


ENT_COEFS = (1e-8, 0.1)  # log scale, as RL Zoo's samplers; "off" is exactly 0


def sample_ent_coef(trial: BaseTrial) -> dict[str, Any]:
    # SB3's default and most of RL Zoo's A2C entries have no entropy bonus (ent_coef 0.0), which a log
    # scale cannot hold: an explicit "off" makes those entries points of the search
    if _suggest_choice(trial, "entropy_bonus", ("off", "on"), before_it_existed="on") == "off":
        return {"ent_coef": 0.0}
    return {"ent_coef": trial.suggest_float("ent_coef", *ENT_COEFS, log=True)}


def ent_coef_params(kwargs: Mapping[str, Any]) -> dict[str, Any] | None:
    if constant_value(kwargs["ent_coef"]) == 0.0:
        return {"entropy_bonus": "off"}
    value = _float_in("ent_coef", *ENT_COEFS, kwargs["ent_coef"])
    return None if value is None else {"entropy_bonus": "on", **value}


SDE_SAMPLE_FREQS = [-1, 4, 8, 16, 32, 64, 128]  # -1: one noise matrix per rollout (SB3's default)
# REINFORCE's estimate needs a fresh gSDE draw at every step (Reinforce refuses any other frequency)
REINFORCE_SDE_SAMPLE_FREQS = [1]
LOG_STD_INITS = (-4.0, 1.0)  # RL Zoo's samplers' range; SB3's default is 0
# Hyperparameters of a Gaussian policy: a study on discrete actions cannot search them
CONTINUOUS_ONLY = ("use_sde", "log_std_init")


def _sample_use_sde(frequencies: list[int]) -> Callable[[BaseTrial], dict[str, Any]]:
    def sample(trial: BaseTrial) -> dict[str, Any]:
        # gSDE (state-dependent exploration noise), with how often its noise matrix is drawn again:
        # RL Zoo's entries for Pendulum-v1 and MountainCarContinuous-v0 use it
        if not trial.suggest_categorical("use_sde", [False, True]):
            return {"use_sde": False}
        return {"use_sde": True, "sde_sample_freq": trial.suggest_categorical("sde_sample_freq", frequencies)}

    return sample


def _use_sde_params(frequencies: list[int]) -> Callable[[Mapping[str, Any]], dict[str, Any] | None]:
    def params_of(kwargs: Mapping[str, Any]) -> dict[str, Any] | None:
        if not kwargs["use_sde"]:
            return {"use_sde": False}
        frequency = _choice("sde_sample_freq", frequencies, kwargs["sde_sample_freq"])
        return None if frequency is None else {"use_sde": True, **frequency}

    return params_of


def sample_log_std_init(trial: BaseTrial) -> dict[str, Any]:
    return {"policy_kwargs": {"log_std_init": trial.suggest_float("log_std_init", *LOG_STD_INITS)}}


def sample_ortho_init(trial: BaseTrial) -> dict[str, Any]:
    return {"policy_kwargs": {"ortho_init": trial.suggest_categorical("ortho_init", [True, False])}}


def _policy_kwarg(kwargs: Mapping[str, Any], key: str, default: Any) -> Any:
    return (kwargs.get("policy_kwargs") or {}).get(key, default)  # SB3's ActorCriticPolicy defaults


MAX_GRAD_NORMS = [0.0, 0.3, 0.5, 1.0, 2.0, 5.0]
GAE_LAMBDAS = [0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 1.0]
BASELINE_CHOICES = ["none", "mean", "value"]


def sample_max_grad_norm(trial: BaseTrial) -> dict[str, Any]:
    # 0 stands for "no clipping" (None), which Optuna's categorical choices store less clearly
    max_grad_norm = trial.suggest_categorical("max_grad_norm", MAX_GRAD_NORMS)
    return {"max_grad_norm": None if max_grad_norm == 0.0 else max_grad_norm}


def sample_normalize_advantage(trial: BaseTrial) -> dict[str, Any]:
    return {"normalize_advantage": trial.suggest_categorical("normalize_advantage", [False, True])}


def sample_baseline(trial: BaseTrial) -> dict[str, Any]:
    return {"baseline": trial.suggest_categorical("baseline", BASELINE_CHOICES)}


def _critic_learning_rate_params(kwargs: Mapping[str, Any]) -> dict[str, Any] | None:
    """Reinforce: the critic always has its own optimizer, at the actor's rate when none is given."""
    value = kwargs.get("critic_learning_rate")
    return _float_in("critic_learning_rate", *LEARNING_RATES, kwargs["learning_rate"] if value is None else value)


def _critic_optimizer_params(kwargs: Mapping[str, Any]) -> dict[str, Any] | None:
    """A2C: ``critic_learning_rate=None`` is the joint optimizer."""
    value = kwargs.get("critic_learning_rate")
    if value is None:
        return {"critic_optimizer": "joint"}
    rate = _float_in("critic_learning_rate", *LEARNING_RATES, value)
    return None if rate is None else {"critic_optimizer": "separate", **rate}


def _space(algo: type[Reinforce] | type[A2C], n_envs: int, batch: Hyperparameter, own: list[Hyperparameter]) -> SearchSpace:
    space = SearchSpace(algo, n_envs)
    sde_sample_freqs = REINFORCE_SDE_SAMPLE_FREQS if issubclass(algo, Reinforce) else SDE_SAMPLE_FREQS
    for hyperparameter in [
        *own,
        Hyperparameter(
            "learning_rate",
            sample_learning_rate,
            ("learning_rate",),
            params_of=lambda kw: _float_in("learning_rate", *LEARNING_RATES, kw["learning_rate"]),
        ),
        # After the learning rate, which it reads; fixing learning_rate fixes both
        Hyperparameter("lr_schedule", sample_lr_schedule, ("learning_rate",), params_of=lr_schedule_params),
        Hyperparameter(
            "critic_learning_rate",
            sample_critic_optimizer if issubclass(algo, A2C) else sample_critic_learning_rate,
            ("critic_learning_rate",),
            needs_critic=True,
            params_of=_critic_optimizer_params if issubclass(algo, A2C) else _critic_learning_rate_params,
        ),
        Hyperparameter(
            "gamma",
            sample_gamma,
            ("gamma",),
            params_of=lambda kw: _float_in("gamma", 1e-4, 0.1, 1.0 - kw["gamma"], "one_minus_gamma"),
        ),
        Hyperparameter(
            "critic_size", sample_critic_size, ("policy_kwargs.net_arch",), needs_critic=True, params_of=critic_size_params
        ),
        batch,
        Hyperparameter(
            "ent_coef",
            sample_ent_coef,
            ("ent_coef",),
            default_on=False,
            params_of=ent_coef_params,
        ),
        Hyperparameter(
            "max_grad_norm",
            sample_max_grad_norm,
            ("max_grad_norm",),
            default_on=False,
            params_of=lambda kw: _choice("max_grad_norm", MAX_GRAD_NORMS, kw["max_grad_norm"] or 0.0),
        ),
        Hyperparameter(
            "normalize_advantage",
            sample_normalize_advantage,
            ("normalize_advantage",),
            default_on=False,
            params_of=lambda kw: _choice("normalize_advantage", (False, True), kw["normalize_advantage"]),
        ),
        Hyperparameter(
            "use_sde",
            _sample_use_sde(sde_sample_freqs),
            ("use_sde", "sde_sample_freq"),
            default_on=False,
            params_of=_use_sde_params(sde_sample_freqs),
        ),
        Hyperparameter(
            "log_std_init",
            sample_log_std_init,
            ("policy_kwargs.log_std_init",),
            default_on=False,
            params_of=lambda kw: _float_in("log_std_init", *LOG_STD_INITS, _policy_kwarg(kw, "log_std_init", 0.0)),
        ),
        Hyperparameter(
            "ortho_init",
            sample_ortho_init,
            ("policy_kwargs.ortho_init",),
            default_on=False,
            params_of=lambda kw: _choice("ortho_init", (True, False), _policy_kwarg(kw, "ortho_init", True)),
        ),
    ]:
        space.add(hyperparameter)
    return space


def reinforce_space(algo: type[Reinforce]) -> SearchSpace:
    """REINFORCE's search space (for ``algo``: ``Reinforce`` or a subclass)."""
    # The baseline comes first: the critic's hyperparameters exist only with baseline="value"
    return _space(
        algo,
        1,
        Hyperparameter(  # 2 to 64 episodes
            "n_episodes",
            _sample_n_episodes(1, 6),
            ("n_episodes",),
            default_on=False,
            params_of=lambda kw: _power_of_two("n_episodes_exp", 1, 6, kw["n_episodes"]),
        ),
        [
            Hyperparameter(
                "baseline",
                sample_baseline,
                ("baseline",),
                default_on=False,
                params_of=lambda kw: _choice("baseline", BASELINE_CHOICES, kw["baseline"]),
            )
        ],
    )


def a2c_space(algo: type[A2C]) -> SearchSpace:
    """A2C's search space (for ``algo``: ``A2C`` or a subclass)."""
    space = _space(
        algo,
        8,
        Hyperparameter(  # n_steps 4 to 2048, or 5
            "n_steps",
            _sample_n_steps(2, 11),
            ("n_steps",),
            default_on=False,
            params_of=_n_steps_params(2, 11),
        ),
        [],
    )
    space.add(
        Hyperparameter(
            "vf_coef",
            sample_vf_coef,
            ("vf_coef",),
            default_on=False,
            params_of=lambda kw: _choice("vf_coef", VF_COEFS, float(kw["vf_coef"])),
        )
    )
    space.add(
        Hyperparameter(
            "gae_lambda",
            sample_gae_lambda,
            ("gae_lambda",),
            default_on=False,
            params_of=lambda kw: _choice("gae_lambda", GAE_LAMBDAS, float(kw["gae_lambda"])),
        )
    )
    return space


def _discrete_only(space: SearchSpace) -> SearchSpace:
    """Without the Gaussian policy's hyperparameters: masked actions are discrete."""
    for name in CONTINUOUS_ONLY:
        del space.hyperparameters[name]
    return space


def space_for(spec: AlgoSpec) -> SearchSpace:
    """An algorithm's search space, from its class: REINFORCE's or A2C's, without the Gaussian policy's
    ``use_sde`` and ``log_std_init`` for the maskable ones (masks are for discrete actions)."""
    space = reinforce_space(spec.algo) if spec.is_reinforce else a2c_space(spec.algo)  # type: ignore[arg-type]
    return _discrete_only(space) if issubclass(spec.algo, MaskableMixin) else space


# By RL Zoo name: one per algorithm of the registry
SEARCH_SPACES: dict[str, SearchSpace] = {name: space_for(spec) for name, spec in ALGORITHMS.items()}


def sample_zoo_params(algo: str) -> Callable[[optuna.Trial, int, int, dict], dict[str, Any]]:
    """An RL Zoo sampler (``HYPERPARAMS_SAMPLER`` signature) for ``algo``'s default search space."""

    def sampler(trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict) -> dict[str, Any]:
        return SEARCH_SPACES[algo].sample(trial)

    return sampler
