"""Every cluster-search card resolves to a registered model that accepts its params; one
end-to-end run through the CLI's runner (slow)."""

import pytest

from astrozoo import recipes, registry
from astrozoo.registry import get_registry

PAPER_TABLE = {"vit_l16", "spinalnet_vgg", "spinalnet_resnet", "resnet18", "efficientnet", "densenet", "cnn_mlp",
               "alexnet_vgg", "baseline"}


@pytest.fixture
def loaded(monkeypatch):
    monkeypatch.setenv("ASTROZOO_PLUGINS", "cluster-search")
    registry.reset()
    yield get_registry()
    registry.reset()


def test_cards_resolve_to_models_that_take_their_params(loaded):
    cards = {c.model: c for c in recipes.all_recipes("cluster-search")}
    assert PAPER_TABLE <= set(cards) and {"mobilenet", "convnext_atto"} <= set(cards)
    for name, card in cards.items():
        cls = loaded.model("cluster-search", name)  # card-only models resolve through `base`
        for profile in ("quick", "paper"):
            recipe = recipes.resolve("cluster-search", name, profile)
            model = cls(**recipe.params)
            assert model.params.keys() >= recipe.params.keys()
            loaded.dataset("cluster-search", recipe.dataset)
        if name in PAPER_TABLE:
            assert set(card.paper["metrics"]) == {"accuracy_ir", "accuracy_microwave"}
    assert cards["convnext_atto"].base == "backbone" and cards["convnext_atto"].params["backbone"] == "convnext_atto"


@pytest.mark.slow
def test_quick_run_trains_with_the_chosen_learning_rate(loaded, tmp_path, monkeypatch):
    """cnn_mlp on the microwave mock through the runner: the range test's lr is logged and the
    validation loss falls."""
    import mlflow

    from astrozoo import runner

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("ASTROZOO_CACHE", str(tmp_path / "cache"))
    result, run_id = runner.run("cluster-search", "cnn_mlp", dataset="mock-microwave", echo=lambda *a: None,
                                overrides=["data.n_per_class=150", "params.epochs=3"])
    run = mlflow.get_run(run_id)
    assert run.data.metrics["chosen_lr"] > 0
    assert result.history["val_loss"][-1] < result.history["val_loss"][0]
    assert result.metrics["accuracy"] > 0.4
