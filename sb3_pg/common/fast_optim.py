"""Gradient clipping, RMSprop steps and diagnostics without their per-call Python overhead.

For the small networks of A2C, ``clip_grad_norm_`` and ``RMSprop.step`` spend most of their time in
Python bookkeeping (grouping tensors by device and dtype, checking options, hooks, profiler
records), and a multi-tensor ("foreach") update still runs each operation once per parameter.
The functions here run the same elementwise torch operations in the same order (RMSprop's once, on
flat buffers: see :class:`_FlatGroup`), so parameters and optimizer state come out identical to
the bit (``tests/test_fast_optim.py`` and the parity tests check it). Anything outside the plain
case falls back to torch's own code.
"""

import weakref
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch as th
from torch.optim.optimizer import _get_scalar_dtype, _global_optimizer_post_hooks, _global_optimizer_pre_hooks

_ONE = th.tensor(1.0)
_ALIGN = 16  # float32 elements in 64 bytes
# Steps taken through flat buffers: they update parameters without bumping the parameters' own
# version counters (``Tensor._version``), so whoever watches those watches this too
_flat_steps = 0


def flat_step_count() -> int:
    """:return: how many optimizer steps have updated parameters through flat buffers so far"""
    return _flat_steps


@th.no_grad()
def clip_grad_norm(parameters: Iterable[th.nn.Parameter], max_norm: float) -> None:
    """``th.nn.utils.clip_grad_norm_(parameters, max_norm)`` for dense float32 gradients on the CPU."""
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return
    if not all(g.is_cpu and g.dtype is th.float32 and not g.is_sparse for g in grads):
        th.nn.utils.clip_grad_norm_(grads, max_norm)
        return
    # torch's foreach path: per-tensor norms, then the norm of those
    total_norm = th.linalg.vector_norm(th.stack(th._foreach_norm(grads, 2.0)), 2.0)
    # clamp(max_norm / (total_norm + 1e-6), max=1.0), in float32 as torch computes it (``x / tensor``
    # is ``tensor.reciprocal() * x``), without three tensor operations
    total = np.float32(total_norm.item())
    coefficient = np.minimum(np.float32(1.0) / (total + np.float32(1e-6)) * np.float32(max_norm), np.float32(1.0))
    if coefficient != 1.0:  # scaling by 1 changes nothing (a NaN coefficient is applied, as torch does)
        # by a float32 tensor, as torch does (and a Python scalar takes a slower path)
        th._foreach_mul_(grads, th.tensor(coefficient))


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
    """Whether ``optimizer`` is an RMSprop without momentum, centering, weight decay or hooks, with
    float32 parameters on the CPU."""
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
        and all(p.is_cpu and p.dtype is th.float32 for p in group["params"])
        for group in optimizer.param_groups
    )


class _FlatGroup:
    """
    A plain RMSprop parameter group whose parameters, square averages and step counts are views of
    flat buffers, so that an update is a few whole-buffer operations instead of a few per parameter.
    The operations are elementwise and the same as torch's, so the results are the same to the bit;
    the optimizer's ``state`` keeps one ``square_avg`` and one ``step`` (views) per parameter, as torch's.
    """

    def __init__(self, params: list[th.nn.Parameter], states: list[dict[str, Any]]):
        self.params, self.states = params, states
        # Each parameter starts on a 64-byte boundary, as a tensor of its own does: matrix kernels
        # may take other code paths (and round differently) on unaligned memory
        sizes = [p.numel() for p in params]
        offsets = [0]
        for n in sizes:
            offsets.append(offsets[-1] + -(-n // _ALIGN) * _ALIGN)
        self.flat = th.zeros(offsets[-1], dtype=params[0].dtype)
        self.square_avg = th.zeros_like(self.flat)
        self.steps = th.stack([state["step"] for state in states])
        self.flat_grad = th.zeros_like(self.flat)  # the padding stays zero: a zero step there
        self.avg = th.zeros_like(self.flat)  # sqrt(square_avg) + eps
        self.grad_views = []
        for index, (p, state, offset, n) in enumerate(zip(params, states, offsets, sizes, strict=False)):
            self.flat[offset : offset + n] = p.detach().reshape(-1)
            self.square_avg[offset : offset + n] = state["square_avg"].reshape(-1)
            p.data = self.flat[offset : offset + n].view_as(p)
            state["square_avg"] = self.square_avg[offset : offset + n].view_as(p)
            state["step"] = self.steps[index]
            self.grad_views.append(self.flat_grad[offset : offset + n].view_as(p))
        self.entries = [(state["square_avg"], state["step"]) for state in states]
        self.pointers = [p.data_ptr() for p in params]

    def intact(self, params: list[th.nn.Parameter], states: list[dict[str, Any]]) -> bool:
        """Whether the group still views the buffers (loading a state dict or ``param.data = ...`` breaks that)."""
        return (
            len(params) == len(self.params)
            and all(p is q for p, q in zip(params, self.params, strict=True))
            and all(
                s is t and s["square_avg"] is square_avg and s["step"] is step
                for s, t, (square_avg, step) in zip(states, self.states, self.entries, strict=True)
            )
            and [p.data_ptr() for p in params] == self.pointers
        )

    def step(self, grads: list[th.Tensor], alpha: float, eps: float, lr: float) -> None:
        global _flat_steps
        _flat_steps += 1
        self.steps.add_(1.0)
        flat_grad = self.flat_grad
        th._foreach_copy_(self.grad_views, grads)
        self.square_avg.mul_(alpha).addcmul_(flat_grad, flat_grad, value=1 - alpha)
        avg = th.sqrt(self.square_avg, out=self.avg).add_(eps)
        self.flat.addcdiv_(flat_grad, avg, value=-lr)


def _init_states(params: list[th.nn.Parameter], states: list[dict[str, Any]]) -> None:
    """RMSprop's initial state (``RMSprop._init_group``) for the parameters that have none yet."""
    for p, state in zip(params, states, strict=True):
        if not state:
            state["step"] = th.zeros((), dtype=_get_scalar_dtype())
            state["square_avg"] = th.zeros_like(p, memory_format=th.preserve_format)


_FLAT_GROUPS: "weakref.WeakKeyDictionary[th.optim.Optimizer, dict[int, _FlatGroup]]" = weakref.WeakKeyDictionary()


def _flat_group(optimizer: th.optim.Optimizer, index: int, params: list[th.nn.Parameter]) -> _FlatGroup | None:
    """
    The flat buffers of a parameter group whose every parameter has a dense, contiguous gradient
    (built, or built again, when needed); None where the group does not qualify.
    """
    groups = _FLAT_GROUPS.setdefault(optimizer, {})
    group = groups.get(index)
    states = [optimizer.state[p] for p in params]
    if group is not None and group.intact(params, states):
        return group
    if not all(p.is_contiguous() and p.grad.is_contiguous() for p in params):  # type: ignore[union-attr]
        return None
    _init_states(params, states)
    with th.no_grad():
        group = groups[index] = _FlatGroup(params, states)
    return group


def optimizer_step(optimizer: th.optim.Optimizer) -> None:
    """
    ``optimizer.step()``; for a plain RMSprop, torch's RMSprop update on flat buffers (see
    :class:`_FlatGroup`). The flat buffers do not require gradients, so no ``no_grad`` is needed there.
    """
    if not _plain_rmsprop(optimizer):
        optimizer.step()
        return
    for index, group in enumerate(optimizer.param_groups):
        params = group["params"]
        grads = [p.grad for p in params]
        if any(grad is None or grad.is_sparse for grad in grads):
            _partial_step(optimizer, group)
            continue
        flat = _flat_group(optimizer, index, params)
        if flat is None:
            _partial_step(optimizer, group)
            continue
        flat.step(grads, group["alpha"], group["eps"], group["lr"])


@th.no_grad()
def _partial_step(optimizer: th.optim.Optimizer, group: dict[str, Any]) -> None:
    """torch's ``_multi_tensor_rmsprop`` (plain case) on the parameters that have a gradient."""
    params = [p for p in group["params"] if p.grad is not None]
    if not params:
        return
    if any(p.grad.is_sparse for p in params):
        raise RuntimeError("RMSprop does not support sparse gradients")
    grads = [p.grad for p in params]
    states = [optimizer.state[p] for p in params]
    _init_states(params, states)
    alpha, eps, lr = group["alpha"], group["eps"], group["lr"]
    th._foreach_add_([state["step"] for state in states], _ONE, alpha=1.0)
    square_avgs = [state["square_avg"] for state in states]
    th._foreach_mul_(square_avgs, alpha)
    th._foreach_addcmul_(square_avgs, grads, grads, value=1 - alpha)
    avg = th._foreach_sqrt(square_avgs)
    th._foreach_add_(avg, eps)
    th._foreach_addcdiv_(params, grads, avg, value=-lr)
