# Sourced by .ci/run: a Python venv (.venv) with the reference libraries that the parity tests and
# the benchmarks' peers use (never the product). Installed from the machine's local wheel index,
# named as the index so that pip does not wait on the unreachable public one.
if [ -z "${DRIFTFLOW_PYTHON:-}" ]; then
  if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import numpy, scipy, sklearn, lightgbm, onnxruntime, onnx" 2>/dev/null; then
    echo "creating .venv with numpy, scipy, scikit-learn, lightgbm, onnxruntime, onnx, pandas, pyarrow"
    index_args=()
    extra=$(pip config get global.extra-index-url 2>/dev/null || true)
    first=1
    for url in $extra; do
      if [ $first = 1 ]; then index_args+=(--index-url "$url"); first=0; else index_args+=(--extra-index-url "$url"); fi
    done
    links=$(pip config get global.find-links 2>/dev/null || true)
    [ -n "$links" ] && index_args+=(--find-links "$links")
    python3 -m venv .venv >&2 &&
      .venv/bin/pip install --quiet --disable-pip-version-check "${index_args[@]}" \
        numpy scipy scikit-learn lightgbm onnxruntime onnx pandas pyarrow >&2 ||
      echo "warning: could not build .venv; tests that compare with Python will fail" >&2
  fi
  export DRIFTFLOW_PYTHON="$PWD/.venv/bin/python"
fi
