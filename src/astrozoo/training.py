"""The one training loop shared by every torch model, on Lightning Fabric.

A model supplies its network, optimizer, a function giving the epoch's batches, a loss for one
batch and a validation loss; the loop does the rest. Lightning Fabric owns the policies: device
placement, the strategy (one process, DDP, FSDP), precision (``32``, ``bf16-mixed``,
``16-mixed``), launching the processes (itself, or under ``torchrun`` / SLURM ``srun``) and
checkpoint I/O. The loop keeps what is ours: a best-by-validation and a last checkpoint, resume,
early stopping, callbacks, a progress bar and per-epoch logging.

Fabric rather than the Lightning ``Trainer``: every model hands the loop closures over its own
network (``loss(batch)``, ``validate()``), not a ``LightningModule``; the Trainer would make each
model a LightningModule, Fabric keeps the loop and the models' contract as they are.

Several processes (``devices × nodes``): every rank builds the same data and the same network
(same seed) and draws the same stream of batches; rank ``r`` trains on batches ``r, r + W, ...``
(a distributed sampler over whatever the model yields: disjoint images, disjoint METIS
clusters), every rank the same number of steps (an uneven tail of fewer than W batches is
dropped, as ``DistributedSampler(drop_last=True)`` does). The strategy averages the gradients;
the validation loss is rank 0's; only rank 0 logs and writes checkpoints.

Checkpoints (``last.pt`` every epoch, ``best.pt`` at each new best) hold the network's and the
optimizer's state dicts, the history, the callbacks' states and every random state the loop
uses — torch's, numpy's, Python's, CUDA's and the model's own generators (``generators=``, e.g.
the image order or the METIS cluster order) — so a resumed run is bit-identical to an
uninterrupted one on the CPU. They are plain data, loaded with ``weights_only=True``: a crafted
file cannot run code. An epoch's metrics are logged only after its ``last.pt`` is written, with
a timestamp stored in it; a resume logs them again with the same timestamp, which the tracking
store keeps once (no step lost, none duplicated).
"""

from __future__ import annotations

import functools
import os
import random
import time
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch

from astrozoo.errors import AstrozooError
from astrozoo.interfaces import FitContext

STRATEGIES = ("auto", "ddp", "fsdp")
PRECISIONS = ("auto", "32", "bf16-mixed", "16-mixed")


def select_device(requested: str = "auto") -> torch.device:
    """'auto' → CUDA when available, else CPU. Asking for CUDA without one is an error."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise AstrozooError("--device cuda was asked for, but torch sees no CUDA device")
    return torch.device(requested)


def to_device(batch, device: torch.device):
    """Move tensors (also inside tuples, lists, dicts and PyG batches) to ``device``."""
    if isinstance(batch, (tuple, list)):
        return type(batch)(to_device(b, device) for b in batch)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    if hasattr(batch, "to"):
        return batch.to(device, non_blocking=True)
    return batch


# -- Fabric: one per process and configuration -------------------------------------------------

def _precision(device: str, precision: str) -> str:
    """'auto': bf16 autocast on CUDA (fp16 where bf16 is missing), full precision elsewhere."""
    if precision not in PRECISIONS:
        raise AstrozooError(f"--precision {precision!r}: choose one of {', '.join(PRECISIONS[1:])}")
    if precision == "32":
        return "32-true"
    if precision != "auto":
        return precision
    if device.startswith("cuda"):
        return "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"
    return "32-true"


@functools.cache
def _fabric(device: str, devices: int, nodes: int, strategy: str, precision: str):
    from lightning_fabric import Fabric

    if strategy not in STRATEGIES:
        raise AstrozooError(f"--strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}")
    if devices < 1 or nodes < 1:
        raise AstrozooError(f"--devices {devices} --nodes {nodes}: both must be at least 1")
    accelerator, _, index = device.partition(":")
    accelerator = {"cuda": "cuda", "cpu": "cpu", "mps": "mps"}.get(accelerator, accelerator)
    if strategy == "fsdp":  # one full checkpoint file, readable by any number of ranks
        from lightning_fabric.strategies import FSDPStrategy

        strategy = FSDPStrategy(state_dict_type="full")
    fabric = Fabric(accelerator=accelerator, devices=[int(index)] if index and devices == 1 else devices,
                    num_nodes=nodes, strategy=strategy, precision=_precision(device, precision))
    fabric.launch()  # starts the other local ranks (or joins those torchrun/srun started)
    return fabric


def fabric_for(context: FitContext):
    """The launched Fabric of this process for the context's device, devices, nodes, strategy
    and precision (created, and the processes launched, on the first call)."""
    return _fabric(context.device, int(context.devices), int(context.nodes), context.strategy,
                   context.precision)


def launch(context: FitContext) -> int:
    """Start (or join) every process of a ``devices × nodes`` run now, before anything else is
    done twice; returns this process's global rank."""
    return fabric_for(context).global_rank


# -- checkpoints ------------------------------------------------------------------------------

@dataclass
class History:
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = -1
    best_val: float = float("inf")
    stopped_early: bool = False


def random_states(generators=()) -> dict:
    """Every random state the loop touches, as tensors and plain numbers (``weights_only``-safe)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    states = {"torch": torch.get_rng_state(), "python": random.getstate(),
              "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                        "has_gauss": int(has_gauss), "gauss": float(gauss)},
              "generators": [g.get_state() for g in generators]}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_random_states(states: dict, generators=()) -> None:
    torch.set_rng_state(states["torch"])
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    n = states["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    if len(states["generators"]) != len(generators):
        raise AstrozooError(f"checkpoint has {len(states['generators'])} batch generators, "
                            f"the model has {len(generators)}: not the same training")
    for generator, state in zip(generators, states["generators"]):
        generator.set_state(state)
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def _save(fabric, state: dict, path: Path) -> None:
    """Write atomically (a half-written checkpoint never replaces a good one); rank 0 writes."""
    tmp = path.with_name(path.name + ".part")
    fabric.save(tmp, state)
    if fabric.is_global_zero:
        os.replace(tmp, path)


def _load(fabric, path: Path, state: dict | None = None) -> dict:
    """Load a checkpoint as plain data only (``weights_only``): a crafted file cannot run code."""
    import pickle

    try:
        return fabric.load(path, state, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise AstrozooError(f"checkpoint {path} is not a plain state dict, refused ({first})") from exc


# -- the loop ---------------------------------------------------------------------------------

_EPOCH_HOOKS: list[Callable] = []


@contextmanager
def epoch_hook(hook: Callable):
    """Within the block, every ``fit`` calls ``hook(epoch, val_loss, tracker)`` after each epoch
    is checkpointed and logged (e.g. a sweep's pruner); the hook may raise to stop training."""
    _EPOCH_HOOKS.append(hook)
    try:
        yield
    finally:
        _EPOCH_HOOKS.remove(hook)


def _shard(batches: Iterable, rank: int, world: int) -> Iterable:
    """Batches ``rank, rank + world, ...`` of the (identical on every rank) stream; every rank
    the same number, an uneven tail dropped."""
    if world == 1:
        yield from batches
        return
    iterator = iter(batches)
    while len(group := list(islice(iterator, world))) == world:
        yield group[rank]


class _ThroughStrategy:
    """Models call their own network inside ``loss(batch)``; under DDP or FSDP that call must go
    through the strategy's wrapper (gradient synchronisation, sharded parameters). While
    active, ``module(...)`` is routed through Fabric's wrapped module (which calls the real
    forward once inside it), as Fabric does for its marked forward methods."""

    def __init__(self, module: torch.nn.Module, wrapped, active: bool):
        self.module, self.wrapped, self.active, self.inside = module, wrapped, active, False

    def __enter__(self):
        if self.active:
            inner = type(self.module).forward.__get__(self.module)

            def forward(*args, **kwargs):
                if self.inside:
                    return inner(*args, **kwargs)
                self.inside = True
                try:
                    return self.wrapped(*args, **kwargs)
                finally:
                    self.inside = False

            self.module.forward = forward
        return self

    def __exit__(self, *exc):
        if self.active:
            del self.module.forward


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
    generators: Iterable[torch.Generator] = (),
) -> History:
    """Train ``module`` for up to ``epochs`` epochs and leave it holding its best weights.

    ``batches()`` yields the epoch's batches (already on the device or movable with ``.to``);
    ``loss(batch)`` returns a scalar tensor; ``validate()`` returns the validation loss (called
    in eval mode without gradients). ``callbacks`` have ``on_epoch_end(epoch, val_loss,
    optimizer)`` and may have ``state_dict()``/``load_state_dict()`` to survive a resume.
    ``generators`` are the model's own random generators (batch order, sampling): saved in the
    checkpoint and restored on resume, with torch's, numpy's and Python's global states.
    ``amp=False`` turns autocast off whatever the context's precision.
    """
    from astrozoo.progress import progress_bar

    fabric = fabric_for(context)
    device, rank, world = fabric.device, fabric.global_rank, fabric.world_size
    callbacks, generators = callbacks or [], list(generators)
    wrapped, optimizer_ = fabric.setup(module, optimizer)
    history, start, best_state = History(), 0, None
    ckpt_dir = Path(context.checkpoint_dir) if context.checkpoint_dir else None
    if ckpt_dir and fabric.is_global_zero:
        ckpt_dir.mkdir(parents=True, exist_ok=True)
    last = ckpt_dir / "last.pt" if ckpt_dir else None
    best = ckpt_dir / "best.pt" if ckpt_dir else None
    tracker = context.tracker if fabric.is_global_zero else None

    if context.resume and last and last.exists():
        state = _load(fabric, last, {"module": wrapped, "optimizer": optimizer_})
        history = History(**state["history"])
        for cb, cb_state in zip(callbacks, state["callbacks"]):
            if hasattr(cb, "load_state_dict"):
                cb.load_state_dict(cb_state)
        set_random_states(state["rng"], generators)
        start = state["epoch"] + 1
        if best and best.exists():
            best_state = _load(fabric, best)["module"]
        if tracker is not None:  # the kill may have come between the checkpoint and the log
            tracker.log_metrics(state["logged"]["metrics"], step=state["epoch"],
                                timestamp=state["logged"]["timestamp"])
        if fabric.is_global_zero:
            print(f"resuming {desc} at epoch {start} of {epochs} (best so far: epoch {history.best_epoch})")

    bar = (progress_bar(desc, total=epochs, completed=start) if fabric.is_global_zero
           else nullcontext(lambda *args, **kwargs: None))
    with bar as advance:
        for epoch in range(start, epochs):
            module.train()
            total, n = 0.0, 0
            with _ThroughStrategy(module, wrapped, active=world > 1):
                for batch in _shard(batches(), rank, world):
                    batch = to_device(batch, device)
                    optimizer_.zero_grad(set_to_none=True)
                    with (fabric.autocast() if amp else _no_autocast()):
                        value = loss(batch)
                    fabric.backward(value)
                    if grad_clip:
                        fabric.clip_gradients(wrapped, optimizer_, max_norm=grad_clip)
                    optimizer_.step()
                    total, n = total + float(value.detach()), n + 1
            if n == 0 and world > 1:
                raise AstrozooError(f"{desc}: epoch {epoch} has fewer batches than the {world} processes")
            train_loss = total / max(n, 1)
            module.eval()
            with torch.no_grad(), (fabric.autocast() if amp else _no_autocast()):
                val = float(validate())
            if world > 1:  # every rank takes rank 0's decisions; the train loss is the ranks' mean
                val = fabric.broadcast(val)
                train_loss = float(fabric.all_reduce(torch.tensor(train_loss, device=device), reduce_op="mean"))
            history.train_loss.append(train_loss)
            history.val_loss.append(val)
            if val < history.best_val:
                history.best_val, history.best_epoch = val, epoch
                best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
                if best:
                    _save(fabric, {"module": best_state}, best)
            for cb in callbacks:
                cb.on_epoch_end(epoch, val, optimizer)
            logged = {"metrics": {"train_loss": train_loss, "val_loss": val,
                                  "lr": float(optimizer.param_groups[0]["lr"])},
                      "timestamp": int(time.time() * 1000)}
            if last:
                _save(fabric, {"module": wrapped, "optimizer": optimizer_, "history": asdict(history),
                               "epoch": epoch, "logged": logged, "rng": random_states(generators),
                               "callbacks": [cb.state_dict() if hasattr(cb, "state_dict") else None
                                             for cb in callbacks]}, last)
            if tracker is not None:  # only once the epoch's checkpoint is safely written
                tracker.log_metrics(logged["metrics"], step=epoch, timestamp=logged["timestamp"])
            for hook in list(_EPOCH_HOOKS):
                hook(epoch, val, tracker)
            advance(f"train {train_loss:.4f}  val {val:.4f}  best {history.best_val:.4f}@{history.best_epoch}")
            if patience and epoch - history.best_epoch >= patience:
                history.stopped_early = True
                break
    if best_state is not None:
        module.load_state_dict(best_state)
    return history


def _no_autocast():
    return torch.autocast("cpu", enabled=False)
