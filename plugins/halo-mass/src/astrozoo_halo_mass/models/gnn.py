"""The paper's GNN (Jespersen et al., Section 3.5), after Wu & Jespersen (2023, arXiv:2306.12327).

One node per galaxy (feature: log M*), an edge between galaxies closer than the linking length
(3 Mpc, periodic box), edge features the distance / radius and log10 of it (optionally the two
centroid cosines of Wu & Jespersen, and self-loops). One edge-network layer: U = 4 unshared copies
of φ(x_i, x_j, e_ij) (an MLP with 16 hidden and 16 latent channels), each aggregated with ``max``
(or sum/mean, or several concatenated), the copies concatenated; each node's output is
concatenated with M* and read out by a 3-layer MLP. Galaxies outside the split (``context``: gaps
and other splits; M* and positions only) pass messages but are never scored. The training galaxies
are cut into 24 METIS clusters (Chiang et al. 2019, Cluster-GCN; pymetis, renumbered by the seed)
and trained cluster by cluster, each with its 1-hop neighbourhood as unlabelled context (``halo``),
so training and prediction graphs agree; validation and test are predicted on their whole graphs.
AdamW, lr 1e-3, weight decay 1e-4, 500 epochs, MSE (or Gaussian NLL). docs/tasks/halo-mass-models.md
measures each choice.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch_geometric.data import Data
from torch_geometric.nn import MessagePassing
from torch_geometric.utils import k_hop_subgraph, subgraph

from astrozoo.data.graphs import edge_cosines, radius_graph
from astrozoo.errors import AstrozooError
from astrozoo.interfaces import FitContext, Split
from astrozoo.training import fit
from astrozoo_halo_mass.models.common import (NeuralRegressor, Readout, check_loss, mlp, regression_loss,
                                               torch_threads)


def layers_mlp(sizes: list[int], norm: str = "after") -> nn.Sequential:
    """An MLP whose hidden layers are Linear–SiLU–LayerNorm (``norm = "after"``, our readout's order) or
    Linear–LayerNorm–SiLU (``"before"``, the order of Wu & Jespersen's public code); the last Linear bare."""
    if norm == "after":
        return mlp(sizes)
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers += [nn.LayerNorm(sizes[i + 1]), nn.SiLU()]
    return nn.Sequential(*layers)


LOG_FLOOR = 0.03  # Mpc: the smallest distance log_distance resolves (a self-loop's)


class EdgeNetwork(MessagePassing):
    """m_ij = φ([x_i, x_j, e_ij]); x_i' = ⊕_j m_ij (Wu & Jespersen 2023; Battaglia et al. 2018)."""

    def __init__(self, node_dim: int, edge_dim: int, hidden: int = 16, latent: int = 16, aggr="max",
                 norm: str = "after"):
        super().__init__(aggr=aggr)
        self.phi = layers_mlp([2 * node_dim + edge_dim, hidden, hidden, latent], norm)

    def forward(self, x, edge_index, edge_attr):
        return self.propagate(edge_index, x=x, edge_attr=edge_attr)

    def message(self, x_i, x_j, edge_attr):
        return self.phi(torch.cat([x_i, x_j, edge_attr], dim=-1))

    def update(self, aggr_out):
        return aggr_out


class HaloGNN(nn.Module):
    """``layers`` rounds of ``unshared`` parallel edge networks, concatenated (with ``empty``, a galaxy
    without neighbours gets a learned vector instead of the zeros of max over nothing); with ``head = "fc"`` then
    ReLU and a 3-layer MLP (``latent`` wide, as the reference's ``fc``); then the readout on
    [node features, extra features (the CNN's, in cnn-gnn), M*]."""

    def __init__(self, edge_dim: int = 1, hidden: int = 16, latent: int = 16, unshared: int = 4,
                 aggr="max", layers: int = 1, n_out: int = 1, extra: int = 0, head: str = "none",
                 norm: str = "after", empty: bool = False):
        super().__init__()
        n_aggr = len(aggr) if isinstance(aggr, (list, tuple)) else 1
        dims = [1] + [unshared * latent * n_aggr] * layers
        self.convs = nn.ModuleList(
            nn.ModuleList(EdgeNetwork(dims[k], edge_dim, hidden, latent, aggr, norm) for _ in range(unshared))
            for k in range(layers))
        # a learned embedding for galaxies without neighbours (max over an empty set gives zeros)
        self.empty = nn.ParameterList(nn.Parameter(torch.zeros(d)) for d in dims[1:]) if empty else None
        self.fc = nn.Sequential(nn.ReLU(), layers_mlp([dims[-1], latent, latent, latent], norm)) \
            if head == "fc" else nn.Identity()
        self.readout = Readout((latent if head == "fc" else dims[-1]) + extra, hidden, n_out)

    def embed(self, log_mstar, edge_index, edge_attr) -> torch.Tensor:
        x = self.readout.mstar(log_mstar)
        if self.empty is not None:
            src, dst = edge_index
            alone = torch.bincount(dst[src != dst], minlength=len(x)) == 0
        for k, convs in enumerate(self.convs):
            x = torch.cat([conv(x, edge_index, edge_attr) for conv in convs], dim=-1)
            if self.empty is not None:
                x = torch.where(alone[:, None], self.empty[k].to(x.dtype), x)
        return x

    def forward(self, log_mstar, edge_index, edge_attr, extra: torch.Tensor | None = None):
        h = self.fc(self.embed(log_mstar, edge_index, edge_attr))
        if extra is not None:
            h = torch.cat([h, extra.to(h.dtype)], dim=-1)
        return self.readout(h, log_mstar)


def split_graph(split: Split, radius: float, cosines: bool = False, context: bool = True,
                self_loops: bool = False, hops: int = 1, log_distance: bool = True) -> Data:
    """The split's galaxies as one graph: radius edges in the periodic box, edge features
    distance / radius (in [0, 1)), with ``log_distance`` also log10(max(d, 30 kpc) / radius)
    (satellites sit 0.1–0.9 Mpc from their centrals, squeezed into [0.03, 0.3] by d / radius), and
    with ``cosines`` the two cosines relative to the centroid.

    With ``context``, the galaxies outside the split (``split.data["context"]``: their positions
    and M* only, never a halo mass) that lie within ``hops`` edges of a split galaxy join the
    graph as unlabelled nodes: they pass messages but are neither scored nor trained on. With
    ``self_loops`` every node also gets an edge to itself (distance 0; cosines 1 and 0), so an
    isolated galaxy's message is φ(x_i, x_i, 0) rather than max over an empty set (zero).
    Split galaxies come first, in the split's order; ``target`` marks them, ``node`` is each
    node's row in the split (context nodes: -1)."""
    pos, box = np.asarray(split.data["pos"], dtype=np.float64), split.data.get("box")
    mstar = np.asarray(split.data["columns"]["log_mstar"], dtype=np.float64)
    n = len(split)
    y = np.asarray(split.y, dtype=np.float64) if split.has_target else np.full(n, np.nan)
    others = split.data.get("context") if context else None
    if others is not None and len(others["log_mstar"]):
        pos = np.concatenate([pos, np.asarray(others["pos"], dtype=np.float64)])
        mstar = np.concatenate([mstar, np.asarray(others["log_mstar"], dtype=np.float64)])
    edge_index, dist = radius_graph(pos, radius, box)
    attr = [dist[:, None] / radius]
    if log_distance:
        attr.append(np.log10(np.maximum(dist, LOG_FLOOR) / radius)[:, None])
    if cosines:
        attr.append(edge_cosines(pos, edge_index, box))
    edge_index, attr = torch.as_tensor(edge_index), torch.as_tensor(np.concatenate(attr, axis=1), dtype=torch.float32)
    keep = torch.arange(len(pos))
    if len(pos) > n:  # only the context within reach of the split's galaxies
        keep, edge_index, _, mask = k_hop_subgraph(torch.arange(n), hops, edge_index, relabel_nodes=True,
                                                   num_nodes=len(pos))
        attr = attr[mask]
    if self_loops:
        loops = torch.arange(len(keep))
        loop_attr = torch.zeros(len(keep), attr.shape[1])
        if log_distance:
            loop_attr[:, 1] = float(np.log10(LOG_FLOOR / radius))
        if cosines:
            loop_attr[:, -2] = 1.0  # cos1 of a galaxy with itself; cos2 (no edge direction) 0
        edge_index = torch.cat([edge_index, torch.stack([loops, loops])], dim=1)
        attr = torch.cat([attr, loop_attr])
    y = np.concatenate([y, np.full(len(pos) - n, np.nan)])[keep.numpy()]
    return Data(mstar=torch.as_tensor(mstar[keep.numpy()], dtype=torch.float32), edge_index=edge_index,
                y=torch.as_tensor(y, dtype=torch.float32), edge_attr=attr, target=keep < n,
                node=torch.where(keep < n, keep, -1), num_nodes=len(keep))


def metis_clusters(edge_index, num_nodes: int, parts: int, seed: int = 0) -> list[np.ndarray]:
    """Node indices of each of ``parts`` METIS clusters (pymetis); empty clusters are dropped.
    Every node lands in exactly one cluster. METIS itself ignores its seed option, so the nodes
    are numbered in a ``seed``-dependent random order before partitioning: the partitions change
    with the seed (self-loops are left out)."""
    parts = int(min(parts, num_nodes))
    if parts <= 1:
        return [np.arange(num_nodes)]
    import pymetis

    src, dst = np.asarray(edge_index, dtype=np.int64)
    src, dst = src[src != dst], dst[src != dst]
    order = np.random.default_rng(seed).permutation(num_nodes)  # order[k]: the node renumbered k
    rank = np.argsort(order)
    src, dst = rank[src], rank[dst]
    by_source = np.argsort(src, kind="stable")
    xadj = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=num_nodes))])
    _, membership = pymetis.part_graph(parts, xadj=xadj, adjncy=dst[by_source])
    membership = np.asarray(membership)[rank]
    return [c for c in (np.flatnonzero(membership == k) for k in range(parts)) if len(c)]


class ClusterBatches:
    """Cluster-GCN batches: each epoch, clusters in random order, ``per_batch`` at a time.

    A batch trains on its clusters' split galaxies (``target``). With ``hops`` = 0 the batch is
    the sub-graph induced on them (Chiang et al. 2019: edges to other batches are dropped); with
    ``hops`` ≥ 1 (the number of message-passing layers) every node within ``hops`` edges joins
    as unlabelled context, so each target galaxy sees exactly the neighbourhood it has in the
    whole graph — training and prediction graphs agree. Batches keep ``node`` (each node's row
    in the split, -1 for context), e.g. to collate images."""

    def __init__(self, graph: Data, clusters: list[np.ndarray], per_batch: int = 1, seed: int = 0, hops: int = 0):
        self.graph, self.clusters, self.per_batch, self.hops = graph, clusters, max(1, int(per_batch)), int(hops)
        self.generator = torch.Generator().manual_seed(seed)
        self.cache: dict[tuple, Data] = {}

    def batch(self, ids: tuple[int, ...]) -> Data:
        if ids not in self.cache:  # one cluster per batch (the default): each sub-graph is cut once
            g = self.graph
            core = torch.as_tensor(np.sort(np.concatenate([self.clusters[i] for i in ids])))
            if self.hops:
                nodes, edge_index, _, mask = k_hop_subgraph(core, self.hops, g.edge_index, relabel_nodes=True,
                                                            num_nodes=g.num_nodes)
                edge_attr = g.edge_attr[mask]
            else:
                nodes = core
                edge_index, edge_attr = subgraph(nodes, g.edge_index, g.edge_attr, relabel_nodes=True,
                                                 num_nodes=g.num_nodes)
            node = g.node[nodes] if "node" in g else nodes
            batch = Data(mstar=g.mstar[nodes], y=g.y[nodes], node=node, edge_index=edge_index,
                         edge_attr=edge_attr, target=torch.isin(nodes, core), num_nodes=len(nodes))
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


def target_clusters(graph: Data, parts: int, seed: int) -> list[np.ndarray]:
    """METIS clusters of the graph's target (split) galaxies, on the edges between them."""
    target = torch.nonzero(graph.target).flatten() if "target" in graph else torch.arange(graph.num_nodes)
    edge_index, _ = subgraph(target, graph.edge_index, relabel_nodes=True, num_nodes=graph.num_nodes)
    return [target[c].numpy() for c in metis_clusters(edge_index.numpy(), len(target), parts, seed)]


def check_choice(key: str, value, choices) -> None:
    if value not in choices:
        raise AstrozooError(f"params.{key} must be one of {', '.join(map(repr, choices))}, got {value!r}")


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
                 weight_decay: float = 1e-4, loss: str = "mse", patience: int = 0, threads: int = 1,
                 context: bool = True, self_loops: bool = False, halo: bool = True, head: str = "none",
                 norm: str = "after", log_distance: bool = True, empty: bool = False):
        super().__init__()
        self.n_out = check_loss(loss)
        check_choice("head", head, ("none", "fc"))
        check_choice("norm", norm, ("after", "before"))
        self.net, self.history = None, None

    def build(self, extra: int = 0) -> HaloGNN:
        p = self.params
        return HaloGNN(edge_dim=1 + 2 * p["cosines"] + p["log_distance"], hidden=p["hidden"], latent=p["latent"],
                       unshared=p["unshared"], aggr=aggregation(p["aggr"]), layers=p["layers"],
                       n_out=self.n_out, extra=extra, head=p["head"], norm=p["norm"],
                       empty=p["empty"])

    def graph(self, split: Split) -> Data:
        p = self.params
        return split_graph(split, p["radius"], p["cosines"], p["context"], p["self_loops"],
                           p["layers"], p["log_distance"])

    def batches(self, graph: Data, seed: int) -> ClusterBatches:
        p = self.params
        clusters = target_clusters(graph, p["clusters"], seed)
        return ClusterBatches(graph, clusters, p["clusters_per_batch"], seed, p["layers"] if p["halo"] else 0)

    def fit(self, train: Split, val: Split, context: FitContext) -> "GNN":
        with torch_threads(self.params["threads"] if context.device == "cpu" else 0):
            return self._fit(train, val, context)

    def _fit(self, train: Split, val: Split, context: FitContext) -> "GNN":
        p = self.params
        g_train, g_val = self.graph(train), self.graph(val)
        self.net = self.build()
        self.net.readout.set_stats(train.data["columns"]["log_mstar"], train.y)
        batches = self.batches(g_train, context.seed)
        optimizer = torch.optim.AdamW(self.net.parameters(), lr=p["lr"], weight_decay=p["weight_decay"])
        g_val = g_val.to(context.device)
        net = self.net

        def loss(g):
            return regression_loss(net(g.mstar, g.edge_index, g.edge_attr)[g.target], g.y[g.target], p["loss"])

        self.history = fit(net, optimizer, batches=batches, loss=loss, validate=lambda: loss(g_val),
                           epochs=p["epochs"], context=context, patience=p["patience"] or None, desc=self.name,
                           generators=[batches.generator])
        self.net.to("cpu").eval()
        return self

    def _outputs(self, split: Split) -> torch.Tensor:
        g = self.graph(split)
        return self.net(g.mstar, g.edge_index, g.edge_attr)[g.target]


MODELS = [GNN]
