#!/usr/bin/env bash
# Measure the onnxruntime-gpu option on a lent GPU machine (no registry there): the
# onnxruntime-gpu wheel travels split in .whl/p*/chunk* (a lent machine reaches no registry),
# mido as a wheel. Prints the model step figures on the CPU and CUDA providers.
set -euo pipefail
OUT=${OUT:-/tmp/gpu-bench}
mkdir -p "$OUT"
whl=/tmp/onnxruntime_gpu-1.31.1-cp312-cp312-manylinux_2_28_x86_64.whl
cat .whl/p*/chunk* > "$whl"
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site "$whl" \
    .whl/p0/mido-*.whl
export PYTHONPATH=/tmp/site:$PWD
site=$(python3 -c "import numpy, os; print(os.path.dirname(os.path.dirname(numpy.__file__)))")
LD_LIBRARY_PATH=$(ls -d "$site"/nvidia/*/lib 2>/dev/null | paste -sd:):${LD_LIBRARY_PATH:-}
export LD_LIBRARY_PATH
nvidia-smi -L
python3 -c "import onnxruntime as o; print('onnxruntime', o.__version__, o.get_available_providers())"
n=${NOTES:-20000}
MODEL=${MODEL:-models/shipped/satb.onnx}
for p in cpu cuda; do
    # the bench module itself: the CLI would import python-rtmidi, absent there
    python3 -c "import sys; from livearranger.lab.bench import main; sys.exit(main(sys.argv[1:]))" \
        model --provider "$p" --notes "$n" --json --model "$MODEL" \
        --out "$OUT/model-$p.json" > "$OUT/model-$p.stdout" 2> "$OUT/model-$p.stderr" || true
    tail -c 1500 "$OUT/model-$p.stdout"; echo; tail -5 "$OUT/model-$p.stderr"
done
