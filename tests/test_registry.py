from importlib.metadata import EntryPoint

import pytest

from astrozoo import plugins
from astrozoo.errors import AstrozooError
from astrozoo.registry import get_registry


def test_unknown_names_suggest_near_matches():
    reg = get_registry()
    with pytest.raises(AstrozooError, match="did you mean 'toy'"):
        reg.task("tyo")
    with pytest.raises(AstrozooError, match="did you mean 'line'"):
        reg.model("toy", "lin")
    with pytest.raises(AstrozooError, match="did you mean 'rmse'"):
        reg.metric("rmsee")


def test_wildcard_listing():
    found = get_registry().list_names("*forest*")
    assert found == {"tasks": [], "models": [], "datasets": [], "metrics": []}
    found = get_registry().list_names("toy")
    assert "toy/line" in found["models"] and "toy/toy-data" in found["datasets"]
    assert get_registry().list_names("toy/*-wide")["datasets"] == ["toy/toy-wide"]
    metrics = get_registry().list_names("r*")["metrics"]
    assert {"r2", "recall", "rmse", "roc_auc"} <= set(metrics) and all(m.startswith("r") for m in metrics)
    assert metrics == sorted(metrics)


def test_broken_plugin_is_reported_and_isolated(fresh_registry, monkeypatch, capsys):
    real = plugins.entry_points

    def fake(group):
        eps = list(real(group=group))
        return eps + [EntryPoint("broken-one", "astrozoo_no_such_module_xyz", group)]

    monkeypatch.setattr(plugins, "entry_points", fake)
    monkeypatch.setenv("ASTROZOO_PLUGINS", "toy,broken-one")
    reg = get_registry()
    assert "broken-one" in plugins.BROKEN
    assert "plugin 'broken-one' failed to load" in capsys.readouterr().err
    assert "toy" in reg.tasks  # the others still load
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
    assert ("toy", "line") in reg.models


def test_astrozoo_plugins_env_restricts(fresh_registry, monkeypatch):
    monkeypatch.setenv("ASTROZOO_PLUGINS", "")
    reg = get_registry()
    assert reg.tasks == {} and "rmse" in reg.metrics  # built-in metrics always load


def test_a_broken_card_is_a_problem_and_the_others_still_load(fresh_registry, monkeypatch, tmp_path):
    folder = tmp_path / "toy"
    folder.mkdir()
    (folder / "broken.toml").write_text('task = "toy"\nmodel = [\n')
    (folder / "cubic.toml").write_text('task = "toy"\nmodel = "cubic"\nbase = "line"\n[params]\ndegree = 3\n')
    monkeypatch.setenv("ASTROZOO_REGISTRY", str(tmp_path))
    registry = get_registry()
    assert registry.model("toy", "cubic") is registry.model("toy", "line")
    assert registry.resolve("toy", "cubic").params["degree"] == 3
    assert [p for p in registry.problems if "broken.toml" in p]
    assert registry.problems_about("toy", "broken") and not registry.problems_about("toy", "cubic")
