"""Training throughput of the halo-mass CNN and GNN: end to end vs the bare model step.

    python benchmarks/throughput_halo_mass.py [--device auto] [--image-size 64] [--repeat 3] [--threads N]
                                              [--clock wall|cpu] [--only cnn|gnn]

*Bare step*: forward, backward and AdamW step of the model's own network on batches already
built in memory (CNN: one fixed 64-image batch, no augmentation; GNN: the 24 METIS cluster
sub-graphs, cut once). *End to end*: the model's ``fit`` (``astrozoo.training.fit`` with the
model's own batching, augmentation, graph building, validation and checkpoint bookkeeping) on
synthetic in-memory splits of the same sizes, timed from the call to the return. Both in
this process, on the same device and thread setting; best of ``--repeat``. The target is a
ratio end-to-end / bare ≥ 0.8: the data pipeline must not starve the model.
"""

import argparse
import time

import numpy as np
import torch

from astrozoo.data.graphs import count_neighbours
from astrozoo.interfaces import FitContext, Split
from astrozoo.training import select_device
from astrozoo_halo_mass.models.cnn import CNN, HaloCNN, ImageEncoder
from astrozoo_halo_mass.models.common import regression_loss, torch_threads
from astrozoo_halo_mass.models.gnn import GNN, ClusterBatches, metis_clusters


def synthetic(n: int, size: int, box: float = 51.7, seed: int = 0) -> Split:
    """A clustered mock-like point cloud (Gaussian groups of σ = 1 Mpc), M*, targets, images."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, box, (max(1, n // 8), 3))
    pos = np.mod(centres[rng.integers(0, len(centres), n)] + rng.normal(0, 1.0, (n, 3)), box)
    log_mstar = rng.uniform(9.5, 11.5, n)
    y = 11 + (log_mstar - 9.5) + 0.05 * count_neighbours(pos, 3.0, box)
    images = rng.normal(size=(n, 3, size, size)).astype(np.float32)
    return Split("train", np.arange(n), y, {"columns": {"log_mstar": log_mstar}, "pos": pos, "box": box,
                                            "images": images})


CLOCK = time.perf_counter


def best_rate(fn, items: int, repeat: int) -> float:
    """Largest items per second over ``repeat`` timed calls of ``fn``."""
    rates = []
    for _ in range(repeat):
        start = CLOCK()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        rates.append(items / (CLOCK() - start))
    return max(rates)


def cnn_bench(train, val, device, args):
    params = dict(pretrained=False, epochs=args.cnn_epochs, batch_size=64, jitter=1)
    net = HaloCNN(ImageEncoder("resnet18", 100, pretrained=False), 100, 64).to(device)
    optimizer = torch.optim.AdamW(net.parameters(), lr=5e-4, weight_decay=1e-3)
    x = torch.from_numpy(train.data["images"][:64]).to(device)
    m = torch.as_tensor(train.data["columns"]["log_mstar"][:64]).float().to(device)
    y = torch.as_tensor(train.y[:64]).float().to(device)
    steps = int(np.ceil(len(train) / 64)) * args.cnn_epochs

    def bare():
        net.train()
        for _ in range(steps):
            optimizer.zero_grad(set_to_none=True)
            regression_loss(net(x, m), y).backward()
            optimizer.step()

    def end_to_end():
        CNN(**params).fit(train, val, FitContext(device=str(device), seed=0))

    bare()  # warm-up
    return best_rate(bare, steps * 64, args.repeat), best_rate(end_to_end, len(train) * args.cnn_epochs, args.repeat)


def gnn_bench(train, val, device, args):
    model = GNN(epochs=args.gnn_epochs)
    graph = model.graph(train)
    batches = list(ClusterBatches(graph, metis_clusters(graph.edge_index.numpy(), graph.num_nodes, 24))())
    batches = [b.to(device) for b in batches]
    net = model.build().to(device)
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-4)

    def bare():
        net.train()
        for _ in range(args.gnn_epochs):
            for b in batches:
                optimizer.zero_grad(set_to_none=True)
                regression_loss(net(b.mstar, b.edge_index, b.edge_attr), b.y).backward()
                optimizer.step()

    def end_to_end():
        GNN(epochs=args.gnn_epochs).fit(train, val, FitContext(device=str(device), seed=0))

    threads = model.params["threads"] if device.type == "cpu" else 0
    with torch_threads(threads):
        bare()
        rates = (best_rate(bare, len(train) * args.gnn_epochs, args.repeat),
                 best_rate(end_to_end, len(train) * args.gnn_epochs, args.repeat))
    return rates


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--n-train", type=int, default=1024)
    parser.add_argument("--cnn-epochs", type=int, default=1)
    parser.add_argument("--gnn-epochs", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=("cnn", "gnn"), default=None)
    parser.add_argument("--threads", type=int, default=0, help="CPU threads for the CNN (0: torch's default)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="cpu: time this process's CPU seconds (steadier on a machine shared with other jobs)")
    args = parser.parse_args()
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    if args.threads:
        torch.set_num_threads(args.threads)
    device = select_device(args.device)
    train = synthetic(args.n_train, args.image_size, seed=0)
    val = synthetic(16, args.image_size, box=12.0, seed=1)  # tiny: time training, not validation
    print(f"device {device}, torch threads {torch.get_num_threads()}, {args.n_train} training samples, "
          f"images {args.image_size} px, {args.clock} clock")
    print(f"{'model':5s} {'bare step [/s]':>15s} {'end to end [/s]':>16s} {'ratio':>6s}")
    for name, bench, unit in (("cnn", cnn_bench, "img"), ("gnn", gnn_bench, "node")):
        if args.only not in (None, name):
            continue
        bare, e2e = bench(train, val, device, args)
        print(f"{name:5s} {bare:11.1f} {unit:>4s} {e2e:11.1f} {unit:>4s} {e2e / bare:6.2f}")


if __name__ == "__main__":
    main()
