#!/usr/bin/env bash
# The GPU machine's checks in one run (see ../shared/device/README.md), for issues 14 and 20:
#   backends.json       the bundle's backends and adapters
#   verify.json         [..] compiled webgpu training steps against the float64 PyTorch step
#                       or tfjs ops on a CPU backend: ResNet-20 at CIFAR shape (float64 and
#                       cpu), ResNet-20 pruned at p = 0.5 (float64), ResNet-18 (float64), a
#                       distillation step of the pruned ResNet-20 with the dense one as
#                       teacher (cpu): loss, every update and every layer's gradient, "pass"
#                       per run. Against float64 every ReLU takes the compiled step's own
#                       decision; float32 against float32 (cpu) can differ where one falls
#                       within rounding of zero (ResNet-18 against wasm failed so on llvmpipe,
#                       and passes against float64 at 5.96e-5). The max-pool kernels are
#                       checked by the package tests (no registry architecture has one)
#   profile.json        [..] compiled-trainer profiles of ResNet-20/56 training steps:
#                       dispatches, host encode time, step time, GPU time per kernel
#                       (timestamp queries)
#   bench.json          model cases on the compiled trainer beside PyTorch eager (ratios)
#   bench-tfjs.json     the same cases on tfjs ops (PRUNEFUSE_WEBGPU_TRAINER=tfjs)
#   bench-kernels.json  the compiled trainer's kernel cases beside PyTorch (cuDNN): by default
#                       every conv pass and batch norm of the CIFAR ResNet-20/56, dense and
#                       pruned (85 cases; PF_KERNEL_FILTER=kernel/ adds Tiny-ImageNet's 312)
#   host.cpuprofile     Node's CPU profile of a compiled-trainer profile run (host side)
#   tiles.json          first of all (PF_TUNE=1, the default): bench --tune's tile table for
#                       the kernel/conv cases matching PF_TUNE_FILTER (default: every conv pass
#                       of the CIFAR ResNets, dense and pruned), PF_TUNE_TIME ms (100) per
#                       blocking; every later step runs with PRUNEFUSE_TILES set to it, so the
#                       figures are the tuned kernels'. Commit it as the trainer's table
#                       (packages/webgpu-trainer/src/kernels/tiles.json) once measured.
#   bench-baseline.json with BASELINE_BUNDLE.mjs (and PF_TUNE= to skip the tile search):
#                       its model bench, for a same-run before/after
# At most eight files, what the GPU machine returns (so a baseline and the tile search
# exclude each other). Every step runs even when one fails;
# the exit status is 1 when any failed (named on stderr), verify failures included.
#
# Usage: gpu-check.sh BUNDLE_DIR OUT_DIR [BASELINE_BUNDLE.mjs]
# Sizes (defaults are the GPU figures' settings; small ones test the script on llvmpipe):
#   PF_BATCH=128 (profile, bench) PF_VERIFY_BATCH=2 PF_STEPS=5 PF_TIME=2000 (ms per case)
#   PF_MODELS="resnet20 resnet56" (profiled) PF_BENCH_FILTER=model/ (the model benches)
#   PF_KERNEL_FILTER (bench --filter; default the CIFAR cases above)
#   PF_KERNEL_TIME=500 PF_PYTHON=python3 (has torch; CUDA on the GPU machine)
#   PF_VERIFY="..." (which verify runs, by name: resnet20 resnet20-cpu pruned resnet18 kd)
#   Set to empty, PF_MODELS, PF_BENCH_FILTER, PF_KERNEL_FILTER and PF_VERIFY skip their steps
#   (a rerun of what a first run did not reach).
#   PF_TUNE=1 PF_TUNE_FILTER PF_TUNE_TIME=100 (the tile search, see above; PF_TUNE= skips it)
set -uo pipefail
bundle=$1; out=$2; baseline=${3:-}
tune=${PF_TUNE-1}
if [ -n "$baseline" ] && [ -n "$tune" ]; then
  echo 'gpu-check: a baseline bundle and the tile search (PF_TUNE) make nine files; the GPU machine returns eight: set PF_TUNE= to compare with a baseline' >&2
  exit 2
fi
batch=${PF_BATCH:-128}; verify_batch=${PF_VERIFY_BATCH:-2}; steps=${PF_STEPS:-5}
time_ms=${PF_TIME:-2000}; python=${PF_PYTHON:-python3}
cli() { node "$bundle/prunefuse.mjs" "$@"; }
step() { echo "== $* ($(date +%T))" >&2; }
failed=()
mkdir -p "$out"

# Runs one CLI command that prints one JSON document and appends it to the array file $1
# (an object naming the command and its exit status instead, when it printed nothing).
json_item() {
  local file=$1 name=$2; shift 2
  local doc status
  doc=$("$@"); status=$?
  [ "$status" -eq 0 ] || failed+=("$name (exit $status)")
  [ -s "$file" ] && echo ',' >> "$file" || echo '[' > "$file"
  if [ -n "$doc" ]; then echo "$doc" >> "$file"
  else echo "{\"run\": \"$name\", \"exit\": $status, \"error\": \"no JSON printed; see stderr\"}" >> "$file"; fi
}
close_array() { [ -s "$1" ] && echo ']' >> "$1"; }

step backends
cli backends --json > "$out/backends.json" || failed+=(backends)
cli backends >&2

# The tile search first: the kernel, model and profile figures below are then the tuned
# kernels' (a failed search leaves the committed table in use).
if [ -n "$tune" ]; then
  cifar_convs='/^kernel\/conv\/[^/]+\/cifar\//'
  step "tune ${PF_TUNE_FILTER:-$cifar_convs}"
  if cli bench --backend webgpu --tune "$out/tiles.json" --filter "${PF_TUNE_FILTER:-$cifar_convs}" \
    --batch "$batch" --time "${PF_TUNE_TIME:-100}" >&2 && [ -s "$out/tiles.json" ]; then
    export PRUNEFUSE_TILES="$out/tiles.json"
  else
    failed+=(tune)
  fi
fi

# The speed figures first (only the GPU can give them; a run cut short keeps what it wrote).
rm -f "$out/profile.json"
for model in ${PF_MODELS-resnet20 resnet56}; do
  step "profile $model"
  json_item "$out/profile.json" "profile $model" cli profile --backend webgpu --model "$model" \
    --batch "$batch" --steps "$steps" --json
done
close_array "$out/profile.json"

bench() { cli bench --backend webgpu --batch "$batch" --time "$time_ms" --json "$@"; }
models=${PF_BENCH_FILTER-model/}
if [ -n "$models" ]; then
  step "bench $models, compiled trainer, with PyTorch"
  bench --filter "$models" --pytorch "$python" > "$out/bench.json" || failed+=(bench)
fi
cifar_kernels='/^kernel\/(conv|batchnorm)\/[^/]+\/cifar\//'
kernels=${PF_KERNEL_FILTER-$cifar_kernels}
if [ -n "$kernels" ]; then
  step "bench $kernels with PyTorch"
  cli bench --backend webgpu --filter "$kernels" --time "${PF_KERNEL_TIME:-500}" \
    --pytorch "$python" --json > "$out/bench-kernels.json" || failed+=(bench-kernels)
fi

verify_run() {
  local name=$1; shift
  step "verify $name"
  json_item "$out/verify.json" "verify $name" cli verify --backend webgpu --batch "$verify_batch" \
    --python "$python" --json "$@"
}
rm -f "$out/verify.json"
for run in ${PF_VERIFY-resnet20 resnet20-cpu pruned resnet18 kd}; do
  case $run in
    resnet20) verify_run resnet20 --model resnet20 --reference float64 ;;
    resnet20-cpu) verify_run resnet20-cpu --model resnet20 --reference cpu ;;
    pruned) verify_run pruned --model resnet20 --prune 0.5 --reference float64 ;;
    resnet18) verify_run resnet18 --model resnet18 --reference float64 ;;
    kd) verify_run kd --model resnet20 --prune 0.5 --kd --reference cpu ;;
    *) echo "PF_VERIFY: unknown run '$run'" >&2; failed+=("verify $run (unknown)") ;;
  esac
done
close_array "$out/verify.json"

if [ -n "$models" ]; then
  step "bench $models, tfjs ops"
  PRUNEFUSE_WEBGPU_TRAINER=tfjs bench --filter "$models" > "$out/bench-tfjs.json" ||
    failed+=(bench-tfjs)
fi
if [ -n "$baseline" ]; then
  step "bench baseline $baseline"
  node "$baseline" bench --backend webgpu --filter "${models:-model/}" --time "$time_ms" \
    --json > "$out/bench-baseline.json" || failed+=(bench-baseline)
fi

step "host CPU profile of resnet20 compiled training steps"
node --cpu-prof --cpu-prof-dir "$out/cpu" "$bundle/prunefuse.mjs" profile --backend webgpu \
  --model resnet20 --batch "$batch" --steps "$((steps * 2))" --top 5 >&2 || failed+=(host-profile)
mv "$out"/cpu/*.cpuprofile "$out/host.cpuprofile" && rmdir "$out/cpu"

step done
if [ ${#failed[@]} -gt 0 ]; then
  printf 'failed: %s\n' "${failed[@]}" >&2
  exit 1
fi
