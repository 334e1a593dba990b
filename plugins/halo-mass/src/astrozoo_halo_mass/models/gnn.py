"""The paper's GNN (Jespersen et al., Section 3.5), after Wu & Jespersen (2023, arXiv:2306.12327).

One node per galaxy (feature: log M*), an edge between galaxies closer than the linking length
(3 Mpc, periodic box), edge feature the distance (optionally also the two rotation-invariant
cosines of Wu & Jespersen). One edge-network layer: U = 4 unshared copies of
φ(x_i, x_j, e_ij) (an MLP with 16 hidden and 16 latent channels), each aggregated with ``max``
(or sum/mean, or several concatenated), the copies concatenated; each node's output is
concatenated with M* and read out by a 3-layer MLP. The training graph is cut into 24 METIS
clusters (Chiang et al. 2019, Cluster-GCN; done with pymetis since PyG's ClusterData needs
pyg-lib) and trained cluster by cluster; validation and test are predicted on their whole
sub-graphs. AdamW, lr 1e-3, weight decay 1e-4, 500 epochs, MSE (or Gaussian NLL).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch_geometric.data import Data
from torch_geometric.nn import MessagePassing
from torch_geometric.utils import subgraph

from astrozoo.data.graphs import edge_cosines, radius_graph
from astrozoo.interfaces import FitContext, Split
from astrozoo.training import fit
from astrozoo_halo_mass.models.common import (NeuralRegressor, Readout, check_loss, mlp, regression_loss,
                                               torch_threads)


class EdgeNetwork(MessagePassing):
    """m_ij = φ([x_i, x_j, e_ij]); x_i' = ⊕_j m_ij (Wu & Jespersen 2023; Battaglia et al. 2018)."""

    def __init__(self, node_dim: int, edge_dim: int, hidden: int = 16, latent: int = 16, aggr="max"):
        super().__init__(aggr=aggr)
        self.phi = mlp([2 * node_dim + edge_dim, hidden, hidden, latent])

    def forward(self, x, edge_index, edge_attr):
        return self.propagate(edge_index, x=x, edge_attr=edge_attr)

    def message(self, x_i, x_j, edge_attr):
        return self.phi(torch.cat([x_i, x_j, edge_attr], dim=-1))

    def update(self, aggr_out):
        return aggr_out


class HaloGNN(nn.Module):
    """``layers`` rounds of ``unshared`` parallel edge networks, concatenated; then the readout
    on [node embedding, extra features (the CNN's, in cnn-gnn), M*]."""

    def __init__(self, edge_dim: int = 1, hidden: int = 16, latent: int = 16, unshared: int = 4,
                 aggr="max", layers: int = 1, n_out: int = 1, extra: int = 0):
        super().__init__()
        n_aggr = len(aggr) if isinstance(aggr, (list, tuple)) else 1
        dims = [1] + [unshared * latent * n_aggr] * layers
        self.convs = nn.ModuleList(
            nn.ModuleList(EdgeNetwork(dims[k], edge_dim, hidden, latent, aggr) for _ in range(unshared))
            for k in range(layers))
        self.readout = Readout(dims[-1] + extra, hidden, n_out)

    def embed(self, log_mstar, edge_index, edge_attr) -> torch.Tensor:
        x = self.readout.mstar(log_mstar)
        for convs in self.convs:
            x = torch.cat([conv(x, edge_index, edge_attr) for conv in convs], dim=-1)
        return x

    def forward(self, log_mstar, edge_index, edge_attr, extra: torch.Tensor | None = None):
        h = self.embed(log_mstar, edge_index, edge_attr)
        if extra is not None:
            h = torch.cat([h, extra.to(h.dtype)], dim=-1)
        return self.readout(h, log_mstar)


def split_graph(split: Split, radius: float, cosines: bool = False) -> Data:
    """The split's galaxies as one graph: radius edges in the periodic box, edge features
    distance / radius (in [0, 1)) and, with ``cosines``, the two invariant cosines."""
    pos, box = split.data["pos"], split.data.get("box")
    edge_index, dist = radius_graph(pos, radius, box)
    attr = [dist[:, None] / radius]
    if cosines:
        attr.append(edge_cosines(pos, edge_index, box))
    return Data(mstar=torch.as_tensor(split.data["columns"]["log_mstar"], dtype=torch.float32),
                edge_index=torch.as_tensor(edge_index), y=torch.as_tensor(split.y if split.has_target else np.full(len(split), np.nan),
                                                          dtype=torch.float32),
                edge_attr=torch.as_tensor(np.concatenate(attr, axis=1), dtype=torch.float32),
                node=torch.arange(len(split)), num_nodes=len(split))


def metis_clusters(edge_index, num_nodes: int, parts: int, seed: int = 0) -> list[np.ndarray]:
    """Node indices of each of ``parts`` METIS clusters (pymetis); empty clusters are dropped.
    Every node lands in exactly one cluster."""
    parts = int(min(parts, num_nodes))
    if parts <= 1:
        return [np.arange(num_nodes)]
    import pymetis

    src, dst = np.asarray(edge_index, dtype=np.int64)
    order = np.argsort(src, kind="stable")
    xadj = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=num_nodes))])
    _, membership = pymetis.part_graph(parts, xadj=xadj, adjncy=dst[order],
                                       options=pymetis.Options(seed=int(seed)))
    membership = np.asarray(membership)
    return [c for c in (np.flatnonzero(membership == k) for k in range(parts)) if len(c)]


class ClusterBatches:
    """Cluster-GCN batches: each epoch, clusters in random order, ``per_batch`` at a time; a
    batch is the sub-graph induced on their nodes (edges to other batches are dropped).
    Batches keep ``node`` (indices into the whole graph), e.g. to collate images."""

    def __init__(self, graph: Data, clusters: list[np.ndarray], per_batch: int = 1, seed: int = 0):
        self.graph, self.clusters, self.per_batch = graph, clusters, max(1, int(per_batch))
        self.generator = torch.Generator().manual_seed(seed)
        self.cache: dict[tuple, Data] = {}

    def batch(self, ids: tuple[int, ...]) -> Data:
        if ids not in self.cache:  # one cluster per batch (the default): each sub-graph is cut once
            g = self.graph
            nodes = torch.as_tensor(np.sort(np.concatenate([self.clusters[i] for i in ids])))
            edge_index, edge_attr = subgraph(nodes, g.edge_index, g.edge_attr, relabel_nodes=True,
                                             num_nodes=g.num_nodes)
            batch = Data(mstar=g.mstar[nodes], y=g.y[nodes], node=nodes, edge_index=edge_index,
                         edge_attr=edge_attr, num_nodes=len(nodes))
            if self.per_batch > 1:
                return batch
            self.cache[ids] = batch
        return self.cache[ids]

    def __call__(self):
        order = torch.randperm(len(self.clusters), generator=self.generator).tolist()
        for i in range(0, len(order), self.per_batch):
            yield self.batch(tuple(sorted(order[i:i + self.per_batch])))

    def __len__(self) -> int:
        return -(-len(self.clusters) // self.per_batch)


def aggregation(aggr):
    """'max' → 'max'; 'max,sum' or ['max', 'sum'] → ['max', 'sum'] (PyG multi-aggregation)."""
    names = aggr.split(",") if isinstance(aggr, str) else list(aggr)
    names = [a.strip() for a in names if a.strip()]
    return names[0] if len(names) == 1 else names


class GNN(NeuralRegressor):
    name = "gnn"
    description = "edge-network GNN on the 3 Mpc galaxy graph, METIS cluster batches (Wu & Jespersen 2023)"

    def __init__(self, radius: float = 3.0, cosines: bool = False, hidden: int = 16, latent: int = 16,
                 unshared: int = 4, aggr="max", layers: int = 1, clusters: int = 24,
                 clusters_per_batch: int = 1, epochs: int = 500, lr: float = 1e-3,
                 weight_decay: float = 1e-4, loss: str = "mse", patience: int = 0, threads: int = 1):
        super().__init__()
        self.n_out = check_loss(loss)
        self.net, self.history = None, None

    def build(self, extra: int = 0) -> HaloGNN:
        p = self.params
        return HaloGNN(edge_dim=3 if p["cosines"] else 1, hidden=p["hidden"], latent=p["latent"],
                       unshared=p["unshared"], aggr=aggregation(p["aggr"]), layers=p["layers"],
                       n_out=self.n_out, extra=extra)

    def graph(self, split: Split) -> Data:
        return split_graph(split, self.params["radius"], self.params["cosines"])

    def fit(self, train: Split, val: Split, context: FitContext) -> "GNN":
        with torch_threads(self.params["threads"] if context.device == "cpu" else 0):
            return self._fit(train, val, context)

    def _fit(self, train: Split, val: Split, context: FitContext) -> "GNN":
        p = self.params
        g_train, g_val = self.graph(train), self.graph(val)
        self.net = self.build()
        self.net.readout.set_stats(train.data["columns"]["log_mstar"], train.y)
        clusters = metis_clusters(g_train.edge_index.numpy(), g_train.num_nodes, p["clusters"], context.seed)
        batches = ClusterBatches(g_train, clusters, p["clusters_per_batch"], context.seed)
        optimizer = torch.optim.AdamW(self.net.parameters(), lr=p["lr"], weight_decay=p["weight_decay"])
        g_val = g_val.to(context.device)
        net = self.net

        self.history = fit(
            net, optimizer, batches=batches,
            loss=lambda b: regression_loss(net(b.mstar, b.edge_index, b.edge_attr), b.y, p["loss"]),
            validate=lambda: regression_loss(net(g_val.mstar, g_val.edge_index, g_val.edge_attr), g_val.y,
                                             p["loss"]),
            epochs=p["epochs"], context=context, patience=p["patience"] or None, desc=self.name,
            generators=[batches.generator])
        self.net.to("cpu").eval()
        return self

    def _outputs(self, split: Split) -> torch.Tensor:
        g = self.graph(split)
        return self.net(g.mstar, g.edge_index, g.edge_attr)


MODELS = [GNN]
