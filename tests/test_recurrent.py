"""RecurrentA2C and RecurrentReinforce: the behaviours sb3-contrib's RecurrentPPO tests describe, for
ours, and the padding: a padded step changes no gradient."""

import copy
import inspect
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import rl_zoo3.import_envs  # noqa: F401  (registers RL Zoo's CartPoleNoVel-v1)
import torch as th
from gymnasium import spaces
from helpers import collect
from sb3_contrib.common.recurrent.type_aliases import RNNStates
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.vec_env import VecNormalize

from sb3_pg.configs import load_config, parse_policy_kwargs
from sb3_pg.recurrent import RecurrentA2C, RecurrentReinforce

ALGOS = [RecurrentA2C, RecurrentReinforce]
SMALL_LSTM = {"lstm_hidden_size": 8, "net_arch": {"pi": [16], "vf": [16]}}


def small(algo: type, **kwargs: Any) -> dict[str, Any]:
    own = {"n_episodes": 4} if algo is RecurrentReinforce else {"n_steps": 16}
    return {**own, "policy_kwargs": dict(SMALL_LSTM), "seed": 0, **kwargs}


def vec_env(n_envs: int = 3, env_id: str = "CartPoleNoVel-v1") -> Any:
    return make_vec_env(env_id, n_envs=n_envs, seed=0)


@pytest.mark.parametrize("algo", ALGOS)
def test_lstm_states_are_shaped_carried_and_reset(algo):
    model = algo("MlpLstmPolicy", vec_env(3), **small(algo))
    model.learn(300)
    states = model._last_lstm_states
    assert states.pi[0].shape == states.vf[0].shape == (1, 3, 8)
    assert states.pi[0].abs().sum() > 0  # carried from the last step, not reset after the rollout

    obs = model.get_env().reset()
    actions, state = model.predict(obs, deterministic=True)
    assert actions.shape == (3,) and state[0].shape == (1, 3, 8)
    # episode_start resets the state: a start with any state acts as a start from none
    for _ in range(3):
        _, state = model.predict(obs, state=state, deterministic=True)
    starts = np.ones(3, dtype=bool)
    fresh, _ = model.predict(obs, state=None, episode_start=starts, deterministic=True)
    reset, _ = model.predict(obs, state=state, episode_start=starts, deterministic=True)
    assert np.array_equal(fresh, reset)


def test_a2c_stores_the_state_each_step_was_taken_in_and_carries_it_across_rollouts():
    model = RecurrentA2C("MlpLstmPolicy", vec_env(2), **small(RecurrentA2C, n_steps=4))
    collect(model)
    carried = copy.deepcopy(model._last_lstm_states)
    collect(model)
    buffer = model.rollout_buffer
    assert np.allclose(buffer.hidden_states_pi[0], carried.pi[0].numpy())
    assert np.allclose(buffer.cell_states_vf[0], carried.vf[1].numpy())


def _padded_batch(model: RecurrentA2C) -> Any:
    batch = next(iter(model.rollout_buffer.get()))
    assert (batch.mask < 0.5).any(), "the test needs a batch with padding"
    return batch


def test_a2c_padded_steps_change_no_gradient():
    """The same update whatever the padded steps hold (observations, actions)."""
    env = vec_env(3, "CartPole-v1")  # episodes end inside the rollout: sequences of several lengths
    model = RecurrentA2C("MlpLstmPolicy", env, **small(RecurrentA2C, n_steps=32, critic_learning_rate=1e-3))
    collect(model)
    batch = _padded_batch(model)
    padding = batch.mask < 0.5
    generator = th.Generator().manual_seed(0)
    noise = 1e3 * th.randn(batch.observations.shape, generator=generator)
    corrupted = batch._replace(
        observations=th.where(padding[:, None], noise, batch.observations),
        actions=th.where(padding[:, None], th.ones_like(batch.actions), batch.actions),
        episode_starts=th.where(padding, th.ones_like(batch.episode_starts), batch.episode_starts),
    )
    saved = copy.deepcopy(model.policy.state_dict())
    optimizers = [copy.deepcopy(o.state_dict()) for o in (model.policy.optimizer, model.critic_optimizer)]
    after = []
    for data in (batch, corrupted):
        model.policy.load_state_dict(saved)
        for optimizer, state in zip((model.policy.optimizer, model.critic_optimizer), optimizers, strict=True):
            optimizer.load_state_dict(state)
        model.rollout_buffer.get = lambda batch_size=None, data=data: iter([data])  # type: ignore[method-assign]
        model.train()
        after.append([p.detach().clone() for p in model.policy.parameters()])
    moved = [not th.equal(a, b) for a, b in zip(after[0], saved.values(), strict=False)]
    assert any(moved)
    assert all(th.equal(a, b) for a, b in zip(*after, strict=True))


def test_reinforce_scores_each_episode_from_a_zero_state_with_no_padding_effect():
    """Log-probabilities and values of the padded batch equal those of each episode run on its own."""
    model = RecurrentReinforce("MlpLstmPolicy", vec_env(3, "CartPole-v1"), **small(RecurrentReinforce))
    collect(model)
    batch = next(model.rollout_buffer.get())
    actions = batch.actions.long().flatten()
    values, log_prob, entropy = model._evaluate_actions(batch, actions)
    critic = model._batch_values(batch)
    lengths = th.bincount(batch.episode_index)
    assert len(set(lengths.tolist())) > 1, "the test needs episodes of several lengths"
    start = 0
    for length in lengths.tolist():
        steps = slice(start, start + length)
        zeros = RNNStates(*[(th.zeros(1, 1, 8), th.zeros(1, 1, 8))] * 2)
        starts = th.zeros(length)
        starts[0] = 1.0
        alone = model.policy.evaluate_actions(batch.observations[steps], actions[steps], zeros, starts)
        assert th.allclose(alone[1], log_prob[steps], atol=1e-6)
        assert th.allclose(alone[0].flatten(), values[steps], atol=1e-6)
        assert th.allclose(alone[0].flatten(), critic[steps], atol=1e-6)
        assert th.allclose(alone[2], entropy[steps], atol=1e-6)
        start += length


A2C_OPTIONS = [{"gae_lambda": 0.0}, {"gae_lambda": 0.95, "critic_target": "monte_carlo"}, {"normalize_advantage": True}]
REINFORCE_OPTIONS = [
    {"baseline": "none"},
    {"baseline": "mean", "reward_to_go": False},
    {"baseline": "running_mean"},
    {"loss_reduction": "step_mean"},
]


@pytest.mark.parametrize(
    "algo, options",
    [(RecurrentA2C, o) for o in A2C_OPTIONS] + [(RecurrentReinforce, o) for o in REINFORCE_OPTIONS],
    ids=[f"a2c-{o}" for o in A2C_OPTIONS] + [f"reinforce-{o}" for o in REINFORCE_OPTIONS],
)
def test_every_estimator_option_works_with_an_lstm(algo, options):
    model = algo("MlpLstmPolicy", vec_env(2), **small(algo, **options)).learn(200)
    assert model._n_updates > 0 and np.isfinite(model.logger.name_to_value["train/policy_loss"])
    if options.get("baseline") == "running_mean":
        assert model.weight_rms is not None and model.weight_rms.count > 0


@pytest.mark.parametrize("algo", ALGOS)
def test_save_load_predict_and_evaluate(algo, tmp_path):
    env = VecNormalize(vec_env(2))
    model = algo("MlpLstmPolicy", env, **small(algo)).learn(200)
    model.save(tmp_path / "model.zip")
    loaded = algo.load(tmp_path / "model.zip", env=env)
    obs = env.reset()
    state = None
    for _ in range(5):
        a, next_state = model.predict(obs, state=state, deterministic=True)
        b, loaded_state = loaded.predict(obs, state=state, deterministic=True)
        assert np.array_equal(a, b) and np.allclose(next_state[0], loaded_state[0])
        state = next_state
    evaluate_policy(loaded, env, n_eval_episodes=2)
    loaded.learn(100)  # training goes on from the saved states


@pytest.mark.parametrize("algo", ALGOS)
def test_dict_observations_and_continuous_actions(algo):
    class DictObs(gym.ObservationWrapper):
        def __init__(self, env: gym.Env):
            super().__init__(env)
            self.observation_space = spaces.Dict({"obs": env.observation_space})

        def observation(self, observation: Any) -> dict[str, Any]:
            return {"obs": observation}

    env = make_vec_env("CartPoleNoVel-v1", n_envs=2, seed=0, wrapper_class=DictObs)
    algo("MultiInputLstmPolicy", env, **small(algo)).learn(100)
    algo("MlpLstmPolicy", make_vec_env("Pendulum-v1", n_envs=2, seed=0), **small(algo)).learn(100)


@pytest.mark.parametrize("algo", ALGOS)
def test_a_non_recurrent_policy_is_refused_at_construction(algo):
    with pytest.raises(ValueError, match="`policy` must be one of MlpLstmPolicy"):
        algo(ActorCriticPolicy, vec_env(1), **small(algo, policy_kwargs=None))


def test_train_compare_and_tune_run_the_recurrent_algorithms(tmp_path):
    import pandas as pd

    from sb3_pg.cli import main

    save = tmp_path / "agent.zip"
    lstm = ["--hyperparams", "policy_kwargs=dict(lstm_hidden_size=8)"]
    argv = ["train", "--algo", "recurrent_a2c", "--env", "CartPoleNoVel-v1", "--timesteps", "400", "--n-envs", "2"]
    assert main([*argv, *lstm, "--eval-freq", "200", "--eval-episodes", "2", "--save", str(save), "--no-progress-bar"]) == 0
    assert RecurrentA2C.load(save).policy.lstm_actor.hidden_size == 8

    out = tmp_path / "compare"
    argv = ["compare", "--envs", "CartPoleNoVel-v1", "--algos", "recurrent_reinforce", "recurrent_a2c", "--seeds", "1"]
    argv += ["--timesteps", "300", "--eval-freq", "300", "--eval-episodes", "1", "--out", str(out), "--no-progress-bar"]
    assert main(argv) == 0
    assert set(pd.read_csv(out / "results.csv")["algo"]) == {"recurrent_reinforce", "recurrent_a2c"}

    tune = ["tune", "--algo", "recurrent_reinforce", "--env", "CartPoleNoVel-v1", "--n-trials", "1", "--n-timesteps", "200"]
    tune += [
        "--n-evaluations",
        "1",
        "--eval-episodes",
        "1",
        "--fixed",
        "policy_kwargs=dict(lstm_hidden_size=8, activation_fn=nn.ReLU)",
    ]
    assert main([*tune, "--out", str(tmp_path / "tune"), "--no-progress-bar"]) == 0
    best = (tmp_path / "tune" / "best.yml").read_text()
    assert "policy: MlpLstmPolicy" in best and "activation_fn=nn.ReLU" in best  # RL Zoo's spelling, loadable
    entry = next(iter(load_config(tmp_path / "tune" / "best.yml").values()))
    assert parse_policy_kwargs(entry["policy_kwargs"])["lstm_hidden_size"] == 8


@pytest.mark.parametrize(
    ("algo", "defaults"),
    [
        (RecurrentA2C, {"n_steps": 32, "gae_lambda": 0.95}),
        (RecurrentReinforce, {"learning_rate": 1e-3, "normalize_advantage": True, "max_grad_norm": 0.5}),
    ],
)
def test_defaults_are_chosen_for_recurrence_and_documented(algo, defaults):
    """The defaults measured on CartPoleNoVel-v1 (benchmarks/defaults_check.py), on the model and in the docstring;
    with A2C's and Reinforce's own, the LSTM policies stayed below 45 on most seeds."""
    model = algo("MlpLstmPolicy", vec_env(2), policy_kwargs=dict(SMALL_LSTM), _init_setup_model=False)
    for name, value in defaults.items():
        assert getattr(model, name) == value, name
    signature_defaults = {k: p.default for k, p in inspect.signature(algo.__init__).parameters.items()}
    base = algo.__mro__[2]  # A2C or Reinforce
    base_defaults = {k: p.default for k, p in inspect.signature(base.__init__).parameters.items()}
    assert list(signature_defaults) == list(base_defaults)  # the same arguments, in SB3's order
    changed = {k for k in base_defaults if signature_defaults[k] != base_defaults[k]}
    assert changed == set(defaults)
    assert ":param n_steps:" in (algo.__doc__ or "") or ":param n_episodes:" in (algo.__doc__ or "")
