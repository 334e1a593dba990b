#!/usr/bin/env bash
# One short check for when a GPU is lent (a few minutes of GPU time):
#   1. throughput of the training loop (astrozoo.training.fit on Lightning Fabric, bf16-mixed)
#      against the bare model step (forward, backward, AdamW step under bf16 autocast on batches
#      already on the GPU), for the halo-mass CNN and GNN (benchmarks/throughput_halo_mass.py):
#      the ratio loop / bare must be at least 0.8;
#   2. `astrozoo run halo-mass --model gnn` and `--model cnn` for a few epochs with
#      --precision bf16-mixed on one GPU;
#   3. their MLflow runs: FINISHED, one val_loss per epoch, finite test RMSE, and GPU system
#      metrics (system/gpu_0_*) recorded.
# Exits non-zero at the first failure. Everything goes to a fresh temporary folder (its own
# MLflow store and data cache unless ASTROZOO_CACHE is set), removed after a success.
#
#   benchmarks/gpu_check.sh          # on a machine with a CUDA GPU
#   benchmarks/gpu_check.sh --cpu    # dry run of the same steps on the CPU (32-bit, fewer epochs;
#                                    # the 0.8 ratio and the GPU metrics are reported, not enforced)
#
# PYTHON and ASTROZOO name the interpreter and the CLI (default: python, astrozoo on PATH).
set -euo pipefail

MODE=gpu
[[ "${1:-}" == "--cpu" ]] && MODE=cpu
PY=${PYTHON:-python}
AZ=${ASTROZOO:-astrozoo}
export HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d -t astrozoo-gpu-check.XXXXXX)
export MLFLOW_TRACKING_URI="sqlite:///$WORK/mlflow.db"
export MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL=1 MLFLOW_SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING=1
export ASTROZOO_CACHE=${ASTROZOO_CACHE:-$WORK/cache} HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1} MODE

fail() { echo "gpu_check: FAIL: $*" >&2; exit 1; }

if [[ $MODE == gpu ]]; then
  DEVICE=cuda PRECISION=bf16-mixed GNN_EPOCHS=10 CNN_EPOCHS=3
  BENCH=(--device cuda --n-train 1024 --image-size 64 --cnn-epochs 2 --gnn-epochs 20 --repeat 2)
  "$PY" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else 1)" \
    || fail "torch sees no CUDA device with bf16"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
else
  DEVICE=cpu PRECISION=32 GNN_EPOCHS=3 CNN_EPOCHS=1
  BENCH=(--device cpu --n-train 128 --image-size 32 --cnn-epochs 1 --gnn-epochs 2 --repeat 1)
fi
echo "gpu_check ($MODE): work folder $WORK, store $MLFLOW_TRACKING_URI"

echo "== 1/3 throughput: training loop vs bare model step ($PRECISION)"
"$PY" - "${BENCH[@]}" <<'EOF' || fail "throughput below 0.8 of the bare step"
import os, sys
sys.path.insert(0, os.environ.get("HERE", "benchmarks"))
import torch
import throughput_halo_mass as bench

args = bench.argparse.Namespace(**{k.lstrip("-").replace("-", "_"): v for k, v in zip(sys.argv[1::2], sys.argv[2::2])})
for key in ("n_train", "image_size", "cnn_epochs", "gnn_epochs", "repeat"):
    setattr(args, key, int(getattr(args, key)))
device = torch.device(args.device)
train = bench.synthetic(args.n_train, args.image_size, seed=0)
val = bench.synthetic(16, args.image_size, box=12.0, seed=1)
ok = True
for name, run in (("cnn", bench.cnn_bench), ("gnn", bench.gnn_bench)):
    # the bare step under the same bf16 autocast as the loop's (which Fabric applies itself)
    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
        bare, loop = run(train, val, device, args)
    ratio = loop / bare
    print(f"{name}: bare step {bare:10.1f}/s  training loop {loop:10.1f}/s  ratio {ratio:.2f}")
    ok &= ratio >= 0.8
if os.environ["MODE"] == "cpu":
    print("(cpu dry run: the 0.8 ratio is not enforced)")
    ok = True
sys.exit(0 if ok else 1)
EOF

echo "== 2/3 training on $DEVICE in $PRECISION"
"$AZ" run halo-mass --model gnn --device "$DEVICE" --precision "$PRECISION" \
  --set "params.epochs=$GNN_EPOCHS" || fail "gnn run"
"$AZ" run halo-mass --model cnn --device "$DEVICE" --precision "$PRECISION" \
  --set "params.epochs=$CNN_EPOCHS" --set params.pretrained=false || fail "cnn run"

echo "== 3/3 the MLflow runs"
GNN_EPOCHS=$GNN_EPOCHS CNN_EPOCHS=$CNN_EPOCHS "$PY" - <<'EOF' || fail "MLflow runs"
import math, os, sys
import mlflow

client = mlflow.MlflowClient()
experiment = client.get_experiment_by_name("halo-mass")
problems = []
for model in ("gnn", "cnn"):
    (run,) = client.search_runs([experiment.experiment_id], f"tags.`astrozoo.model` = '{model}'")
    epochs = int(os.environ[f"{model.upper()}_EPOCHS"])
    steps = sorted(m.step for m in client.get_metric_history(run.info.run_id, "val_loss"))
    gpu = sorted(k for k in run.data.metrics if k.startswith("system/gpu_0"))
    print(f"{model}: {run.info.status}, test_rmse {run.data.metrics.get('test_rmse', float('nan')):.4f}, "
          f"{len(steps)} val_loss steps, precision {run.data.tags.get('astrozoo.precision')}, "
          f"GPU metrics: {', '.join(gpu) or 'none'}")
    if run.info.status != "FINISHED" or steps != list(range(epochs)):
        problems.append(f"{model}: status {run.info.status}, val_loss steps {steps}")
    if not math.isfinite(run.data.metrics.get("test_rmse", float("nan"))):
        problems.append(f"{model}: no finite test_rmse")
    if os.environ["MODE"] == "gpu" and not gpu:
        problems.append(f"{model}: no GPU system metrics in run {run.info.run_id}")
for problem in problems:
    print("problem:", problem)
sys.exit(1 if problems else 0)
EOF
echo "gpu_check ($MODE): all checks passed in ${SECONDS}s"
[[ -n "${KEEP:-}" ]] || rm -rf "$WORK"  # kept on failure (and with KEEP=1) for a look
