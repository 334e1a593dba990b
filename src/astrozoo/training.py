"""The one training loop shared by every torch model.

A model supplies its network, optimizer, a function giving the epoch's batches, a loss for one
batch and a validation loss; the loop does the rest: device placement, seeding, mixed precision
on CUDA, a best-by-validation checkpoint and a last checkpoint, resume after interruption,
early stopping, a progress bar, and per-epoch logging to the tracker.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch

from astrozoo.interfaces import FitContext


def select_device(requested: str = "auto") -> torch.device:
    """'auto' → CUDA when available, else CPU. Asking for CUDA without one is an error."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested.startswith("cuda") and not torch.cuda.is_available():
        from astrozoo.errors import AstrozooError

        raise AstrozooError("--device cuda was asked for, but torch sees no CUDA device")
    return torch.device(requested)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def to_device(batch, device: torch.device):
    """Move tensors (also inside tuples, lists, dicts and PyG batches) to ``device``."""
    if isinstance(batch, (tuple, list)):
        return type(batch)(to_device(b, device) for b in batch)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    if hasattr(batch, "to"):
        return batch.to(device, non_blocking=True)
    return batch


def autocast(device: torch.device, enabled: bool = True):
    """bf16 autocast on CUDA (fp16 where bf16 is missing); a no-op on CPU."""
    if device.type != "cuda" or not enabled:
        return torch.autocast("cpu", enabled=False)
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.autocast("cuda", dtype=dtype)


@dataclass
class History:
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = -1
    best_val: float = float("inf")
    stopped_early: bool = False


def _save(obj, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)  # atomic: a half-written checkpoint never replaces a good one


def fit(
    module: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    *,
    batches: Callable[[], Iterable],
    loss: Callable[[object], torch.Tensor],
    validate: Callable[[], float],
    epochs: int,
    context: FitContext,
    patience: int | None = None,
    callbacks: list | None = None,
    amp: bool = True,
    grad_clip: float | None = None,
    desc: str = "training",
) -> History:
    """Train ``module`` for up to ``epochs`` epochs and leave it holding its best weights.

    ``batches()`` yields the epoch's batches (already on the device or movable with ``.to``);
    ``loss(batch)`` returns a scalar tensor; ``validate()`` returns the validation loss (called
    in eval mode without gradients). ``callbacks`` have ``on_epoch_end(epoch, val_loss,
    optimizer)`` and may have ``state_dict()``/``load_state_dict()`` to survive a resume.
    """
    from astrozoo.progress import progress_bar

    device = torch.device(context.device)
    callbacks = callbacks or []
    module.to(device)
    use_scaler = device.type == "cuda" and amp and not torch.cuda.is_bf16_supported()
    scaler = torch.amp.GradScaler("cuda", enabled=use_scaler)
    history, start = History(), 0
    ckpt_dir = Path(context.checkpoint_dir) if context.checkpoint_dir else None
    if ckpt_dir:
        ckpt_dir.mkdir(parents=True, exist_ok=True)
    last = ckpt_dir / "last.pt" if ckpt_dir else None
    best = ckpt_dir / "best.pt" if ckpt_dir else None
    best_state = None

    if context.resume and last and last.exists():
        state = torch.load(last, map_location=device, weights_only=False)
        module.load_state_dict(state["module"])
        optimizer.load_state_dict(state["optimizer"])
        scaler.load_state_dict(state["scaler"])
        history = state["history"]
        for cb, cb_state in zip(callbacks, state.get("callbacks", [])):
            if hasattr(cb, "load_state_dict"):
                cb.load_state_dict(cb_state)
        torch.set_rng_state(state["rng"])
        start = state["epoch"] + 1
        if best and best.exists():
            best_state = torch.load(best, map_location=device, weights_only=False)
        print(f"resuming {desc} at epoch {start} of {epochs} (best so far: epoch {history.best_epoch})")

    with progress_bar(desc, total=epochs, completed=start) as advance:
        for epoch in range(start, epochs):
            module.train()
            total, n = 0.0, 0
            for batch in batches():
                batch = to_device(batch, device)
                optimizer.zero_grad(set_to_none=True)
                with autocast(device, amp):
                    value = loss(batch)
                scaler.scale(value).backward()
                if grad_clip:
                    scaler.unscale_(optimizer)
                    torch.nn.utils.clip_grad_norm_(module.parameters(), grad_clip)
                scaler.step(optimizer)
                scaler.update()
                total, n = total + float(value.detach()), n + 1
            module.eval()
            with torch.no_grad(), autocast(device, amp):
                val = float(validate())
            history.train_loss.append(total / max(n, 1))
            history.val_loss.append(val)
            if val < history.best_val:
                history.best_val, history.best_epoch = val, epoch
                best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
                if best:
                    _save(best_state, best)
            for cb in callbacks:
                cb.on_epoch_end(epoch, val, optimizer)
            if context.tracker is not None:
                context.tracker.log_metrics({"train_loss": history.train_loss[-1], "val_loss": val,
                                             "lr": optimizer.param_groups[0]["lr"]}, step=epoch)
            if last:
                _save({"module": module.state_dict(), "optimizer": optimizer.state_dict(),
                       "scaler": scaler.state_dict(), "history": history, "epoch": epoch,
                       "rng": torch.get_rng_state(),
                       "callbacks": [cb.state_dict() if hasattr(cb, "state_dict") else None
                                     for cb in callbacks]}, last)
            advance(f"train {history.train_loss[-1]:.4f}  val {val:.4f}  best {history.best_val:.4f}@{history.best_epoch}")
            if patience and epoch - history.best_epoch >= patience:
                history.stopped_early = True
                break
    if best_state is not None:
        module.load_state_dict(best_state)
    return history
