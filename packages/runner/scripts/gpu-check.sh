#!/usr/bin/env bash
# The GPU machine's checks in one run (see ../shared/device/README.md): the bundle's
# backends, a numerical check of webgpu against cpu, kernel profiles of ResNet-20/56
# training steps, the model bench cases beside PyTorch eager on the same GPU, a baseline
# bundle's bench for a same-run before/after ratio, and a host CPU profile of training.
# Usage: gpu-check.sh BUNDLE_DIR OUT_DIR [BASELINE_BUNDLE.mjs]
# Writes seven files (the GPU machine returns at most eight).
set -uo pipefail
bundle=$1; out=$2; baseline=${3:-}
cli() { node "$bundle/prunefuse.mjs" "$@"; }
step() { echo "== $* ($(date +%T))" >&2; }
mkdir -p "$out"
step backends; cli backends --json > "$out/backends.json"; cli backends >&2
step verify
cli verify --backend webgpu --reference cpu --model resnet20 --shape mnist --batch 4 --json \
  > "$out/verify.json"; echo "verify exit $?" >&2
for model in resnet20 resnet56; do
  step "profile $model"
  cli profile --backend webgpu --model $model --batch "${PF_BATCH:-128}" --steps 5 \
    --json > "$out/profile-$model.json"
done
step bench
cli bench --backend webgpu --filter "${PF_BENCH_FILTER:-model/}" --time 2000 --pytorch --json \
  > "$out/bench.json"
if [ -n "$baseline" ]; then
  step "bench baseline $baseline"
  node "$baseline" bench --backend webgpu --filter "${PF_BENCH_FILTER:-model/}" --time 2000 \
    --json > "$out/bench-baseline.json"
fi
step "host CPU profile of resnet20 training steps"
node --cpu-prof --cpu-prof-dir "$out/cpu" "$bundle/prunefuse.mjs" profile --backend webgpu \
  --model resnet20 --batch "${PF_BATCH:-128}" --steps 10 --top 5 >&2
mv "$out"/cpu/*.cpuprofile "$out/host.cpuprofile" && rmdir "$out/cpu"
step done
