"""Gradient clipping, RMSprop steps and diagnostics without their per-call Python overhead.

For the small networks of A2C, ``clip_grad_norm_`` and ``RMSprop.step`` spend most of their time in
Python bookkeeping (grouping tensors by device and dtype, checking options, hooks, profiler
records) rather than arithmetic. The functions here run the same multi-tensor ("foreach") torch
operations in the same order, so parameters and optimizer state come out identical to the bit (the
parity tests check it). Anything outside the plain case falls back to torch's own code.
"""

from collections.abc import Iterable

import numpy as np
import torch as th
from torch.optim.optimizer import _get_scalar_dtype, _global_optimizer_post_hooks, _global_optimizer_pre_hooks

_ONE = th.tensor(1.0)


@th.no_grad()
def clip_grad_norm(parameters: Iterable[th.nn.Parameter], max_norm: float) -> None:
    """``th.nn.utils.clip_grad_norm_(parameters, max_norm)`` for parameters on one CPU dtype."""
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return
    if any(g.device.type != "cpu" or g.dtype != grads[0].dtype or g.is_sparse for g in grads):
        th.nn.utils.clip_grad_norm_(grads, max_norm)
        return
    # torch's foreach path: per-tensor norms, the norm of those, then one scaling
    total_norm = th.linalg.vector_norm(th.stack(th._foreach_norm(grads, 2.0)), 2.0)
    th._foreach_mul_(grads, th.clamp(float(max_norm) / (total_norm + 1e-6), max=1.0))


def zero_grad(optimizer: th.optim.Optimizer) -> None:
    """``optimizer.zero_grad()`` (``set_to_none=True``) without its profiler and compiler wrappers."""
    for group in optimizer.param_groups:
        for p in group["params"]:
            p.grad = None


def explained_variance(y_pred: np.ndarray, y_true: np.ndarray) -> float:
    """SB3's ``explained_variance`` (``1 - Var[y_true - y_pred] / Var[y_true]``, NaN when ``Var[y_true] = 0``)
    with the arithmetic of ``np.var`` written out: the same value, without ``np.var``'s Python overhead."""

    def variance(x: np.ndarray) -> np.floating:
        centred = x - x.sum() / x.size
        return np.multiply(centred, centred).sum() / x.size

    var_y = variance(y_true)
    return np.nan if var_y == 0 else float(1 - variance(y_true - y_pred) / var_y)


def _plain_rmsprop(optimizer: th.optim.Optimizer) -> bool:
    """Whether ``optimizer`` is an RMSprop without momentum, centering, weight decay or hooks, on CPU."""
    if type(optimizer) is not th.optim.RMSprop or optimizer._optimizer_step_pre_hooks or optimizer._optimizer_step_post_hooks:
        return False
    if _global_optimizer_pre_hooks or _global_optimizer_post_hooks:
        return False
    return all(
        group["momentum"] == 0
        and not group["centered"]
        and group["weight_decay"] == 0
        and not group["maximize"]
        and not group["differentiable"]
        and not group["capturable"]
        and group["foreach"] is not False
        and not isinstance(group["lr"], th.Tensor)
        and all(p.device.type == "cpu" and p.dtype == th.float32 for p in group["params"])
        for group in optimizer.param_groups
    )


@th.no_grad()
def optimizer_step(optimizer: th.optim.Optimizer) -> None:
    """``optimizer.step()``; for a plain RMSprop, torch's multi-tensor RMSprop update without its overhead."""
    if not _plain_rmsprop(optimizer):
        optimizer.step()
        return
    for group in optimizer.param_groups:
        params = [p for p in group["params"] if p.grad is not None]
        if not params:
            continue
        if any(p.grad.is_sparse for p in params):
            raise RuntimeError("RMSprop does not support sparse gradients")
        grads = [p.grad for p in params]
        states = [optimizer.state[p] for p in params]
        for p, state in zip(params, states, strict=True):
            if not state:  # RMSprop._init_group's initial state
                state["step"] = th.zeros((), dtype=_get_scalar_dtype())
                state["square_avg"] = th.zeros_like(p, memory_format=th.preserve_format)
        square_avgs = [state["square_avg"] for state in states]
        alpha = group["alpha"]
        # torch.optim.rmsprop._multi_tensor_rmsprop, plain case
        th._foreach_add_([state["step"] for state in states], _ONE, alpha=1.0)
        th._foreach_mul_(square_avgs, alpha)
        th._foreach_addcmul_(square_avgs, grads, grads, value=1 - alpha)
        avg = th._foreach_sqrt(square_avgs)
        th._foreach_add_(avg, group["eps"])
        th._foreach_addcdiv_(params, grads, avg, value=-group["lr"])
