"""sb3-contrib's maskable actor-critic policies, taking the ``use_sde`` argument SB3's on-policy
algorithms pass to every policy (gSDE is for continuous actions: only ``False`` is accepted)."""

from typing import Any

from sb3_contrib.common.maskable.policies import (
    MaskableActorCriticCnnPolicy,
    MaskableActorCriticPolicy,
    MaskableMultiInputActorCriticPolicy,
)


def _check_use_sde(use_sde: bool) -> None:
    if use_sde:
        raise ValueError("`use_sde` (True) needs a Box (continuous) action space; maskable policies have discrete actions")


class MlpPolicy(MaskableActorCriticPolicy):
    """sb3-contrib's ``MaskableActorCriticPolicy``; see it for the parameters (``use_sde`` must be False)."""

    def __init__(self, *args: Any, use_sde: bool = False, **kwargs: Any) -> None:
        _check_use_sde(use_sde)
        super().__init__(*args, **kwargs)


class CnnPolicy(MaskableActorCriticCnnPolicy):
    """sb3-contrib's ``MaskableActorCriticCnnPolicy``; see it for the parameters (``use_sde`` must be False)."""

    def __init__(self, *args: Any, use_sde: bool = False, **kwargs: Any) -> None:
        _check_use_sde(use_sde)
        super().__init__(*args, **kwargs)


class MultiInputPolicy(MaskableMultiInputActorCriticPolicy):
    """sb3-contrib's ``MaskableMultiInputActorCriticPolicy``; see it for the parameters (``use_sde`` must be False)."""

    def __init__(self, *args: Any, use_sde: bool = False, **kwargs: Any) -> None:
        _check_use_sde(use_sde)
        super().__init__(*args, **kwargs)


__all__ = ["CnnPolicy", "MlpPolicy", "MultiInputPolicy"]
