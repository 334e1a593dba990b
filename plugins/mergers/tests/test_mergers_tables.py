"""The paper's Table 2 and the per-redshift table that ``astrozoo compare mergers`` appends."""

from astrozoo_mergers.tables import render


def _result(mean, half, n):
    return {"value": mean, "mean": mean, "std": half / 2, "low": mean - half, "high": mean + half, "n": n,
            "n_resamples": 1000}


def test_table2_puts_the_papers_numbers_beside_ours():
    ours = {"cnn-raw": {"pre_merger_accuracy": (0.81, None), "post_merger_accuracy": (0.55, None)},
            "oracle": {"pre_merger_accuracy": (0.95, None)}}
    paper = {"cnn-raw": {"pre_merger_accuracy": 0.793, "post_merger_accuracy": 0.588},
             "cnn-model": {"pre_merger_accuracy": 0.766}}
    bins = {"cnn-raw": [{"stage": {"pre": _result(0.8, 0.05, 60), "post": _result(0.5, 0.1, 20)},
                         "redshift": {"edges": [0.1, 0.31, 0.52, 0.76, 1.0],
                                      "accuracy": [_result(0.9, 0.04, 50), _result(0.8, 0.05, 40),
                                                   _result(0.7, 0.06, 30), _result(0.6, 0.07, 20)]}}]}
    text = render(ours, paper, bins)
    lines = text.splitlines()
    raw = next(line for line in lines if line.startswith("| cnn-raw (CNN1)"))
    # bootstrap mean ± (upper bound − mean), the paper's Table 2 in parentheses
    assert "80.0 ± 5.0% (79.3 ± 0.6%)" in raw and "50.0 ± 10.0% (58.8 ± 1.5%)" in raw and "60/20/—/—" in raw
    # a paper model without runs keeps its row; a run without bootstrap tables shows its logged value
    assert any(line.startswith("| cnn-model (CNN2) | — (76.6 ± 0.6%)") for line in lines)
    assert any(line.startswith("| oracle | 95.0% |") for line in lines)
    assert [line.split(" |")[0] for line in lines if line.startswith("| cnn-") or line.startswith("| oracle")][:3] == \
        ["| cnn-raw (CNN1)", "| cnn-model (CNN2)", "| oracle"]
    assert "| cnn-raw | 90.0 ± 4.0% (n=50) | 80.0 ± 5.0% (n=40) |" in text and "0.76 ≤ z < 1.00" in text


def test_no_runs_gives_the_papers_rows_only():
    text = render({}, {"cnn-raw": {"pre_merger_accuracy": 0.793}}, {})
    assert "| cnn-raw (CNN1) | — (79.3 ± 0.6%) | — | — | — |" in text and "per redshift" not in text
