"""A faster forward pass for SB3's standard MLP actor-critic policy.

SB3's ``ActorCriticPolicy`` builds a ``torch.distributions`` object (with argument validation) and
walks several module layers on every step; for the small networks of A2C that overhead, not the
arithmetic, is most of the cost. :class:`FastForward` runs the same torch operations, in the same
order, on the policy's own parameters, so results and random streams are identical to SB3's
(the parity tests check it), for the cases it supports: ``ActorCriticPolicy`` itself (``MlpPolicy``)
with SB3's ``FlattenExtractor`` and ``MlpExtractor`` and a ``Box`` observation space, or
``MultiInputActorCriticPolicy`` (``MultiInputPolicy``) over a ``Dict`` of non-image ``Box`` spaces
(SB3's ``CombinedExtractor``: each flattened, concatenated in the space's key order, so that a Dict
holding one vector trains as that vector does); and a Categorical or (unsquashed, no gSDE) diagonal
Gaussian action distribution. Anything else returns ``None`` from
:meth:`FastForward.build` and the algorithm uses SB3's standard path.
"""

import math

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.distributions import CategoricalDistribution, DiagGaussianDistribution
from stable_baselines3.common.policies import ActorCriticPolicy, MultiInputActorCriticPolicy
from stable_baselines3.common.preprocessing import is_image_space
from stable_baselines3.common.torch_layers import CombinedExtractor, FlattenExtractor, MlpExtractor
from torch import nn
from torch.nn import functional as F

_LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))
# Modules whose forward does not depend on train/eval mode (unlike dropout or batch norm)
_MODE_FREE_MODULES = (
    ActorCriticPolicy,
    MultiInputActorCriticPolicy,
    FlattenExtractor,
    CombinedExtractor,
    nn.ModuleDict,
    MlpExtractor,
    nn.Flatten,
    nn.Sequential,
    nn.Linear,
    nn.Identity,
    nn.Tanh,
    nn.ReLU,
    nn.LeakyReLU,
    nn.ELU,
    nn.SiLU,
    nn.GELU,
    nn.Softplus,
)


# A layer of an MLP: a Linear's (weight, bias), tanh, or a module to call
_Layer = tuple[th.Tensor, th.Tensor | None] | nn.Module | None


def _layers(modules: nn.Sequential) -> list[_Layer]:
    """The layers of ``modules`` with each Linear's parameters looked up once (``module.weight``
    goes through ``nn.Module.__getattr__``, which costs as much as a small matrix product)."""
    layers: list[_Layer] = []
    for module in modules:
        if type(module) is nn.Linear:
            layers.append((module.weight, module.bias))
        elif type(module) is nn.Tanh:
            layers.append(None)
        else:
            layers.append(module)
    return layers


def _run(layers: list[_Layer], x: th.Tensor) -> th.Tensor:
    # nn.Linear.forward is F.linear and nn.Tanh.forward th.tanh; other layers are called as modules
    for layer in layers:
        if layer is None:
            x = th.tanh(x)
        elif isinstance(layer, tuple):
            x = F.linear(x, layer[0], layer[1])
        else:
            x = layer(x)
    return x


class FastForward:
    """
    The forward passes of an SB3 ``ActorCriticPolicy`` without its per-call overhead.

    :param policy: a policy accepted by :meth:`build`
    """

    def __init__(self, policy: ActorCriticPolicy):
        self.policy = policy
        self.extractor: MlpExtractor = policy.mlp_extractor
        self.action_net: nn.Linear = policy.action_net  # type: ignore[assignment]
        self.value_net: nn.Linear = policy.value_net
        # The policy's parameters, looked up once, as its optimizer holds them
        self.policy_layers = _layers(self.extractor.policy_net)
        self.value_layers = _layers(self.extractor.value_net)
        self.action_layer: tuple[th.Tensor, th.Tensor | None] = (self.action_net.weight, self.action_net.bias)
        self.value_layer: tuple[th.Tensor, th.Tensor | None] = (self.value_net.weight, self.value_net.bias)
        self.log_std: nn.Parameter | None = getattr(policy, "log_std", None)
        self.categorical = isinstance(policy.action_dist, CategoricalDistribution)
        self.action_shape: tuple[int, ...] = policy.action_space.shape or ()
        #: True when train/eval mode changes nothing in this policy, so switching it can be skipped
        self.mode_free = all(type(module) in _MODE_FREE_MODULES for module in policy.modules())

    @staticmethod
    def _flat_extractor(policy: ActorCriticPolicy) -> bool:
        """Whether the features are the observation flattened (Box), or its Box values flattened and
        concatenated (Dict), as this class computes them. SB3 scales image observations by 1/255 first:
        not done here."""

        def plain_box(space: spaces.Space) -> bool:
            return isinstance(space, spaces.Box) and not (policy.normalize_images and is_image_space(space))

        space = policy.observation_space
        if type(policy) is ActorCriticPolicy:
            extractor_type: type = FlattenExtractor
            supported = plain_box(space)
        elif type(policy) is MultiInputActorCriticPolicy and isinstance(space, spaces.Dict):
            extractor_type = CombinedExtractor
            extractors: nn.ModuleDict | None = getattr(policy.features_extractor, "extractors", None)
            supported = (
                extractors is not None
                and all(plain_box(s) for s in space.spaces.values())
                and all(type(e) is nn.Flatten for e in extractors.values())
            )
        else:
            return False
        return (
            supported
            and type(policy.features_extractor) is extractor_type
            and (policy.share_features_extractor or type(policy.vf_features_extractor) is extractor_type)
        )

    @staticmethod
    def build(policy: ActorCriticPolicy) -> "FastForward | None":
        """:return: a fast forward for ``policy``, or None where it would not reproduce SB3's exactly"""
        supported = (
            FastForward._flat_extractor(policy)
            and type(policy.mlp_extractor) is MlpExtractor
            and type(policy.action_net) is nn.Linear
            and type(policy.value_net) is nn.Linear
            and not policy.use_sde
            and not policy.squash_output
            and type(policy.action_dist) in (CategoricalDistribution, DiagGaussianDistribution)
        )
        return FastForward(policy) if supported else None

    @staticmethod
    def _features(obs: th.Tensor | dict[str, th.Tensor]) -> th.Tensor:
        # preprocess_obs for Box is .float(); FlattenExtractor is flatten(1); CombinedExtractor
        # concatenates its extractors' outputs in the Dict space's key order (the order obs has)
        if isinstance(obs, dict):
            return th.cat([value.float().flatten(1) for value in obs.values()], dim=1)
        return obs.float().flatten(1)

    @staticmethod
    def _as_tensor(observations: np.ndarray | dict[str, np.ndarray], device: th.device) -> th.Tensor | dict[str, th.Tensor]:
        if isinstance(observations, dict):
            return {key: th.as_tensor(value, device=device) for key, value in observations.items()}
        return th.as_tensor(observations, device=device)

    def _latents(self, obs: th.Tensor | dict[str, th.Tensor]) -> tuple[th.Tensor, th.Tensor]:
        features = self._features(obs)
        return _run(self.policy_layers, features), _run(self.value_layers, features)

    def _value(self, latent_vf: th.Tensor) -> th.Tensor:
        return F.linear(latent_vf, *self.value_layer)

    def _logits(self, latent_pi: th.Tensor) -> th.Tensor:
        """Categorical's normalised logits."""
        out = F.linear(latent_pi, *self.action_layer)
        return out - out.logsumexp(dim=-1, keepdim=True)

    def _head(self, latent_pi: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        """:return: (normalised logits, probabilities) or (mean, std), as torch.distributions computes them"""
        if self.categorical:
            logits = self._logits(latent_pi)
            return logits, F.softmax(logits, dim=-1)
        out = F.linear(latent_pi, *self.action_layer)
        assert self.log_std is not None
        return out, th.ones_like(out) * self.log_std.exp()

    def _log_prob(self, first: th.Tensor, second: th.Tensor, actions: th.Tensor) -> th.Tensor:
        if self.categorical:
            return _categorical_log_prob(first, actions)
        log_prob = -((actions - first) ** 2) / (2 * second**2) - second.log() - _LOG_SQRT_2PI
        return log_prob.sum(dim=1)

    def act(self, observations: np.ndarray, device: th.device) -> tuple[th.Tensor, th.Tensor, th.Tensor]:
        """
        What ``policy(obs)`` returns (stochastic actions), under ``no_grad``.

        :param observations: a batch of observations from the vec env
        :param device: the policy's device
        :return: (actions, values, log-probabilities)
        """
        with th.no_grad():
            latent_pi, latent_vf = self._latents(self._as_tensor(observations, device))
            values = self._value(latent_vf)
            first, second = self._head(latent_pi)
            if self.categorical:
                # Categorical.sample: one multinomial draw per row
                actions = th.multinomial(second.reshape(-1, second.shape[-1]), 1, True).T.reshape(first.shape[:-1])
            else:
                # Normal.rsample: loc + eps * scale with eps ~ N(0, 1) drawn by normal_()
                actions = first + th.empty(first.shape, dtype=first.dtype, device=first.device).normal_() * second
            log_prob = self._log_prob(first, second, actions)
        return actions.reshape((-1, *self.action_shape)), values, log_prob

    def predict_values(self, observations: np.ndarray, device: th.device) -> th.Tensor:
        """``policy.predict_values(obs)`` under ``no_grad``."""
        with th.no_grad():
            features = self._features(self._as_tensor(observations, device))
            return self._value(_run(self.value_layers, features))

    def evaluate_actions(
        self, obs: th.Tensor, actions: th.Tensor, entropy_grad: bool = True
    ) -> tuple[th.Tensor, th.Tensor, th.Tensor]:
        """
        ``policy.evaluate_actions(obs, actions)``: values, log-probabilities and entropy, with gradients.

        :param entropy_grad: whether the entropy needs a gradient; without, it is computed under
            ``no_grad`` (the same value, and no autograd nodes)
        """
        # Operations in SB3's order (log-probability, value, then entropy, with the categorical
        # probabilities computed lazily there): the order in which autograd sums gradients follows it
        latent_pi, latent_vf = self._latents(obs)
        if self.categorical:
            logits = self._logits(latent_pi)
            log_prob = _categorical_log_prob(logits, actions)
            values = self._value(latent_vf)
            with th.set_grad_enabled(entropy_grad and th.is_grad_enabled()):
                # Categorical.entropy
                entropy = -(th.clamp(logits, min=th.finfo(logits.dtype).min) * F.softmax(logits, dim=-1)).sum(-1)
        else:
            mean, std = self._head(latent_pi)
            log_prob = self._log_prob(mean, std, actions)
            values = self._value(latent_vf)
            with th.set_grad_enabled(entropy_grad and th.is_grad_enabled()):
                # Normal.entropy, summed over independent dimensions
                entropy = (0.5 + 0.5 * math.log(2 * math.pi) + th.log(std)).sum(dim=1)
        return values, log_prob, entropy


def _categorical_log_prob(logits: th.Tensor, actions: th.Tensor) -> th.Tensor:
    """Categorical.log_prob with normalised logits."""
    return logits.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)
