"""Wall time, CPU time and peak memory of every halo-mass stage on the TNG50-, TNG100- and
TNG300-sized mocks, and how each grows with the number of galaxies.

    python benchmarks/scaling_halo_mass.py [--boxes tng50 tng100 tng300] [--sample 16] [--epochs 2]
                                           [--combined-seconds 300] [--out results.json]

Each stage runs in a child process of its own (``os.wait4`` gives its CPU time, children
included, and its peak RSS), in a fresh cache under a temporary folder:

- generate: the mock catalogue (``MockTNG*.catalogue_file()``), written to the cache;
- graph: the periodic 3 Mpc radius graph and Δ_G (``radius_graph``, ``count_neighbours``);
- render: 224 px gri cutouts of ``--sample`` galaxies (seeded choice) streamed into a chunked
  HDF5 file, one process: a **sub-sample**; the CPU time per galaxy (measured around the loop)
  times N plus the stage's fixed cost (imports, reading, the projected KD-tree) is the estimate
  for every galaxy;
- morphology: statmorph without the Sérsic fit on ``--sample`` galaxies, each rendered by the
  measuring process (what the dataset does), one process: a **sub-sample**, scaled likewise;
- train-gnn / predict-gnn: ``astrozoo run halo-mass --model gnn --dataset mock-X --set
  params.epochs=E`` (loading, Δ_G, split, training, scoring) and ``astrozoo predict`` of that run on
  the box's whole catalogue (galaxies per second);
- train-forest / predict-forest: the combined forest's estimator (100 trees) fitted on all N
  galaxies and predicting all N — **cost only**: the three morphology columns are random numbers,
  since measuring them for every galaxy is the morphology stage above;
- with ``--combined-seconds T`` (TNG300 only): ``astrozoo run halo-mass --model combined --dataset
  mock-tng300`` is started and stopped after T seconds, sampling the RSS of its process tree: peak
  memory of the real command, and how many morphology chunks it had finished (kept for a resume).

The growth exponent of a stage is the slope of log(CPU time) against log(N) between the smallest
and the largest box (1 = linear).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BOX_CLASS = {"tng50": "MockTNG50", "tng100": "MockTNG100", "tng300": "MockTNG300"}


def stage(name: str, box: str, sample: int, epochs: int) -> dict:
    """Run one stage in this (child) process; returns what it wants to report."""
    from astrozoo_halo_mass import dataset as ds

    data = getattr(ds, BOX_CLASS[box])()
    if name == "generate":
        return {"file": str(data.catalogue_file())}
    columns, attrs = data.catalogue
    n, box_mpc = len(columns["galaxy_id"]), float(attrs["box_size_mpc"])
    ids = np.sort(np.random.default_rng(1).choice(columns["galaxy_id"], min(sample, n), replace=False))
    if name == "graph":
        from astrozoo.data.graphs import count_neighbours, radius_graph

        edges = radius_graph(columns["pos"], 3.0, box=box_mpc)
        count_neighbours(columns["pos"], 3.0, box=box_mpc)
        return {"n": n, "edges": int(np.shape(edges[0])[-1])}
    if name == "render":
        from astrozoo.data import store
        from astrozoo_halo_mass.render import iter_cutouts

        start = time.process_time()
        images = iter_cutouts(columns, box_mpc, ids, workers=1, keep=None)
        store.write(Path(tempfile.mkdtemp()) / "cutouts.h5",
                    {"images": {"gri": store.Rows((len(ids), 3, 224, 224), "float32", ([im] for im in images))}})
        return {"n": n, "sample": len(ids), "cpu_s_per_galaxy": (time.process_time() - start) / len(ids)}
    if name == "morphology":
        from astrozoo_halo_mass.morphology import measure_rendered

        measure_rendered(columns, box_mpc, ids[:1], seed=0, sersic=False, workers=1)  # imports
        start = time.process_time()
        out = measure_rendered(columns, box_mpc, ids, seed=0, sersic=False, workers=1)
        return {"n": n, "sample": len(ids), "cpu_s_per_galaxy": (time.process_time() - start) / len(ids),
                "flags": np.bincount(out["flag"], minlength=5).tolist()}
    if name in ("train-forest", "predict-forest"):
        import pickle

        from sklearn.ensemble import RandomForestRegressor

        rng = np.random.default_rng(0)
        x = np.column_stack([columns["log_mstar"], data.table["delta_g"], rng.normal(size=(n, 3))])
        saved = Path(os.environ["SCALING_TMP"]) / f"forest-{box}.pkl"
        if name == "train-forest":
            forest = RandomForestRegressor(n_estimators=100, random_state=0).fit(x, columns["log_mhalo"])
            saved.write_bytes(pickle.dumps(forest))
        else:
            forest = pickle.loads(saved.read_bytes())
            start = time.perf_counter()
            forest.predict(x)
            return {"n": n, "galaxies_per_s_predict_only": n / (time.perf_counter() - start)}
        return {"n": n}
    raise SystemExit(f"unknown stage {name}")


def run_child(argv: list[str], env: dict) -> tuple[dict, str]:
    """Wall, CPU (user + sys, children included) and peak RSS of one child process."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"{' '.join(argv)} failed ({child.returncode}):\n{output[-3000:]}")
    return {"wall_s": time.perf_counter() - start, "cpu_s": usage.ru_utime + usage.ru_stime,
            "peak_rss_mb": usage.ru_maxrss / 1024}, output


def combined_run(seconds: float, env: dict) -> dict:
    """Start the real tng300 combined run, sample its process tree's RSS, stop it after ``seconds``."""
    import psutil

    argv = [sys.executable, "-m", "astrozoo", "run", "halo-mass", "--model", "combined", "--dataset", "mock-tng300"]
    env = {k: v for k, v in env.items() if k != "ASTROZOO_WORKERS"}  # as a user runs it: every core
    start = time.perf_counter()
    child = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    root, peak_tree, peak_one = psutil.Process(child.pid), 0, 0
    while child.poll() is None and time.perf_counter() - start < seconds:
        try:
            rss = [p.memory_info().rss for p in [root] + root.children(recursive=True)]
        except psutil.Error:
            rss = []
        peak_tree, peak_one = max(peak_tree, sum(rss)), max([peak_one] + rss)
        time.sleep(0.5)
    finished = child.poll() is not None
    for p in root.children(recursive=True) + [root]:
        try:
            p.kill()
        except psutil.Error:
            pass
    child.wait()
    cache = Path(env["ASTROZOO_CACHE"]) / "halo-mass"
    kept = list(cache.glob(".*morphology*.work/*/chunk-*.npz"))
    return {"seconds": round(time.perf_counter() - start, 1), "finished": finished,
            "peak_rss_tree_mb": peak_tree / 2**20, "peak_rss_largest_process_mb": peak_one / 2**20,
            "morphology_chunks_kept": len(kept), "galaxies_measured": 8 * len(kept)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boxes", nargs="+", default=["tng50", "tng100", "tng300"])
    parser.add_argument("--sample", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--combined-seconds", type=float, default=0)
    parser.add_argument("--out", default="")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--box", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        print("RESULT " + json.dumps(stage(args.stage, args.box, args.sample, args.epochs)))
        return

    tmp = Path(tempfile.mkdtemp(prefix="astrozoo-scaling-"))
    env = {**os.environ, "ASTROZOO_CACHE": str(tmp / "cache"), "SCALING_TMP": str(tmp),
           "MLFLOW_TRACKING_URI": f"sqlite:///{tmp}/mlflow.db", "ASTROZOO_WORKERS": "1"}
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average {os.getloadavg()}; {tmp}")
    results = {}
    for box in args.boxes:
        row, n = {}, None
        for name in ("generate", "graph", "render", "morphology", "train-gnn", "predict-gnn",
                     "train-forest", "predict-forest"):
            if name == "train-gnn":
                argv = [sys.executable, "-m", "astrozoo", "run", "halo-mass", "--model", "gnn", "--dataset",
                        f"mock-{box}", "--set", f"params.epochs={args.epochs}"]
            elif name == "predict-gnn":
                import mlflow

                mlflow.set_tracking_uri(env["MLFLOW_TRACKING_URI"])
                run = mlflow.search_runs(search_all_experiments=True, order_by=["start_time DESC"],
                                         max_results=1).iloc[0]
                argv = [sys.executable, "-m", "astrozoo", "predict", "halo-mass", "--model-uri",
                        f"runs:/{run.run_id}", "--input", row["generate"]["file"], "-o", str(tmp / f"{box}.csv")]
            else:
                argv = [sys.executable, __file__, "--stage", name, "--box", box, "--sample", str(args.sample),
                        "--epochs", str(args.epochs)]
            usage, output = run_child(argv, env)
            extra = next((json.loads(line[7:]) for line in output.splitlines() if line.startswith("RESULT ")), {})
            row[name] = {**usage, **extra}
            n = extra.get("n", n)
            if name == "predict-gnn":
                extra["galaxies_per_s"] = row[name]["galaxies_per_s"] = n / usage["wall_s"]
            print(f"{box:7s} {name:15s} wall {usage['wall_s']:8.1f} s  CPU {usage['cpu_s']:8.1f} s  "
                  f"peak RSS {usage['peak_rss_mb']:7.0f} MB  {extra}", flush=True)
        for name in ("render", "morphology"):  # the child's fixed cost (imports, tree) + every galaxy
            fixed = row[name]["cpu_s"] - row[name]["cpu_s_per_galaxy"] * row[name]["sample"]
            row[name]["cpu_s_all_galaxies"] = fixed + row[name]["cpu_s_per_galaxy"] * n
        row["n"] = n
        results[box] = row
    if len(results) > 1:
        small, large = results[args.boxes[0]], results[args.boxes[-1]]
        for name in small:
            if isinstance(small[name], dict) and "cpu_s" in small[name]:
                per = "cpu_s_all_galaxies" if name in ("render", "morphology") else "cpu_s"
                slope = np.log(large[name][per] / small[name][per]) / np.log(large["n"] / small["n"])
                print(f"growth exponent {name:15s} {slope:5.2f}" + ("  (sub-sample, scaled to every galaxy)"
                                                                     if per != "cpu_s" else ""))
                results.setdefault("exponents", {})[name] = slope
    if args.combined_seconds and "tng300" in args.boxes:
        results["combined_tng300"] = combined_run(args.combined_seconds, env)
        print("combined tng300 run:", results["combined_tng300"])
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))
    print(f"load average at the end {os.getloadavg()}")


if __name__ == "__main__":
    main()
