"""Rollout actions sampled in NumPy, on zero-copy views of the policy's own parameters.

During a rollout the policy only runs forward on a handful of observations per step, without
gradients. For the small MLPs of A2C, each torch operation then costs far more in dispatch than in
arithmetic; the same forward pass in NumPy takes about a quarter of the time. The parameters are
shared, not copied: ``Tensor.numpy()`` views the tensor's own memory, which the optimizers update in
place; at the start of every rollout the views are taken again if a parameter's memory has moved.

The numbers agree with the torch forward pass to float32 rounding, and actions follow the policy's
distribution (the sampling tests check it), but the random stream is NumPy's, not torch's: a run
does not reproduce SB3's A2C to the bit. ``exact_rollouts=True`` on the algorithms switches back to
the torch path, which does.

Supported: what :class:`~sb3_pg.common.fast_forward.FastForward` supports (``MlpPolicy`` with a
Categorical or diagonal Gaussian action distribution), with float32 parameters on the CPU and
``Linear``, ``Tanh`` and ``ReLU`` layers; :meth:`NumpyActor.build` returns None otherwise.
"""

import math
from collections.abc import Callable

import numpy as np
import torch as th
from torch import nn

from sb3_pg.common.fast_forward import FastForward

_LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))
_ACTIVATIONS: dict[type[nn.Module], Callable[[np.ndarray], np.ndarray]] = {
    nn.Tanh: lambda x: np.tanh(x, out=x),
    nn.ReLU: lambda x: np.maximum(x, 0.0, out=x),
}
# A layer: (weight transposed, bias) for Linear, or an in-place activation
Layer = tuple[np.ndarray, np.ndarray] | Callable[[np.ndarray], np.ndarray]


def _supported_layers(layers: nn.Sequential) -> bool:
    return all(type(layer) is nn.Linear or type(layer) in _ACTIVATIONS for layer in layers)


def _views(layers: nn.Sequential) -> list[Layer]:
    views: list[Layer] = []
    for layer in layers:
        if type(layer) is nn.Linear:
            views.append((layer.weight.detach().numpy().T, layer.bias.detach().numpy()))
        else:
            views.append(_ACTIVATIONS[type(layer)])
    return views


def _run(layers: list[Layer], x: np.ndarray) -> np.ndarray:
    for layer in layers:
        if isinstance(layer, tuple):
            weight_t, bias = layer
            x = x @ weight_t
            x += bias
        else:
            x = layer(x)
    return x


class NumpyActor:
    """
    The rollout-time forward pass of a policy, and action sampling, in NumPy.

    :param fast: the policy's fast forward pass (its layers and distribution type)
    :param rng: the generator actions are drawn from
    """

    def __init__(self, fast: FastForward, rng: np.random.Generator):
        self.fast = fast
        self.rng = rng
        self.categorical = fast.categorical
        self._parameters = list(fast.policy.parameters())
        self._pointers: list[int] = []
        self._row_indices = np.arange(0)
        self.refresh()

    @staticmethod
    def build(fast: FastForward | None, rng: np.random.Generator) -> "NumpyActor | None":
        """:return: a NumPy actor for the policy behind ``fast``, or None where it is not supported"""
        if fast is None:
            return None
        policy = fast.policy
        supported = (
            fast.mode_free
            and _supported_layers(fast.extractor.policy_net)
            and _supported_layers(fast.extractor.value_net)
            and all(p.device.type == "cpu" and p.dtype == th.float32 for p in policy.parameters())
        )
        return NumpyActor(fast, rng) if supported else None

    def refresh(self) -> None:
        """Take the views of the parameters again if a parameter's memory moved (``param.data = ...``);
        optimizers, ``load_state_dict`` and ``set_parameters`` update it in place."""
        pointers = [p.data_ptr() for p in self._parameters]
        if pointers == self._pointers:
            return
        self._pointers = pointers
        fast = self.fast
        self.policy_layers = _views(fast.extractor.policy_net)
        self.value_layers = _views(fast.extractor.value_net)
        self.action_head = (fast.action_net.weight.detach().numpy().T, fast.action_net.bias.detach().numpy())
        self.value_head = (fast.value_net.weight.detach().numpy().T, fast.value_net.bias.detach().numpy())
        self.log_std = None if self.categorical else fast.policy.log_std.detach().numpy()

    def _rows(self, n: int) -> np.ndarray:
        if len(self._row_indices) != n:
            self._row_indices = np.arange(n)
        return self._row_indices

    @staticmethod
    def _features(observations: np.ndarray) -> np.ndarray:
        # preprocess_obs for Box is a float32 cast; FlattenExtractor flattens all but the batch axis
        return np.asarray(observations, dtype=np.float32).reshape(len(observations), -1)

    def _value(self, features: np.ndarray) -> np.ndarray:
        return _run([*self.value_layers, self.value_head], features)

    def act(self, observations: np.ndarray) -> tuple[np.ndarray, th.Tensor, th.Tensor]:
        """
        Sample actions for a batch of observations.

        :param observations: a batch of observations from the vec env
        :return: (actions, values of shape (n, 1), log-probabilities of shape (n,)), values and
            log-probabilities as (zero-copy) tensors, as the rollout buffer takes them
        """
        features = self._features(observations)
        values = self._value(features)
        out = _run([*self.policy_layers, self.action_head], features)
        if self.categorical:
            # Inverse-CDF sampling, one uniform draw per row; the CDF's last column is the normaliser
            out -= out.max(axis=1, keepdims=True)
            cdf = np.exp(out)
            np.cumsum(cdf, axis=1, out=cdf)
            total = cdf[:, -1:]
            draws = self.rng.random((len(out), 1), dtype=np.float32)
            draws *= total
            actions = (cdf <= draws).sum(axis=1)
            np.minimum(actions, out.shape[1] - 1, out=actions)
            log_prob = out[self._rows(len(out)), actions] - np.log(total[:, 0])
        else:
            assert self.log_std is not None
            std = np.exp(self.log_std)
            noise = self.rng.standard_normal(out.shape, dtype=np.float32)
            actions = out + noise * std
            log_prob = (-0.5 * noise**2 - self.log_std - _LOG_SQRT_2PI).sum(axis=1)
            actions = actions.reshape((-1, *self.fast.action_shape))
        return actions, th.from_numpy(values), th.from_numpy(log_prob.astype(np.float32, copy=False))

    def predict_values(self, observations: np.ndarray) -> th.Tensor:
        """``V(s)`` of a batch of observations, shape (n, 1)."""
        return th.from_numpy(self._value(self._features(observations)))
