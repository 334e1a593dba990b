"""The public reference GNN, re-implemented for benchmarks/halo_mass_gnn_vs_reference.py (not a zoo model).

Wu & Jespersen (2023, arXiv:2306.12327), ``EdgeInteractionGNN`` in ``src/painting_galaxies.py`` of
github.com/jwuphysics/halo-gnns (read there on 2026-12-02; ``src/model.py`` on main does not hold it):

- edges: all pairs closer than the linking length, both directions, **plus self-loops**; edge
  features the **raw distance** and the two cosines of the ends' positions relative to the
  centroid of the sub-volume (``astrozoo.data.graphs.edge_cosines``); a self-loop's features are
  (0, 1, 0), as in ``make_webs``;
- ``EdgeInteractionLayer``: message φ([x_i, x_j, e_ij]) with φ = Linear–LayerNorm–SiLU ×2,
  Linear (**LayerNorm before SiLU**), aggregated (``max`` here, like our card), ``unshared``
  copies concatenated, then **ReLU**;
- head: ``fc`` (3 Linear layers, LayerNorm–SiLU between) on the concatenated messages, then
  ``galaxy_halo_mlp`` (3 Linear layers) on [fc, node features] → 2 outputs (mean, log variance).

What we changed, so that only the architecture differs from our ``gnn``: the node feature is log M*
(standardised with training statistics, as is the target), the mean column is trained with MSE
(the reference trains both columns with a moment-network loss: log MSE(μ) + log MSE of the residual
against 10^logvar), AdamW lr 1e-3 / weight decay 1e-4, one METIS cluster per step, our split.
The public forward recomputes ``radius_graph`` on ``data.pos`` and indexes ``data.edge_attr`` by
the new ``edge_index`` (``edge_attr[edge_index]``, then ``edge_attr[0]`` in the message); we use the
precomputed features of each edge, which is what ``make_webs`` builds them for. Only one
message-passing layer (the published runs' ``n_layers = 1``).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch_geometric.data import Data
from torch_geometric.nn import MessagePassing

from astrozoo.data.graphs import edge_cosines, radius_graph
from astrozoo_halo_mass.models.gnn import layers_mlp


def block(sizes: list[int]) -> nn.Sequential:
    """Linear–LayerNorm–SiLU between layers, the last Linear bare (the reference's MLPs)."""
    return layers_mlp(sizes, norm="before")


class EdgeInteractionLayer(MessagePassing):
    def __init__(self, n_in: int, hidden: int, latent: int, aggr="max"):
        super().__init__(aggr=aggr)
        self.mlp = block([n_in, hidden, hidden, latent])

    def forward(self, x, edge_index, edge_attr):
        return self.propagate(edge_index, x=x, edge_attr=edge_attr)

    def message(self, x_i, x_j, edge_attr):
        return self.mlp(torch.cat([x_i, x_j, edge_attr], dim=-1))


class EdgeInteractionGNN(nn.Module):
    """One layer of ``unshared`` edge-interaction networks, ReLU, ``fc``, then the galaxy–halo MLP on
    [fc, x]. Inputs and target are standardised with buffers set by :meth:`set_stats`; ``forward``
    returns (N, 2): log M_halo in dex and a log variance (unused under MSE)."""

    def __init__(self, edge_dim: int = 3, hidden: int = 16, latent: int = 16, unshared: int = 4, aggr="max"):
        super().__init__()
        n_aggr = len(aggr) if isinstance(aggr, (list, tuple)) else 1
        self.convs = nn.ModuleList(EdgeInteractionLayer(2 + edge_dim, hidden, latent, aggr) for _ in range(unshared))
        self.fc = block([unshared * n_aggr * latent, latent, latent, latent])
        self.galaxy_halo_mlp = block([latent + 1, latent, latent, 2])
        for name in ("x_mean", "x_std", "y_mean", "y_std"):
            self.register_buffer(name, torch.tensor(0.0 if "mean" in name else 1.0))

    def set_stats(self, log_mstar, y) -> "EdgeInteractionGNN":
        for name, values in (("x", log_mstar), ("y", y)):
            getattr(self, f"{name}_mean").fill_(float(np.mean(values)))
            getattr(self, f"{name}_std").fill_(float(np.std(values)) + 1e-8)
        return self

    def forward(self, log_mstar, edge_index, edge_attr):
        x = ((log_mstar - self.x_mean) / self.x_std).unsqueeze(-1)
        h = torch.cat([conv(x, edge_index, edge_attr) for conv in self.convs], dim=-1).relu()
        out = self.galaxy_halo_mlp(torch.cat([self.fc(h), x], dim=-1))
        return torch.cat([self.y_mean + self.y_std * out[:, :1], out[:, 1:]], dim=-1)


def reference_graph(pos, log_mstar, y, radius: float, box: float | None) -> Data:
    """One sub-volume's graph as ``make_webs`` builds it: radius edges, [distance, cos1, cos2],
    self-loops with features (0, 1, 0)."""
    n = len(pos)
    edge_index, dist = radius_graph(pos, radius, box)
    attr = np.column_stack([dist, edge_cosines(pos, edge_index, box)])
    loops = np.arange(n)
    edge_index = np.concatenate([edge_index, np.stack([loops, loops])], axis=1)
    attr = np.concatenate([attr, np.tile([0.0, 1.0, 0.0], (n, 1))])
    return Data(mstar=torch.as_tensor(log_mstar, dtype=torch.float32), y=torch.as_tensor(y, dtype=torch.float32),
                edge_index=torch.as_tensor(edge_index), edge_attr=torch.as_tensor(attr, dtype=torch.float32),
                node=torch.arange(n), num_nodes=n)
