"""The learning-rate range test (Smith 2017; fastai's ``lr_find``): choose a learning rate
from one short run in which the learning rate grows exponentially from step to step.

It runs through the same ``batches()`` and ``loss(batch)`` callables that
:func:`astrozoo.training.fit` takes, for ``num_steps`` optimizer steps (calling ``batches()``
again whenever an epoch's batches run out), with the learning rate of step ``i`` equal to
``start_lr · (end_lr / start_lr) ** (i / (num_steps − 1))``. It stops early once the loss
diverges (the running loss exceeds ``diverge`` × its lowest value). Weights, optimizer state and
learning rate are put back afterwards, so training starts from the same initialisation.

**The rule** (documented in docs/tasks/cluster-search.md as well). The test stops at the
first step whose loss is not finite or exceeds ``diverge`` (4) times the lowest running loss so
far (the running loss is the bias-corrected exponential moving average of fastai, ``beta =
0.98``); the steps from there on are not used. The recorded losses are smoothed over a window of
8% of the steps (at least 5): a running median (a single noisy batch does not move the choice),
then a centred running mean — zero-phase, so the curve is not shifted towards higher learning
rates as by the lag of a causal average. Only the curve before its first instability counts:
the first step, once learning has begun (the smoothed loss ``min_drop`` below its start), where
the smoothed loss is 10% above its lowest value so far, or where a single batch's loss is 25%
above it (with Adam and batch norm the loss can keep falling, between
spikes, far beyond the learning rates that train well). Then:

* ``rule="min10"`` (default): the learning rate of the smoothed minimum divided by 10 (fastai's
  ``lr_min``), the classic 'one order of magnitude before the loss blows up'.
* ``rule="steepest"``: the learning rate at which the smoothed loss falls fastest, i.e. the
  most negative d loss / d log10(lr), searched only below the learning rate of the smoothed
  minimum and excluding the first and last 5% of the points (edge effects of the smoother).
  On the cluster-search mocks it chose higher learning rates than ``min10``, at which the
  validation loss oscillated (docs/tasks/cluster-search.md).

If the smoothed loss never falls by at least ``min_drop`` (2%) below its starting value, or by
less than ``min_z`` (4) standard errors of the smoothed curve (the per-batch scatter about it,
as a robust σ, over the square root of the smoothing window), the test is inconclusive:
``chosen_lr`` is None and the caller keeps its own learning rate. The second condition catches
a flat, noisy curve whose lowest smoothed point lies a few percent below the start by chance
(the lowest of about a dozen independent points): on the cluster-search mocks the networks
that then trained had z ≥ 4.5, the flat curves 0–2.6 (docs/tasks/cluster-search.md).

References: L. N. Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017
(§3.3, "How can one estimate reasonable minimum and maximum boundary values?");
S. Gugger, "How Do You Find A Good Learning Rate" (2017) and fastai's ``LRFinder``.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch

RULES = ("min10", "steepest")


@dataclass
class RangeTest:
    """The recorded curve and the choice made from it."""

    lrs: np.ndarray          # learning rate of each step used (up to divergence)
    losses: np.ndarray       # raw training loss of each step
    smoothed: np.ndarray     # zero-phase smoothed loss (what the rule looks at)
    chosen_lr: float | None  # None: inconclusive (no significant fall), keep your own lr
    rule: str
    steepest_lr: float | None  # the 'steepest' candidate (None when the loss never falls)
    min_lr: float              # learning rate of the smoothed minimum (min10 = min_lr / 10)
    diverged: bool


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Zero-phase, spike-proof smoothing over ``window`` steps (made odd): a running median
    (single noisy batches vanish), then a centred running mean; mirrored at the ends."""
    from scipy.ndimage import median_filter, uniform_filter1d

    window = max(1, int(window)) | 1
    values = median_filter(np.asarray(values, float), size=window, mode="mirror")
    return uniform_filter1d(values, size=window, mode="nearest")


def stable_end(losses: np.ndarray, smoothed: np.ndarray, rise: float = 0.1, spike: float = 0.25,
               min_drop: float = 0.02) -> int:
    """Index of the first sign of instability: the smoothed loss ``rise`` (10%) above its lowest
    value so far, or a single batch's loss ``spike`` (25%) above it; ``len`` if there is none.
    Only once learning has begun (the smoothed loss ``min_drop`` below its start): a drift
    upwards at learning rates too small to train is not an instability."""
    smoothed = np.asarray(smoothed, float)
    floor = np.minimum.accumulate(smoothed)
    learning = np.flatnonzero(smoothed < (1 - min_drop) * smoothed[0])
    if not learning.size:
        return len(smoothed)
    bad = np.flatnonzero((smoothed > (1 + rise) * floor) | (np.asarray(losses) > (1 + spike) * floor))
    bad = bad[bad >= learning[0]]
    return int(bad[0]) if bad.size else len(smoothed)


def drop_significance(losses: np.ndarray, smoothed: np.ndarray, i_min: int, window: int, end: int) -> float:
    """How many standard errors of the smoothed curve its minimum (at ``i_min``) lies below its
    start: the scatter of the raw losses about the smoothed curve over the stable stretch
    ``[:end]`` (1.4826 × median absolute deviation) over √window. Infinite for a noiseless
    curve that falls."""
    from scipy.stats import median_abs_deviation

    resid = np.asarray(losses, float)[:end] - np.asarray(smoothed, float)[:end]
    sigma = median_abs_deviation(resid, scale="normal") / np.sqrt(max(window, 1))
    drop = smoothed[0] - smoothed[i_min]
    return float(drop / sigma) if sigma > 0 else (np.inf if drop > 0 else 0.0)


def choose_lr(lrs: np.ndarray, smoothed: np.ndarray, rule: str = "min10", min_drop: float = 0.02,
              losses: np.ndarray | None = None, window: int = 0,
              min_z: float = 4.0) -> tuple[float | None, float | None, float]:
    """Apply the rule to a smoothed curve → (chosen lr or None, steepest candidate, lr at the minimum).

    Only the curve before the first instability (:func:`stable_end`, using the raw ``losses``
    when given) counts: a dip after the training has been disturbed is noise. With the raw
    ``losses`` and the smoothing ``window``, a drop of less than ``min_z`` standard errors
    (:func:`drop_significance`) is inconclusive too."""
    if rule not in RULES:
        raise ValueError(f"unknown lr rule {rule!r}: choose {' or '.join(RULES)}")
    lrs, smoothed = np.asarray(lrs, float), np.asarray(smoothed, float)
    if len(lrs) < 3:
        return None, None, float(lrs[0]) if len(lrs) else float("nan")
    end = max(1, stable_end(smoothed if losses is None else losses, smoothed, min_drop=min_drop))
    i_min = int(np.nanargmin(smoothed[:end]))
    min_lr = float(lrs[i_min])
    if smoothed[i_min] > (1 - min_drop) * smoothed[0]:
        return None, None, min_lr
    if losses is not None and window and drop_significance(losses, smoothed, i_min, window, end) < min_z:
        return None, None, min_lr
    edge = max(1, int(0.05 * len(lrs)))
    slope = np.gradient(smoothed, np.log10(lrs))
    lo, hi = edge, min(i_min, len(lrs) - edge)
    steepest = None
    if hi > lo and np.nanmin(slope[lo:hi]) < 0:
        steepest = float(lrs[lo + int(np.nanargmin(slope[lo:hi]))])
    if rule == "steepest" and steepest is not None:
        return steepest, steepest, min_lr
    return min_lr / 10, steepest, min_lr


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def lr_range_test(module: torch.nn.Module, optimizer: torch.optim.Optimizer, *,
                  batches: Callable[[], Iterable], loss: Callable[[object], torch.Tensor],
                  device: str | torch.device = "cpu", start_lr: float = 1e-7, end_lr: float = 10.0,
                  num_steps: int = 100, beta: float = 0.98, window: float = 0.08,
                  diverge: float = 4.0, rule: str = "min10", min_drop: float = 0.02) -> RangeTest:
    """Run the range test and return the curve with the chosen learning rate (see the module
    docstring for the rule). ``module`` and ``optimizer`` are left exactly as they were."""
    from astrozoo.training import to_device

    if not 0 < start_lr < end_lr:
        raise ValueError(f"lr range test: need 0 < start_lr < end_lr, got {start_lr} and {end_lr}")
    if num_steps < 3:
        raise ValueError(f"lr range test: num_steps must be at least 3, got {num_steps}")
    if rule not in RULES:
        raise ValueError(f"unknown lr rule {rule!r}: choose {' or '.join(RULES)}")
    device = torch.device(device)
    module.to(device)
    saved_module = copy.deepcopy(module.state_dict())
    saved_optimizer = copy.deepcopy(optimizer.state_dict())
    was_training = module.training
    factor = (end_lr / start_lr) ** (1 / (num_steps - 1))
    lrs, losses, diverged = [], [], False
    avg, best = 0.0, math.inf
    module.train()
    try:
        iterator = iter(batches())
        for step in range(num_steps):
            try:
                batch = next(iterator)
            except StopIteration:
                iterator = iter(batches())
                batch = next(iterator)
            lr = start_lr * factor**step
            set_lr(optimizer, lr)
            batch = to_device(batch, device)
            optimizer.zero_grad(set_to_none=True)
            value = loss(batch)
            value.backward()
            optimizer.step()
            value = float(value.detach())
            if not math.isfinite(value) or value > diverge * best:
                diverged = True
                break
            lrs.append(lr)
            losses.append(value)
            avg = beta * avg + (1 - beta) * value
            best = min(best, avg / (1 - beta ** (step + 1)))
    finally:
        module.load_state_dict(saved_module)
        optimizer.load_state_dict(saved_optimizer)
        module.train(was_training)
    lrs, losses = np.array(lrs), np.array(losses)
    steps = max(5, round(window * len(losses))) | 1
    smoothed = smooth(losses, steps) if len(losses) else losses
    chosen, steepest, min_lr = choose_lr(lrs, smoothed, rule, min_drop, losses, steps)
    return RangeTest(lrs=lrs, losses=losses, smoothed=smoothed, chosen_lr=chosen, rule=rule,
                     steepest_lr=steepest, min_lr=min_lr, diverged=diverged)


def plot(result: RangeTest, path, title: str = "") -> Path:
    """Loss against learning rate (log axis), raw and smoothed, the candidates and the choice marked."""
    from astrozoo.plots import plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(result.lrs, result.losses, color="0.75", lw=1, label="loss per step")
    ax.plot(result.lrs, result.smoothed, color="C0", lw=2, label="smoothed")
    ax.axvline(result.min_lr, color="0.4", ls=":", lw=1, label=f"minimum {result.min_lr:.2g}")
    if result.steepest_lr is not None:
        ax.axvline(result.steepest_lr, color="C2", ls="--", lw=1, label=f"steepest {result.steepest_lr:.2g}")
    if result.chosen_lr is not None:
        ax.axvline(result.chosen_lr, color="C3", lw=2, label=f"chosen ({result.rule}) {result.chosen_lr:.2g}")
    else:
        ax.text(0.02, 0.02, "inconclusive: no significant fall of the loss", transform=ax.transAxes, color="C3")
    top = np.nanpercentile(result.smoothed, 95) if len(result.smoothed) else 1
    low = np.nanmin(result.losses) if len(result.losses) else 0
    ax.set(xscale="log", xlabel="learning rate", ylabel="training loss", title=title or "learning-rate range test",
           ylim=(low - 0.05 * abs(low), top + 0.25 * abs(top - low) + 1e-9))
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)
