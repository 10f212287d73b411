"""The speed layer behind one seam: what an algorithm runs its rollouts and updates with, chosen once
per policy.

:class:`Backend` holds, for one policy object and one ``exact_rollouts`` setting: the fast forward pass
(:class:`~sb3_pg.common.fast_forward.FastForward`, or None where SB3's path is needed), the NumPy
rollout actor (:class:`~sb3_pg.common.numpy_actor.NumpyActor`, or None: ``exact_rollouts``, or a policy
it does not support), and the thread limits the training step and the rollout run under
(:meth:`Backend.training_threads`, :meth:`Backend.rollout_threads`). The algorithm builds a new one when
its policy is replaced or ``exact_rollouts`` changes (``ActorCriticAlgorithm._backend``). The optimizer
side of the speed layer is a real optimizer class, :class:`~sb3_pg.common.fast_optim.FlatRMSprop`.

Why thread limits: torch and NumPy's BLAS default to one thread per core. On matrices the size of
A2C's (a few hundred rows by 64 columns) a second thread gains little when the cores are idle and
costs a great deal when they are busy: the threads wait for each other at every product (measured
on a busy 2-core machine: MKL's OpenMP threads made the README's Quick start take 1,201 s instead
of 286 s; OpenBLAS's threads made one product of the NumPy actor take about 5 ms instead of 0.2 ms).
Each limit holds only inside its block; the user's settings are put back after it.
"""

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar

import numpy as np
import torch as th
from stable_baselines3.common.policies import ActorCriticPolicy

from sb3_pg.common.fast_forward import FastForward
from sb3_pg.common.numpy_actor import NumpyActor

_CONVOLUTIONS = (th.nn.Conv1d, th.nn.Conv2d, th.nn.Conv3d)
Method = TypeVar("Method", bound=Callable[..., Any])


class _HasBackend(Protocol):
    def _backend(self) -> "Backend": ...


def in_training_threads(train: Method) -> Method:
    """Run an algorithm's ``train`` in its backend's :meth:`Backend.training_threads`."""

    @functools.wraps(train)
    def wrapper(self: _HasBackend, *args: Any, **kwargs: Any) -> Any:
        with self._backend().training_threads():
            return train(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class Backend:
    """
    The fast paths and thread limits of one policy (module docstring).

    :param policy: the policy
    :param exact_rollouts: sample rollout actions with SB3's torch code and random stream (no NumPy actor)
    :param rng: the NumPy actor's generator
    :param fast_paths: False for SB3's paths throughout (policies the fast paths know nothing of: masks, LSTM states)
    """

    def __init__(
        self, policy: ActorCriticPolicy, exact_rollouts: bool, rng: np.random.Generator | None, fast_paths: bool = True
    ):
        self.policy = policy
        self.exact_rollouts = exact_rollouts
        self.forward = FastForward.build(policy) if fast_paths else None
        self.actor = None if exact_rollouts or rng is None else NumpyActor.build(self.forward, rng)
        self._blas_controllers: list[Any] | None = None  # threadpoolctl's, found when first needed

    def serves(self, policy: Any, exact_rollouts: bool) -> bool:
        """Whether this backend is the one for ``policy`` and ``exact_rollouts``."""
        return policy is self.policy and exact_rollouts == self.exact_rollouts

    def small_cpu_network(self) -> bool:
        """Whether the policy runs on the CPU with no convolution (read at each update: a walk over a few modules)."""
        return self.policy.device.type == "cpu" and not any(isinstance(m, _CONVOLUTIONS) for m in self.policy.modules())

    @contextlib.contextmanager
    def training_threads(self) -> Iterator[None]:
        """Within the block, one torch thread for a small CPU network; the user's count put back after it."""
        saved = th.get_num_threads()
        if saved == 1 or not self.small_cpu_network():
            yield
            return
        th.set_num_threads(1)
        try:
            yield
        finally:
            th.set_num_threads(saved)

    def forward_threads(self) -> contextlib.AbstractContextManager[None]:
        """Around one rollout step's torch forward pass (no NumPy actor: masks, LSTM states,
        ``exact_rollouts``): one torch thread for a small CPU network, the user's count everywhere
        else (callbacks included)."""
        return self.training_threads() if self.actor is None else contextlib.nullcontext()

    @contextlib.contextmanager
    def rollout_threads(self) -> Iterator[None]:
        """Within the block, NumPy's BLAS on one thread when the NumPy actor samples the actions
        (callbacks called from the rollout included); the user's counts put back after it."""
        if self.actor is None:
            yield
            return
        controllers = self.blas_controllers()
        saved = [controller.get_num_threads() for controller in controllers]
        try:
            for controller, threads in zip(controllers, saved, strict=True):
                if threads != 1:
                    controller.set_num_threads(1)
            yield
        finally:
            for controller, threads in zip(controllers, saved, strict=True):
                if threads != 1:
                    controller.set_num_threads(threads)

    def blas_controllers(self) -> list[Any]:
        """threadpoolctl's controllers of the BLAS libraries loaded now (NumPy's among them), found once
        per backend: a search takes milliseconds, a thread count read or set through a controller microseconds."""
        if self._blas_controllers is None:
            from threadpoolctl import ThreadpoolController

            libraries = ThreadpoolController().lib_controllers
            self._blas_controllers = [controller for controller in libraries if controller.user_api == "blas"]
        return self._blas_controllers
