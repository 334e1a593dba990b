from importlib.metadata import EntryPoint

import pytest

from astrozoo import plugins
from astrozoo.errors import AstrozooError
from astrozoo.registry import get_registry


def test_unknown_names_suggest_near_matches():
    reg = get_registry()
    with pytest.raises(AstrozooError, match="did you mean 'halo-mass'"):
        reg.task("halo-mas")
    with pytest.raises(AstrozooError, match="did you mean 'combined'"):
        reg.model("halo-mass", "combine")
    with pytest.raises(AstrozooError, match="did you mean 'rmse'"):
        reg.metric("rmsee")


def test_wildcard_listing():
    found = get_registry().list_names("*forest*")
    assert found == {"tasks": [], "models": [], "datasets": [], "metrics": []}
    found = get_registry().list_names("halo-mass")
    assert "halo-mass/simple" in found["models"] and "halo-mass/mock-tng50" in found["datasets"]
    metrics = get_registry().list_names("r*")["metrics"]
    assert {"r2", "recall", "rmse", "roc_auc"} <= set(metrics) and all(m.startswith("r") for m in metrics)
    assert metrics == sorted(metrics)


def test_broken_plugin_is_reported_and_isolated(fresh_registry, monkeypatch, capsys):
    real = plugins.entry_points

    def fake(group):
        eps = list(real(group=group))
        return eps + [EntryPoint("broken-one", "astrozoo_no_such_module_xyz", group)]

    monkeypatch.setattr(plugins, "entry_points", fake)
    reg = get_registry()
    assert "broken-one" in plugins.BROKEN
    assert "plugin 'broken-one' failed to load" in capsys.readouterr().err
    assert "halo-mass" in reg.tasks  # the others still load
    assert any(r["name"] == "broken-one" and r["status"].startswith("BROKEN") for r in plugins.plugin_table())


def test_plugin_failing_inside_a_hook_is_isolated(fresh_registry, capsys):
    class Bad:
        @staticmethod
        @plugins.hookspecs.hookimpl
        def register_models(register):
            raise RuntimeError("boom")

    pm = plugins.get_plugin_manager()
    pm.register(Bad, name="bad-hook")
    reg = get_registry()
    assert "plugin 'bad-hook' failed in register_models (RuntimeError: boom)" in capsys.readouterr().err
    assert ("halo-mass", "simple") in reg.models


def test_astrozoo_plugins_env_restricts(fresh_registry, monkeypatch):
    monkeypatch.setenv("ASTROZOO_PLUGINS", "")
    reg = get_registry()
    assert reg.tasks == {} and "rmse" in reg.metrics  # built-in metrics always load


def test_a_broken_card_is_a_problem_and_the_others_still_load(fresh_registry, monkeypatch, tmp_path):
    from astrozoo.registry import get_registry

    folder = tmp_path / "halo-mass"
    folder.mkdir()
    (folder / "broken.toml").write_text('task = "halo-mass"\nmodel = [\n')
    (folder / "rf-deep.toml").write_text('task = "halo-mass"\nmodel = "rf-deep"\nbase = "simple"\n'
                                         '[params]\nn_estimators = 300\n')
    monkeypatch.setenv("ASTROZOO_REGISTRY", str(tmp_path))
    registry = get_registry()
    assert registry.model("halo-mass", "rf-deep") is registry.model("halo-mass", "simple")
    assert [p for p in registry.problems if "broken.toml" in p]
    assert registry.problems_about("halo-mass", "broken") and not registry.problems_about("halo-mass", "rf-deep")
