"""Rollout actions sampled in NumPy, from a copy of the policy's parameters taken whenever they change.

During a rollout the policy only runs forward on a handful of observations per step, without
gradients. For the small MLPs of A2C, each torch operation then costs far more in dispatch than in
arithmetic. :class:`NumpyActor` runs the same network in a few NumPy calls instead: each layer's
bias is folded into its weight matrix (a column of ones is appended to the layer's input), and
where the actor and the critic have the same depth and activations their layers are fused into
one block-diagonal layer, so that one step of both networks is one matrix product per layer. The
copied weights are taken again whenever the parameters may have changed: at the start of each rollout
(after the callbacks' ``on_rollout_start``; training happens between rollouts) and after each step of a
user's callback. So every change is seen before the next action.

The numbers agree with the torch forward pass to float32 rounding, and actions follow the policy's
distribution (the sampling tests check it), but the random stream is NumPy's, not torch's: a run
does not reproduce SB3's A2C to the bit. ``exact_rollouts=True`` on the algorithms switches back to
the torch path, which does.

Supported: what :class:`~sb3_pg.common.fast_forward.FastForward` supports (``MlpPolicy`` with a
Categorical or diagonal Gaussian action distribution), with float32 parameters on the CPU and
``Tanh`` or ``ReLU`` activations; :meth:`NumpyActor.build` returns None otherwise.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch as th
from torch import nn

from sb3_pg.common.fast_forward import FastForward

_LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))
# In-place activations
_ACTIVATIONS: dict[type[nn.Module], Callable[[np.ndarray], object]] = {
    nn.Tanh: lambda x: np.tanh(x, out=x),
    nn.ReLU: lambda x: np.maximum(x, 0.0, out=x),
}


def _linear_stages(layers: nn.Sequential, head: nn.Linear) -> list[tuple[nn.Linear, type[nn.Module] | None]] | None:
    """
    ``layers`` (SB3's ``MlpExtractor`` net: Linear then activation, repeated) and the output head as
    (Linear, activation type or None) stages; None where the layers are not of that form.
    """
    modules = list(layers)
    if len(modules) % 2:
        return None
    stages: list[tuple[nn.Linear, type[nn.Module] | None]] = []
    for linear, activation in zip(modules[::2], modules[1::2], strict=True):
        if type(linear) is not nn.Linear or type(activation) not in _ACTIVATIONS:
            return None
        stages.append((linear, type(activation)))
    return [*stages, (head, None)]


@dataclass
class _Stage:
    """
    One layer of a :class:`_Network`: the weights of one or more ``nn.Linear`` side by side (block
    diagonal), transposed, with their biases as the last row; then an optional activation.
    """

    #: (linear, rows of the input it reads, columns of the output it writes)
    blocks: list[tuple[nn.Linear, slice, slice]]
    weight: np.ndarray  # (inputs + 1, outputs)
    activation: type[nn.Module] | None
    #: NumPy views of each block's weight (transposed) and bias: taken again when the memory moves
    sources: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)

    def take_views(self) -> None:
        self.sources = [(linear.weight.detach().numpy().T, linear.bias.detach().numpy()) for linear, _, _ in self.blocks]

    def refresh(self) -> None:
        """Copy the Linear layers' current weights and biases in."""
        for (weight_t, bias), (_, rows, columns) in zip(self.sources, self.blocks, strict=True):
            self.weight[rows, columns] = weight_t
            self.weight[-1, columns] = bias


class _Network:
    """
    Parallel MLPs over the same input, as one network of block-diagonal :class:`_Stage` s.

    :param branches: each MLP as (Linear, activation) stages; all with the same number of stages
        and the same activation at each
    """

    def __init__(self, branches: list[list[tuple[nn.Linear, type[nn.Module] | None]]]):
        self.stages: list[_Stage] = []
        input_rows = [slice(0, branches[0][0][0].in_features) for _ in branches]
        n_inputs = input_rows[0].stop
        for depth in range(len(branches[0])):
            blocks = []
            column = 0
            for branch, rows in zip(branches, input_rows, strict=True):
                linear = branch[depth][0]
                blocks.append((linear, rows, slice(column, column + linear.out_features)))
                column += linear.out_features
            weight = np.zeros((n_inputs + 1, column), dtype=np.float32)
            self.stages.append(_Stage(blocks, weight, branches[0][depth][1]))
            input_rows = [columns for _, _, columns in blocks]
            n_inputs = column
        #: each branch's columns of the output
        self.outputs = [columns for _, _, columns in self.stages[-1].blocks]
        # Per batch size: the input of every stage, with its column of ones
        self._inputs: dict[int, list[np.ndarray]] = {}

    def take_views(self) -> None:
        for stage in self.stages:
            stage.take_views()

    def refresh(self) -> None:
        for stage in self.stages:
            stage.refresh()

    def _buffers(self, n: int) -> list[np.ndarray]:
        buffers = self._inputs.get(n)
        if buffers is None:
            buffers = self._inputs[n] = [np.ones((n, stage.weight.shape[0]), dtype=np.float32) for stage in self.stages]
        return buffers

    def __call__(self, features: np.ndarray) -> np.ndarray:
        """:return: the outputs of all branches side by side (a new array), for (n, in_features) features"""
        buffers = self._buffers(len(features))
        x = buffers[0]
        x[:, :-1] = features
        for stage, next_input in zip(self.stages[:-1], buffers[1:], strict=True):
            hidden = next_input[:, :-1]
            np.matmul(x, stage.weight, out=hidden)
            _ACTIVATIONS[stage.activation](hidden)  # type: ignore[index]
            x = next_input
        return x @ self.stages[-1].weight


class NumpyActor:
    """
    The rollout-time forward pass of a policy, and action sampling, in NumPy.

    :param fast: the policy's fast forward pass (its layers and distribution type)
    :param rng: the generator actions are drawn from
    :param policy_stages: the actor's (Linear, activation) stages, its action head last
    :param value_stages: the critic's, its value head last
    """

    def __init__(
        self,
        fast: FastForward,
        rng: np.random.Generator,
        policy_stages: list[tuple[nn.Linear, type[nn.Module] | None]],
        value_stages: list[tuple[nn.Linear, type[nn.Module] | None]],
    ):
        self.fast = fast
        self.rng = rng
        self.categorical = fast.categorical
        self._parameters = list(fast.policy.parameters())
        self._pointers: list[int] = []  # the parameters' memory the views were taken from
        same_shape = len(policy_stages) == len(value_stages) and all(
            p[1] is v[1] for p, v in zip(policy_stages, value_stages, strict=False)
        )
        if same_shape:
            network = _Network([policy_stages, value_stages])
            self._policy_network = self._value_network = network
            self._action_columns, self._value_columns = network.outputs
        else:
            self._policy_network, self._value_network = _Network([policy_stages]), _Network([value_stages])
            self._action_columns, self._value_columns = self._policy_network.outputs[0], self._value_network.outputs[0]
        self._row_indices = np.arange(0)
        self.log_std = np.zeros(0, dtype=np.float32)
        self.refresh()

    @staticmethod
    def build(fast: FastForward | None, rng: np.random.Generator) -> "NumpyActor | None":
        """:return: a NumPy actor for the policy behind ``fast``, or None where it is not supported"""
        if fast is None or not fast.mode_free:
            return None
        if not all(p.device.type == "cpu" and p.dtype == th.float32 for p in fast.policy.parameters()):
            return None
        policy_stages = _linear_stages(fast.extractor.policy_net, fast.action_net)
        value_stages = _linear_stages(fast.extractor.value_net, fast.value_net)
        if policy_stages is None or value_stages is None:
            return None
        return NumpyActor(fast, rng, policy_stages, value_stages)

    def refresh(self) -> None:
        """
        Copy the parameters in again, whatever happened to them: views taken again where a parameter's
        memory moved (``param.data = ...``, ``vector_to_parameters``, the flat optimizer's buffers), and a
        copy of their values (optimizer steps, edits through ``param.data`` that move no version counter).
        The algorithm calls it whenever they may have changed: at the start of each rollout (training
        happens between rollouts) and after each step of a user's callback.
        """
        pointers = [p.data_ptr() for p in self._parameters]
        if pointers != self._pointers:
            self._pointers = pointers
            self._policy_network.take_views()
            self._value_network.take_views()
        self._policy_network.refresh()
        if self._value_network is not self._policy_network:
            self._value_network.refresh()
        if not self.categorical:
            assert self.fast.log_std is not None
            self.log_std = self.fast.log_std.detach().numpy().copy()

    def _rows(self, n: int) -> np.ndarray:
        if len(self._row_indices) != n:
            self._row_indices = np.arange(n)
        return self._row_indices

    @staticmethod
    def _features(observations: np.ndarray | dict[str, np.ndarray]) -> np.ndarray:
        # preprocess_obs for Box is a float32 cast; FlattenExtractor flattens all but the batch axis;
        # CombinedExtractor concatenates the flattened values in the Dict space's key order
        if isinstance(observations, dict):
            values = [np.asarray(value) for value in observations.values()]
            return np.concatenate([value.reshape(len(value), -1) for value in values], axis=1)
        return np.asarray(observations).reshape(len(observations), -1)

    def act(self, observations: np.ndarray) -> tuple[np.ndarray, th.Tensor, th.Tensor]:
        """
        Sample actions for a batch of observations.

        :param observations: a batch of observations from the vec env
        :return: (actions, values of shape (n, 1), log-probabilities of shape (n,)), values and
            log-probabilities as (zero-copy) tensors, as the rollout buffer takes them
        """
        features = self._features(observations)
        out = self._policy_network(features)
        value_out = out if self._value_network is self._policy_network else self._value_network(features)
        values = value_out[:, self._value_columns]
        head = out[:, self._action_columns]
        if self.categorical:
            # Inverse-CDF sampling, one uniform draw per row; the CDF's last column is the normaliser
            logits = head - np.maximum.reduce(head, axis=1, keepdims=True)
            cdf = np.exp(logits)
            np.add.accumulate(cdf, axis=1, out=cdf)
            total = cdf[:, -1]
            draws = self.rng.random(len(logits), dtype=np.float32)
            draws *= total
            # Counting the CDF's columns below the draw, all but the last: a draw that rounds up to
            # the total still picks the last action
            actions = np.add.reduce(cdf[:, :-1] <= draws[:, None], axis=1)
            log_prob = logits[self._rows(len(logits)), actions] - np.log(total)
        else:
            noise = self.rng.standard_normal(head.shape, dtype=np.float32)
            actions = head + noise * np.exp(self.log_std)
            log_prob = np.add.reduce(-0.5 * noise**2 - self.log_std - np.float32(_LOG_SQRT_2PI), axis=1)
            actions = actions.reshape((-1, *self.fast.action_shape))
        return actions, th.from_numpy(values), th.from_numpy(log_prob)

    def predict_values(self, observations: np.ndarray) -> th.Tensor:
        """``V(s)`` of a batch of observations, shape (n, 1)."""
        return th.from_numpy(self._value_network(self._features(observations))[:, self._value_columns])
