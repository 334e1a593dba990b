"""Tests for the halo-mass neural models (gnn, cnn, cnn-gnn) on small synthetic splits."""

import numpy as np
import pytest
import torch

from astrozoo.data.graphs import count_neighbours
from astrozoo.interfaces import FitContext, Model, Split
from astrozoo.testing import one_thread  # noqa: F401  (autouse)
from astrozoo_halo_mass.models.cnn import CNN
from astrozoo_halo_mass.models.cnn_gnn import CNNGNN, UnfreezeOnRises
from astrozoo_halo_mass.models.gnn import GNN, ClusterBatches, metis_clusters

BOX = 16.0
TINY_CNN = dict(pretrained=False, epochs=2, jitter=1)


def synthetic(name="train", n=60, seed=0, size=16) -> Split:
    """Galaxies in a periodic box whose 'halo mass' grows with M* and with the neighbour count;
    the images carry a little of the residual in their mean brightness."""
    rng = np.random.default_rng(seed)
    pos = rng.uniform(0, BOX, (n, 3))
    log_mstar = rng.uniform(9.5, 11.5, n)
    y = 11.0 + (log_mstar - 9.5) + 0.15 * count_neighbours(pos, 3.0, BOX)
    images = rng.normal(size=(n, 3, size, size)).astype(np.float32) + (y - y.mean())[:, None, None, None].astype(np.float32)
    return Split(name, ids=np.arange(n), y=y, data={"columns": {"log_mstar": log_mstar}, "pos": pos,
                                                    "box": BOX, "radius": 3.0, "images": lambda: images})



@pytest.fixture(scope="module")
def splits():
    return synthetic("train", 60, 0), synthetic("val", 30, 1)


def with_context(split: Split, n=40, seed=5) -> Split:
    """``split`` with ``n`` other galaxies of the same box as context (inputs, and host ids that are truth)."""
    other = synthetic("other", n, seed)
    return split.with_data(context={"pos": other.data["pos"], "log_mstar": other.data["columns"]["log_mstar"],
                                    "host_id": np.arange(n)})


def test_shapes(splits):
    train, _ = splits
    for loss, n_out in (("mse", 1), ("gaussian_nll", 2)):
        model = GNN(loss=loss, aggr="max,sum")
        net = model.build()
        g = model.graph(train)
        assert g.edge_attr.shape == (g.edge_index.shape[1], 2)  # d / radius, log10 d / radius
        assert net(g.mstar, g.edge_index, g.edge_attr).shape == (len(train), n_out)
        assert net.embed(g.mstar, g.edge_index, g.edge_attr).shape == (len(train), 4 * 16 * 2)
    g = GNN(cosines=True).graph(train)
    assert g.edge_attr.shape[1] == 4 and torch.all(g.edge_attr[:, 0] < 1) and torch.all(g.edge_attr[:, 1] < 0)
    g = GNN(log_distance=False, self_loops=True).graph(train)
    assert g.edge_attr.shape[1] == 1 and int((g.edge_attr[:, 0] == 0).sum()) == len(train)


def test_metis_partition_covers_every_node_once(splits):
    g = GNN().graph(splits[0])
    clusters = metis_clusters(g.edge_index.numpy(), g.num_nodes, 6)
    assert len(clusters) == 6
    assert np.array_equal(np.sort(np.concatenate(clusters)), np.arange(g.num_nodes))
    batches = ClusterBatches(g, clusters, per_batch=2)
    seen = torch.cat([b.node for b in batches()])
    assert len(batches) == 3 and torch.equal(seen.sort().values, torch.arange(g.num_nodes))
    for b in batches():  # edges stay inside the batch and keep their features
        assert b.edge_index.max() < b.num_nodes
        assert b.edge_attr.shape[0] == b.edge_index.shape[1]


def test_gnn_overfits_a_tiny_problem(splits):
    train, _ = splits
    torch.manual_seed(0)
    model = GNN(clusters=1, epochs=300, lr=3e-3, weight_decay=0.0).fit(train, train, FitContext(seed=0))
    mse = np.mean((model.predict(train) - train.y) ** 2)
    assert mse < 0.05 * np.var(train.y), (mse, np.var(train.y))
    assert model.history.best_val < model.history.val_loss[0]


def test_schedule_unfreezes_once_at_the_fifth_rise():
    weight = torch.nn.Parameter(torch.zeros(2), requires_grad=False)
    optimizer = torch.optim.AdamW([weight], lr=1e-3)
    schedule = UnfreezeOnRises([weight], threshold=0.005, rises=5, factor=5.0)
    # minimum 1.0; 1.004 is no rise (within 0.005); 0.99 resets; then five rises
    for epoch, val in enumerate([1.0, 1.1, 1.2, 1.004, 0.99, 1.1, 1.1, 1.0, 1.1]):
        schedule.on_epoch_end(epoch, val, optimizer)
    assert schedule.unfrozen_at is None and not weight.requires_grad
    schedule.on_epoch_end(9, 1.2, optimizer)  # the fifth rise above 0.99 + 0.005
    assert schedule.unfrozen_at == 9 and weight.requires_grad
    assert optimizer.param_groups[0]["lr"] == pytest.approx(2e-4)
    for epoch in range(10, 20):
        schedule.on_epoch_end(epoch, 2.0, optimizer)
    assert schedule.unfrozen_at == 9 and optimizer.param_groups[0]["lr"] == pytest.approx(2e-4)
    # resuming restores the unfrozen state
    fresh = torch.nn.Parameter(torch.zeros(2), requires_grad=False)
    resumed = UnfreezeOnRises([fresh])
    resumed.load_state_dict(schedule.state_dict())
    assert fresh.requires_grad and resumed.unfrozen_at == 9


def test_save_load_round_trip(splits, tmp_path):
    train, val = splits
    gnn = GNN(epochs=3, clusters=3).fit(train, val, FitContext(seed=0))
    path = gnn.save(tmp_path / "gnn.pkl")
    assert np.allclose(Model.load(path).predict(val), gnn.predict(val))
    cnn = CNN(batch_size=16, **TINY_CNN).fit(train, val, FitContext(seed=0))
    assert cnn.predict(val).shape == (len(val),)
    assert np.allclose(Model.load(cnn.save(tmp_path / "cnn.pkl")).predict(val), cnn.predict(val), atol=1e-5)
    both = CNNGNN(gnn_checkpoint=str(path), clusters=3, **TINY_CNN).fit(train, val, FitContext(seed=0))
    assert len(both.history.val_loss) == 2 and both.unfrozen_at is None
    assert np.allclose(Model.load(both.save(tmp_path / "both.pkl")).predict(val), both.predict(val), atol=1e-5)


def test_cnn_gnn_starts_from_the_gnn(splits):
    """With zero learning rate the combined model predicts exactly what its GNN predicts (context nodes,
    which have no image, included)."""
    train, val = with_context(splits[0]), with_context(splits[1], seed=6)
    gnn = GNN(epochs=3, clusters=3).fit(train, val, FitContext(seed=0))
    both = CNNGNN(gnn_checkpoint="", gnn_epochs=3, clusters=3, lr=0.0, weight_decay=0.0, **TINY_CNN)
    both.pretrained_gnn = lambda *args: gnn
    expected = gnn.predict(val)
    both.fit(train, val, FitContext(seed=0))
    assert np.allclose(both.predict(val), expected, atol=1e-5)


def test_gaussian_nll_gives_positive_sigma(splits):
    train, val = splits
    model = GNN(loss="gaussian_nll", epochs=5, clusters=3).fit(train, val, FitContext(seed=0))
    sigma = model.predict_std(val)
    assert sigma.shape == (len(val),) and np.all(np.isfinite(sigma)) and np.all(sigma > 0)
    assert GNN(epochs=1).fit(train, val, FitContext(seed=0)).predict_std(val) is None


def test_context_galaxies_pass_messages_but_are_never_scored(splits):
    train, val = with_context(splits[0]), with_context(splits[1], seed=6)
    g = GNN().graph(train)
    n = len(train)
    assert g.num_nodes > n and torch.equal(g.node[:n], torch.arange(n)) and bool(g.target[:n].all())
    assert not g.target[n:].any() and torch.all(g.node[n:] == -1) and torch.isnan(g.y[n:]).all()
    assert g.edge_index.max() < g.num_nodes
    model = GNN(epochs=3, clusters=3).fit(train, val, FitContext(seed=0))
    seen = val.for_prediction(("log_mhalo", "host_id"))  # as `astrozoo run` hands it over: truth raises
    pred = model.predict(seen)
    assert pred.shape == (len(val),) and np.all(np.isfinite(pred))
    assert not np.allclose(pred, model.predict(splits[1]))  # the context changed the environments
    model.context = False
    assert np.allclose(model.predict(seen), model.predict(splits[1]))


def test_halo_batches_give_each_galaxy_its_whole_neighbourhood(splits):
    """With ``halo``, a cluster batch's target galaxies get exactly their outputs on the whole graph."""
    model = GNN(clusters=4)
    model.net = model.build().eval()
    g = model.graph(with_context(splits[0]))
    full = model.net(g.mstar, g.edge_index, g.edge_attr)
    seen = []
    for b in model.batches(g, seed=0)():
        out = model.net(b.mstar, b.edge_index, b.edge_attr)
        assert torch.allclose(out[b.target], full[b.node[b.target]], atol=1e-5)
        seen.append(b.node[b.target])
    assert torch.equal(torch.cat(seen).sort().values, torch.arange(len(splits[0])))


def test_metis_partitions_change_with_the_seed(splits):
    g = GNN(self_loops=False).graph(splits[0])
    edges = g.edge_index.numpy()
    same = [sorted(map(tuple, metis_clusters(edges, g.num_nodes, 4, seed))) for seed in (0, 0, 1)]
    assert same[0] == same[1] and same[0] != same[2]


def test_isolated_galaxies_get_a_message_or_a_learned_vector():
    lone = Split("lone", ids=np.arange(2), y=np.array([12.0, 12.5]),
                 data={"columns": {"log_mstar": np.array([10.0, 10.5])}, "pos": np.array([[1.0, 1, 1], [8, 8, 8]]),
                       "box": BOX})
    torch.manual_seed(0)
    for loops in (False, True):
        model = GNN(self_loops=loops)
        net = model.build()
        g = model.graph(lone)
        h = net.embed(g.mstar, g.edge_index, g.edge_attr)
        assert bool((h == 0).all()) != loops
    model = GNN(self_loops=False, empty=True)  # the alternative: a learned vector for galaxies without neighbours
    net = model.build()
    with torch.no_grad():
        net.empty[0].fill_(0.5)
    g = model.graph(lone.with_data(pos=np.array([[1.0, 1, 1], [1.5, 1, 1]])))
    assert bool((net.embed(g.mstar, g.edge_index, g.edge_attr) != 0.5).all())  # neighbours: no empty vector
    g = model.graph(lone)
    assert bool((net.embed(g.mstar, g.edge_index, g.edge_attr) == 0.5).all())


def test_the_cnns_read_a_batch_at_a_time_with_the_same_results():
    """Images as a lazy column (refusing to be read whole): fit and predict read at most a batch or an
    evaluation chunk (128) at a time, and give the same numbers as the images in memory."""
    from astrozoo.testing import RecordingRows
    from astrozoo.training import _shard
    from astrozoo_halo_mass.models.cnn import image_batches

    train, val = synthetic("train", 200, 0), synthetic("val", 150, 1)

    def lazy(split):
        rows = RecordingRows(split.data["images"]())
        return split.with_data(images=lambda: rows), rows

    (lazy_train, train_rows), (lazy_val, val_rows) = lazy(train), lazy(val)
    params = dict(batch_size=16, **(TINY_CNN | {"epochs": 1}))
    torch.manual_seed(0)  # the network's initial weights (the runner seeds every run)
    in_memory = CNN(**params).fit(train, val, FitContext(seed=0))
    torch.manual_seed(0)
    streamed = CNN(**params).fit(lazy_train, lazy_val, FitContext(seed=0))
    assert max(train_rows.reads) <= 64 and max(val_rows.reads) <= 128  # standardiser blocks, batches; chunks
    assert np.array_equal(streamed.predict(lazy_val), in_memory.predict(val))
    assert max(val_rows.reads) <= 128

    gnn = GNN(epochs=1, clusters=8).fit(train, val, FitContext(seed=0))
    both = CNNGNN(gnn_checkpoint="", clusters=8, **TINY_CNN | {"epochs": 1})
    both.pretrained_gnn = lambda *args: gnn
    train_rows.reads.clear()
    both.fit(lazy_train, lazy_val, FitContext(seed=0))
    assert 0 < max(train_rows.reads) <= 64 and max(val_rows.reads) <= 128
    assert both.predict(lazy_val).shape == (150,)

    # under W processes each rank reads only its own batches (the loop shards before moving them)
    train_rows.reads.clear()
    p = CNN(**params).params
    batches = list(_shard(image_batches(train_rows, p, torch.Generator().manual_seed(0), "cpu"), 1, 2))
    assert len(batches) == 6 and train_rows.reads == []  # 13 batches: rank 1 of 2 trains on 1, 3, ..., 11
    assert all(b[0].to("cpu").shape == (16, 3, 16, 16) for b in batches) and train_rows.reads == [16] * 6
