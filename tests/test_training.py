import numpy as np
import pytest
import torch

from astrozoo.interfaces import FitContext
from astrozoo.training import fit, select_device


def problem(seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(256, 4, generator=g)
    y = x @ torch.tensor([1.0, -2.0, 0.5, 0.0]) + 0.1 * torch.randn(256, generator=g)
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-2)
    batches = lambda: [(x[i:i + 64], y[i:i + 64]) for i in range(0, 192, 64)]  # noqa: E731
    loss = lambda b: torch.nn.functional.mse_loss(net(b[0]).squeeze(-1), b[1])  # noqa: E731
    validate = lambda: torch.nn.functional.mse_loss(net(x[192:]).squeeze(-1), y[192:])  # noqa: E731
    return net, opt, batches, loss, validate


class Log:
    def __init__(self):
        self.rows = []

    def log_metrics(self, metrics, step=None, timestamp=None):
        self.rows.append((step, metrics))


def test_fit_learns_logs_and_keeps_best(tmp_path):
    net, opt, batches, loss, validate = problem()
    log = Log()
    history = fit(net, opt, batches=batches, loss=loss, validate=validate, epochs=30,
                  context=FitContext(tracker=log, checkpoint_dir=tmp_path))
    assert history.val_loss[-1] < 0.5 * history.val_loss[0]
    assert [step for step, _ in log.rows] == list(range(30))
    with torch.no_grad():
        assert float(validate()) == pytest.approx(history.best_val, rel=1e-5)  # best weights restored
    assert (tmp_path / "best.pt").exists() and (tmp_path / "last.pt").exists()


def test_resume_continues_from_last_checkpoint(tmp_path):
    class Crash:
        def on_epoch_end(self, epoch, val, optimizer):
            if epoch == 4:
                raise KeyboardInterrupt

    net, opt, batches, loss, validate = problem()
    with pytest.raises(KeyboardInterrupt):
        fit(net, opt, batches=batches, loss=loss, validate=validate, epochs=10,
            context=FitContext(checkpoint_dir=tmp_path), callbacks=[Crash()])
    net, opt, batches, loss, validate = problem()
    log = Log()
    history = fit(net, opt, batches=batches, loss=loss, validate=validate, epochs=10,
                  context=FitContext(tracker=log, checkpoint_dir=tmp_path, resume=True))
    assert [step for step, _ in log.rows] == list(range(4, 10))  # epoch 4 was not saved: redo it
    assert len(history.val_loss) == 10

    # the same ten epochs without interruption give the same curve
    net, opt, batches, loss, validate = problem()
    straight = fit(net, opt, batches=batches, loss=loss, validate=validate, epochs=10,
                   context=FitContext(checkpoint_dir=tmp_path / "straight"))
    np.testing.assert_allclose(history.val_loss, straight.val_loss, rtol=1e-4)


def test_early_stopping(tmp_path):
    net, opt, batches, loss, _ = problem()
    values = iter([1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1])
    history = fit(net, opt, batches=batches, loss=loss, validate=lambda: next(values), epochs=8,
                  context=FitContext(), patience=3)
    assert history.stopped_early and history.best_epoch == 1 and len(history.val_loss) == 5


def test_device_selection():
    assert select_device("cpu").type == "cpu"
    assert select_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
