import contextlib
import warnings
from collections.abc import Iterator
from typing import Any, ClassVar, NamedTuple, TypeVar

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.distributions import StateDependentNoiseDistribution
from stable_baselines3.common.policies import ActorCriticPolicy, BasePolicy
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule

from sb3_pg.common.backend import in_training_threads
from sb3_pg.common.episode_buffer import (
    STALE_EPISODES,
    DictEpisodicRolloutBuffer,
    EpisodeBatchSamples,
    EpisodicRolloutBuffer,
)
from sb3_pg.common.episode_limit import check_episode_limit, with_episode_limit
from sb3_pg.common.fast_optim import explained_variance
from sb3_pg.common.on_policy import ActorCriticAlgorithm
from sb3_pg.common.returns import leave_one_out_mean
from sb3_pg.common.validation import check_bool, check_buffer_kwargs, check_choice, check_positive_int
from sb3_pg.reinforce.policies import CnnPolicy, MlpPolicy, MultiInputPolicy

SelfReinforce = TypeVar("SelfReinforce", bound="Reinforce")

LOSS_REDUCTIONS = ("episode_mean", "step_mean")
BASELINES = ("none", "mean", "running_mean", "value")
INITIAL_ROWS = 256  # rows per env the buffer starts with
MAX_LOG_RHO = 50.0  # importance weights stay within e^-50 .. e^50: no overflow, in float32 too


class ReinforceLoss(NamedTuple):
    """A batch's losses, with the weights they were computed with (for the logs and the tests)."""

    policy: th.Tensor  # the surrogate loss: minus the policy-gradient estimate's objective
    entropy: th.Tensor  # the entropy loss
    rho: th.Tensor  # each episode's importance weight [K]
    advantages: th.Tensor  # each step's weight after the baseline, before rho


def batch_episodes(rollout_data: EpisodeBatchSamples) -> int:
    """The number K of episodes of a batch (its episodes are numbered 0 .. K - 1, in order)."""
    return int(rollout_data.episode_index[-1].item()) + 1


def importance_ess(rho: th.Tensor) -> float:
    """
    Kish's effective sample size of a batch's importance weights as a fraction of their number,
    ``(sum rho)^2 / (K sum rho^2)``: 1 when every weight is equal (all 1 on-policy), ``1/K`` when one
    weight holds all the mass.
    """
    weights = rho.double()
    return float(weights.sum() ** 2 / (len(weights) * (weights**2).sum()))


@contextlib.contextmanager
def exact_sde_log_prob(policy: BasePolicy) -> Iterator[None]:
    """
    Within the block, a gSDE policy's log-probabilities have their gradient through the features the
    noise is scaled by. SB3's policies build gSDE with ``learn_features=False``, which detaches them:
    the gradient then misses the action density's dependence on the layers that compute them, a bias
    in those layers' part of the Monte Carlo estimate. Nothing changes for other policies.
    """
    distribution = getattr(policy, "action_dist", None)
    if not isinstance(distribution, StateDependentNoiseDistribution) or distribution.learn_features:
        yield
        return
    distribution.learn_features = True
    try:
        yield
    finally:
        distribution.learn_features = False


class Reinforce(ActorCriticAlgorithm):
    """
    REINFORCE, the Monte Carlo policy gradient, with or without a baseline.

    Paper: Williams (1992), "Simple statistical gradient-following algorithms for connectionist
    reinforcement learning", https://doi.org/10.1007/BF00992696
    Maths: ``docs/maths.md`` (each estimator, the function computing it, the tests checking it) and
    OpenAI Spinning Up,
    https://spinningup.openai.com/en/latest/spinningup/rl_intro3.html

    Each update uses a batch D of exactly ``K = n_episodes`` complete episodes:

        g = 1/K sum_{tau in D} rho(tau) sum_t grad log pi(a_t|s_t) (w_t - b_t)

    with weight ``w_t = R(tau)`` (the whole discounted return) or ``w_t = G_t`` (the discounted
    reward-to-go), and baseline ``b`` none, the mean of the other episodes' weights (for ``G_t``: of
    those still running at step ``t``), the mean weight of the earlier batches' steps, or a learned
    ``V_phi(s_t)``. The actor minimises the
    surrogate ``-rho * log_prob * (w - b)`` with ``rho``, ``w`` and ``b`` detached; the critic
    ``V_phi`` is fitted separately by MSE to the Monte Carlo returns ``G_t``, with its own optimizer.

    The batch is chosen by start order: each episode joins the batch being collected when it starts
    (envs starting together in env order), until the batch has ``K``. Membership never depends on an
    episode's own actions, rewards or length, and ``K`` is fixed, so ``g`` is an unbiased estimate of
    ``E[sum_t grad log pi(a_t|s_t) (w_t - b_t)]`` for any distribution of episode lengths: the policy
    gradient itself with ``gamma = 1``, or with ``reward_to_go=False`` (the gradient of the discounted
    return ``E[R(tau)]``); with ``gamma < 1`` the reward-to-go form drops the ``gamma^t`` factor of
    the discounted objective's gradient, the usual practice (Thomas 2014). A rollout ends when the
    batch's last episode ends. The episodes other envs began meanwhile would be finished by the next
    policy; ``stale_episodes`` says what becomes of them. ``"drop"`` (the default): they are played out
    and not trained on, so every batch is on-policy (every importance weight is 1) and the steps they
    took are the cost (``rollout/trained_fraction``; none when ``K`` is a multiple of ``n_envs`` and
    every episode has the same length). ``"importance"``: they begin the next batch and are trained on
    with ``rho(tau) = prod_t pi(a_t|s_t) / mu(a_t|s_t)`` over their steps (``mu`` the policy that took
    each), which keeps the estimate unbiased and every step trained on, at the cost of the weights'
    variance: an episode with many old-policy steps can carry most of a batch's weight
    (``train/importance_ess``, Kish's effective sample size as a fraction of ``K``).

    A time-limit truncation is bootstrapped with ``gamma * V_phi(s_T)`` when ``baseline="value"``;
    without a critic it ends the episode (the objective is then the return within the time limit),
    and a warning says so once. Envs must have an episode limit (``TimeLimit``, or
    ``max_episode_steps``), so that every episode ends.

    :param policy: The policy model to use (MlpPolicy, CnnPolicy, MultiInputPolicy)
    :param env: The environment to learn from (if registered in Gym, can be str); it needs an episode limit
    :param learning_rate: The actor's learning rate, it can be a function
        of the current progress remaining (from 1 to 0)
    :param n_episodes: The number K of complete episodes in each update's batch, counted over all
        environments; a multiple of ``n_envs`` (a warning says what another value costs). A change
        after construction applies from the next batch
    :param stale_episodes: What becomes of the episodes that begin while the batch being collected is
        full (the next policy would finish them): ``"drop"`` (not trained on: every batch is on-policy)
        or ``"importance"`` (trained on in the next batch, with importance weights)
    :param gamma: Discount factor
    :param baseline: ``"none"``, ``"mean"`` (the mean of the other episodes' weights, so that it stays
        unbiased), ``"running_mean"`` (the mean weight over every step of the earlier batches, 0 for the
        first: it does not depend on the batch, so it stays unbiased; Tianshou's return
        standardisation centres its returns so) or ``"value"`` (a learned ``V_phi(s)``: REINFORCE with
        baseline)
    :param reward_to_go: Weight each log-probability by the discounted return from its step (True)
        or by the whole episode's discounted return R(tau) (False: the whole-return estimator)
    :param loss_reduction: ``"episode_mean"``: the sum over the batch's steps divided by K, the
        unbiased estimator above; ``"step_mean"``: divided by the number of steps instead (as SB3's
        losses), a ratio estimator: consistent, but biased by O(1/K) when episode lengths vary
    :param max_episode_steps: Cut episodes after this many steps (a time-limit truncation); ``None``
        keeps the env's own limit (an env without one is refused)
    :param critic_learning_rate: The critic's learning rate (float or schedule); ``None`` uses
        ``learning_rate``. Only with ``baseline="value"``
    :param n_critic_updates: Number of critic gradient steps per batch. Only with ``baseline="value"``
    :param normalize_advantage: Whether to divide the weights (after the baseline) by their standard
        deviation over the batch. This only rescales, never recentres (that would be a baseline); the
        random scale makes the estimate biased in magnitude, though not in direction
    :param ent_coef: Entropy coefficient for the loss calculation
    :param max_grad_norm: The maximum norm for gradient clipping (actor and critic separately);
        ``None`` for no clipping
    :param use_sde: Whether to use generalized State Dependent Exploration (gSDE)
        instead of action noise exploration (default: False). With gSDE the estimate stays unbiased:
        the noise is drawn afresh at every step (``sde_sample_freq=1``) and the log-probabilities'
        gradient includes the noise's dependence on the features (SB3 detaches it)
    :param sde_sample_freq: Sample a new noise matrix every n steps when using gSDE; must be 1 with
        ``use_sde=True`` (a matrix kept over several steps makes the steps' log-probabilities those of
        another distribution than the one the actions come from); -1 (the default) without gSDE
    :param rollout_buffer_class: Rollout buffer class to use, a subclass of ``EpisodicRolloutBuffer``
        (or ``DictEpisodicRolloutBuffer``). If ``None``, it will be automatically selected.
    :param rollout_buffer_kwargs: Keyword arguments to pass to the rollout buffer on creation.
    :param exact_rollouts: Sample rollout actions with SB3's torch code and random stream (``True``),
        so that a run reproduces SB3's to the bit, or, where the policy allows it (``MlpPolicy`` with
        Discrete or Box actions, CPU), with a NumPy forward pass on the policy's own parameters
        (``False``, faster; same distribution, another random stream). See ``sb3_pg/common/numpy_actor.py``
    :param stats_window_size: Window size for the rollout logging, specifying the number of episodes to average
        the reported success rate, mean episode length, and mean reward over
    :param tensorboard_log: the log location for tensorboard (if None, no logging; needs the ``tensorboard`` extra)
    :param policy_kwargs: additional arguments to be passed to the policy on creation
    :param verbose: Verbosity level: 0 for no output, 1 for info messages (such as device or wrappers used), 2 for
        debug messages
    :param seed: Seed for the pseudo random generators
    :param device: Device (cpu, cuda, ...) on which the code should be run.
        Setting it to auto, the code will be run on the GPU if possible.
    :param _init_setup_model: Whether or not to build the network at the creation of the instance
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpPolicy": MlpPolicy,
        "CnnPolicy": CnnPolicy,
        "MultiInputPolicy": MultiInputPolicy,
    }
    rollout_buffer: EpisodicRolloutBuffer | DictEpisodicRolloutBuffer
    default_rollout_buffers: ClassVar[tuple[type[RolloutBuffer], type[RolloutBuffer]]] = (
        EpisodicRolloutBuffer,
        DictEpisodicRolloutBuffer,
    )
    # Moved when the default estimator's results change (2: stale episodes dropped, exact gSDE): stored
    # benchmark runs of an older estimator are not reused (sb3_pg.experiment.fingerprint)
    results_revision: ClassVar[int] = 2
    _warned_truncation: bool = False
    # Mean and variance of the weights of every step trained on so far (baseline="running_mean" only)
    weight_rms: RunningMeanStd | None = None
    _learn_start_timesteps: int = 0
    _learn_start_trained: float = 0.0
    # Steps trained on, each batch's counted times its importance ESS fraction, over the model's life
    _n_weighted_steps: float = 0.0

    def __init__(
        self,
        policy: str | type[ActorCriticPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 3e-3,
        n_episodes: int = 16,
        stale_episodes: str = "drop",
        gamma: float = 0.99,
        baseline: str = "value",
        reward_to_go: bool = True,
        loss_reduction: str = "episode_mean",
        max_episode_steps: int | None = None,
        critic_learning_rate: float | Schedule | None = None,
        n_critic_updates: int = 1,
        normalize_advantage: bool = False,
        ent_coef: float = 0.0,
        max_grad_norm: float | None = None,
        use_sde: bool = False,
        sde_sample_freq: int = -1,
        rollout_buffer_class: type[RolloutBuffer] | None = None,
        rollout_buffer_kwargs: dict[str, Any] | None = None,
        exact_rollouts: bool = False,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
    ):
        if max_episode_steps is not None:
            check_positive_int("max_episode_steps", max_episode_steps)
        super().__init__(
            policy,
            with_episode_limit(env, max_episode_steps),
            learning_rate=learning_rate,
            n_steps=INITIAL_ROWS,  # the buffer's first size per env: it grows as episodes need
            gamma=gamma,
            gae_lambda=1.0,  # Monte Carlo returns of complete episodes: no GAE
            ent_coef=ent_coef,
            vf_coef=0.0,  # the critic is optimized separately, with critic_learning_rate
            max_grad_norm=max_grad_norm,
            use_sde=use_sde,
            sde_sample_freq=sde_sample_freq,
            rollout_buffer_class=rollout_buffer_class,
            rollout_buffer_kwargs=rollout_buffer_kwargs,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            policy_kwargs=policy_kwargs,
            verbose=verbose,
            device=device,
            seed=seed,
            _init_setup_model=False,
            supported_action_spaces=None,  # checked by _check_arguments, with a ValueError
        )
        self.n_episodes = n_episodes
        self.stale_episodes = stale_episodes
        self.baseline = baseline
        self.reward_to_go = reward_to_go
        self.loss_reduction = loss_reduction
        self.max_episode_steps = max_episode_steps
        self.critic_learning_rate = critic_learning_rate
        self.n_critic_updates = n_critic_updates
        self.normalize_advantage = normalize_advantage
        self.exact_rollouts = exact_rollouts
        self._check_arguments()

        if _init_setup_model:
            self._setup_model()

    def _check_arguments(self) -> None:
        self._check_common_arguments()
        if self.env is not None:
            check_episode_limit(self.env)
        check_positive_int("n_episodes", self.n_episodes)
        check_choice("stale_episodes", self.stale_episodes, STALE_EPISODES)
        check_choice("baseline", self.baseline, BASELINES)
        check_bool("reward_to_go", self.reward_to_go)
        check_choice("loss_reduction", self.loss_reduction, LOSS_REDUCTIONS)
        check_bool("normalize_advantage", self.normalize_advantage)
        if self.use_sde and self.sde_sample_freq != 1:
            # A noise matrix kept over several steps ties their actions together: the product of the
            # steps' Gaussian densities is then not the density the actions were drawn from
            raise ValueError(
                f"`sde_sample_freq` must be 1 with use_sde=True (a fresh gSDE noise draw at every step, whose "
                f"density is the one REINFORCE's log-probabilities use); got sde_sample_freq={self.sde_sample_freq!r}"
            )
        if self.baseline != "value":
            no_critic = f"needs baseline='value' (there is no critic with baseline={self.baseline!r})"
            if self.critic_learning_rate is not None:
                raise ValueError(f"`critic_learning_rate` {no_critic}")
            if self.n_critic_updates != 1:
                raise ValueError(f"`n_critic_updates` {no_critic}")
        self._check_rollout_buffer_class("hold complete episodes (REINFORCE trains on them)")

    def _setup_model(self) -> None:
        if self.rollout_buffer_class is None:
            flat, for_dict = self.default_rollout_buffers
            self.rollout_buffer_class = for_dict if isinstance(self.observation_space, spaces.Dict) else flat
        self.rollout_buffer_kwargs = check_buffer_kwargs(
            self.rollout_buffer_class,
            self.rollout_buffer_kwargs,
            {"n_episodes": self.n_episodes, "stale_episodes": self.stale_episodes, **self._extra_buffer_kwargs()},
        )
        super()._setup_model()
        self._warn_of_stale_episodes()
        # The critic (the value baseline) always has its own optimizer; without it there is no critic
        critic_lr = self.learning_rate if self.critic_learning_rate is None else self.critic_learning_rate
        self._setup_optimizers(critic_lr if self.baseline == "value" else None)

    @property
    def trained_steps(self) -> float:
        """The env steps trained on so far, each batch's counted times its importance ESS fraction
        (:func:`importance_ess`): the steps that carried weight."""
        return self._n_weighted_steps

    def _warn_of_stale_episodes(self) -> None:
        """Say what an ``n_episodes`` that is not a multiple of ``n_envs`` costs (envs left mid-episode at each update)."""
        if self.n_episodes % self.n_envs == 0:
            return
        cost = {
            "drop": "their steps are not trained on",
            "importance": "they are trained on with importance weights, whose variance grows with their old-policy steps",
        }[self.stale_episodes]
        share = f" (at least {1 - self.n_episodes / self.n_envs:.0%} of the steps)" if self.n_episodes < self.n_envs else ""
        warnings.warn(
            f"Reinforce: n_episodes={self.n_episodes} is not a multiple of n_envs={self.n_envs}: at each update some envs are "
            f"mid-episode even when every episode has the same length, and with stale_episodes={self.stale_episodes!r} "
            f"{cost}{share}; a multiple of n_envs avoids it",
            stacklevel=3,
        )

    def _check_baseline(self) -> None:
        """
        Check ``baseline``, which may be set after construction: the constructor alone makes the critic,
        so a model keeps ``"value"`` if it was built with it, and chooses among the others if not.
        """
        check_choice("baseline", self.baseline, BASELINES)
        # The critic's schedule, not critic_optimizer: that property calls the schedule, which a user's may record
        has_critic = self.critic_lr_schedule is not None
        if (self.baseline == "value") != has_critic:
            built = "with a critic (baseline='value')" if has_critic else "without a critic"
            raise ValueError(
                f"`baseline` cannot become {self.baseline!r} after construction: the model was built {built}, and only "
                f"the constructor makes or drops the critic; build a new model with baseline={self.baseline!r}"
            )

    def _sync_batch_settings(self) -> None:
        """Give the buffer ``n_episodes`` and ``stale_episodes`` as they are now: a change applies from the next batch."""
        check_positive_int("n_episodes", self.n_episodes)
        check_choice("stale_episodes", self.stale_episodes, STALE_EPISODES)
        self.rollout_buffer.n_episodes = int(self.n_episodes)
        self.rollout_buffer.stale_episodes = self.stale_episodes

    def set_env(self, env: GymEnv, force_reset: bool = True) -> None:
        """SB3's ``set_env``, refusing an env without an episode limit. See ``BaseAlgorithm.set_env``."""
        check_episode_limit(env)
        super().set_env(env, force_reset=force_reset)

    def _setup_learn(self, total_timesteps: int, callback: MaybeCallback = None, *args: Any, **kwargs: Any) -> Any:
        self._check_baseline()  # before any step: the attribute may be set after construction
        resets = kwargs.get("reset_num_timesteps", args[0] if args else True) or self._last_obs is None
        result = super()._setup_learn(total_timesteps, callback, *args, **kwargs)
        self._sync_batch_settings()
        if resets:
            # The envs were reset: the episodes in progress were cut, and are not trained on
            self.rollout_buffer.discard()
        self._learn_start_timesteps = self.num_timesteps
        self._learn_start_trained = self._n_weighted_steps
        return result

    # Rollout hooks (see ActorCriticAlgorithm.collect_rollouts): batches of complete episodes.
    def _rollout_continues(self, n_steps: int, n_rollout_steps: int) -> bool:
        return not self.rollout_buffer.batch_complete

    def _bootstrap_truncations(self, rewards: np.ndarray, dones: np.ndarray, infos: list[dict[str, Any]]) -> None:
        if self.critic_optimizer is not None:
            super()._bootstrap_truncations(rewards, dones, infos)
        elif not self._warned_truncation and any(infos[i].get("TimeLimit.truncated", False) for i in dones.nonzero()[0]):
            # Without a critic the return stops at the cut: the objective is the return within the limit
            self._warned_truncation = True
            warnings.warn(
                "Reinforce: episodes are cut by a time limit and there is no critic to bootstrap them "
                "(baseline != 'value'): each is trained on as if it had ended there",
                stacklevel=2,
            )

    def _add_step(
        self,
        rollout_buffer: RolloutBuffer,
        actions: np.ndarray,
        rewards: np.ndarray,
        values: th.Tensor,
        log_probs: th.Tensor,
        dones: np.ndarray,
        n_rollout_steps: int,
    ) -> None:
        assert self._last_episode_starts is not None
        self.rollout_buffer.add_step(
            self._last_obs, actions, rewards, self._last_episode_starts, values, log_probs, dones, **self._extra_step_data()
        )

    def _bootstrap_values(self, new_obs: Any) -> th.Tensor:
        # Every episode in the batch is complete: nothing to bootstrap
        return th.zeros(self.n_envs)

    def importance_weights(self, rollout_data: EpisodeBatchSamples, log_prob: th.Tensor) -> th.Tensor:
        """
        ``rho(tau) = exp(sum_t log pi(a_t|s_t) - log mu(a_t|s_t))`` of each episode: the current
        policy ``pi`` over the policy ``mu`` that took its steps (1, to rounding, for an episode taken
        by the current policy: every episode with ``stale_episodes="drop"``), detached. The sum is
        clamped to +-:data:`MAX_LOG_RHO`, so that no weight overflows: the clamp acts only on a batch
        that one episode's weight already dominates by a factor above ``e^50``.

        :param rollout_data: the batch
        :param log_prob: ``log pi(a_t|s_t)`` of its steps
        :return: one weight per episode ``[K]``
        """
        log_ratio = (log_prob.detach() - rollout_data.old_log_prob).double()
        n_episodes = batch_episodes(rollout_data)
        per_episode = th.zeros(n_episodes, dtype=th.float64).index_add_(0, rollout_data.episode_index, log_ratio)
        return per_episode.clamp(-MAX_LOG_RHO, MAX_LOG_RHO).exp().to(log_prob.dtype)

    def weights(self, rollout_data: EpisodeBatchSamples, rho: th.Tensor) -> th.Tensor:
        """
        Each step's weight ``w_t - b_t``: ``G_t`` or ``R(tau)``, minus the baseline, optionally
        rescaled (``normalize_advantage``).

        :param rollout_data: the batch
        :param rho: the episodes' importance weights
        :return: one weight per step, detached
        """
        weights = self._unbaselined_weights(rollout_data)
        if self.baseline == "mean":
            baseline = leave_one_out_mean(
                weights.cpu().numpy(),
                rollout_data.episode_index.cpu().numpy(),
                rollout_data.time_index.cpu().numpy(),
                rho.cpu().numpy(),
                by_time=self.reward_to_go,
            )
            weights = weights - th.as_tensor(baseline, device=weights.device)
        elif self.baseline == "running_mean":
            weights = weights - (0.0 if self.weight_rms is None else float(self.weight_rms.mean))
        elif self.baseline == "value":
            weights = weights - rollout_data.old_values
        if self.normalize_advantage and len(weights) > 1:
            weights = weights / (weights.std() + 1e-8)  # a rescaling only: a recentring would be a baseline
        return weights.detach()

    def _unbaselined_weights(self, rollout_data: EpisodeBatchSamples) -> th.Tensor:
        """Each step's weight before the baseline: ``G_t`` (``reward_to_go``) or its episode's ``R(tau)``."""
        return rollout_data.returns if self.reward_to_go else rollout_data.episode_returns

    def _update_weight_statistics(self, rollout_data: EpisodeBatchSamples) -> None:
        """Add the batch's weights (one per step) to ``weight_rms``, after the batch is trained on: the
        running-mean baseline of a batch is the mean over the earlier ones only."""
        if self.weight_rms is None:
            self.weight_rms = RunningMeanStd(epsilon=0.0, shape=())  # count 0: the first batch's mean is its own
        weights = self._unbaselined_weights(rollout_data)
        self.weight_rms.update(weights.detach().double().cpu().numpy())
        self.logger.record("train/running_mean_baseline", float(self.weight_rms.mean))

    def policy_loss(self, rollout_data: EpisodeBatchSamples) -> "ReinforceLoss":
        """
        The surrogate loss whose gradient is minus the policy-gradient estimate, and the entropy loss.

        :param rollout_data: the batch of complete episodes, from the rollout buffer
        :return: the losses, reduced per ``loss_reduction``, with the weights they were computed with
        """
        actions = rollout_data.actions
        if isinstance(self.action_space, spaces.Discrete):
            # Convert discrete action from float to long
            actions = actions.long().flatten()
        with exact_sde_log_prob(self.policy):
            _, log_prob, entropy = self._evaluate_actions(rollout_data, actions)
        rho = self.importance_weights(rollout_data, log_prob)
        advantages = self.weights(rollout_data, rho)
        weights = advantages * rho[rollout_data.episode_index]

        if entropy is None:
            # Approximate entropy when no analytical form
            entropy = -log_prob
        if self.loss_reduction == "episode_mean":
            # Sum over the steps, divided by the batch's fixed number of episodes: the seed's estimator
            n_episodes = batch_episodes(rollout_data)
            return ReinforceLoss(-(weights * log_prob).sum() / n_episodes, -entropy.sum() / n_episodes, rho, advantages)
        return ReinforceLoss(-(weights * log_prob).mean(), -entropy.mean(), rho, advantages)

    @in_training_threads
    def train(self) -> None:
        """
        Update the actor with one gradient step on the batch of complete episodes, then the critic
        (if any) with ``n_critic_updates`` steps.
        """
        self._set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        if self.critic_optimizer is not None:
            self._update_critic_learning_rate()
        self._check_baseline()  # a callback may have set it during the rollout

        rollout_data = next(self.rollout_buffer.get())
        losses = self.policy_loss(rollout_data)
        loss = self._with_entropy(losses.policy, losses.entropy)
        self._gradient_step(self.policy.optimizer, loss, self._actor_params)
        if self.baseline == "running_mean":
            self._update_weight_statistics(rollout_data)

        value_losses = self._train_critic(rollout_data)
        # Changes of n_episodes or stale_episodes apply from the batch the next rollout opens
        self._sync_batch_settings()

        self._n_updates += 1
        ess = importance_ess(losses.rho)
        n_steps = len(rollout_data.returns)
        self._n_weighted_steps += ess * n_steps
        n_taken = self.num_timesteps - self._learn_start_timesteps
        n_trained = self._n_weighted_steps - self._learn_start_trained
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/policy_loss", losses.policy.item())
        self.logger.record("train/entropy_loss", losses.entropy.item())
        self.logger.record("train/advantage_std", losses.advantages.std().item() if n_steps > 1 else 0.0)
        self.logger.record("train/n_episodes", len(losses.rho))
        self.logger.record("train/batch_size", n_steps)
        self.logger.record("train/importance_weight_min", losses.rho.min().item())
        self.logger.record("train/importance_weight_max", losses.rho.max().item())
        self.logger.record("train/importance_ess", ess)
        self.logger.record("rollout/trained_fraction", n_trained / max(n_taken, 1))
        if value_losses:
            self.logger.record("train/value_loss", value_losses[0])
            self.logger.record(
                "train/explained_variance",
                explained_variance(rollout_data.old_values.cpu().numpy(), rollout_data.returns.cpu().numpy()),
            )
        if hasattr(self.policy, "log_std"):
            self.logger.record("train/std", th.exp(self.policy.log_std).mean().item())

    def learn(
        self: SelfReinforce,
        total_timesteps: int = 200_000,
        callback: MaybeCallback = None,
        log_interval: int = 1,
        tb_log_name: str = "Reinforce",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfReinforce:
        """
        Train the model. As SB3's ``learn``, with a default budget.

        :param total_timesteps: The total number of environment steps to train on (default 200,000,
            enough for CartPole-v1 with the default hyperparameters)
        :param callback: callback(s) called at every step with state of the algorithm.
        :param log_interval: The number of rollouts before logging.
        :param tb_log_name: the name of the run for TensorBoard logging
        :param reset_num_timesteps: whether or not to reset the current timestep number (used in logging)
        :param progress_bar: Display a progress bar using tqdm and rich.
        :return: the trained model
        """
        return super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )
