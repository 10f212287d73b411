"""Optuna studies for sb3_pg's algorithms: search spaces, the objective, storage and reports.

``sb3-pg tune`` runs :func:`tuning.study.tune`; RL Zoo's ``-optimize`` uses the same search spaces.
"""

from sb3_pg.search_space import SEARCH_SPACES, Hyperparameter, SearchSpace

from .study import TuneSettings, tune

__all__ = ["SEARCH_SPACES", "Hyperparameter", "SearchSpace", "TuneSettings", "tune"]
