#!/usr/bin/env bash
# GPU benchmark (benchmarks/gpu.py). On the GPU machine, wheels carried in .whl/ (geomloss,
# pykeops, keopscore, kornia, kornia_rs, jsonargparse, ...) are installed to /tmp/site first.
#   benchmarks/gpu.sh --out results.jsonl     # GPU
#   benchmarks/gpu.sh --dry-run               # CPU check of every stage at tiny sizes
set -euo pipefail
cd "$(dirname "$0")/.."
PY=python3
if [ -x .venv/bin/python ]; then PY=.venv/bin/python; fi
case " $* " in
  *" --dry-run "*) ;;
  *)
    if compgen -G ".whl/*.whl" > /dev/null; then
      python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl
      export PYTHONPATH="/tmp/site:${PYTHONPATH:-}"
    fi
    ;;
esac
export PYTHONPATH="src:${PYTHONPATH:-}"
exec "$PY" benchmarks/gpu.py "$@"
