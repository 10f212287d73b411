"""``RecurrentA2C`` and ``RecurrentReinforce``: LSTM policies for our two algorithms, as
sb3-contrib's ``RecurrentPPO`` does it for PPO, on its pieces.

- Policies: sb3-contrib's ``RecurrentActorCriticPolicy`` (aliases ``MlpLstmPolicy``,
  ``CnnLstmPolicy``, ``MultiInputLstmPolicy``), with an actor LSTM and, by default, a critic LSTM.
- Rollouts: the hidden states are carried from step to step and from rollout to rollout
  (``_last_lstm_states``), and reset to zero where an episode starts (the policy does it from
  ``episode_starts``). Truncated episodes and rollout cuts are bootstrapped with the critic's value
  under its current state.
- A2C's update runs the LSTMs over each rollout's sequences from the states stored at their first
  step (sb3-contrib's recurrent buffers, :mod:`sb3_pg.recurrent.buffers`); REINFORCE's runs them
  over each complete episode from a zero state, so the log-probability of a step is the current
  policy's given the episode's whole history. Padded steps are left out of every loss and mean.

The fast rollout paths do not carry LSTM states: these classes use SB3's torch forward pass.
"""

import inspect
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch as th
from sb3_contrib.common.recurrent.policies import RecurrentActorCriticPolicy
from sb3_contrib.common.recurrent.type_aliases import RNNStates
from sb3_contrib.ppo_recurrent.policies import CnnLstmPolicy, MlpLstmPolicy, MultiInputLstmPolicy
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, PyTorchObs, Schedule
from stable_baselines3.common.utils import obs_as_tensor

from sb3_pg.a2c import A2C
from sb3_pg.common.episode_buffer import EpisodeBatchSamples
from sb3_pg.common.on_policy import ActorCriticAlgorithm
from sb3_pg.recurrent.buffers import RecurrentPGDictRolloutBuffer, RecurrentPGRolloutBuffer
from sb3_pg.reinforce import Reinforce
from sb3_pg.reinforce.reinforce import batch_episodes

SelfRecurrentA2C = TypeVar("SelfRecurrentA2C", bound="RecurrentA2C")
SelfRecurrentReinforce = TypeVar("SelfRecurrentReinforce", bound="RecurrentReinforce")

RECURRENT_POLICY_ALIASES: dict[str, type[BasePolicy]] = {
    "MlpLstmPolicy": MlpLstmPolicy,
    "CnnLstmPolicy": CnnLstmPolicy,
    "MultiInputLstmPolicy": MultiInputLstmPolicy,
}


def zero_states(policy: RecurrentActorCriticPolicy, n_sequences: int, device: th.device) -> RNNStates:
    """Zero hidden and cell states of the actor's and the critic's LSTM for ``n_sequences`` sequences."""
    lstm = policy.lstm_actor
    shape = (lstm.num_layers, n_sequences, lstm.hidden_size)
    return RNNStates(
        (th.zeros(shape, device=device), th.zeros(shape, device=device)),
        (th.zeros(shape, device=device), th.zeros(shape, device=device)),
    )


class RecurrentMixin(ActorCriticAlgorithm):
    """What an LSTM policy changes in an sb3_pg algorithm's rollouts (put it first among the bases)."""

    policy: RecurrentActorCriticPolicy
    _last_lstm_states: RNNStates | None = None  # the states before the next step
    _next_lstm_states: RNNStates | None = None  # the states after the step being taken

    def _check_common_arguments(self) -> None:
        super()._check_common_arguments()
        if not (isinstance(self.policy_class, type) and issubclass(self.policy_class, RecurrentActorCriticPolicy)):
            raise ValueError(
                f"`policy` must be one of {', '.join(self.policy_aliases)} or a subclass of sb3-contrib's "
                f"RecurrentActorCriticPolicy; got {self.policy_class!r}"
            )

    def _lstm_shape(self) -> tuple[int, int]:
        """(n_lstm_layers, lstm_hidden_size) the policy will have: its arguments, or their defaults."""
        defaults = inspect.signature(self.policy_class).parameters
        kwargs = self.policy_kwargs
        return (
            int(kwargs.get("n_lstm_layers", defaults["n_lstm_layers"].default)),
            int(kwargs.get("lstm_hidden_size", defaults["lstm_hidden_size"].default)),
        )

    def _setup_model(self) -> None:
        super()._setup_model()
        self._last_lstm_states = zero_states(self.policy, self.n_envs, self.device)

    def _setup_learn(self, total_timesteps: int, callback: MaybeCallback = None, *args: Any, **kwargs: Any) -> Any:
        result = super()._setup_learn(total_timesteps, callback, *args, **kwargs)
        states = self._last_lstm_states
        if states is None or states.pi[0].shape[1] != self.n_envs:  # a new env with another n_envs
            self._last_lstm_states = zero_states(self.policy, self.n_envs, self.device)
        return result

    # the fast paths carry no LSTM state
    fast_paths_supported: ClassVar[bool] = False

    def _episode_starts(self) -> th.Tensor:
        return th.as_tensor(np.asarray(self._last_episode_starts), dtype=th.float32, device=self.device)

    def _sample_actions(self, observations: Any) -> tuple[np.ndarray, th.Tensor, th.Tensor]:
        assert self._last_lstm_states is not None
        with th.no_grad():
            actions, values, log_probs, self._next_lstm_states = self.policy(
                obs_as_tensor(observations, self.device), self._last_lstm_states, self._episode_starts()
            )
        return actions.cpu().numpy(), values, log_probs

    def _terminal_value(self, terminal_obs: PyTorchObs, env_index: int) -> th.Tensor:
        assert self._next_lstm_states is not None
        vf = self._next_lstm_states.vf
        state = (vf[0][:, env_index : env_index + 1].contiguous(), vf[1][:, env_index : env_index + 1].contiguous())
        return self.policy.predict_values(terminal_obs, state, th.zeros(1, device=self.device))[0]  # type: ignore[arg-type]

    def _add_step(self, rollout_buffer: RolloutBuffer, *args: Any, **kwargs: Any) -> None:
        super()._add_step(rollout_buffer, *args, **kwargs)
        self._last_lstm_states = self._next_lstm_states

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "_next_lstm_states"]


class RecurrentA2C(RecurrentMixin, A2C):
    """
    A2C with an LSTM policy: :class:`sb3_pg.A2C` (every variant: TD(0), n-step, GAE(lambda) and
    Monte Carlo advantages, both critic targets, joint or separate optimizers) on sb3-contrib's
    ``RecurrentActorCriticPolicy``. The actor follows ``grad log pi(a_t|h_t) A_t`` with
    ``h_t`` the LSTM state after the episode's observations up to ``s_t``, and the critic
    ``V(h_t)``; each update runs the LSTMs over the rollout's sequences from the states stored at
    their first step, and takes every loss and mean over real steps only (padding changes no
    gradient). Policies: ``MlpLstmPolicy``, ``CnnLstmPolicy``, ``MultiInputLstmPolicy``.

    Maths: ``docs/maths.md``. Rollouts use SB3's torch forward pass (the fast paths carry no LSTM
    state); ``exact_rollouts`` has no effect.

    :param policy: The policy model to use (MlpLstmPolicy, CnnLstmPolicy, MultiInputLstmPolicy, or a
        subclass of sb3-contrib's RecurrentActorCriticPolicy)
    :param env: The environment to learn from (if registered in Gym, can be str)
    :param learning_rate: The learning rate (of the actor, with separate optimizers), it can be a function
        of the current progress remaining (from 1 to 0)
    :param n_steps: The number of steps to run for each environment per update
        (i.e. batch size is n_steps * n_env where n_env is number of environment copies running in parallel).
        32 by default (A2C's is 5): the LSTM learns from sequences long enough to hold what it must remember
    :param gamma: Discount factor
    :param gae_lambda: Factor for trade-off of bias vs variance for Generalized Advantage Estimator:
        0 for the TD(0) residual, 1 for the n-step Monte Carlo advantage, between for GAE(lambda).
        0.95 by default (A2C's is 1): with 32-step rollouts, the Monte Carlo sums' variance is too high
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
    :param exact_rollouts: No effect: rollouts always use SB3's torch forward pass, which carries the
        LSTM states (accepted so that configurations move between algorithms)
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

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = RECURRENT_POLICY_ALIASES
    default_rollout_buffers: ClassVar[tuple[type[RolloutBuffer], type[RolloutBuffer]]] = (
        RecurrentPGRolloutBuffer,
        RecurrentPGDictRolloutBuffer,
    )

    def __init__(
        self,
        policy: str | type[RecurrentActorCriticPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 7e-4,
        n_steps: int = 32,
        gamma: float = 0.99,
        gae_lambda: float = 0.95,
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
            rms_prop_eps=rms_prop_eps,
            use_rms_prop=use_rms_prop,
            use_sde=use_sde,
            sde_sample_freq=sde_sample_freq,
            rollout_buffer_class=rollout_buffer_class,
            rollout_buffer_kwargs=rollout_buffer_kwargs,
            normalize_advantage=normalize_advantage,
            critic_target=critic_target,
            critic_learning_rate=critic_learning_rate,
            n_critic_updates=n_critic_updates,
            scale_critic_targets=scale_critic_targets,
            exact_rollouts=exact_rollouts,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            policy_kwargs=policy_kwargs,
            verbose=verbose,
            seed=seed,
            device=device,
            _init_setup_model=_init_setup_model,
        )

    def _check_common_arguments(self) -> None:
        super()._check_common_arguments()
        self._check_rollout_buffer_class("store LSTM states")

    def _extra_buffer_kwargs(self) -> dict[str, Any]:
        n_layers, hidden_size = self._lstm_shape()
        return {"hidden_state_shape": (self.n_steps, n_layers, self.n_envs, hidden_size)}

    def _extra_step_data(self) -> dict[str, Any]:
        return {"lstm_states": self._last_lstm_states}  # the states the step's action was taken in

    def _bootstrap_values(self, new_obs: Any) -> th.Tensor:
        assert self._last_lstm_states is not None
        with th.no_grad():
            return self.policy.predict_values(
                obs_as_tensor(new_obs, self.device),  # type: ignore[arg-type]
                self._last_lstm_states.vf,  # type: ignore[arg-type]
                self._episode_starts(),
            )

    def _evaluate_actions(self, rollout_data: Any, actions: th.Tensor) -> tuple[th.Tensor, th.Tensor, th.Tensor | None]:
        values, log_prob, entropy = self.policy.evaluate_actions(
            rollout_data.observations, actions, rollout_data.lstm_states, rollout_data.episode_starts
        )
        real = rollout_data.mask > 0.5  # the batch's other fields hold real steps only
        return values.flatten()[real], log_prob[real], None if entropy is None else entropy[real]

    def _batch_values(self, rollout_data: Any) -> th.Tensor:
        values = self.policy.predict_values(
            rollout_data.observations, rollout_data.lstm_states.vf, rollout_data.episode_starts
        )
        return values.flatten()[rollout_data.mask > 0.5]

    def learn(
        self: SelfRecurrentA2C,
        total_timesteps: int = 200_000,
        callback: MaybeCallback = None,
        log_interval: int = 100,
        tb_log_name: str = "RecurrentA2C",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfRecurrentA2C:
        """
        Train the model (as :meth:`sb3_pg.A2C.learn`).

        :param total_timesteps: The total number of environment steps to train on (default 200,000)
        :param callback: callback(s) called at every step with state of the algorithm.
        :param log_interval: The number of rollouts before logging.
        :param tb_log_name: the name of the run for TensorBoard logging
        :param reset_num_timesteps: whether or not to reset the current timestep number (used in logging)
        :param progress_bar: Display a progress bar using tqdm and rich.
        :return: the trained model
        """
        return super().learn(total_timesteps, callback, log_interval, tb_log_name, reset_num_timesteps, progress_bar)


class RecurrentReinforce(RecurrentMixin, Reinforce):
    """
    REINFORCE with an LSTM policy: :class:`sb3_pg.Reinforce` (batches of ``n_episodes`` complete
    episodes, every baseline and weight) on sb3-contrib's ``RecurrentActorCriticPolicy``. The
    estimator is REINFORCE's with ``pi(a_t|h_t)``, ``h_t`` the LSTM state after the episode's
    observations up to ``s_t``: each episode is kept whole and run through the LSTMs from a zero
    state at its first step, so its importance weight and every log-probability are the current
    policy's given the whole history, and padding changes no gradient. The value baseline is
    ``V(h_t)``. Policies: ``MlpLstmPolicy``, ``CnnLstmPolicy``, ``MultiInputLstmPolicy``.

    Maths: ``docs/maths.md``. Rollouts use SB3's torch forward pass (the fast paths carry no LSTM
    state); ``exact_rollouts`` has no effect.

    :param policy: The policy model to use (MlpLstmPolicy, CnnLstmPolicy, MultiInputLstmPolicy, or a
        subclass of sb3-contrib's RecurrentActorCriticPolicy)
    :param env: The environment to learn from (if registered in Gym, can be str); it needs an episode limit
    :param learning_rate: The actor's learning rate, it can be a function
        of the current progress remaining (from 1 to 0). 1e-3 by default (``Reinforce``'s is 3e-3)
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
        (``True`` by default, with ``max_grad_norm=0.5`` and ``learning_rate=1e-3``: with ``Reinforce``'s
        defaults, ``False``, ``None`` and 3e-3, the LSTM policy did not learn CartPoleNoVel-v1)
    :param ent_coef: Entropy coefficient for the loss calculation
    :param max_grad_norm: The maximum norm for gradient clipping (actor and critic separately);
        ``None`` for no clipping; 0.5 by default
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
    :param exact_rollouts: No effect: rollouts always use SB3's torch forward pass, which carries the
        LSTM states (accepted so that configurations move between algorithms)
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

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = RECURRENT_POLICY_ALIASES

    def __init__(
        self,
        policy: str | type[RecurrentActorCriticPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 1e-3,
        n_episodes: int = 16,
        stale_episodes: str = "drop",
        gamma: float = 0.99,
        baseline: str = "value",
        reward_to_go: bool = True,
        loss_reduction: str = "episode_mean",
        max_episode_steps: int | None = None,
        critic_learning_rate: float | Schedule | None = None,
        n_critic_updates: int = 1,
        normalize_advantage: bool = True,
        ent_coef: float = 0.0,
        max_grad_norm: float | None = 0.5,
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
            n_episodes=n_episodes,
            stale_episodes=stale_episodes,
            gamma=gamma,
            baseline=baseline,
            reward_to_go=reward_to_go,
            loss_reduction=loss_reduction,
            max_episode_steps=max_episode_steps,
            critic_learning_rate=critic_learning_rate,
            n_critic_updates=n_critic_updates,
            normalize_advantage=normalize_advantage,
            ent_coef=ent_coef,
            max_grad_norm=max_grad_norm,
            use_sde=use_sde,
            sde_sample_freq=sde_sample_freq,
            rollout_buffer_class=rollout_buffer_class,
            rollout_buffer_kwargs=rollout_buffer_kwargs,
            exact_rollouts=exact_rollouts,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            policy_kwargs=policy_kwargs,
            verbose=verbose,
            seed=seed,
            device=device,
            _init_setup_model=_init_setup_model,
        )

    def _episode_sequences(self, rollout_data: EpisodeBatchSamples) -> tuple[th.Tensor, int]:
        """Where each of the batch's steps goes in ``n_episodes`` padded sequences: ``episode * L + t``."""
        length = int(rollout_data.time_index.max().item()) + 1
        return rollout_data.episode_index * length + rollout_data.time_index, length

    def _padded(self, tensor: th.Tensor, index: th.Tensor, length: int, n_episodes: int) -> th.Tensor:
        out = tensor.new_zeros((n_episodes * length, *tensor.shape[1:]))
        out[index] = tensor
        return out

    def _sequence_inputs(self, rollout_data: EpisodeBatchSamples) -> tuple[Any, th.Tensor, th.Tensor, int, int]:
        """(padded observations, episode starts, index of the real steps, sequence length, number of episodes)."""
        index, length = self._episode_sequences(rollout_data)
        n_episodes = batch_episodes(rollout_data)
        obs = rollout_data.observations
        if isinstance(obs, dict):
            padded_obs: Any = {key: self._padded(value, index, length, n_episodes) for key, value in obs.items()}
        else:
            padded_obs = self._padded(obs, index, length, n_episodes)
        starts = th.zeros(n_episodes * length, device=self.device)
        starts[th.arange(n_episodes, device=self.device) * length] = 1.0  # each episode from a zero state
        return padded_obs, starts, index, length, n_episodes

    def _evaluate_actions(self, rollout_data: Any, actions: th.Tensor) -> tuple[th.Tensor, th.Tensor, th.Tensor | None]:
        obs, starts, index, length, n_episodes = self._sequence_inputs(rollout_data)
        states = zero_states(self.policy, n_episodes, self.device)
        padded_actions = self._padded(actions, index, length, n_episodes)
        values, log_prob, entropy = self.policy.evaluate_actions(obs, padded_actions, states, starts)
        return values.flatten()[index], log_prob[index], None if entropy is None else entropy[index]

    def _batch_values(self, rollout_data: Any) -> th.Tensor:
        obs, starts, index, _, n_episodes = self._sequence_inputs(rollout_data)
        states = zero_states(self.policy, n_episodes, self.device)
        values = self.policy.predict_values(obs, states.vf, starts)  # type: ignore[arg-type]
        return values.flatten()[index]

    def learn(
        self: SelfRecurrentReinforce,
        total_timesteps: int = 200_000,
        callback: MaybeCallback = None,
        log_interval: int = 1,
        tb_log_name: str = "RecurrentReinforce",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfRecurrentReinforce:
        """
        Train the model (as :meth:`sb3_pg.Reinforce.learn`).

        :param total_timesteps: The total number of environment steps to train on (default 200,000)
        :param callback: callback(s) called at every step with state of the algorithm.
        :param log_interval: The number of rollouts before logging.
        :param tb_log_name: the name of the run for TensorBoard logging
        :param reset_num_timesteps: whether or not to reset the current timestep number (used in logging)
        :param progress_bar: Display a progress bar using tqdm and rich.
        :return: the trained model
        """
        return super().learn(total_timesteps, callback, log_interval, tb_log_name, reset_num_timesteps, progress_bar)
