"""LSTM policies for A2C and REINFORCE, on sb3-contrib's recurrent policies and buffers."""

from sb3_pg.recurrent.algorithms import RecurrentA2C, RecurrentReinforce

__all__ = ["RecurrentA2C", "RecurrentReinforce"]
