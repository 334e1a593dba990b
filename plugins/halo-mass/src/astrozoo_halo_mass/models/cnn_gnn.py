"""The paper's CNN+GNN (Jespersen et al., Section 3.6).

A pretrained GNN (trained first inside ``fit``, or loaded from ``gnn_checkpoint``) whose
message-passing backbone is frozen at first, plus a ResNet18 with a 64-unit last layer. The
GNN node embedding, the CNN output and M* are concatenated into the GNN's readout; the
readout's new input columns start at zero, so training starts from the GNN's predictions.
Images are collated with the same METIS cluster batches as the GNN's, read a batch at a time
(:class:`astrozoo.vision.ImageBatch`). Schedule: when the
validation MSE rises 0.005 above its minimum five times without a new minimum, the GNN is
unfrozen and the learning rate divided by 5 — once (:class:`UnfreezeOnRises`).
AdamW, lr 5e-4, weight decay 1e-3, 500 epochs.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch
from torch import nn

from astrozoo.errors import AstrozooError
from astrozoo.interfaces import FitContext, Model, Split
from astrozoo.training import fit
from astrozoo.vision import ImageBatch, Standardizer, image_rows
from astrozoo_halo_mass.models.cnn import ImageEncoder
from astrozoo_halo_mass.models.common import (NeuralRegressor, PrefixedTracker, check_loss, regression_loss,
                                               torch_threads)
from astrozoo_halo_mass.models.gnn import GNN, HaloGNN

GNN_KEYS = ("radius", "cosines", "hidden", "latent", "unshared", "aggr", "layers", "clusters",
            "clusters_per_batch", "loss", "context", "self_loops", "halo", "head", "norm", "log_distance", "empty")


class UnfreezeOnRises:
    """Training-loop callback for the paper's schedule: count epochs whose validation loss lies
    more than ``threshold`` above the minimum so far (a new minimum resets the count); at the
    ``rises``-th, make ``parameters`` trainable and divide every learning rate by ``factor``.
    Happens once; ``state_dict``/``load_state_dict`` carry it across a resume."""

    def __init__(self, parameters, threshold: float = 0.005, rises: int = 5, factor: float = 5.0):
        self.parameters = list(parameters)
        self.threshold, self.rises, self.factor = threshold, rises, factor
        self.best, self.count, self.unfrozen_at = float("inf"), 0, None

    def on_epoch_end(self, epoch: int, val_loss: float, optimizer) -> None:
        if self.unfrozen_at is not None:
            return
        if val_loss < self.best:
            self.best, self.count = val_loss, 0
            return
        if val_loss > self.best + self.threshold:
            self.count += 1
        if self.count >= self.rises:
            self.unfrozen_at = epoch
            self._unfreeze()
            for group in optimizer.param_groups:
                group["lr"] /= self.factor

    def _unfreeze(self) -> None:
        for parameter in self.parameters:
            parameter.requires_grad_(True)

    def state_dict(self) -> dict:
        return {"best": self.best, "count": self.count, "unfrozen_at": self.unfrozen_at}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.count, self.unfrozen_at = state["best"], state["count"], state["unfrozen_at"]
        if self.unfrozen_at is not None:  # the optimizer's state already has the lower lr
            self._unfreeze()


class HaloCNNGNN(nn.Module):
    def __init__(self, gnn: HaloGNN, encoder: ImageEncoder):
        super().__init__()
        self.gnn, self.encoder = gnn, encoder

    def forward(self, log_mstar, edge_index, edge_attr, images=None, features=None):
        return self.gnn(log_mstar, edge_index, edge_attr, self.encoder(images) if features is None else features)


def widened_state(gnn: HaloGNN, extra: int) -> dict:
    """The GNN's state dict with ``extra`` zero input columns inserted in the readout's first
    layer before the M* column, so [embedding, CNN features, M*] starts out as the plain GNN."""
    state = {k: v.clone() for k, v in gnn.state_dict().items()}
    weight = state["readout.mlp.0.weight"]
    state["readout.mlp.0.weight"] = torch.cat(
        [weight[:, :-1], weight.new_zeros(weight.shape[0], extra), weight[:, -1:]], dim=1)
    return state


class CNNGNN(NeuralRegressor):
    name = "cnn-gnn"
    description = "pretrained GNN (frozen at first) + ResNet18 → 64 features into the GNN's readout"

    def __init__(self, gnn_checkpoint: str = "", gnn_epochs: int = 500, gnn_lr: float = 1e-3,
                 gnn_weight_decay: float = 1e-4, radius: float = 3.0, cosines: bool = False,
                 hidden: int = 16, latent: int = 16, unshared: int = 4, aggr="max", layers: int = 1,
                 clusters: int = 24, clusters_per_batch: int = 1, threads: int = 0,
                 backbone: str = "resnet18", pretrained: bool = True, weights_file: str = "",
                 cnn_features: int = 64, flips: bool = True, max_rotation: float = 90.0, jitter: int = 5,
                 epochs: int = 500, lr: float = 5e-4, weight_decay: float = 1e-3, loss: str = "mse",
                 patience: int = 0, unfreeze_threshold: float = 0.005, unfreeze_rises: int = 5,
                 unfreeze_lr_factor: float = 5.0, context: bool = True, self_loops: bool = False,
                 halo: bool = True, head: str = "none", norm: str = "after",
                 log_distance: bool = True, empty: bool = False):
        super().__init__()
        self.n_out = check_loss(loss)
        self.net, self.history, self.gnn, self.unfrozen_at = None, None, None, None

    def pretrained_gnn(self, train: Split, val: Split, context: FitContext) -> GNN:
        p = self.params
        if p["gnn_checkpoint"]:
            if not Path(p["gnn_checkpoint"]).is_file():
                raise AstrozooError(f"params.gnn_checkpoint {p['gnn_checkpoint']}: no such file")
            gnn = Model.load(Path(p["gnn_checkpoint"]))
            if not isinstance(gnn, GNN):
                raise AstrozooError(f"params.gnn_checkpoint {p['gnn_checkpoint']}: not a saved 'gnn' model")
            if gnn.n_out != self.n_out:
                raise AstrozooError(f"params.gnn_checkpoint {p['gnn_checkpoint']}: trained with loss "
                                    f"{gnn.params['loss']!r}, this model has {p['loss']!r}")
            return gnn
        gnn = GNN(epochs=p["gnn_epochs"], lr=p["gnn_lr"], weight_decay=p["gnn_weight_decay"],
                  **{k: p[k] for k in GNN_KEYS})
        sub = replace(context, tracker=PrefixedTracker(context.tracker, "gnn_") if context.tracker else None,
                      checkpoint_dir=Path(context.checkpoint_dir) / "gnn" if context.checkpoint_dir else None)
        return gnn.fit(train, val, sub)

    def fit(self, train: Split, val: Split, context: FitContext) -> "CNNGNN":
        self.gnn = self.pretrained_gnn(train, val, context)
        with torch_threads(self.params["threads"] if context.device == "cpu" else 0):
            return self._fit(train, val, context)

    def _fit(self, train: Split, val: Split, context: FitContext) -> "CNNGNN":
        p, device = self.params, torch.device(context.device)
        g_train, g_val = self.gnn.graph(train), self.gnn.graph(val).to(device)
        images, v_images = image_rows(train), image_rows(val)
        gnn_net = self.gnn.build(extra=p["cnn_features"])
        gnn_net.load_state_dict(widened_state(self.gnn.net, p["cnn_features"]))
        encoder = ImageEncoder(p["backbone"], p["cnn_features"], p["pretrained"], p["weights_file"], images.shape[1])
        self.net = net = HaloCNNGNN(gnn_net, encoder.set_stats(Standardizer().fit(images)))
        backbone = list(gnn_net.convs.parameters())
        for parameter in backbone:
            parameter.requires_grad_(False)
        schedule = UnfreezeOnRises(backbone, p["unfreeze_threshold"], p["unfreeze_rises"], p["unfreeze_lr_factor"])
        # every parameter is in the optimizer; frozen ones have no gradient and are skipped
        optimizer = torch.optim.AdamW(net.parameters(), lr=p["lr"], weight_decay=p["weight_decay"])

        cluster_batches = self.gnn.batches(g_train, context.seed)

        def batches():
            for b in cluster_batches():
                b = b.to(device)
                yield b, ImageBatch(images, b.node[b.target].cpu(), device, flips=p["flips"],
                                    max_rotation=p["max_rotation"], jitter=p["jitter"])

        def loss(batch):
            b, x = batch
            out = net(b.mstar, b.edge_index, b.edge_attr, features=on_nodes(encoder(x), b))
            return regression_loss(out[b.target], b.y[b.target], p["loss"])

        def validate():
            out = net(g_val.mstar, g_val.edge_index, g_val.edge_attr, features=on_nodes(encoder.chunked(v_images), g_val))
            return regression_loss(out[g_val.target], g_val.y[g_val.target], p["loss"])

        self.history = fit(net, optimizer, batches=batches, loss=loss, validate=validate, epochs=p["epochs"],
                           context=context, patience=p["patience"] or None, callbacks=[schedule],
                           desc=self.name, generators=[cluster_batches.generator])
        self.unfrozen_at = schedule.unfrozen_at
        if context.tracker is not None:
            context.tracker.log_metrics({"unfrozen_at_epoch": -1 if self.unfrozen_at is None else self.unfrozen_at})
        self.net.to("cpu").eval()
        self.gnn.net = None  # its weights live on inside self.net
        return self

    def _outputs(self, split: Split) -> torch.Tensor:
        g = self.gnn.graph(split)
        features = on_nodes(self.net.encoder.chunked(image_rows(split)), g)
        return self.net(g.mstar, g.edge_index, g.edge_attr, features=features)[g.target]


def on_nodes(features: torch.Tensor, graph) -> torch.Tensor:
    """The CNN features of the graph's target galaxies placed on their nodes; context nodes (no image) get
    zeros — their readout is never used, and messages do not depend on the CNN."""
    out = features.new_zeros(graph.num_nodes, features.shape[1])
    out[graph.target] = features
    return out


MODELS = [CNNGNN]
