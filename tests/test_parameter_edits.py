"""Every way a user can change a policy's parameters is seen by the NumPy rollout actor before its next
action, and ``set_random_seed`` reseeds it."""

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch as th
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.utils import obs_as_tensor

from sb3_pg import A2C, Reinforce


def scaled_state_dict(model: Any) -> dict[str, th.Tensor]:
    return {key: value * 1.5 for key, value in model.policy.state_dict().items()}


def _inplace(model: Any) -> None:
    with th.no_grad():
        for p in model.policy.parameters():
            p.mul_(1.5)


def _through_data(model: Any) -> None:
    for p in model.policy.parameters():
        p.data.mul_(1.5)  # moves no version counter


def _new_memory(model: Any) -> None:
    for p in model.policy.parameters():
        p.data = p.data * 1.5


def _vector_to_parameters(model: Any) -> None:
    params = list(model.policy.parameters())
    th.nn.utils.vector_to_parameters(th.nn.utils.parameters_to_vector(params).detach() * 1.5, params)


def _load_state_dict(model: Any) -> None:
    model.policy.load_state_dict(scaled_state_dict(model))


def _set_parameters(model: Any) -> None:
    model.set_parameters({"policy": scaled_state_dict(model)}, exact_match=False)


def _optimizer_step(model: Any) -> None:
    params = list(model.policy.parameters())
    optimizer = th.optim.SGD(params, lr=1.0)
    optimizer.zero_grad()
    sum((p**2).sum() for p in params).backward()  # type: ignore[union-attr]
    optimizer.step()


EDITS: dict[str, Callable[[Any], None]] = {
    "in_place": _inplace,
    "through_data": _through_data,
    "new_memory": _new_memory,
    "vector_to_parameters": _vector_to_parameters,
    "load_state_dict": _load_state_dict,
    "set_parameters": _set_parameters,
    "optimizer_step": _optimizer_step,
}


class EditAndCheck(BaseCallback):
    """Edits the parameters (at a rollout's start or at a step), then checks the next step's values and
    log-probabilities against the policy's own (torch) ones."""

    def __init__(self, edit: Callable[[Any], None], when: str):
        super().__init__()
        self.edit, self.when = edit, when
        self.pending = False
        self.errors: list[float] = []

    def _on_rollout_start(self) -> None:
        if self.when == "rollout_start" and self.model._n_updates == 1:
            self.edit(self.model)
            self.pending = True

    def _on_step(self) -> bool:
        if self.pending:
            obs = obs_as_tensor(self.model._last_obs, self.model.device)
            actions = th.as_tensor(self.locals["actions"])
            with th.no_grad():
                values, log_prob, _ = self.model.policy.evaluate_actions(obs, actions)
            self.errors.append(float((values.flatten() - self.locals["values"].flatten()).abs().max()))
            self.errors.append(float((log_prob - self.locals["log_probs"]).abs().max()))
            self.pending = False
        if self.when == "step" and self.model._n_updates == 1 and not self.errors:
            self.edit(self.model)
            self.pending = True
        return True


@pytest.mark.parametrize("when", ["rollout_start", "step"])
@pytest.mark.parametrize("edit", list(EDITS))
@pytest.mark.parametrize("algo", [A2C, Reinforce])
def test_every_parameter_edit_is_seen_before_the_next_action(algo, edit, when):
    kwargs = dict(n_steps=8) if algo is A2C else dict(n_episodes=2)
    model = algo("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2, seed=0), seed=0, **kwargs)
    assert model._numpy_actor() is not None  # the fast path is the one under test
    callback = EditAndCheck(EDITS[edit], when)
    model.learn(300, callback=callback)
    assert callback.errors, "the edit was never checked"
    assert max(callback.errors) < 1e-4


@pytest.mark.parametrize("algo", [A2C, Reinforce])
def test_set_random_seed_reseeds_the_numpy_actor(algo):
    model = algo("MlpPolicy", "CartPole-v1", seed=0)
    obs = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)

    def actions() -> np.ndarray:
        return model._act(obs)[0]

    model.set_random_seed(3)
    first = actions()
    actions()  # the stream moves on
    model.set_random_seed(3)
    np.testing.assert_array_equal(actions(), first)
    model.set_random_seed(4)
    assert not np.array_equal(actions(), first)


def batch_kwargs(algo: type) -> dict[str, Any]:
    return dict(n_steps=8) if algo is A2C else dict(n_episodes=2)


def actor_gradient_norm(model: Any) -> float:
    """The norm of the actor's gradients after the last update (what max_grad_norm clipped)."""
    grads = [p.grad for p in model._actor_params if p.grad is not None]
    return float(th.linalg.vector_norm(th.stack([th.linalg.vector_norm(g) for g in grads])))


@pytest.mark.parametrize("algo", [A2C, Reinforce])
def test_a_replaced_policy_is_clipped_and_stepped(algo):
    """As SB3 reads self.policy at every update: the gradient clipping and the optimizer follow a new policy."""
    env = make_vec_env("CartPole-v1", n_envs=2, seed=0)
    model = algo("MlpPolicy", env, max_grad_norm=1e-3, seed=0, **batch_kwargs(algo))
    other = algo("MlpPolicy", env, seed=1, **batch_kwargs(algo))
    model.policy = other.policy
    before = [p.detach().clone() for p in other.policy.parameters()]
    model.learn(200)
    assert model._actor_params[0] is next(other.policy.parameters())
    assert actor_gradient_norm(model) <= 1e-3 * (1 + 1e-4)
    assert any(not th.equal(b, p) for b, p in zip(before, other.policy.parameters(), strict=True))


@pytest.mark.parametrize("algo", [A2C, Reinforce])
def test_a_replaced_policy_gets_its_own_critic_optimizer(algo):
    env = make_vec_env("CartPole-v1", n_envs=2, seed=0)
    model = algo("MlpPolicy", env, critic_learning_rate=1e-2, seed=0, **batch_kwargs(algo))
    other = algo("MlpPolicy", env, seed=1, **batch_kwargs(algo))  # one joint optimizer
    model.policy = other.policy
    critic_before = [p.detach().clone() for p in other.policy.value_net.parameters()]
    model.learn(2_000)
    assert all(not th.equal(b, p) for b, p in zip(critic_before, other.policy.value_net.parameters(), strict=True))
    critic_ids = {id(p) for p in model._critic_params}
    assert {id(p) for p in other.policy.value_net.parameters()} <= critic_ids
    # The policy's optimizer now steps the actor only, the critic optimizer the critic only
    assert not critic_ids & {id(p) for group in other.policy.optimizer.param_groups for p in group["params"]}
    assert {id(p) for p in model.critic_optimizer.param_groups[0]["params"]} == critic_ids


@pytest.mark.parametrize("algo", [A2C, Reinforce])
def test_exact_rollouts_set_after_construction_is_honoured(algo):
    model = algo("MlpPolicy", "CartPole-v1", seed=0)
    assert model._numpy_actor() is not None
    model.exact_rollouts = True
    assert model._numpy_actor() is None  # SB3's torch path and random stream
    model.exact_rollouts = False
    assert model._numpy_actor() is not None
    model.exact_rollouts = "yes"
    with pytest.raises(ValueError, match="`exact_rollouts` must be one of"):
        model.learn(100)


def test_n_episodes_set_after_construction_applies_from_the_next_batch():
    model = Reinforce("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2, seed=0), n_episodes=2, seed=0)
    model.learn(500)
    model.n_episodes = 6
    model.learn(3_000, reset_num_timesteps=False)
    assert model.logger.name_to_value["train/n_episodes"] == 6
    data = next(model.rollout_buffer.get())
    assert int(data.episode_index.max()) + 1 == 6
    model.n_episodes = 0
    with pytest.raises(ValueError, match="`n_episodes` must be"):
        model.learn(100, reset_num_timesteps=False)


def test_a_running_mean_baseline_set_after_construction_starts_its_statistics():
    model = Reinforce("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2, seed=0), n_episodes=2, baseline="none", seed=0)
    model.learn(300)
    assert model.weight_rms is None
    model.baseline = "running_mean"
    model.learn(300, reset_num_timesteps=False)
    assert model.weight_rms is not None and model.weight_rms.count > 0
    assert model.logger.name_to_value["train/running_mean_baseline"] == pytest.approx(float(model.weight_rms.mean))
    model.baseline = "median"
    with pytest.raises(ValueError, match="`baseline` must be one of 'none', 'mean', 'running_mean', 'value'"):
        model.learn(100, reset_num_timesteps=False)


@pytest.mark.parametrize(("built", "edited"), [("none", "value"), ("running_mean", "value"), ("value", "running_mean")])
def test_a_baseline_edit_that_needs_another_critic_is_refused_before_any_step(built, edited):
    model = Reinforce("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2, seed=0), n_episodes=2, baseline=built, seed=0)
    model.baseline = edited
    with pytest.raises(ValueError, match=f"`baseline` cannot become '{edited}' after construction"):
        model.learn(100)
    assert model.num_timesteps == 0
