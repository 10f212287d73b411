"""What ``Reinforce`` and ``A2C`` share: the rollout loop (SB3's, with hooks and the fast forward
pass), saving and loading, and the speed layer's seam; the argument checks are in
:mod:`sb3_pg.common.arguments`, the separate critic in :mod:`sb3_pg.common.critic`."""

from typing import Any, ClassVar

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback, CallbackList, ConvertCallback, ProgressBarCallback
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.save_util import load_from_zip_file
from stable_baselines3.common.type_aliases import PyTorchObs
from stable_baselines3.common.utils import obs_as_tensor
from stable_baselines3.common.vec_env import VecEnv

from sb3_pg.common.arguments import ArgumentChecks
from sb3_pg.common.backend import Backend
from sb3_pg.common.critic import SeparateCritic
from sb3_pg.common.fast_forward import FastForward
from sb3_pg.common.numpy_actor import NumpyActor
from sb3_pg.common.validation import (
    check_bool,
    check_choice,
    check_positive_int,
    check_tensorboard,
)


def runs_user_code(callback: BaseCallback) -> bool:
    """Whether a callback may run user code (anything but SB3's no-op wrapper of None and its progress bar)."""
    if isinstance(callback, CallbackList):
        return any(runs_user_code(c) for c in callback.callbacks)
    if isinstance(callback, ConvertCallback):
        return callback.callback is not None
    return not isinstance(callback, ProgressBarCallback)


class ActorCriticAlgorithm(ArgumentChecks, SeparateCritic, OnPolicyAlgorithm):
    """
    Base of sb3_pg's algorithms: an SB3 ``OnPolicyAlgorithm`` with the argument checks they share
    (:class:`~sb3_pg.common.arguments.ArgumentChecks`), an optional critic with its own optimizer
    (:class:`~sb3_pg.common.critic.SeparateCritic`), SB3's rollout loop with the fast forward pass,
    and the hooks through which each algorithm changes the loop (default: SB3's fixed ``n_steps``
    rollouts; in brackets, who overrides it):

    - :meth:`_rollout_continues`: another step while ``n_steps < n_rollout_steps`` (``Reinforce``:
      until its batch of episodes is complete);
    - :meth:`_sample_actions`: the policy's forward pass, or the fast paths (masks; LSTM states);
    - :meth:`_bootstrap_truncations`: ``r += gamma V(s_terminal)`` where a time limit cut an episode
      (``Reinforce``: into its returns instead);
    - :meth:`_terminal_value`: ``V(s_terminal)`` of a truncated episode (LSTM states);
    - :meth:`_value_scale`: the factor from the critic's outputs to reward units (``A2C``'s
      ``scale_critic_targets``);
    - :meth:`_add_step`: ``rollout_buffer.add(...)`` (``Reinforce``: episodes sorted into batches; LSTM
      states carried);
    - :meth:`_extra_step_data`: what else a step stores (action masks; LSTM states);
    - :meth:`_bootstrap_values`: ``V(s)`` after the rollout's last step (``Reinforce``: none needed;
      ``RecurrentA2C``: under its states);
    - :meth:`_extra_buffer_kwargs`: extra arguments of the buffer (``RecurrentA2C``: the states' shape);
    - :meth:`_evaluate_actions`: ``policy.evaluate_actions`` on a batch (masks; LSTM sequences).
    """

    exact_rollouts: bool = False
    # Whether the fast forward pass and the NumPy actor may serve the policy (not with masks or LSTM states)
    fast_paths_supported: ClassVar[bool] = True
    _speed: Backend | None = None  # the speed layer of the policy held now (_backend)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # SB3 uses these in its __init__ (or in learn) before any check of ours could run
        check_choice("verbose", kwargs.get("verbose", 0), (0, 1, 2))
        check_positive_int("stats_window_size", kwargs.get("stats_window_size", 100))
        check_bool("use_sde", kwargs.get("use_sde", False))
        check_tensorboard(kwargs.get("tensorboard_log"))
        self.algorithm = self.algorithm_name()  # saved with the model
        try:
            super().__init__(*args, **kwargs)
        except ValueError as error:
            if "gSDE" in str(error):
                raise ValueError("`use_sde` (True) needs a Box (continuous) action space; got a discrete one") from error
            raise
        except NotImplementedError as error:
            # SB3 refuses nested observation spaces with NotImplementedError while wrapping the env
            raise ValueError(f"`env` has an unsupported observation space: {error}") from error

    @classmethod
    def load(cls, path: Any, env: Any = None, device: th.device | str = "auto", **kwargs: Any) -> Any:  # type: ignore[override]
        """
        SB3's ``load``, refusing with a clear error a file that another algorithm saved (SB3 fails
        later, with an optimizer error). See ``BaseAlgorithm.load`` for the parameters.
        """
        data, _, _ = load_from_zip_file(path, device=device, custom_objects=kwargs.get("custom_objects"), load_data=True)
        saved = (data or {}).get("algorithm")
        if saved is not None and saved != cls.algorithm_name():
            raise ValueError(f"`path` holds a {saved} model, not {cls.algorithm_name()}: load it with {saved}.load")
        return super().load(path, env=env, device=device, **kwargs)

    @classmethod
    def default_policy(cls) -> str:
        """The name of the algorithm's MLP policy (``MlpPolicy``, or ``MlpLstmPolicy`` for the recurrent ones)."""
        return next(name for name in cls.policy_aliases if name.startswith("Mlp"))

    @classmethod
    def algorithm_name(cls) -> str:
        """The name saved with a model, checked when it is loaded."""
        return cls.__name__

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        state_dicts, torch_variables = super()._get_torch_save_params()
        if getattr(self, "_split", None) is not None and self.critic_optimizer is not None:
            state_dicts = [*state_dicts, "critic_optimizer"]
        return state_dicts, torch_variables

    def _excluded_save_params(self) -> list[str]:
        # Rebuilt from the policy by _setup_model and on first use
        return [*super()._excluded_save_params(), "_split", "_speed"]

    def _update_info_buffer(self, infos: list[dict[str, Any]], dones: np.ndarray | None = None) -> None:
        """SB3's, over the envs whose info holds anything (SB3 reads only an info's ``episode`` and
        ``is_success``): the same records, without looking into every env's empty info at every step,
        which costs as much as the step itself with hundreds of envs."""
        filled = [i for i, info in enumerate(infos) if info]
        if filled:
            super()._update_info_buffer([infos[i] for i in filled], None if dones is None else np.asarray(dones)[filled])

    def _update_current_progress_remaining(self, num_timesteps: int, total_timesteps: int) -> None:
        """SB3's progress, clamped to [0, 1]: a last rollout that runs past ``total_timesteps`` (REINFORCE
        finishing its episodes) must not turn a schedule negative (gradient ascent on the loss)."""
        super()._update_current_progress_remaining(num_timesteps, total_timesteps)
        self._current_progress_remaining = min(max(self._current_progress_remaining, 0.0), 1.0)

    def set_random_seed(self, seed: int | None = None) -> None:
        """SB3's ``set_random_seed``, which also reseeds the NumPy actor's generator: it is drawn again
        from torch's generator (just seeded) when next needed, so the same seed gives the same actions."""
        super().set_random_seed(seed)
        self._speed = None

    def _backend(self) -> Backend:
        """The speed layer for the policy held now and ``exact_rollouts`` as it is now (built again when
        the user replaces the policy or sets ``exact_rollouts`` after construction)."""
        if self._speed is None or not self._speed.serves(self.policy, self.exact_rollouts):
            check_bool("exact_rollouts", self.exact_rollouts)
            rng = None
            if not self.exact_rollouts:
                # Seeded from torch's generator, which set_random_seed seeds: runs stay reproducible
                rng = np.random.default_rng(int(th.randint(0, 2**62, (1,)).item()))
            self._speed = Backend(self.policy, self.exact_rollouts, rng, fast_paths=self.fast_paths_supported)
        return self._speed

    def _fast_forward(self) -> FastForward | None:
        """The fast forward pass for the current policy, or None where SB3's standard path is needed."""
        return self._backend().forward

    def _numpy_actor(self) -> NumpyActor | None:
        """The NumPy rollout actor for the current policy, or None (``exact_rollouts``, or not supported)."""
        return self._backend().actor

    def _set_training_mode(self, mode: bool) -> None:
        # Module.train() walks every submodule: skip it where the mode changes nothing
        fast = self._fast_forward()
        if fast is None or not fast.mode_free:
            self.policy.set_training_mode(mode)

    def _act(self, observations: Any) -> tuple[np.ndarray, np.ndarray, th.Tensor, th.Tensor]:
        """
        Sample actions for a rollout step, as SB3's ``collect_rollouts`` does.

        :param observations: the vec env's last observations
        :return: (actions as stored, actions sent to the env, values, log-probabilities)
        """
        with self._backend().forward_threads():
            actions, values, log_probs = self._sample_actions(observations)
        clipped_actions = actions
        if isinstance(self.action_space, spaces.Box):
            if self.policy.squash_output:
                clipped_actions = self.policy.unscale_action(clipped_actions)
            else:
                # The Gaussian is unbounded: clip to the env's bounds, store the unclipped action
                clipped_actions = np.clip(actions, self.action_space.low, self.action_space.high)
        return actions, clipped_actions, values, log_probs

    def _sample_actions(self, observations: Any) -> tuple[np.ndarray, th.Tensor, th.Tensor]:
        """
        The policy's actions for a rollout step, through the fastest path that applies (maskable and
        recurrent policies override it).

        :return: (actions, values, log-probabilities)
        """
        backend = self._backend()
        fast, actor = backend.forward, backend.actor
        if actor is not None:
            return actor.act(observations)
        if fast is not None:
            actions_tensor, values, log_probs = fast.act(observations, self.device)
        else:
            with th.no_grad():
                actions_tensor, values, log_probs = self.policy(obs_as_tensor(observations, self.device))
        return actions_tensor.cpu().numpy(), values, log_probs

    def _predict_values(self, observations: Any) -> th.Tensor:
        """``V(s)`` of a batch of vec-env observations, without gradient."""
        actor = self._numpy_actor()
        if actor is not None:
            return actor.predict_values(observations)
        fast = self._fast_forward()
        if fast is not None:
            return fast.predict_values(observations, self.device)
        with th.no_grad():
            return self.policy.predict_values(obs_as_tensor(observations, self.device))

    def _evaluate_actions(self, rollout_data: Any, actions: th.Tensor) -> tuple[th.Tensor, th.Tensor, th.Tensor | None]:
        """
        ``policy.evaluate_actions`` on a batch from the rollout buffer, through the fast path where it
        applies. With ``ent_coef == 0`` the entropy (logged, not trained on) is computed without a
        gradient on the fast path. Subclasses whose policies need more of the batch (action masks)
        override it.

        :param rollout_data: the batch (its ``observations`` are read here)
        :param actions: its actions, as the policy takes them
        :return: (values, log-probabilities, entropy or None)
        """
        fast = self._fast_forward()
        if fast is not None:
            return fast.evaluate_actions(rollout_data.observations, actions, entropy_grad=self.ent_coef != 0)
        return self.policy.evaluate_actions(rollout_data.observations, actions)

    def _with_entropy(self, loss: th.Tensor, entropy_loss: th.Tensor) -> th.Tensor:
        """
        ``loss + ent_coef * entropy_loss``. With ``ent_coef == 0`` (SB3's A2C default) the term is left
        out: it would only send zeros back through the entropy's graph, and adding a zero changes no
        gradient, so the update is the same to the bit (the parity tests check it) at less cost.
        """
        return loss if self.ent_coef == 0 else loss + self.ent_coef * entropy_loss

    def collect_rollouts(
        self,
        env: VecEnv,
        callback: BaseCallback,
        rollout_buffer: RolloutBuffer,
        n_rollout_steps: int,
    ) -> bool:
        """
        Collect experiences using the current policy and fill a ``RolloutBuffer``: SB3's loop, step for
        step, with the fast forward pass where it applies. Subclasses decide when a rollout ends and
        which steps belong to the batch (:meth:`_rollout_continues`, :meth:`_bootstrap_truncations`,
        :meth:`_add_step`, :meth:`_bootstrap_values`).

        :param env: The training environment
        :param callback: Callback that will be called at each step
            (and at the beginning and end of the rollout)
        :param rollout_buffer: Buffer to fill with rollouts
        :param n_rollout_steps: Number of experiences to collect per environment
        :return: True if function returned with at least `n_rollout_steps`
            collected, False if callback terminated rollout prematurely.

        With the NumPy actor, NumPy's BLAS runs on one thread during the rollout (callbacks called
        from it included), and the user's setting is put back after it (:meth:`Backend.rollout_threads`).
        """
        with self._backend().rollout_threads():
            return self._collect_rollouts(env, callback, rollout_buffer, n_rollout_steps)

    def _collect_rollouts(
        self, env: VecEnv, callback: BaseCallback, rollout_buffer: RolloutBuffer, n_rollout_steps: int
    ) -> bool:
        """:meth:`collect_rollouts`' loop, within its thread limits."""
        assert self._last_obs is not None, "No previous observation was provided"
        # Switch to eval mode (this affects batch norm / dropout)
        self._set_training_mode(False)
        n_steps = 0
        rollout_buffer.reset()
        # Sample new weights for the state dependent exploration
        if self.use_sde:
            self.policy.reset_noise(env.num_envs)

        callback.on_rollout_start()
        # The NumPy actor copies the parameters: take them again now that user code (between learn
        # calls, or the callback just called) may have changed them in any way, and after every step
        # of a user's callback. Optimizer steps are seen at every step anyway (version counters).
        actor = self._numpy_actor()
        user_callback = runs_user_code(callback)
        if actor is not None:
            actor.refresh()

        # A rollout may take no step (REINFORCE's batch may be complete already)
        new_obs: Any = self._last_obs
        dones: np.ndarray = np.asarray(self._last_episode_starts)
        while self._rollout_continues(n_steps, n_rollout_steps):
            if self.use_sde and self.sde_sample_freq > 0 and n_steps % self.sde_sample_freq == 0:
                # Sample a new noise matrix
                self.policy.reset_noise(env.num_envs)

            actions, clipped_actions, values, log_probs = self._act(self._last_obs)
            new_obs, rewards, dones, infos = env.step(clipped_actions)
            self.num_timesteps += env.num_envs

            # Give access to local variables
            callback.update_locals(locals())
            # A callback that stops training still lets this step be recorded: the env has taken it,
            # and a later learn(reset_num_timesteps=False) goes on from its observation (SB3 drops it)
            continue_training = callback.on_step()
            if actor is not None and user_callback:
                actor.refresh()

            self._update_info_buffer(infos, dones)
            n_steps += 1

            if isinstance(self.action_space, spaces.Discrete):
                # Reshape in case of discrete action
                actions = actions.reshape(-1, 1)

            self._bootstrap_truncations(rewards, dones, infos)
            self._add_step(rollout_buffer, actions, rewards, values, log_probs, dones, n_rollout_steps)
            self._last_obs = new_obs
            self._last_episode_starts = dones
            if not continue_training:
                return False

        rollout_buffer.compute_returns_and_advantage(last_values=self._bootstrap_values(new_obs), dones=dones)

        callback.update_locals(locals())
        callback.on_rollout_end()
        return True

    # Rollout hooks: by default SB3's fixed n_steps rollouts, bootstrapped with V at the cut.
    def _rollout_continues(self, n_steps: int, n_rollout_steps: int) -> bool:
        """:return: whether to take another vec-env step"""
        return n_steps < n_rollout_steps

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
        """Store one vec-env step in the buffer."""
        rollout_buffer.add(
            self._last_obs,  # type: ignore[arg-type]
            actions,
            rewards,
            self._last_episode_starts,  # type: ignore[arg-type]
            values,
            log_probs,
            **self._extra_step_data(),
        )

    def _extra_step_data(self) -> dict[str, Any]:
        """What else the buffer stores with each step (keyword arguments of its ``add``): nothing here;
        the action masks of the step for the maskable algorithms."""
        return {}

    def _bootstrap_values(self, new_obs: Any) -> th.Tensor:
        """:return: the values the returns are bootstrapped with after the last step"""
        return self._predict_values(new_obs)

    def _bootstrap_truncations(self, rewards: np.ndarray, dones: np.ndarray, infos: list[dict[str, Any]]) -> None:
        """
        Add ``gamma * V(terminal_obs)`` (in reward units: see :meth:`_value_scale`) to the last reward
        of each episode that a time limit truncated (SB3 issue #633), in place.

        :param rewards: the step's rewards, one per env
        :param dones: the step's done flags
        :param infos: the step's infos
        """
        for idx in dones.nonzero()[0]:
            if infos[idx].get("terminal_observation") is not None and infos[idx].get("TimeLimit.truncated", False):
                terminal_obs = self.policy.obs_to_tensor(infos[idx]["terminal_observation"])[0]
                with th.no_grad():
                    terminal_value = self._terminal_value(terminal_obs, int(idx))
                scale = self._value_scale()
                if scale is not None:  # in reward units
                    terminal_value = terminal_value * scale
                # Same expression as SB3, so that the float32 result matches to the bit
                rewards[idx] += self.gamma * terminal_value

    def _value_scale(self) -> float | None:
        """The factor from the critic's outputs to reward units (``A2C``'s ``scale_critic_targets``), or
        ``None`` where they are in reward units."""
        return None

    def _terminal_value(self, terminal_obs: PyTorchObs, env_index: int) -> th.Tensor:
        """``V`` of the last observation of env ``env_index``'s truncated episode (recurrent policies override it)."""
        return self.policy.predict_values(terminal_obs)[0]

    def _extra_buffer_kwargs(self) -> dict[str, Any]:
        """Rollout-buffer arguments the algorithm derives from its own (recurrent policies: the LSTM
        states' shape); checked against ``rollout_buffer_kwargs`` as the others are."""
        return {}
