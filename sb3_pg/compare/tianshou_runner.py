"""Tianshou's A2C and REINFORCE as algorithms of ``sb3-pg compare`` (the ``tianshou`` extra).

Each is set up as Tianshou 2.0.1's own code sets it up, and trained by the training step of its
``OnPolicyTrainer`` (collect, ``algorithm.update``, ``reset_buffer``: ``tianshou/trainer.py``), so
that the comparison runs the peer's implementation, not ours with its hyperparameters:

- Box actions: ``examples/mujoco/mujoco_a2c.py`` and ``mujoco_reinforce.py``. A2C: RMSprop 7e-4
  (eps 1e-5, alpha 0.99), 16 envs x 5 steps a batch, gamma 0.99, GAE 0.95, vf 0.5, entropy 0.01,
  gradient norm 0.5, return scaling; REINFORCE: Adam 1e-3, 2,048 steps a batch over 10 envs (10 x 205),
  return standardisation. Both: observation normalisation (``VectorEnvNormObs``), separate 64-64 tanh
  actor and critic, a state-independent log-std from -0.5, orthogonal init (gain sqrt 2, zero bias)
  with the mean layer's weights x 0.01, the learning rate decayed linearly to 0; actions clipped
  (A2C) or squashed by tanh (REINFORCE) to [-1, 1], then scaled to the action space.
- Discrete actions: Tianshou's own CartPole tests, ``test/discrete/test_a2c_with_il.py`` (A2C: Adam
  1e-3, 16 envs, 16 episodes a collect, minibatches of 64, gamma 0.9, one shared 64-64 ReLU body) and
  ``test/discrete/test_reinforce.py`` (REINFORCE: Adam 1e-3, 8 envs, 8 episodes a collect, two
  passes in minibatches of 64, gamma 0.95, return standardisation, orthogonal init).

What the harness sets the same way for every library: the training envs are seeded ``seed``,
``seed + 1``, ... in-process (Tianshou's ``DummyVectorEnv``, as our runs' ``DummyVecEnv``); torch and
NumPy are seeded with ``seed`` before the networks are built, as the scripts do; the linear decay
reaches 0 at the run's budget (the scripts decay over their own 3M steps); and the evaluation is ours:
every ``eval_freq`` env steps (at the first collect that reaches it) and at the end, the policy's mode
(``deterministic_eval``; the scripts test with sampled actions) on one separate env seeded ``seed +
10000``, over ``eval_episodes`` episodes, with observations normalised by a frozen copy of the
training statistics. Training time excludes evaluation (Tianshou 2.0.1's own timing counts its tests
as training: its synchronous ``Collector`` never adds to ``collect_time``).
"""

import copy
import hashlib
import json
import math
import time
import warnings
from dataclasses import asdict, dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from torch import nn
from torch.distributions import Categorical, Distribution, Independent, Normal

from sb3_pg.experiment import EVAL_SEED_OFFSET, RunConfig, RunResult

TIANSHOU_VERSION = "2.0.1"


@dataclass(frozen=True)
class TianshouSettings:
    """One algorithm's set-up, as one of Tianshou's scripts writes it."""

    source: str  # the Tianshou file it comes from
    n_envs: int
    step_per_collect: int | None  # env steps per collect (MuJoCo scripts)
    episode_per_collect: int | None  # or episodes per collect (the CartPole tests)
    repeat: int  # passes over each batch
    batch_size: int | None  # minibatch size; None for the whole batch
    learning_rate: float
    optimizer: str  # "rmsprop" (eps 1e-5, alpha 0.99) or "adam"
    lr_decay: bool
    gamma: float
    obs_norm: bool
    buffer_size: int = 4096  # the replay buffer that holds a collect (split over the envs)
    hidden: tuple[int, ...] = (64, 64)
    gae_lambda: float = 1.0
    vf_coef: float = 0.5
    ent_coef: float = 0.0
    max_grad_norm: float | None = None
    return_normalization: bool = False  # A2C: return_scaling; Reinforce: return_standardization
    action_bound: str = "clip"  # Box actions: "clip" or "tanh"


SETTINGS: dict[tuple[str, bool], TianshouSettings] = {
    # examples/mujoco/mujoco_a2c.py (v2.0.1), lines 32-49 and 85-153
    ("tianshou_a2c", True): TianshouSettings(
        "tianshou examples/mujoco/mujoco_a2c.py",
        n_envs=16,
        step_per_collect=80,
        episode_per_collect=None,
        repeat=1,
        batch_size=None,
        learning_rate=7e-4,
        optimizer="rmsprop",
        lr_decay=True,
        gamma=0.99,
        obs_norm=True,
        gae_lambda=0.95,
        vf_coef=0.5,
        ent_coef=0.01,
        max_grad_norm=0.5,
        return_normalization=True,
        action_bound="clip",
    ),
    # examples/mujoco/mujoco_reinforce.py (v2.0.1), lines 33-44 and 81-131
    ("tianshou_reinforce", True): TianshouSettings(
        "tianshou examples/mujoco/mujoco_reinforce.py",
        n_envs=10,
        step_per_collect=2048,
        episode_per_collect=None,
        repeat=1,
        batch_size=None,
        learning_rate=1e-3,
        optimizer="adam",
        lr_decay=True,
        gamma=0.99,
        obs_norm=True,
        return_normalization=True,
        action_bound="tanh",
    ),
    # test/discrete/test_a2c_with_il.py (v2.0.1), lines 29-61 and 101-122
    ("tianshou_a2c", False): TianshouSettings(
        "tianshou test/discrete/test_a2c_with_il.py",
        n_envs=16,
        step_per_collect=None,
        episode_per_collect=16,
        repeat=1,
        batch_size=64,
        learning_rate=1e-3,
        optimizer="adam",
        lr_decay=False,
        gamma=0.9,
        obs_norm=False,
        buffer_size=20_000,
        vf_coef=0.5,
    ),
    # test/discrete/test_reinforce.py (v2.0.1), lines 24-41 and 73-97
    ("tianshou_reinforce", False): TianshouSettings(
        "tianshou test/discrete/test_reinforce.py",
        n_envs=8,
        step_per_collect=None,
        episode_per_collect=8,
        repeat=2,
        batch_size=64,
        learning_rate=1e-3,
        optimizer="adam",
        lr_decay=False,
        gamma=0.95,
        obs_norm=False,
        buffer_size=20_000,
        return_normalization=True,
    ),
}


def tianshou_config(algo: str, env_id: str) -> RunConfig:
    """Tianshou's set-up of ``algo`` for ``env_id``'s action space, as a :class:`~sb3_pg.experiment.RunConfig`
    (the same in both modes: it is Tianshou's)."""
    settings = settings_for(algo, env_id)
    text = json.dumps(["tianshou", TIANSHOU_VERSION, algo, asdict(settings)], sort_keys=True)
    code = hashlib.sha256(text.encode()).hexdigest()[:16]
    source = f"{settings.source} ({TIANSHOU_VERSION})"
    kwargs = {"algo": algo, **asdict(settings)}
    return RunConfig(None, kwargs, settings.n_envs, 1_000_000, None, source, code, library="tianshou")


def settings_for(algo: str, env_id: str) -> TianshouSettings:
    """
    :param algo: ``tianshou_a2c`` or ``tianshou_reinforce``
    :param env_id: a Gymnasium env id with Box or Discrete actions
    :raises ValueError: for another action space
    """
    env = gym.make(env_id)
    space = env.action_space
    env.close()
    if not isinstance(space, gym.spaces.Box | gym.spaces.Discrete):
        raise ValueError(f"argument --algos: {algo} takes Box or Discrete actions; {env_id} has {space}")
    return SETTINGS[algo, isinstance(space, gym.spaces.Box)]


def _gaussian(loc_scale: tuple[th.Tensor, th.Tensor]) -> Distribution:
    loc, scale = loc_scale
    return Independent(Normal(loc, scale), 1)


def _orthogonal(module: nn.Module, gain: float) -> None:
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.orthogonal_(layer.weight, gain=gain)
            nn.init.zeros_(layer.bias)


def _continuous_policy(algo: str, settings: TianshouSettings, env: gym.Env) -> tuple[Any, Any]:
    """The MuJoCo scripts' networks and policy: (policy, critic or None)."""
    from tianshou.algorithm.modelfree.reinforce import ProbabilisticActorPolicy
    from tianshou.utils.net.common import ActorCritic, Net
    from tianshou.utils.net.continuous import ContinuousActorProbabilistic, ContinuousCritic

    obs_shape, action_shape = env.observation_space.shape, env.action_space.shape
    assert obs_shape is not None and action_shape is not None
    body = Net(state_shape=obs_shape, hidden_sizes=list(settings.hidden), activation=nn.Tanh)
    actor = ContinuousActorProbabilistic(preprocess_net=body, action_shape=action_shape, unbounded=True)
    nn.init.constant_(actor.sigma_param, -0.5)
    critic = None
    initialised: nn.Module = actor
    if algo == "tianshou_a2c":
        critic_body = Net(state_shape=obs_shape, hidden_sizes=list(settings.hidden), activation=nn.Tanh)
        critic = ContinuousCritic(preprocess_net=critic_body)
        initialised = ActorCritic(actor, critic)
    _orthogonal(initialised, math.sqrt(2))
    # "do last policy layer scaling, this will make initial actions have (close to) 0 mean and std"
    for layer in actor.mu.modules():
        if isinstance(layer, nn.Linear):
            nn.init.zeros_(layer.bias)
            layer.weight.data.copy_(0.01 * layer.weight.data)
    policy = ProbabilisticActorPolicy(
        actor=actor,
        dist_fn=_gaussian,
        action_space=env.action_space,
        action_scaling=True,
        action_bound_method=settings.action_bound,  # type: ignore[arg-type]
        deterministic_eval=True,
    )
    return policy, critic


def _discrete_policy(algo: str, settings: TianshouSettings, env: gym.Env) -> tuple[Any, Any]:
    """The CartPole tests' networks and policy: (policy, critic or None)."""
    from tianshou.algorithm.modelfree.reinforce import ProbabilisticActorPolicy
    from tianshou.utils.net.common import Net
    from tianshou.utils.net.discrete import DiscreteActor, DiscreteCritic

    obs_shape = env.observation_space.shape
    assert obs_shape is not None and isinstance(env.action_space, gym.spaces.Discrete)
    n_actions = int(env.action_space.n)
    critic = None
    if algo == "tianshou_a2c":
        body = Net(state_shape=obs_shape, hidden_sizes=list(settings.hidden))  # shared by actor and critic
        actor: Any = DiscreteActor(preprocess_net=body, action_shape=n_actions)  # softmax output
        critic = DiscreteCritic(preprocess_net=body)
    else:
        actor = Net(state_shape=obs_shape, action_shape=n_actions, hidden_sizes=list(settings.hidden), softmax=True)
    policy = ProbabilisticActorPolicy(
        actor=actor,
        dist_fn=Categorical,  # of probabilities: both actors end in a softmax
        action_space=env.action_space,
        action_scaling=False,
        deterministic_eval=True,
    )
    return policy, critic


def build_algorithm(algo: str, settings: TianshouSettings, env: gym.Env, n_updates: int) -> Any:
    """
    Tianshou's algorithm object, as the script builds it.

    :param n_updates: the updates the run will make (the linear decay reaches 0 after them)
    """
    from tianshou.algorithm import A2C, Reinforce
    from tianshou.algorithm.optim import AdamOptimizerFactory, LRSchedulerFactoryLinear, RMSpropOptimizerFactory

    continuous = isinstance(env.action_space, gym.spaces.Box)
    policy, critic = (_continuous_policy if continuous else _discrete_policy)(algo, settings, env)
    if settings.optimizer == "rmsprop":
        optim: Any = RMSpropOptimizerFactory(lr=settings.learning_rate, eps=1e-5, alpha=0.99)
    else:
        optim = AdamOptimizerFactory(lr=settings.learning_rate)
    if settings.lr_decay:
        # LambdaLR(1 - k / N), N = max_epochs * epoch_num_steps / collection_step_num_env_steps: one
        # "epoch" of n_updates collects of one step each gives N = n_updates (Tianshou does not clamp)
        optim.with_lr_scheduler_factory(
            LRSchedulerFactoryLinear(max_epochs=1, epoch_num_steps=n_updates, collection_step_num_env_steps=1)
        )
    if algo == "tianshou_a2c":
        return A2C(
            policy=policy,
            critic=critic,
            optim=optim,
            gamma=settings.gamma,
            gae_lambda=settings.gae_lambda,
            max_grad_norm=settings.max_grad_norm,
            vf_coef=settings.vf_coef,
            ent_coef=settings.ent_coef,
            return_scaling=settings.return_normalization,
        )
    algorithm = Reinforce(
        policy=policy, optim=optim, gamma=settings.gamma, return_standardization=settings.return_normalization
    )
    if not continuous:  # test_reinforce.py initialises the actor after building the algorithm
        _orthogonal(policy.actor, math.sqrt(2))
    return algorithm


def _make_envs(env_id: str, settings: TianshouSettings, seed: int) -> tuple[Any, Any]:
    from tianshou.env import DummyVectorEnv, VectorEnvNormObs

    train_envs: Any = DummyVectorEnv([lambda: gym.make(env_id) for _ in range(settings.n_envs)])
    test_envs: Any = DummyVectorEnv([lambda: gym.make(env_id)])
    train_envs.seed(seed)  # env i: seed + i
    test_envs.seed(seed + EVAL_SEED_OFFSET)
    if settings.obs_norm:
        train_envs = VectorEnvNormObs(train_envs, update_obs_rms=True)
        test_envs = VectorEnvNormObs(test_envs, update_obs_rms=False)
    return train_envs, test_envs


def train_and_evaluate_tianshou(
    algo: str, env_id: str, seed: int, timesteps: int, eval_freq: int, eval_episodes: int
) -> RunResult:
    """
    Train Tianshou's ``algo`` on ``env_id`` for ``timesteps`` env steps (the last collect may go past
    them) and record its deterministic evaluation curve (see the module's docstring).
    """
    from tianshou.data import Collector, CollectStats, VectorReplayBuffer
    from tianshou.utils.torch_utils import policy_within_training_step

    settings = settings_for(algo, env_id)
    # The MuJoCo scripts' actor is unbounded by design (unbounded=True), which Tianshou warns of
    warnings.filterwarnings("ignore", message="action_scaling and action_bound_method are only intended")
    probe = gym.make(env_id)
    train_envs, test_envs = _make_envs(env_id, settings, seed)
    np.random.seed(seed)  # Tianshou's minibatches are shuffled with NumPy's global generator
    th.manual_seed(seed)
    collect_steps = settings.step_per_collect
    n_updates = 1
    if collect_steps is not None:
        collect_steps = math.ceil(collect_steps / settings.n_envs) * settings.n_envs  # what the collector takes
        n_updates = math.ceil(timesteps / collect_steps)
    algorithm = build_algorithm(algo, settings, probe, n_updates)
    probe.close()
    training = Collector[CollectStats](
        algorithm, train_envs, VectorReplayBuffer(settings.buffer_size, settings.n_envs), exploration_noise=True
    )
    testing = Collector[CollectStats](algorithm, test_envs)
    training.reset()
    curve = RunResult()

    def evaluate() -> None:
        start = time.perf_counter()
        if settings.obs_norm:  # a frozen copy of the training statistics
            test_envs.set_obs_rms(copy.deepcopy(train_envs.get_obs_rms()))
        testing.reset()
        with th.no_grad():  # outside a training step: the policy's mode
            stats = testing.collect(n_episode=eval_episodes)
        curve.steps.append(curve.timesteps)
        curve.returns.append(float(np.mean(stats.returns)))
        curve.eval_seconds += time.perf_counter() - start

    next_evaluation = eval_freq
    try:
        while curve.timesteps < timesteps:
            start = time.perf_counter()
            # OnPolicyTrainer's training step (tianshou/trainer.py, _training_step and _update_step)
            with policy_within_training_step(algorithm.policy):
                with th.no_grad():
                    collected = training.collect(n_step=collect_steps, n_episode=settings.episode_per_collect)
                algorithm.update(buffer=training.buffer, batch_size=settings.batch_size, repeat=settings.repeat)
            training.reset_buffer(keep_statistics=True)
            curve.train_seconds += time.perf_counter() - start
            curve.timesteps += int(collected.n_collected_steps)
            if curve.timesteps >= next_evaluation:
                evaluate()
                next_evaluation = (curve.timesteps // eval_freq + 1) * eval_freq
        if not curve.steps or curve.steps[-1] != curve.timesteps:
            evaluate()  # the final return is always at the end of training
    finally:
        train_envs.close()
        test_envs.close()
    return curve
