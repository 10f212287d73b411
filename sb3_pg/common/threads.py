"""Thread counts for small networks on the CPU: one torch thread for the training step, one BLAS
thread for the NumPy rollout actor.

Both libraries default to one thread per core. On matrices the size of A2C's (a few hundred rows by
64 columns) a second thread gains little when the cores are idle and costs a great deal when they
are busy: the threads wait for each other at every product. Measured on this project's 2-core
machine while two training processes ran: MKL's OpenMP threads made README's Quick start take 1,201 s
instead of 286 s (README, "Threads"), and OpenBLAS's threads made one (256, 129) x (129, 128)
product of the NumPy actor take about 5 ms instead of 0.2 ms, so that ``A2C`` trained at 29k
instead of 62k steps/s with 256 envs.
"""

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar

import torch as th

Method = TypeVar("Method", bound=Callable[..., Any])


class _SmallCpuModel(Protocol):
    def _small_cpu_networks(self) -> bool: ...


class _NumpyActorModel(Protocol):
    def _numpy_actor(self) -> Any: ...


def one_torch_thread_for_small_cpu_networks(train: Method) -> Method:
    """
    Run an algorithm's ``train`` on one torch thread when its policy is a small CPU network (no
    convolution), restoring the user's ``torch.get_num_threads()`` right after: their setting holds
    everywhere else, callbacks included.

    Why: with torch's default of one thread per core, the training step's matrix products go to
    MKL's OpenMP threads, which gain nothing on matrices this small and, when the cores are busy
    with other work, wait for each other at every product: README's Quick start took several times
    longer on a busy 2-core machine (README, "Threads"; ``benchmarks/quick_start.py``).
    """

    @functools.wraps(train)
    def wrapper(self: _SmallCpuModel, *args: Any, **kwargs: Any) -> Any:
        saved = th.get_num_threads()
        if saved == 1 or not self._small_cpu_networks():
            return train(self, *args, **kwargs)
        th.set_num_threads(1)
        try:
            return train(self, *args, **kwargs)
        finally:
            th.set_num_threads(saved)

    return wrapper  # type: ignore[return-value]


@functools.cache
def _blas_controllers() -> list[Any]:
    """threadpoolctl's controllers of the BLAS libraries loaded now (NumPy's among them), found once:
    a search takes milliseconds, a thread count read or set through a controller microseconds."""
    from threadpoolctl import ThreadpoolController

    return [controller for controller in ThreadpoolController().lib_controllers if controller.user_api == "blas"]


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Within the block, NumPy's BLAS (OpenBLAS, MKL, ...) runs on one thread; the user's thread
    counts are put back after it."""
    controllers = _blas_controllers()
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


def one_blas_thread_for_the_numpy_actor(collect_rollouts: Method) -> Method:
    """
    Run an algorithm's ``collect_rollouts`` with NumPy's BLAS on one thread when its rollouts go
    through the NumPy actor (callbacks called from the rollout included), putting the user's setting
    back after it; the torch rollout paths need no limit.
    """

    @functools.wraps(collect_rollouts)
    def wrapper(self: _NumpyActorModel, *args: Any, **kwargs: Any) -> Any:
        if self._numpy_actor() is None:
            return collect_rollouts(self, *args, **kwargs)
        with one_blas_thread():
            return collect_rollouts(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def blas_thread_counts() -> list[int]:
    """The current thread count of each BLAS library :func:`one_blas_thread` limits (for tests)."""
    return [controller.get_num_threads() for controller in _blas_controllers()]
