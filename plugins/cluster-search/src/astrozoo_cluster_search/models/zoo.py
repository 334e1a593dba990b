"""The generic zoo entry ``backbone``: any timm network as a 3-class cutout classifier, trained
with Adam at the learning rate a range test chooses. Most zoo members are recipe cards on it
(``base = "backbone"``, ``[params] backbone = "<timm name>"``); networks that need code subclass
it and override :meth:`build_network`.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from astrozoo import lr_range
from astrozoo.errors import AstrozooError
from astrozoo.interfaces import FitContext
from astrozoo.lr_range import RULES as LR_RULES
from astrozoo.vision import ImageClassifier, create_backbone

TASKS = ("cluster-search",)


class Resize(torch.nn.Module):
    """Bilinear resize to the network's input size (the paper's 'resize to match the input')."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def forward(self, x):
        if x.shape[-1] == self.size and x.shape[-2] == self.size:
            return x
        return F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)


def accepts_img_size(name: str) -> bool:
    """Whether the timm model takes ``img_size`` (ViTs and other fixed-grid networks): tried on
    the meta device, so nothing is allocated."""
    import timm

    try:
        with torch.device("meta"):
            timm.create_model(name, pretrained=False, img_size=32)
        return True
    except TypeError:
        return False
    except Exception:  # some models cannot be built on the meta device: do not pass img_size
        return False


def init_classifier(layer: torch.nn.Module, std: float) -> None:
    """Weights N(0, std²), bias 0 — torchvision's initialisation of MobileNetV3's classifier.

    timm's EfficientNet/MobileNet families draw the classifier from U(±1/√n_classes) (their
    ``_init_weight_goog``): ±0.03 for ImageNet's 1000 classes, but ±0.58 for our 3, so that the
    1024–1280 pooled features give logits of several units at initialisation. The loss then
    starts near 2 instead of ln 3 and jumps from batch to batch even at lr = 10⁻⁵, and the range
    test sees noise (docs/tasks/cluster-search.md)."""
    if not isinstance(layer, torch.nn.Linear):
        raise AstrozooError(f"classifier_std: the backbone's classifier is a {type(layer).__name__}, not a Linear")
    torch.nn.init.normal_(layer.weight, 0.0, std)
    if layer.bias is not None:
        torch.nn.init.zeros_(layer.bias)


class ZooClassifier(ImageClassifier):
    """A timm backbone (by name) with Adam and the learning-rate range test.

    Beyond :class:`astrozoo.vision.ImageClassifier`'s parameters: ``lr_range`` runs the range
    test before training (``lr_start`` → ``lr_end`` over ``lr_steps`` steps, ``lr_rule``
    "min10" or "steepest"; see :mod:`astrozoo.lr_range`) and trains at the learning rate it
    chooses (``lr`` is then only the fallback); ``input_size`` resizes inputs first (0 keeps
    the cutout size; networks built for a fixed size, such as ViTs, are told the size);
    ``timm_kwargs`` go to ``timm.create_model`` (e.g. a shallower ``block_config`` for DenseNet);
    ``classifier_std`` > 0 re-initialises the final linear layer as N(0, std²) with zero bias
    (see :func:`init_classifier`; 0 keeps timm's initialisation).
    The defaults follow the paper: Adam, rotations up to 15°, flips, shifts of up to 4 px; and
    batch-norm statistics recomputed on 256 training images before each validation
    (``precise_bn``): with the running averages, the IR validation loss jumped by up to 4× from
    epoch to epoch (bright stars make batches very different from each other).
    """

    name = "backbone"
    tasks = TASKS
    description = "any timm backbone (params.backbone) → cluster / source / random; Adam at the lr a range test picks"

    def __init__(self, lr_range: bool = True, lr_start: float = 1e-6, lr_end: float = 1.0, lr_steps: int = 100,
                 lr_rule: str = "min10", input_size: int = 0, timm_kwargs: dict | None = None,
                 classifier_std: float = 0.0, optimizer: str = "adam", max_rotation: float = 15.0, jitter: int = 4,
                 precise_bn: int = 256, **kwargs):
        if lr_rule not in LR_RULES:
            raise AstrozooError(f"{self.name}: unknown lr_rule {lr_rule!r}: choose {' or '.join(LR_RULES)}")
        self.timm_kwargs, self.classifier_std = dict(timm_kwargs or {}), float(classifier_std)
        super().__init__(optimizer=optimizer, max_rotation=max_rotation, jitter=jitter, precise_bn=precise_bn,
                         **kwargs)

    # -- networks --------------------------------------------------------------------------------
    def build_network(self, in_chans: int, n_outputs: int, image_size: int) -> torch.nn.Module:
        size = self.input_size or image_size
        kwargs = {"img_size": size} if accepts_img_size(self.backbone) else {}
        net = create_backbone(self.backbone, self.pretrained, self.weights_file,
                              in_chans=in_chans, num_classes=n_outputs, **kwargs, **self.timm_kwargs)
        if self.classifier_std > 0:
            init_classifier(net.get_classifier(), self.classifier_std)
        return self.resized(net, image_size)

    def resized(self, net: torch.nn.Module, image_size: int) -> torch.nn.Module:
        size = self.input_size
        return torch.nn.Sequential(Resize(size), net) if size and size != image_size else net

    # -- the learning-rate range test ------------------------------------------------------------
    def before_training(self, optimizer, batches, loss, context: FitContext) -> None:
        self.range_test = None
        if not self.lr_range or context.resume:  # a resumed run restores its optimizer's lr
            return
        test = lr_range.lr_range_test(self.network, optimizer, batches=batches, loss=loss, device=context.device,
                                      start_lr=self.lr_start, end_lr=self.lr_end,
                                      num_steps=self.lr_steps, rule=self.lr_rule)
        self.range_test = test
        if test.chosen_lr is None:
            print(f"{self.name}: learning-rate range test inconclusive (the loss did not fall significantly); "
                  f"keeping lr = {self.lr:.3g}", file=sys.stderr)
        else:
            lr_range.set_lr(optimizer, test.chosen_lr)
            print(f"{self.name}: learning-rate range test chose lr = {test.chosen_lr:.3g} "
                  f"({test.rule}; minimum at {test.min_lr:.3g}, {len(test.lrs)} steps)", file=sys.stderr)
        chosen = test.chosen_lr if test.chosen_lr is not None else self.lr
        if context.tracker is not None:
            context.tracker.log_params({"lr_range.chosen_lr": chosen, "lr_range.min_lr": test.min_lr,
                                        "lr_range.steepest_lr": test.steepest_lr, "lr_range.steps": len(test.lrs),
                                        "lr_range.inconclusive": test.chosen_lr is None})
            context.tracker.log_metrics({"chosen_lr": chosen})
            with tempfile.TemporaryDirectory() as tmp:
                path = lr_range.plot(test, Path(tmp) / "lr_range_test.png",
                                     title=f"{self.backbone if self.name == 'backbone' else self.name}: lr range test")
                context.tracker.log_artifact(path, "plots")
                table = Path(tmp) / "lr_range_test.csv"
                np.savetxt(table, np.column_stack([test.lrs, test.losses, test.smoothed]), delimiter=",",
                           header="lr,loss,smoothed", comments="")
                context.tracker.log_artifact(table, "lr_range")
