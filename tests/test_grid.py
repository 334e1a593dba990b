"""``astrozoo run --grid KEY=V1,V2,...``: child runs under one parent, the metrics against the value."""

import mlflow
import pytest
from test_interfaces import toy  # noqa: F401  (the toy task's fixture)

from astrozoo import runner
from astrozoo.errors import AstrozooError
from astrozoo.testing import run_cli


def test_grid_runs_each_value_under_one_parent_with_a_plot(toy, capsys):  # noqa: F811
    code, out, err = run_cli(["run", "toy", "--model", "slope", "--grid", "params.shrink=0.5,1,1.5"], capsys)
    assert code == 0, err
    assert "test metrics against params.shrink" in out
    runs = mlflow.search_runs(experiment_names=["toy"])
    parent = runs[runs["tags.mlflow.parentRunId"].isna()].iloc[0]
    children = runs[runs["tags.mlflow.parentRunId"] == parent.run_id]
    assert sorted(children["params.params.shrink"].astype(float)) == [0.5, 1.0, 1.5]
    assert parent["params.grid.key"] == "params.shrink" and parent["params.grid.values"] == "0.5,1,1.5"
    history = mlflow.MlflowClient().get_metric_history(parent.run_id, "test_rmse")
    rmse = [m.value for m in sorted(history, key=lambda m: m.step)]
    by_shrink = dict(zip(children["params.params.shrink"].astype(float), children["metrics.test_rmse"]))
    assert rmse == pytest.approx([by_shrink[0.5], by_shrink[1.0], by_shrink[1.5]])
    assert rmse[1] < rmse[0] and rmse[1] < rmse[2]  # the least-squares slope is best
    plots = [a.path for a in mlflow.artifacts.list_artifacts(run_id=parent.run_id, artifact_path="plots")]
    assert plots == ["plots/grid_params.shrink.png"]


@pytest.mark.slow
def test_grid_with_folds_nests_a_parent_per_value(toy):  # noqa: F811
    parent_id = runner.run_grid("toy", "slope", "params.shrink=1,2", folds=3, echo=lambda *_: None)
    runs = mlflow.search_runs(experiment_names=["toy"])
    middle = runs[runs["tags.mlflow.parentRunId"] == parent_id]
    assert len(middle) == 2
    assert all((runs["tags.mlflow.parentRunId"] == run_id).sum() == 3 for run_id in middle.run_id)


def test_bad_grids_fail_in_one_line_before_anything_runs(toy, capsys):  # noqa: F811
    for grid, message in (("shrink=1,2", "expected SECTION.KEY=V1,V2"), ("params.shrink=", "expected"),
                          ("params.shrink=1,1", "repeated"), ("params.nope=1,2", "nope")):
        code, _, err = run_cli(["run", "toy", "--model", "slope", "--grid", grid], capsys)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert mlflow.search_runs(experiment_names=["toy"]).empty
    code, _, err = run_cli(["run", "toy", "--model", "slope", "--grid", "params.shrink=1,2", "--resume"], capsys)
    assert code == 2 and "without --resume" in err
    with pytest.raises(AstrozooError, match="expected SECTION.KEY"):
        runner.parse_grid("x")  # the same error from the API
