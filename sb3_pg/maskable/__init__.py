"""Invalid-action masking for A2C and REINFORCE, on sb3-contrib's maskable policies and buffers."""

from sb3_pg.maskable.algorithms import MaskableA2C, MaskableReinforce

__all__ = ["MaskableA2C", "MaskableReinforce"]
