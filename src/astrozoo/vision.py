"""Image models shared by every task: timm backbones, batched tensor augmentations,
per-channel standardisation, and one generic image classifier built on the one training loop.

Images reach models as ``split.data["images"]``: an (N, C, H, W) float32 array or a lazy store
column (:class:`astrozoo.data.store.LazyRows`, read only where indexed), or a zero-arg callable
returning one (so a dataset can make them lazily). :func:`images_of` reads them all at once;
models that must not (TNG300-sized splits) take :func:`image_rows` and read a batch at a time:
:class:`ImageBatch` for training, :func:`read_images` for evaluation, ``Standardizer().fit`` for
the statistics.
"""

from __future__ import annotations

import math
import os
import socket
import sys
from collections.abc import Callable
from functools import cache

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from astrozoo.interfaces import FitContext, Model, Split
from astrozoo.training import fit

_warned: set[str] = set()


@cache
def _hub_reachable() -> bool:
    """Whether pretrained weights could be fetched: with HF_HUB_OFFLINE=1 timm looks only in the
    local cache (fast); otherwise one short connection attempt instead of the hub's long retries."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return True
    try:
        socket.create_connection(("huggingface.co", 443), timeout=3).close()
        return True
    except OSError:
        return False


def create_backbone(name: str, pretrained: bool = True, weights_file: str = "", **kwargs) -> torch.nn.Module:
    """``timm.create_model(name, ...)``: ImageNet weights when they can be had, else random init.

    ``weights_file`` loads a local state dict (e.g. downloaded elsewhere) instead; keys that do
    not fit (a different head) are skipped. Offline, ``pretrained=True`` falls back to random
    initialisation with one warning line per backbone.
    """
    import timm

    if weights_file:
        model = timm.create_model(name, pretrained=False, **kwargs)
        state = torch.load(weights_file, map_location="cpu", weights_only=True)
        own = model.state_dict()
        model.load_state_dict({k: v for k, v in state.items() if k in own and own[k].shape == v.shape},
                              strict=False)
        return model
    if pretrained:
        reason = "no connection to the Hugging Face hub"
        if _hub_reachable():
            try:
                return timm.create_model(name, pretrained=True, **kwargs)
            except Exception as exc:  # offline cache miss, or no weights published for this name
                reason = type(exc).__name__
        if name not in _warned:
            _warned.add(name)
            print(f"astrozoo: warning: pretrained weights for {name!r} unavailable ({reason}); "
                  "using random initialisation (give params.weights_file to load local weights)",
                  file=sys.stderr)
    return timm.create_model(name, pretrained=False, **kwargs)


def image_rows(split: Split):
    """The split's (N, C, H, W) images as they are: an array, or a lazy column that reads only the
    rows asked for (nothing is read here)."""
    images = split.data["images"]
    images = images() if callable(images) else images
    images = images if hasattr(images, "shape") else np.asarray(images, dtype=np.float32)  # e.g. a list
    if len(images.shape) != 4:
        raise ValueError(f"split {split.name!r}: images must be (N, C, H, W), got shape {images.shape}")
    return images


def images_of(split: Split) -> np.ndarray:
    """All the split's images as one float32 array (small tasks; see :func:`image_rows`)."""
    return np.asarray(image_rows(split), dtype=np.float32)


def read_images(images, index) -> torch.Tensor:
    """Rows ``index`` (integers or a slice) of ``images`` (an array or a lazy column) as a float32
    tensor on the CPU: only those rows are read."""
    index = np.asarray(index) if isinstance(index, (list, torch.Tensor)) else index
    return torch.from_numpy(np.asarray(images[index], dtype=np.float32))


class ImageBatch:
    """Rows ``index`` of ``images``, read only when the training loop moves the batch to its
    device (``.to``, :func:`astrozoo.training.to_device`). ``augment``: :func:`augment`'s options;
    its random draws are made now, on ``device``, and applied once the rows are read. The loop
    gives each rank its own batches before moving them, so a rank reads only the images it
    trains on, and memory follows the batch size, not the split."""

    def __init__(self, images, index, device=None, **augment):
        self.images, self.index = images, index
        self.augmentation = augmentation((len(index),) + tuple(images.shape[1:]), device, **augment) if augment else None

    def to(self, device, non_blocking: bool = False) -> torch.Tensor:
        x = read_images(self.images, self.index).to(device, non_blocking=non_blocking)
        return x if self.augmentation is None else self.augmentation(x)


def _one_by_one(images, block: int):
    """The images one at a time, read ``block`` rows at a time."""
    for start in range(0, len(images), block):
        yield from read_images(images, slice(start, start + block)).numpy()


@dataclass
class Standardizer:
    """Per-channel mean and standard deviation, measured on the training images only (a
    dataclass: plain data, which astrozoo.modelfile loads without running code)."""

    mean: np.ndarray | None = None
    std: np.ndarray | None = None

    def fit(self, images, block: int = 64) -> "Standardizer":
        """Per-channel statistics of (N, C, H, W) ``images``: an array, or a lazy column read
        ``block`` rows at a time in two passes (mean, then the spread about it). For images of
        several channels both give the same float32 numbers: numpy sums each channel of an image
        pairwise and adds the images in order, and so does the second (tested)."""
        if isinstance(images, np.ndarray):
            self.mean = images.mean(axis=(0, 2, 3), keepdims=True).astype(np.float32)
            self.std = images.std(axis=(0, 2, 3), keepdims=True).astype(np.float32) + 1e-8
            return self
        count = images.shape[0] * int(np.prod(images.shape[2:]))
        total = np.zeros(images.shape[1], np.float32)
        for image in _one_by_one(images, block):
            total += image.sum(axis=(1, 2))
        mean = (total.astype(np.float64) / count).astype(np.float32)
        squares = np.zeros_like(total)
        for image in _one_by_one(images, block):
            deviation = image - mean[:, None, None]
            squares += (deviation * deviation).sum(axis=(1, 2))
        std = np.sqrt((squares.astype(np.float64) / count).astype(np.float32))
        self.mean, self.std = mean.reshape(1, -1, 1, 1), std.reshape(1, -1, 1, 1) + np.float32(1e-8)
        return self

    def __call__(self, images: np.ndarray) -> np.ndarray:
        return (images - self.mean) / self.std


def augment(x: torch.Tensor, flips: bool = True, max_rotation: float = 0.0, jitter: int = 0,
            rot90: bool = False) -> torch.Tensor:
    """Random per-image flips, rotation up to ±max_rotation degrees and a shift of up to
    ``jitter`` pixels (the paper's 'pad 5 and random-crop', done as one affine resampling with
    zero padding) — on whatever device ``x`` lives, batched. ``rot90`` adds a random transpose
    of square images: with both flips, all eight rotations and reflections by 90°, exact on
    the pixel grid (no resampling)."""
    return augmentation(x.shape, x.device, flips, max_rotation, jitter, rot90)(x)


def augmentation(shape, device, flips: bool = True, max_rotation: float = 0.0, jitter: int = 0,
                 rot90: bool = False) -> Callable[[torch.Tensor], torch.Tensor]:
    """:func:`augment` in two steps: its random draws for a batch of ``shape`` on ``device``, made
    now, and the function that applies them to the batch once it is read (:class:`ImageBatch`)."""
    n = shape[0]
    transpose = torch.rand(n, 1, 1, 1, device=device) < 0.5 if rot90 and shape[-1] == shape[-2] else None
    flip = [torch.rand(n, 1, 1, 1, device=device) < 0.5 for _ in range(2)] if flips else None
    theta = None
    if max_rotation or jitter:
        angle = (torch.rand(n, device=device) * 2 - 1) * math.radians(max_rotation)
        shift = (torch.randint(-jitter, jitter + 1, (n, 2), device=device).float()
                 * 2 / torch.tensor(shape[-1:-3:-1], device=device)) if jitter else torch.zeros(n, 2, device=device)
        cos, sin = torch.cos(angle), torch.sin(angle)
        theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)

    def apply(x: torch.Tensor) -> torch.Tensor:
        if transpose is not None:
            x = torch.where(transpose, x.transpose(-1, -2), x)
        if flip is not None:
            x = torch.where(flip[0], x.flip(-1), x)
            x = torch.where(flip[1], x.flip(-2), x)
        if theta is not None:
            grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
            x = F.grid_sample(x, grid, padding_mode="zeros", align_corners=False)
        return x

    return apply


class PlateauLR:
    """Multiply the learning rate by ``factor`` after ``patience`` epochs without a new best
    validation value (Kosiba et al.'s 'reduce on plateau'); a training-loop callback."""

    def __init__(self, factor: float = 0.75, patience: int = 14):
        self.factor, self.patience, self.best, self.wait = factor, patience, float("inf"), 0

    def on_epoch_end(self, epoch, value, optimizer):
        if value < self.best:
            self.best, self.wait = value, 0
            return
        self.wait += 1
        if self.wait >= self.patience:
            for group in optimizer.param_groups:
                group["lr"] *= self.factor
            self.wait = 0

    def state_dict(self):
        return {"best": self.best, "wait": self.wait}

    def load_state_dict(self, state):
        self.best, self.wait = state["best"], state["wait"]


def make_optimizer(name: str, parameters, lr: float, weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """adam, adamw, sgd (Nesterov, momentum 0.9) or adadelta — the optimizers of the seed papers."""
    if name == "adam":
        return torch.optim.Adam(parameters, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(parameters, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay)
    if name == "adadelta":
        return torch.optim.Adadelta(parameters, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}: choose adam, adamw, sgd or adadelta")


@torch.no_grad()
def recalibrate_batchnorm(module: torch.nn.Module, images: torch.Tensor, batch_size: int = 256) -> None:
    """Recompute every BatchNorm layer's running mean and variance as plain averages over
    ``images`` with the current weights ("precise BN", Wu & Johnson 2021). The running averages
    kept during training follow the last ~10 batches; on small or heavy-tailed data they can be
    far from the population, and the validation loss in eval mode then jumps from epoch to epoch."""
    norms = [m for m in module.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    saved = [(m, m.momentum, m.training) for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches below
        m.train()
    for i in range(0, len(images), batch_size):
        module(images[i:i + batch_size])
    for m, momentum, training in saved:
        m.momentum = momentum
        m.train(training)


class ImageClassifier(Model):
    """Any image network → class probabilities, trained with (binary) cross-entropy.

    Subclasses set ``name``/``tasks`` and may override :meth:`build_network` (the default is a
    timm backbone by name). ``monitor="accuracy"`` keeps the epoch with the best validation
    accuracy instead of the lowest validation loss. ``precise_bn = N`` recomputes the batch-norm
    statistics on N random training images before each validation (see
    :func:`recalibrate_batchnorm`); 0 keeps the running averages.
    """

    def __init__(self, backbone: str = "resnet18", pretrained: bool = True, weights_file: str = "",
                 epochs: int = 10, batch_size: int = 32, lr: float = 1e-3, optimizer: str = "adam",
                 weight_decay: float = 0.0, flips: bool = True, max_rotation: float = 0.0, jitter: int = 0,
                 rot90: bool = False, patience: int = 0, plateau_patience: int = 0, plateau_factor: float = 0.75,
                 monitor: str = "loss", channels: list | None = None, precise_bn: int = 0):
        """The parameters are declared here once; :class:`Model` binds each to an attribute of
        its name (``self.lr``) and reads them back with ``get_params``."""

    # -- what subclasses may change ----------------------------------------------------------
    def build_network(self, in_chans: int, n_outputs: int, image_size: int) -> torch.nn.Module:
        return create_backbone(self.backbone, self.pretrained, self.weights_file,
                               in_chans=in_chans, num_classes=n_outputs)

    def before_training(self, optimizer, batches, loss, context: FitContext) -> None:
        """Called once, just before the training loop, with what the loop will be given (e.g. to
        choose the learning rate with :func:`astrozoo.lr_range.lr_range_test`). Does nothing here."""

    # -- the Model contract --------------------------------------------------------------------
    def _inputs(self, split: Split) -> torch.Tensor:
        images = images_of(split)
        if self.channels is not None:
            images = images[:, list(self.channels)]
        return torch.from_numpy(self.standardizer(images))

    def fit(self, train: Split, val: Split, context: FitContext) -> "ImageClassifier":
        raw = images_of(train)
        if self.channels is not None:
            raw = raw[:, list(self.channels)]
        self.standardizer = Standardizer().fit(raw)
        self.n_classes = int(max(train.y.max(), val.y.max())) + 1
        n_out = 1 if self.n_classes == 2 else self.n_classes
        self.network = self.build_network(raw.shape[1], n_out, raw.shape[-1])
        device = torch.device(context.device)
        x_train, y_train = self._inputs(train).to(device), torch.as_tensor(train.y).to(device)
        x_val, y_val = self._inputs(val).to(device), torch.as_tensor(val.y).to(device)
        optimizer = make_optimizer(self.optimizer, self.network.parameters(), self.lr, self.weight_decay)
        generator = torch.Generator().manual_seed(context.seed)

        def batches():
            order = torch.randperm(len(x_train), generator=generator)
            for i in range(0, len(order), self.batch_size):
                idx = order[i:i + self.batch_size].to(device)
                yield augment(x_train[idx], self.flips, self.max_rotation, self.jitter, self.rot90), y_train[idx]

        calibration = x_train[torch.randperm(len(x_train), generator=torch.Generator().manual_seed(0))
                              [:self.precise_bn].to(device)] if self.precise_bn else None

        def validate():
            if calibration is not None:
                recalibrate_batchnorm(self.network, calibration)
            logits = torch.cat([self.network(x_val[i:i + 256]) for i in range(0, len(x_val), 256)])
            if self.monitor == "accuracy":  # the error rate: lowest at the best accuracy, and plottable on a log axis
                return 1.0 - float((self._labels(logits) == y_val).float().mean())
            return float(self._loss(logits, y_val))

        def loss(batch):
            return self._loss(self.network(batch[0]), batch[1])

        callbacks = [PlateauLR(self.plateau_factor, self.plateau_patience)] if self.plateau_patience else []
        self.before_training(optimizer, batches, loss, context)
        self.history = fit(self.network, optimizer, batches=batches, loss=loss, validate=validate,
                           epochs=self.epochs, context=context, patience=self.patience or None,
                           callbacks=callbacks, desc=f"{self.name}", generators=[generator])
        self.network.to("cpu").eval()
        return self

    def _loss(self, logits, y):
        if self.n_classes == 2:
            return F.binary_cross_entropy_with_logits(logits.squeeze(-1).float(), y.float())
        return F.cross_entropy(logits.float(), y.long())

    def _labels(self, logits):
        if self.n_classes == 2:
            return (logits.squeeze(-1) > 0).long()
        return logits.argmax(-1)

    @torch.no_grad()
    def predict(self, split: Split) -> np.ndarray:
        x = self._inputs(split)
        self.network.eval()
        logits = torch.cat([self.network(x[i:i + 256]) for i in range(0, len(x), 256)]).float()
        if self.n_classes == 2:
            return torch.sigmoid(logits.squeeze(-1)).numpy()
        return torch.softmax(logits, -1).numpy()
