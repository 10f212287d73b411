"""RMSprop steps, gradient clipping and diagnostics without their per-call Python overhead.

For the small networks of A2C, ``RMSprop.step`` spends most of its time in Python bookkeeping
(grouping tensors by device and dtype, checking options), and even a multi-tensor ("foreach") update
runs each operation once per parameter. :class:`FlatRMSprop` is a ``torch.optim.RMSprop`` whose plain
groups keep their parameters, square averages and step counts as views of flat buffers, so that an
update is a few whole-buffer operations: the same elementwise operations in the same order as
torch's, so parameters and state come out identical to the bit (``tests/test_fast_optim.py`` and the
parity tests check it). A2C passes it where SB3 passes ``RMSprop`` (``policy_kwargs["optimizer_class"]``);
anything outside the plain case takes torch's own step.
"""

from collections.abc import Iterable
from typing import Any

import numpy as np
import torch as th

_ALIGN = 16  # float32 elements in 64 bytes


@th.no_grad()
def clip_grad_norm(parameters: Iterable[th.nn.Parameter], max_norm: float) -> None:
    """
    ``th.nn.utils.clip_grad_norm_(parameters, max_norm)``, with the same total norm and the same scaling
    (torch's ``get_total_norm`` and ``clip_grads_with_norm_``), skipping the scaling where it is by 1.
    """
    with_grads = [p for p in parameters if p.grad is not None]
    if not with_grads:
        return
    total_norm = th.nn.utils.get_total_norm([p.grad for p in with_grads], 2.0, foreach=True)  # type: ignore[misc]
    # clamp(max_norm / (total_norm + 1e-6), max=1.0) in float32, as torch computes it: 1 changes nothing
    total = np.float32(total_norm.item())
    if not np.float32(1.0) / (total + np.float32(1e-6)) * np.float32(max_norm) >= 1.0:  # NaN scales too, as in torch
        th.nn.utils.clip_grads_with_norm_(with_grads, max_norm, total_norm, foreach=True)


def zero_grad(optimizer: th.optim.Optimizer) -> None:
    """``optimizer.zero_grad()`` (``set_to_none=True``) without its profiler and compiler wrappers;
    :class:`FlatRMSprop`'s own, which keeps its gradients as views of its flat buffer."""
    if isinstance(optimizer, FlatRMSprop):
        optimizer.zero_grad()
        return
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


def _scalar_dtype() -> th.dtype:
    """The dtype torch's optimizers keep their ``step`` counts in."""
    return th.float64 if th.get_default_dtype() == th.float64 else th.float32


class _FlatGroup:
    """
    A plain RMSprop parameter group whose parameters, gradients, square averages and step counts are
    views of flat buffers, so that an update is a few whole-buffer operations instead of a few per
    parameter, and backward writes the gradients straight into the flat one (the optimizer's
    ``zero_grad`` zeroes it and keeps the views). The operations are elementwise and the same as torch's,
    so the results are the same to the bit; the optimizer's ``state`` keeps one ``square_avg`` and one
    ``step`` (views) per parameter, as torch's.
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
            view = self.flat_grad[offset : offset + n].view_as(p)
            if p.grad is not None:
                view.copy_(p.grad)
            p.grad = view
            self.grad_views.append(view)
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

    def zero_grad(self) -> None:
        """Zero the flat gradient, each parameter's ``grad`` its view again."""
        self.flat_grad.zero_()
        for p, view in zip(self.params, self.grad_views, strict=True):
            if p.grad is not view:
                p.grad = view

    @th.no_grad()
    def step(self, alpha: float, eps: float, lr: float) -> None:
        self.steps.add_(1.0)
        flat_grad = self.flat_grad
        for p, view in zip(self.params, self.grad_views, strict=True):
            grad = p.grad
            if grad is not view:  # a gradient set by other code than backward into the view
                assert grad is not None  # FlatRMSprop._flat_group checked
                view.copy_(grad)
                p.grad = view
        self.square_avg.mul_(alpha).addcmul_(flat_grad, flat_grad, value=1 - alpha)
        avg = th.sqrt(self.square_avg, out=self.avg).add_(eps)
        self.flat.addcdiv_(flat_grad, avg, value=-lr)


class FlatRMSprop(th.optim.RMSprop):
    """
    ``torch.optim.RMSprop`` whose plain parameter groups (no momentum, centering, weight decay or
    ``maximize``; dense float32 CPU parameters with contiguous gradients) take their step on flat
    buffers (:class:`_FlatGroup`): the same update, to the bit, in a few operations per group. Any other
    group takes torch's own step. The parameters of a flat group become views of its buffer (``p.data``);
    loading a state dict or replacing ``p.data`` is seen, and the buffers are built again.

    Takes ``torch.optim.RMSprop``'s arguments.
    """

    def __init__(self, params: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(params, *args, **kwargs)
        self._flat_groups: dict[int, _FlatGroup] = {}

    def _plain(self, group: dict[str, Any]) -> bool:
        return (
            group["momentum"] == 0
            and not group["centered"]
            and group["weight_decay"] == 0
            and not group["maximize"]
            and not group["differentiable"]
            and not group["capturable"]
            and group["foreach"] is not False
            and not isinstance(group["lr"], th.Tensor)
            and all(p.is_cpu and p.dtype is th.float32 for p in group["params"])
        )

    def _flat_group(self, index: int, params: list[th.nn.Parameter]) -> _FlatGroup | None:
        """The flat buffers of a group whose every parameter has a dense, contiguous gradient (built, or
        built again, when needed); None where the group does not qualify."""
        states = [self.state[p] for p in params]
        group = self._flat_groups.get(index)
        if group is not None and group.intact(params, states):
            if any(p.grad is None or p.grad.is_sparse for p in params):
                return None
            return group
        if any(p.grad is None or p.grad.is_sparse or not p.grad.is_contiguous() or not p.is_contiguous() for p in params):
            return None
        for p, state in zip(params, states, strict=True):
            if not state:  # RMSprop's initial state (RMSprop._init_group)
                state["step"] = th.zeros((), dtype=_scalar_dtype())
                state["square_avg"] = th.zeros_like(p, memory_format=th.preserve_format)
        with th.no_grad():
            group = self._flat_groups[index] = _FlatGroup(params, states)
        return group

    def step(self, closure: Any = None) -> Any:
        """One RMSprop step: on the flat buffers where every group allows it, else torch's own."""
        if closure is not None:
            return super().step(closure)
        flats = [self._flat_group(i, g["params"]) if self._plain(g) else None for i, g in enumerate(self.param_groups)]
        if any(flat is None for flat in flats):
            return super().step()
        for group, flat in zip(self.param_groups, flats, strict=True):
            assert flat is not None
            flat.step(group["alpha"], group["eps"], group["lr"])
        return None

    def zero_grad(self, set_to_none: bool = True) -> None:
        """
        ``Optimizer.zero_grad``; a flat group's gradients stay views of its flat gradient, zeroed (the
        next backward writes into them: no copy), whatever ``set_to_none`` asks.
        """
        for index, group in enumerate(self.param_groups):
            flat = self._flat_groups.get(index)
            if flat is not None and flat.intact(group["params"], [self.state[p] for p in group["params"]]):
                flat.zero_grad()
                continue
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.detach_()
                    p.grad.zero_()
