from typing import Any, ClassVar, TypeVar

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.policies import ActorCriticPolicy, BasePolicy
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.common.vec_env import VecEnv
from torch.nn import functional as F

from sb3_pg.a2c.policies import CnnPolicy, MlpPolicy, MultiInputPolicy
from sb3_pg.common.backend import in_training_threads
from sb3_pg.common.buffers import CRITIC_TARGETS, CriticTargetMixin, PGDictRolloutBuffer, PGRolloutBuffer
from sb3_pg.common.episode_buffer import DictEpisodicRolloutBuffer, EpisodicRolloutBuffer
from sb3_pg.common.fast_optim import FlatRMSprop, explained_variance
from sb3_pg.common.on_policy import ActorCriticAlgorithm
from sb3_pg.common.validation import check_bool, check_buffer_kwargs, check_choice, check_positive, check_range

SelfA2C = TypeVar("SelfA2C", bound="A2C")

# Added to the running variance before its square root is taken (Tianshou's value)
RETURN_SCALE_EPS = 1e-8


class A2C(ActorCriticAlgorithm):
    """
    Advantage Actor Critic (A2C), the family: TD(0), n-step, GAE(lambda) and Monte Carlo advantages,
    a TD(lambda) or Monte Carlo critic target, and one joint or two separate optimizers.

    Paper: https://arxiv.org/abs/1602.01783 (A3C/A2C); GAE: https://arxiv.org/abs/1506.02438
    Code: with its default arguments this is Stable-Baselines3's A2C, update for update
    (https://github.com/DLR-RM/stable-baselines3); every other setting is a documented change from it.
    Maths: ``docs/maths.md`` (each advantage and critic target, the function computing it, the tests
    checking it).

    The actor follows ``grad log pi(a_t|s_t) A_t`` with the advantage chosen by ``gae_lambda``
    (``n_steps`` steps per environment per update; episode ends stop the sums and a rollout's cut or a
    time-limit truncation is bootstrapped with ``V(s)``):

    - ``gae_lambda=0``: the TD(0) residual ``A_t = r_t + gamma V(s_{t+1}) - V(s_t)``
      (an unbiased advantage estimate only in expectation over ``s_{t+1}`` and with the true ``V``);
    - ``gae_lambda=1``: the n-step Monte Carlo advantage ``A_t = sum_k gamma^k r_{t+k} + gamma^n V(s_{t+n}) - V(s_t)``,
      summed to the end of the rollout (SB3's default);
    - ``0 < gae_lambda < 1``: GAE(lambda), the exponentially weighted mix of the two.

    The critic ``V_phi`` minimises the MSE to ``critic_target``: ``"td_lambda"`` (``A_t + V(s_t)``,
    as SB3) or ``"monte_carlo"`` (the discounted reward-to-go, bootstrapped only where an episode is
    cut). With ``critic_learning_rate=None`` one optimizer minimises
    ``policy_loss + ent_coef * entropy_loss + vf_coef * value_loss`` (SB3). With a
    ``critic_learning_rate``, the actor and the critic have separate optimizers (SB3 issue #338):
    the actor's owns every parameter the policy's output depends on, including a features extractor
    shared with the critic; the critic's owns the parameters that only the value depends on, so the
    critic's loss never moves a shared extractor. ``vf_coef`` is then unused (the critic's learning
    rate plays its part).

    With ``scale_critic_targets`` the critic learns ``V(s) / sigma`` instead of ``V(s)``, where
    ``sigma = sqrt(Var[G] + 1e-8)`` is the running standard deviation of the critic's targets ``G``
    in reward units over all past rollouts; the targets are divided by it, their mean not subtracted
    (Tianshou's ``return_scaling``, after OpenAI Baselines' value normalisation). Each rollout
    multiplies the critic's outputs by ``sigma`` before the advantages are computed (advantages stay
    in reward units), divides the targets by the same ``sigma``, then adds the rollout's targets to
    the running statistics. Unlike ``VecNormalize``'s reward scaling, the actor's gradient is not
    rescaled.

    :param policy: The policy model to use (MlpPolicy, CnnPolicy, ...)
    :param env: The environment to learn from (if registered in Gym, can be str)
    :param learning_rate: The learning rate (of the actor, with separate optimizers), it can be a function
        of the current progress remaining (from 1 to 0)
    :param n_steps: The number of steps to run for each environment per update
        (i.e. batch size is n_steps * n_env where n_env is number of environment copies running in parallel)
    :param gamma: Discount factor
    :param gae_lambda: Factor for trade-off of bias vs variance for Generalized Advantage Estimator:
        0 for the TD(0) residual, 1 for the n-step Monte Carlo advantage, between for GAE(lambda)
    :param ent_coef: Entropy coefficient for the loss calculation
    :param vf_coef: Value function coefficient for the loss calculation (joint optimizer only)
    :param max_grad_norm: The maximum value for the gradient clipping (``None`` for no clipping)
    :param rms_prop_eps: RMSProp epsilon. It stabilizes square root computation in denominator
        of RMSProp update
    :param use_rms_prop: Whether to use RMSprop (default) or Adam as optimizer
    :param use_sde: Whether to use generalized State Dependent Exploration (gSDE)
        instead of action noise exploration (default: False)
    :param sde_sample_freq: Sample a new noise matrix every n steps when using gSDE
        Default: -1 (only sample at the beginning of the rollout)
    :param rollout_buffer_class: Rollout buffer class to use. If ``None``, it will be automatically selected.
    :param rollout_buffer_kwargs: Keyword arguments to pass to the rollout buffer on creation.
    :param normalize_advantage: Whether to normalize or not the advantage
    :param critic_target: The critic's regression target: ``"td_lambda"`` or ``"monte_carlo"``
    :param critic_learning_rate: The critic's learning rate (float or schedule); when set, the actor
        and the critic get separate optimizers. ``None``: one joint optimizer, as SB3
    :param n_critic_updates: Number of critic gradient steps per update (separate optimizers only)
    :param scale_critic_targets: Whether the critic learns the values divided by the running standard
        deviation of its targets (see above; ``policy.predict_values`` then returns ``V(s) / sigma``)
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
    default_rollout_buffers: ClassVar[tuple[type[RolloutBuffer], type[RolloutBuffer]]] = (PGRolloutBuffer, PGDictRolloutBuffer)
    # Class-level defaults: models saved before the option existed load without it
    scale_critic_targets: bool = False
    # Running mean and variance of the critic's targets in reward units (scale_critic_targets only)
    return_rms: RunningMeanStd | None = None
    # sigma of the rollout under way, fixed at its start (None: no scaling, or no rollout under way)
    _rollout_value_scale: float | None = None

    def __init__(
        self,
        policy: str | type[ActorCriticPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 7e-4,
        n_steps: int = 5,
        gamma: float = 0.99,
        gae_lambda: float = 1.0,
        ent_coef: float = 0.0,
        vf_coef: float = 0.5,
        max_grad_norm: float | None = 0.5,
        rms_prop_eps: float = 1e-5,
        use_rms_prop: bool = True,
        use_sde: bool = False,
        sde_sample_freq: int = -1,
        rollout_buffer_class: type[RolloutBuffer] | None = None,
        rollout_buffer_kwargs: dict[str, Any] | None = None,
        normalize_advantage: bool = False,
        critic_target: str = "td_lambda",
        critic_learning_rate: float | Schedule | None = None,
        n_critic_updates: int = 1,
        scale_critic_targets: bool = False,
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
            gae_lambda=gae_lambda,
            ent_coef=ent_coef,
            vf_coef=vf_coef,
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
        self.normalize_advantage = normalize_advantage
        self.critic_target = critic_target
        self.critic_learning_rate = critic_learning_rate
        self.n_critic_updates = n_critic_updates
        self.scale_critic_targets = scale_critic_targets
        self.exact_rollouts = exact_rollouts
        self._check_arguments(rms_prop_eps, use_rms_prop)

        # Update optimizer inside the policy if we want to use RMSProp
        # (original implementation) rather than Adam
        if use_rms_prop and "optimizer_class" not in self.policy_kwargs:
            # SB3's RMSprop, stepped on flat buffers: the same update to the bit (sb3_pg.common.fast_optim)
            self.policy_kwargs["optimizer_class"] = FlatRMSprop
            self.policy_kwargs["optimizer_kwargs"] = dict(alpha=0.99, eps=rms_prop_eps, weight_decay=0)

        if _init_setup_model:
            self._setup_model()

    def _check_arguments(self, rms_prop_eps: float, use_rms_prop: bool) -> None:
        self._check_common_arguments()
        check_range("gae_lambda", self.gae_lambda, 0.0, 1.0)
        check_range("vf_coef", self.vf_coef, 0.0)
        check_bool("use_rms_prop", use_rms_prop)
        if use_rms_prop:
            check_positive("rms_prop_eps", rms_prop_eps)  # 0 divides 0 by 0 on a zero gradient
        elif rms_prop_eps != 1e-5:
            raise ValueError(f"`rms_prop_eps` needs use_rms_prop=True (Adam ignores it); got rms_prop_eps={rms_prop_eps!r}")
        check_bool("normalize_advantage", self.normalize_advantage)
        if self.normalize_advantage and self.env is not None and self.n_steps * self.n_envs == 1:
            raise ValueError(
                "`normalize_advantage` (True) needs a batch of at least 2 steps (the standard deviation of one is 0); "
                f"got n_steps * n_envs = {self.n_steps} * {self.n_envs}"
            )
        check_choice("critic_target", self.critic_target, CRITIC_TARGETS)
        check_bool("scale_critic_targets", self.scale_critic_targets)
        if self.n_critic_updates != 1 and self.critic_learning_rate is None:
            raise ValueError(
                f"`n_critic_updates` > 1 needs `critic_learning_rate` (several critic steps need a separate "
                f"critic optimizer); got n_critic_updates={self.n_critic_updates} with critic_learning_rate=None"
            )
        buffer_class = self.rollout_buffer_class
        if buffer_class is not None and (
            not isinstance(buffer_class, type)
            or not issubclass(buffer_class, RolloutBuffer)  # DictRolloutBuffer derives from it
            or issubclass(buffer_class, (EpisodicRolloutBuffer, DictEpisodicRolloutBuffer))
        ):
            raise ValueError(
                "`rollout_buffer_class` must be a subclass of SB3's RolloutBuffer or DictRolloutBuffer with fixed "
                f"n_steps rollouts (PGRolloutBuffer, PGDictRolloutBuffer); got {buffer_class!r}"
            )
        needs_pg_buffer = [
            *([f"`critic_target={self.critic_target!r}`"] if self.critic_target != "td_lambda" else []),
            *(["`scale_critic_targets=True`"] if self.scale_critic_targets else []),
        ]
        if (
            needs_pg_buffer
            and buffer_class is not None
            and not (isinstance(buffer_class, type) and issubclass(buffer_class, CriticTargetMixin))
        ):
            verb = "needs" if len(needs_pg_buffer) == 1 else "need"
            raise ValueError(
                f"{' and '.join(needs_pg_buffer)} {verb} a `rollout_buffer_class` derived from "
                f"{' or '.join(c.__name__ for c in self.default_rollout_buffers)}; got {buffer_class!r}"
            )

    def _setup_model(self) -> None:
        if self.rollout_buffer_class is None:
            flat, for_dict = self.default_rollout_buffers
            self.rollout_buffer_class = for_dict if isinstance(self.observation_space, spaces.Dict) else flat
        is_pg = issubclass(self.rollout_buffer_class, CriticTargetMixin)
        set_by_algorithm = {"critic_target": self.critic_target} if is_pg else {}
        self.rollout_buffer_kwargs = check_buffer_kwargs(
            self.rollout_buffer_class, self.rollout_buffer_kwargs, {**set_by_algorithm, **self._extra_buffer_kwargs()}
        )
        super()._setup_model()
        self._setup_optimizers(self.critic_learning_rate)

    def _value_scale(self) -> float | None:
        """The rollout's ``sigma`` (:meth:`_current_value_scale`), fixed when it started."""
        return self._rollout_value_scale

    def _current_value_scale(self) -> float | None:
        """
        ``sigma = sqrt(Var[G] + 1e-8)``, the factor from the critic's outputs to reward units, with
        ``scale_critic_targets``; ``None`` without (the critic's outputs are in reward units).
        """
        check_bool("scale_critic_targets", self.scale_critic_targets)  # the attribute may be set after construction
        if not self.scale_critic_targets:
            return None
        if self.return_rms is None:
            # Count 0, variance 1: the first rollout is unscaled and its statistics are its own (Tianshou's)
            self.return_rms = RunningMeanStd(epsilon=0.0, shape=())
        return float(np.sqrt(self.return_rms.var + RETURN_SCALE_EPS))

    def collect_rollouts(
        self,
        env: VecEnv,
        callback: BaseCallback,
        rollout_buffer: RolloutBuffer,
        n_rollout_steps: int,
    ) -> bool:
        """
        The base rollout (see :meth:`ActorCriticAlgorithm.collect_rollouts`). With
        ``scale_critic_targets``, the buffer turns the critic's outputs into reward units with the
        current ``sigma`` and divides the targets by it, and the targets, in reward units, are then
        added to the running statistics.
        """
        scale = self._current_value_scale()
        if scale is not None and not isinstance(rollout_buffer, CriticTargetMixin):
            raise ValueError(
                "`scale_critic_targets=True` needs a rollout buffer derived from "
                f"{' or '.join(c.__name__ for c in self.default_rollout_buffers)}; got {type(rollout_buffer).__name__}"
            )
        if isinstance(rollout_buffer, CriticTargetMixin):
            rollout_buffer.value_scale = scale
        # One sigma for the whole rollout, even if a callback changes scale_critic_targets during it
        self._rollout_value_scale = scale
        try:
            collected = super().collect_rollouts(env, callback, rollout_buffer, n_rollout_steps)
        finally:
            self._rollout_value_scale = None
        if collected and scale is not None:
            assert self.return_rms is not None
            self.return_rms.update(rollout_buffer.returns.flatten().astype(np.float64) * scale)
            self.logger.record("train/value_scale", scale)
        return collected

    @in_training_threads
    def train(self) -> None:
        """
        Update policy using the currently gathered rollout buffer (one gradient step over the whole
        data; with separate optimizers, one actor step then ``n_critic_updates`` critic steps).
        """
        # Switch to train mode (this affects batch norm / dropout)
        self._set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        if self.critic_optimizer is not None:
            self._update_critic_learning_rate()

        # This will only loop once (get all data in one go)
        for rollout_data in self.rollout_buffer.get(batch_size=None):
            actions = rollout_data.actions
            if isinstance(self.action_space, spaces.Discrete):
                # Convert discrete action from float to long
                actions = actions.long().flatten()

            values, log_prob, entropy = self._evaluate_actions(rollout_data, actions)
            values = values.flatten()

            # Normalize advantage (not present in the original implementation)
            advantages = rollout_data.advantages
            if self.normalize_advantage:
                advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)

            # Policy gradient loss
            policy_loss = -(advantages * log_prob).mean()

            # Entropy loss favor exploration
            if entropy is None:
                # Approximate entropy when no analytical form
                entropy_loss = -th.mean(-log_prob)
            else:
                entropy_loss = -th.mean(entropy)

            if self.critic_optimizer is None:
                # Value loss using the TD(gae_lambda) (or Monte Carlo) target; one joint step, as SB3
                value_loss = F.mse_loss(rollout_data.returns, values)
                loss = self._with_entropy(policy_loss, entropy_loss) + self.vf_coef * value_loss
                # _actor_params is every parameter here, in order
                self._gradient_step(self.policy.optimizer, loss, self._actor_params)
                value_loss_value = value_loss.item()
            else:
                actor_loss = self._with_entropy(policy_loss, entropy_loss)
                self._gradient_step(self.policy.optimizer, actor_loss, self._actor_params)
                value_loss_value = self._train_critic(rollout_data)[0]

        explained_var = explained_variance(self.rollout_buffer.values.flatten(), self.rollout_buffer.returns.flatten())

        self._n_updates += 1
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/explained_variance", explained_var)
        self.logger.record("train/entropy_loss", entropy_loss.item())
        self.logger.record("train/policy_loss", policy_loss.item())
        self.logger.record("train/value_loss", value_loss_value)
        self.logger.record("train/advantage_std", rollout_data.advantages.std().item())
        if hasattr(self.policy, "log_std"):
            self.logger.record("train/std", th.exp(self.policy.log_std).mean().item())

    def learn(
        self: SelfA2C,
        total_timesteps: int = 200_000,
        callback: MaybeCallback = None,
        log_interval: int = 100,
        tb_log_name: str = "A2C",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfA2C:
        """
        Train the model. As SB3's ``learn``, with a default budget.

        :param total_timesteps: The total number of environment steps to train on (default 200,000)
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
