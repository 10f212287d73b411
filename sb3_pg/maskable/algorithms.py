"""``MaskableA2C`` and ``MaskableReinforce``: invalid-action masking for our two algorithms, as
sb3-contrib's ``MaskablePPO`` does it for PPO, on its pieces.

- Policies: sb3-contrib's ``MaskableActorCriticPolicy`` (:mod:`sb3_pg.maskable.policies`; aliases ``MlpPolicy``, ``CnnPolicy``,
  ``MultiInputPolicy``): a masked action's logit is set to ``-1e8``, so it is never sampled and the
  distribution (log-probabilities, entropy) is the one over the valid actions.
- Masks: read before every rollout step from the env's ``action_masks()`` method
  (sb3-contrib's ``get_action_masks``; ``ActionMasker`` adds one), stored with the step, and applied
  again when the update evaluates the step's log-probability: the gradient is the policy gradient of
  the masked policy, with every estimator option of the unmasked algorithm (baselines,
  ``gae_lambda``, ``critic_target``, separate optimizers).
- ``learn(..., use_masking=False)`` trains as the unmasked algorithm (masks all valid), for envs
  without masks; ``predict(..., action_masks=...)`` and sb3-contrib's ``evaluate_policy`` and
  ``MaskableEvalCallback`` evaluate with them.

The fast rollout paths (NumPy actor, fused forward pass) do not apply masks: these classes use
SB3's torch forward pass throughout.
"""

import inspect
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch as th
from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy
from sb3_contrib.common.maskable.utils import get_action_masks, is_masking_supported
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import MaybeCallback
from stable_baselines3.common.utils import obs_as_tensor
from stable_baselines3.common.vec_env import VecEnv

from sb3_pg.a2c import A2C
from sb3_pg.common.on_policy import ActorCriticAlgorithm
from sb3_pg.maskable.buffers import (
    MaskableDictEpisodicRolloutBuffer,
    MaskableEpisodicRolloutBuffer,
    MaskablePGDictRolloutBuffer,
    MaskablePGRolloutBuffer,
    action_mask_size,
)
from sb3_pg.maskable.policies import CnnPolicy, MlpPolicy, MultiInputPolicy
from sb3_pg.reinforce import Reinforce

SelfMaskable = TypeVar("SelfMaskable", bound="MaskableMixin")

MASKABLE_POLICY_ALIASES: dict[str, type[BasePolicy]] = {
    "MlpPolicy": MlpPolicy,
    "CnnPolicy": CnnPolicy,
    "MultiInputPolicy": MultiInputPolicy,
}


class MaskableMixin(ActorCriticAlgorithm):
    """What masking changes in an sb3_pg algorithm (put it first among the bases)."""

    policy: MaskableActorCriticPolicy  # type: ignore[assignment]
    _use_masking: bool = True
    _masking_env: VecEnv | None = None  # the env whose masks the rollout reads
    _action_masks: np.ndarray | None = None  # the masks of the step being taken

    def _check_common_arguments(self) -> None:
        super()._check_common_arguments()
        if self.env is not None:
            action_mask_size(self.action_space)
        if not (
            isinstance(self.policy_class, type)
            and issubclass(self.policy_class, MaskableActorCriticPolicy)
            and "use_sde" in inspect.signature(self.policy_class).parameters  # SB3 passes it to the policy
        ):
            raise ValueError(
                f"`policy` must be one of {', '.join(self.policy_aliases)} or a subclass of sb3_pg.maskable.policies' "
                f"(sb3-contrib's MaskableActorCriticPolicy taking SB3's use_sde argument); got {self.policy_class!r}"
            )
        self._check_rollout_buffer_class("store action masks")

    def _check_masking(self, env: VecEnv | None, use_masking: bool) -> None:
        """:raises ValueError: if masking is asked for and ``env`` has no ``action_masks()`` method"""
        if not isinstance(use_masking, bool):
            raise ValueError(f"`use_masking` must be True or False; got {use_masking!r}")
        if use_masking and env is not None and not is_masking_supported(env):
            raise ValueError(
                "`env` has no action_masks() method: wrap it in sb3-contrib's ActionMasker, or pass use_masking=False"
            )

    def _learn_masked(self, use_masking: bool, **learn_kwargs: Any) -> Any:
        self._check_masking(self.env, use_masking)
        self._use_masking = use_masking
        return super().learn(**learn_kwargs)

    def collect_rollouts(
        self,
        env: VecEnv,
        callback: BaseCallback,
        rollout_buffer: RolloutBuffer,
        n_rollout_steps: int,
        use_masking: bool | None = None,
    ) -> bool:
        """
        The base algorithm's rollout, with each step's actions sampled under the env's action masks
        and the masks stored with the step.

        :param use_masking: whether to read and apply the env's masks (``None``: as ``learn`` was told)
        """
        if use_masking is not None:
            self._check_masking(env, use_masking)
            self._use_masking = use_masking
        self._masking_env = env
        try:
            return super().collect_rollouts(env, callback, rollout_buffer, n_rollout_steps)
        finally:
            self._masking_env = None
            self._action_masks = None

    def _sample_actions(self, observations: Any) -> tuple[np.ndarray, th.Tensor, th.Tensor]:
        masks = None
        if self._use_masking:
            assert self._masking_env is not None
            masks = get_action_masks(self._masking_env)
        self._action_masks = masks
        with th.no_grad():
            actions, values, log_probs = self.policy(obs_as_tensor(observations, self.device), action_masks=masks)
        return actions.cpu().numpy(), values, log_probs

    def _extra_step_data(self) -> dict[str, Any]:
        return {"action_masks": self._action_masks}

    def _evaluate_actions(self, rollout_data: Any, actions: th.Tensor) -> tuple[th.Tensor, th.Tensor, th.Tensor | None]:
        # The masks the actions were sampled under (all valid with use_masking=False)
        return self.policy.evaluate_actions(rollout_data.observations, actions, action_masks=rollout_data.action_masks)

    # the fast paths know nothing of masks
    fast_paths_supported: ClassVar[bool] = False

    def predict(
        self,
        observation: np.ndarray | dict[str, np.ndarray],
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
        action_masks: np.ndarray | None = None,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        """
        The policy's action for an observation, among the valid actions.

        :param observation: the input observation
        :param state: unused (no recurrent state)
        :param episode_start: unused (no recurrent state)
        :param deterministic: whether to return the most likely valid action instead of a sample
        :param action_masks: the valid actions (``env.action_masks()``); ``None``: every action is valid
        :return: the action and the next hidden state (``None``)
        """
        return self.policy.predict(observation, state, episode_start, deterministic, action_masks=action_masks)

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "_masking_env", "_action_masks"]


class MaskableA2C(MaskableMixin, A2C):
    """
    A2C with invalid-action masking: :class:`sb3_pg.A2C` (every variant: TD(0), n-step, GAE(lambda)
    and Monte Carlo advantages, both critic targets, joint or separate optimizers) on sb3-contrib's
    ``MaskableActorCriticPolicy``. Actions are sampled from the policy restricted to the valid actions
    ``pi_m(a|s) = pi(a|s) 1[a valid] / sum_b pi(b|s) 1[b valid]``, and the actor follows
    ``grad log pi_m(a_t|s_t) A_t`` with the masks the step was taken under. Discrete, MultiDiscrete
    and MultiBinary actions. Masks come from the env's ``action_masks()`` (sb3-contrib's
    ``ActionMasker``), as ``MaskablePPO`` reads them.

    Maths: ``docs/maths.md``; the masking: https://arxiv.org/abs/2006.14171 (Huang & Ontanon 2020).
    Rollouts use SB3's torch forward pass (the fast paths do not apply masks); ``exact_rollouts`` has
    no effect.

    :param policy: The policy model to use (MlpPolicy, CnnPolicy, MultiInputPolicy: sb3-contrib's
        MaskableActorCriticPolicy)
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
        deviation of its targets (see :class:`sb3_pg.A2C`)
    :param exact_rollouts: No effect: rollouts always use SB3's torch forward pass, which applies the
        masks (accepted so that configurations move between algorithms)
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

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = MASKABLE_POLICY_ALIASES
    default_rollout_buffers: ClassVar[tuple[type[RolloutBuffer], type[RolloutBuffer]]] = (
        MaskablePGRolloutBuffer,
        MaskablePGDictRolloutBuffer,
    )

    def learn(  # type: ignore[override]
        self: SelfMaskable,
        total_timesteps: int = 200_000,
        callback: MaybeCallback = None,
        log_interval: int = 100,
        tb_log_name: str = "MaskableA2C",
        reset_num_timesteps: bool = True,
        use_masking: bool = True,
        progress_bar: bool = False,
    ) -> SelfMaskable:
        """
        Train the model (as :meth:`sb3_pg.A2C.learn`, with masks).

        :param total_timesteps: The total number of environment steps to train on (default 200,000)
        :param callback: callback(s) called at every step with state of the algorithm.
        :param log_interval: The number of rollouts before logging.
        :param tb_log_name: the name of the run for TensorBoard logging
        :param reset_num_timesteps: whether or not to reset the current timestep number (used in logging)
        :param use_masking: Whether to sample actions under the env's action masks (it needs an
            ``action_masks()`` method); ``False`` trains as the unmasked A2C
        :param progress_bar: Display a progress bar using tqdm and rich.
        :return: the trained model
        """
        return self._learn_masked(
            use_masking,
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )


class MaskableReinforce(MaskableMixin, Reinforce):
    """
    REINFORCE with invalid-action masking: :class:`sb3_pg.Reinforce` (batches of ``n_episodes``
    complete episodes, every baseline and weight) on sb3-contrib's ``MaskableActorCriticPolicy``.
    Actions are sampled from the policy restricted to the valid actions ``pi_m``, and the estimator
    is REINFORCE's for ``pi_m``: ``1/K sum_tau rho(tau) sum_t grad log pi_m(a_t|s_t) (w_t - b_t)``, each
    step's log-probability (and the importance weight ``rho``) taken under the masks it was sampled
    under. Discrete, MultiDiscrete and MultiBinary actions; masks from the env's ``action_masks()``.

    Maths: ``docs/maths.md``. Rollouts use SB3's torch forward pass (the fast paths do not apply
    masks); ``exact_rollouts`` has no effect.

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
        unbiased), ``"running_mean"`` (the mean weight over every step of the earlier batches) or
        ``"value"`` (a learned ``V_phi(s)``: REINFORCE with baseline)
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
    :param exact_rollouts: No effect: rollouts always use SB3's torch forward pass, which applies the
        masks (accepted so that configurations move between algorithms)
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

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = MASKABLE_POLICY_ALIASES
    default_rollout_buffers: ClassVar[tuple[type[RolloutBuffer], type[RolloutBuffer]]] = (
        MaskableEpisodicRolloutBuffer,
        MaskableDictEpisodicRolloutBuffer,
    )

    def learn(  # type: ignore[override]
        self: SelfMaskable,
        total_timesteps: int = 200_000,
        callback: MaybeCallback = None,
        log_interval: int = 1,
        tb_log_name: str = "MaskableReinforce",
        reset_num_timesteps: bool = True,
        use_masking: bool = True,
        progress_bar: bool = False,
    ) -> SelfMaskable:
        """
        Train the model (as :meth:`sb3_pg.Reinforce.learn`, with masks).

        :param total_timesteps: The total number of environment steps to train on (default 200,000)
        :param callback: callback(s) called at every step with state of the algorithm.
        :param log_interval: The number of rollouts before logging.
        :param tb_log_name: the name of the run for TensorBoard logging
        :param reset_num_timesteps: whether or not to reset the current timestep number (used in logging)
        :param use_masking: Whether to sample actions under the env's action masks (it needs an
            ``action_masks()`` method); ``False`` trains as the unmasked REINFORCE
        :param progress_bar: Display a progress bar using tqdm and rich.
        :return: the trained model
        """
        return self._learn_masked(
            use_masking,
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )
