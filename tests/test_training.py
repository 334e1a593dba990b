import os
import random

import numpy as np
import pytest
import torch

from astrozoo.errors import AstrozooError
from astrozoo.interfaces import FitContext
from astrozoo.training import fit, select_device


def problem(seed=0):
    """A small regression whose training draws on every random state the loop must keep: a
    generator for the batch order, torch's global one (dropout), numpy's and Python's (noise)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(256, 4, generator=g)
    y = x @ torch.tensor([1.0, -2.0, 0.5, 0.0]) + 0.1 * torch.randn(256, generator=g)
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Dropout(0.1), torch.nn.Linear(16, 1))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-2)
    order = torch.Generator().manual_seed(seed)

    def batches():
        idx = torch.randperm(192, generator=order)
        for i in range(0, 192, 64):
            j = idx[i:i + 64]
            noise = float(np.random.normal(0, 0.01)) + random.gauss(0, 0.01)
            yield x[j] + noise, y[j]

    loss = lambda b: torch.nn.functional.mse_loss(net(b[0]).squeeze(-1), b[1])  # noqa: E731
    validate = lambda: torch.nn.functional.mse_loss(net(x[192:]).squeeze(-1), y[192:])  # noqa: E731
    return net, opt, batches, loss, validate, [order]


class Log:
    def __init__(self):
        self.rows = []

    def log_metrics(self, metrics, step=None, timestamp=None):
        self.rows.append((step, timestamp, metrics))


def test_fit_learns_logs_and_keeps_best(tmp_path):
    net, opt, batches, loss, validate, generators = problem()
    log = Log()
    history = fit(net, opt, batches=batches, loss=loss, validate=validate, epochs=30,
                  context=FitContext(tracker=log, checkpoint_dir=tmp_path), generators=generators)
    assert history.val_loss[-1] < 0.5 * history.val_loss[0]
    assert [step for step, _, _ in log.rows] == list(range(30))
    net.eval()
    with torch.no_grad():
        assert float(validate()) == pytest.approx(history.best_val, rel=1e-5)  # best weights restored
    assert (tmp_path / "best.pt").exists() and (tmp_path / "last.pt").exists()


def test_metrics_are_logged_only_after_the_epochs_checkpoint(tmp_path):
    class Check(Log):
        def log_metrics(self, metrics, step=None, timestamp=None):
            state = torch.load(tmp_path / "last.pt", weights_only=True)
            assert state["epoch"] == step and state["logged"]["timestamp"] == timestamp
            super().log_metrics(metrics, step, timestamp)

    net, opt, batches, loss, validate, generators = problem()
    log = Check()
    fit(net, opt, batches=batches, loss=loss, validate=validate, epochs=5,
        context=FitContext(tracker=log, checkpoint_dir=tmp_path), generators=generators)
    assert [step for step, _, _ in log.rows] == list(range(5))


def test_resume_is_bit_identical_to_an_uninterrupted_run(tmp_path):
    class Crash:
        def on_epoch_end(self, epoch, val, optimizer):
            if epoch == 4:
                raise KeyboardInterrupt

    net, opt, batches, loss, validate, generators = problem()
    first = Log()
    with pytest.raises(KeyboardInterrupt):
        fit(net, opt, batches=batches, loss=loss, validate=validate, epochs=10,
            context=FitContext(tracker=first, checkpoint_dir=tmp_path), callbacks=[Crash()],
            generators=generators)
    # a new process: every random state starts elsewhere
    torch.manual_seed(123), np.random.seed(123), random.seed(123)
    net, opt, batches, loss, validate, generators = problem()
    generators[0].manual_seed(999)
    torch.manual_seed(321), np.random.seed(321), random.seed(321)
    log = Log()
    history = fit(net, opt, batches=batches, loss=loss, validate=validate, epochs=10,
                  context=FitContext(tracker=log, checkpoint_dir=tmp_path, resume=True), generators=generators)
    # epoch 3's metrics are logged again with their first timestamp (the store keeps one row);
    # epoch 4 was not checkpointed, so it is trained again
    assert [step for step, _, _ in log.rows] == list(range(3, 10))
    assert log.rows[0][1] == first.rows[3][1] and log.rows[0][2] == first.rows[3][2]
    resumed = [p.detach().clone() for p in net.parameters()]

    net, opt, batches, loss, validate, generators = problem()
    straight = fit(net, opt, batches=batches, loss=loss, validate=validate, epochs=10,
                   context=FitContext(checkpoint_dir=tmp_path / "straight"), generators=generators)
    assert history.val_loss == straight.val_loss and history.train_loss == straight.train_loss  # exactly
    assert all(torch.equal(a, b) for a, b in zip(resumed, net.parameters()))


def test_a_crafted_checkpoint_does_not_run_code(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    net, opt, batches, loss, validate, generators = problem()
    torch.save({"module": Evil(), "epoch": 0}, tmp_path / "last.pt")
    with pytest.raises(AstrozooError, match="not a plain state dict"):
        fit(net, opt, batches=batches, loss=loss, validate=validate, epochs=3,
            context=FitContext(checkpoint_dir=tmp_path, resume=True), generators=generators)
    assert not marker.exists()


def test_early_stopping(tmp_path):
    net, opt, batches, loss, _, _ = problem()
    values = iter([1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1])
    history = fit(net, opt, batches=batches, loss=loss, validate=lambda: next(values), epochs=8,
                  context=FitContext(), patience=3)
    assert history.stopped_early and history.best_epoch == 1 and len(history.val_loss) == 5


def test_device_selection():
    assert select_device("cpu").type == "cpu"
    assert select_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
