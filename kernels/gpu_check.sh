#!/usr/bin/env bash
# The GPU check, in one call on a CUDA machine: the kernel tests compiled (large shapes included) and the runner's
# Triton-vs-torch tests, `kvcomplete bench kernels --json`, and the engine-level benchmark (kvcomplete/bench/engine_kernels.py:
# kernels torch vs triton, greedy vs speculative, on a random model with Qwen2-1.5B's shape). See docs/kernels.md.
#
#   bash kernels/gpu_check.sh pack       # first, here (the default model installed): its tokenizer -> .gpu/tokenizer,
#                                        # and the wheel of this venv's transformers -> .gpu/wheels (from PyPI, ~12 MB)
#   bash kernels/gpu_check.sh [OUTDIR]   # on the GPU machine; OUTDIR defaults to $OUT, else gpu-results
#
# With the device tool: run(command="bash kernels/gpu_check.sh", carry=[".gpu"]). It uses that machine's python3
# (PYTHON=... to change) and its torch and triton, with this checkout on PYTHONPATH, and the packed transformers (the
# version the project is developed against) unpacked into a temporary folder, beside a tree of links that lays this
# checkout out as the installed kvcomplete namespace (pyproject.toml's package-dir); nothing is installed system-wide.
# STEPS="tests bench engine compiled" (the default) picks steps, to split the check across calls if one nears its time
# limit; compiled times a decode step eager vs torch.compile (the compile setting) at 2k and 8k context.
# Every step runs even when an earlier one fails; each writes its log to OUTDIR; the exit code counts failed steps.
set -u -o pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = pack ]; then
    folder=$(.venv/bin/python -c 'from kvcomplete.completion.model.default_model import default_model_dir; print(default_model_dir())')
    mkdir -p .gpu/tokenizer
    cp "$folder/tokenizer.json" "$folder/tokenizer_config.json" .gpu/tokenizer/
    version=$(.venv/bin/python -c 'import transformers; print(transformers.__version__)')
    rm -rf .gpu/wheels
    .venv/bin/python -m pip download --quiet --no-deps --only-binary=:all: "transformers==$version" -d .gpu/wheels || exit
    echo "packed the tokenizer of $folder and transformers $version into .gpu; carry .gpu"
    exit 0
fi

out=${1:-${OUT:-gpu-results}}
py=${PYTHON:-python3}
mkdir -p "$out"
site=$(mktemp -d)
trap 'rm -rf "$site"' EXIT
if ls .gpu/wheels/*.whl >/dev/null 2>&1; then
    "$py" -m pip install --quiet --no-index --no-deps --no-compile --target "$site" .gpu/wheels/*.whl || exit
fi
# kvcomplete as installed: kvcomplete/ with completion/, kernels/, lsp_server/ and demo/ inside it (as links).
mkdir "$site/kvcomplete"
ln -s "$PWD"/kvcomplete/* "$site/kvcomplete/"
for folder in completion kernels lsp_server demo; do ln -s "$PWD/$folder" "$site/kvcomplete/$folder"; done
# PYTHONSAFEPATH: `python -m` must not put the checkout on sys.path, where kernels/ would shadow PyPI's kernels.
export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}" PYTHONSAFEPATH=1 PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1
failed=0

step() {  # step NAME COMMAND...: run, log to OUTDIR/NAME.log, report status and time
    local name=$1 started=$SECONDS
    shift
    echo "== $name: $*"
    if "$@" >"$out/$name.log" 2>&1; then
        echo "   ok in $((SECONDS - started)) s"
    else
        echo "   FAILED (exit $?) in $((SECONDS - started)) s"
        failed=$((failed + 1))
    fi
    tail -n 8 "$out/$name.log"
}

{
    date -u
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
    "$py" -c 'import sys, torch, transformers, triton; print(sys.version.split()[0], "torch", torch.__version__,
"transformers", transformers.__version__, "triton", triton.__version__, torch.cuda.get_device_name())'
} >"$out/env.log" 2>&1
cat "$out/env.log"

for name in ${STEPS:-tests bench engine compiled}; do
    case $name in
        tests) step tests "$py" -m pytest -q -p no:cacheprovider -rs tests/kernels tests/completion/model/test_attention.py \
            tests/completion/model/test_runner.py ;;
        bench) step bench sh -c "'$py' -m kvcomplete.kernels.bench --json >'$out/bench_kernels.json'" ;;
        engine) step engine "$py" -m kvcomplete.bench.engine_kernels --out "$out" --sections verify pie complete ;;
        compiled) step compiled "$py" -m kvcomplete.bench.engine_kernels --out "$out/compiled" --sections step \
            --compile ;;
        *) echo "unknown step $name (tests, bench, engine, compiled)"; failed=$((failed + 1)) ;;
    esac
done
echo "== $failed step(s) failed; results in $out"
exit "$failed"
