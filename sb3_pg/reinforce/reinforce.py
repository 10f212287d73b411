from typing import Any, ClassVar, TypeVar

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.policies import ActorCriticPolicy, BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, RolloutBufferSamples, Schedule

from sb3_pg.common.buffers import BASELINES, DictEpisodicRolloutBuffer, EpisodicRolloutBuffer
from sb3_pg.common.fast_optim import explained_variance
from sb3_pg.common.on_policy import ActorCriticAlgorithm
from sb3_pg.common.validation import check_choice
from sb3_pg.reinforce.policies import CnnPolicy, MlpPolicy, MultiInputPolicy

SelfReinforce = TypeVar("SelfReinforce", bound="Reinforce")

LOSS_REDUCTIONS = ("step_mean", "episode_mean")


class Reinforce(ActorCriticAlgorithm):
    """
    REINFORCE, the Monte Carlo policy gradient, with or without a baseline.

    Paper: Williams (1992), "Simple statistical gradient-following algorithms for connectionist
    reinforcement learning", https://doi.org/10.1007/BF00992696
    Maths: ``seed-policy-gradients.md`` and OpenAI Spinning Up,
    https://spinningup.openai.com/en/latest/spinningup/rl_intro3.html

    The gradient estimate over a batch D of complete episodes is

        g = 1/|D| sum_{tau in D} sum_t grad log pi(a_t|s_t) (w_t - b(s_t))

    with weight ``w_t = R(tau)`` (the whole discounted return) or ``w_t = G_t`` (the discounted
    reward-to-go), and baseline ``b`` none, the batch mean of the other episodes' weights, or a learned
    ``V_phi(s_t)``. The actor minimises the surrogate ``-(log_prob * weight)`` with the weight
    detached; the critic ``V_phi`` is fitted separately by MSE to the Monte Carlo returns ``G_t``,
    with its own optimizer. With ``gamma < 1`` the reward-to-go form is the usual estimator, which
    drops the ``gamma^t`` factor of the exact gradient of the discounted objective (Thomas 2014,
    "Bias in natural actor-critic algorithms"); ``gamma = 1`` or ``reward_to_go=False`` is exact.

    Every return is a complete episode's: each environment collects at least ``n_steps`` steps
    and then runs its last episode to its end; steps that other environments take meanwhile (and
    the rest of an episode begun then, at the next rollout) are not trained on. An episode is kept
    or dropped by when it starts, never by its length, so the batch is not biased towards short
    episodes. A time-limit truncation is bootstrapped with ``gamma * V_phi(s_T)`` when
    ``baseline="value"``; without a critic it is the end of the episode (the objective is then the
    return within the time limit).

    :param policy: The policy model to use (MlpPolicy, CnnPolicy, MultiInputPolicy)
    :param env: The environment to learn from (if registered in Gym, can be str)
    :param learning_rate: The actor's learning rate, it can be a function
        of the current progress remaining (from 1 to 0)
    :param n_steps: The minimum number of steps to run for each environment per update; each
        environment then finishes its current episode, so a batch holds at least ``n_steps * n_envs``
        steps of complete episodes
    :param gamma: Discount factor
    :param baseline: ``"none"``, ``"mean"`` (batch mean of the weights, each episode's taken over the
        other episodes of the batch so that it stays unbiased) or ``"value"``
        (a learned ``V_phi(s)``: REINFORCE with baseline)
    :param reward_to_go: Weight each log-probability by the discounted return from its step (True)
        or by the whole episode's discounted return R(tau) (False, the seed's first estimator)
    :param loss_reduction: ``"step_mean"``: the loss is the mean over the batch's steps (as SB3);
        ``"episode_mean"``: sum over each episode's steps, mean over episodes (the seed's estimator,
        an unbiased estimate of the policy gradient whose scale grows with episode length)
    :param critic_learning_rate: The critic's learning rate (float or schedule); ``None`` uses
        ``learning_rate``. Only with ``baseline="value"``
    :param n_critic_updates: Number of critic gradient steps per batch. Only with ``baseline="value"``
    :param normalize_advantage: Whether to standardise the weights (after the baseline) in each batch
    :param ent_coef: Entropy coefficient for the loss calculation
    :param max_grad_norm: The maximum norm for gradient clipping (actor and critic separately);
        ``None`` for no clipping
    :param use_sde: Whether to use generalized State Dependent Exploration (gSDE)
        instead of action noise exploration (default: False)
    :param sde_sample_freq: Sample a new noise matrix every n steps when using gSDE
        Default: -1 (only sample at the beginning of the rollout)
    :param rollout_buffer_class: Rollout buffer class to use, a subclass of ``EpisodicRolloutBuffer``
        (or ``DictEpisodicRolloutBuffer``). If ``None``, it will be automatically selected.
    :param rollout_buffer_kwargs: Keyword arguments to pass to the rollout buffer on creation.
    :param exact_rollouts: Sample rollout actions with SB3's torch code and random stream (``True``),
        so that a run reproduces SB3's to the bit, or, where the policy allows it (``MlpPolicy`` with
        Discrete or Box actions, CPU), with a NumPy forward pass on the policy's own parameters
        (``False``, faster; same distribution, another random stream). See ``sb3_pg/common/numpy_actor.py``
    :param stats_window_size: Window size for the rollout logging, specifying the number of episodes to average
        the reported success rate, mean episode length, and mean reward over
    :param tensorboard_log: the log location for tensorboard (if None, no logging)
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
    rollout_buffer: EpisodicRolloutBuffer
    _collecting: np.ndarray
    _finished: np.ndarray
    _n_batch_steps: np.ndarray

    def __init__(
        self,
        policy: str | type[ActorCriticPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 3e-3,
        n_steps: int = 512,
        gamma: float = 0.99,
        baseline: str = "value",
        reward_to_go: bool = True,
        loss_reduction: str = "step_mean",
        critic_learning_rate: float | Schedule | None = None,
        n_critic_updates: int = 1,
        normalize_advantage: bool = True,
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
        super().__init__(
            policy,
            env,
            learning_rate=learning_rate,
            n_steps=n_steps,
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
        self.baseline = baseline
        self.reward_to_go = reward_to_go
        self.loss_reduction = loss_reduction
        self.critic_learning_rate = critic_learning_rate
        self.n_critic_updates = n_critic_updates
        self.normalize_advantage = normalize_advantage
        self.exact_rollouts = exact_rollouts
        self._check_arguments()

        if _init_setup_model:
            self._setup_model()

    def _check_arguments(self) -> None:
        self._check_common_arguments()
        check_choice("baseline", self.baseline, BASELINES)
        check_choice("reward_to_go", self.reward_to_go, (True, False))
        check_choice("loss_reduction", self.loss_reduction, LOSS_REDUCTIONS)
        check_choice("normalize_advantage", self.normalize_advantage, (True, False))
        if self.baseline != "value":
            no_critic = f"needs baseline='value' (there is no critic with baseline={self.baseline!r})"
            if self.critic_learning_rate is not None:
                raise ValueError(f"`critic_learning_rate` {no_critic}")
            if self.n_critic_updates != 1:
                raise ValueError(f"`n_critic_updates` {no_critic}")
        buffer_class = self.rollout_buffer_class
        if buffer_class is not None and not (
            isinstance(buffer_class, type) and issubclass(buffer_class, (EpisodicRolloutBuffer, DictEpisodicRolloutBuffer))
        ):
            raise ValueError(
                "`rollout_buffer_class` must be a subclass of EpisodicRolloutBuffer or DictEpisodicRolloutBuffer "
                f"(REINFORCE trains on complete episodes); got {buffer_class!r}"
            )

    def _setup_model(self) -> None:
        if self.rollout_buffer_class is None:
            is_dict = isinstance(self.observation_space, spaces.Dict)
            self.rollout_buffer_class = DictEpisodicRolloutBuffer if is_dict else EpisodicRolloutBuffer
        estimator = {"reward_to_go": self.reward_to_go, "baseline": self.baseline}
        self.rollout_buffer_kwargs = {**estimator, **self.rollout_buffer_kwargs}
        super()._setup_model()
        # The critic (the value baseline) always has its own optimizer; without it there is no critic
        critic_lr = self.learning_rate if self.critic_learning_rate is None else self.critic_learning_rate
        self._setup_optimizers(critic_lr if self.baseline == "value" else None)

    # Rollout hooks (see ActorCriticAlgorithm.collect_rollouts): complete episodes only.
    def _start_rollout(self, n_envs: int) -> None:
        # _collecting[i]: env i's current step belongs to the batch (its episode began in this rollout);
        # an env in the middle of an episode begun before (while others were finishing) skips to its end.
        self._collecting = np.asarray(self._last_episode_starts, dtype=bool).copy()
        self._finished = np.zeros(n_envs, dtype=bool)
        self._n_batch_steps = np.zeros(n_envs, dtype=np.int64)

    def _rollout_continues(self, n_steps: int, n_rollout_steps: int) -> bool:
        return not self._finished.all()

    def _bootstraps_truncation(self) -> bool:
        # Without a critic a truncation ends the episode (the objective is the return within the limit)
        return self.critic_optimizer is not None

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
        super()._add_step(rollout_buffer, actions, rewards, values, log_probs, dones, n_rollout_steps)
        self._n_batch_steps += self._collecting
        # An env that has its quota stops at the end of its episode; an env at an episode
        # boundary (re)starts collecting unless it has finished.
        self._finished |= self._collecting & dones & (self._n_batch_steps >= n_rollout_steps)
        self._collecting = np.where(dones, True, self._collecting) & ~self._finished

    def _buffer_add_kwargs(self) -> dict[str, Any]:
        return {"valid": self._collecting}

    def _bootstrap_values(self, new_obs: Any) -> th.Tensor:
        # Every episode in the batch is complete: nothing to bootstrap
        return th.zeros(len(self._finished))

    def policy_loss(self, rollout_data: RolloutBufferSamples) -> tuple[th.Tensor, th.Tensor]:
        """
        The surrogate loss whose gradient is minus the policy-gradient estimate, and the entropy loss.

        :param rollout_data: a batch of valid steps from the rollout buffer
        :return: (policy loss, entropy loss), reduced per ``loss_reduction``
        """
        actions = rollout_data.actions
        if isinstance(self.action_space, spaces.Discrete):
            # Convert discrete action from float to long
            actions = actions.long().flatten()
        _, log_prob, entropy = self._evaluate_actions(rollout_data.observations, actions)

        # The weight is a constant of the surrogate: detached (the buffer holds numbers, but be explicit)
        weights = rollout_data.advantages.detach()
        if self.normalize_advantage and len(weights) > 1:
            weights = (weights - weights.mean()) / (weights.std() + 1e-8)

        if entropy is None:
            # Approximate entropy when no analytical form
            entropy = -log_prob
        if self.loss_reduction == "episode_mean":
            # Sum over time, mean over trajectories: the seed's estimator
            n_episodes = max(self.rollout_buffer.n_episodes, 1)
            return -(weights * log_prob).sum() / n_episodes, -entropy.sum() / n_episodes
        return -(weights * log_prob).mean(), -entropy.mean()

    def train(self) -> None:
        """
        Update the actor with one gradient step on the batch of complete episodes, then the critic
        (if any) with ``n_critic_updates`` steps.
        """
        self._set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        if self.critic_optimizer is not None:
            self._update_critic_learning_rate()

        rollout_data = next(self.rollout_buffer.get(batch_size=None))
        policy_loss, entropy_loss = self.policy_loss(rollout_data)
        loss = self._with_entropy(policy_loss, entropy_loss)
        self._gradient_step(self.policy.optimizer, loss, self._actor_params)

        value_losses = self._train_critic(rollout_data.observations, rollout_data.returns)

        self._n_updates += 1
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/policy_loss", policy_loss.item())
        self.logger.record("train/entropy_loss", entropy_loss.item())
        self.logger.record("train/advantage_std", rollout_data.advantages.std().item())
        self.logger.record("train/n_episodes", self.rollout_buffer.n_episodes)
        self.logger.record("train/batch_size", len(rollout_data.advantages))
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
