#!/usr/bin/env bash
# BERTrend (the peer) in its own virtual environment, never a dependency of the product.
# Every bertrend release declares Python >= 3.12 but its wheel is pure Python and its core
# runs on 3.11, so the wheel is fetched without its resolver and installed with --no-deps;
# then bertopic 0.17.4 and only the modules the core (BERTrend, BERTopicModel,
# trend_analysis.weak_signals) imports. torch/transformers/sentence-transformers/hdbscan/umap
# (imported at module level but not used when embeddings are given) are read from the
# project's venv through a .pth placed last on sys.path, instead of a second 2 GB torch.
# Usage: benchmarks/make_peer_venv.sh [VENV_DIR]   (default $TMPDIR/observatory-peer-venv)
set -euo pipefail
VENV=${1:-${TMPDIR:-/tmp}/observatory-peer-venv}
PROJECT_VENV=${PROJECT_VENV:-.venv}
python3.11 -m venv "$VENV"
PIP="$VENV/bin/pip"
WHEELS=$(mktemp -d)
"$PIP" download -q --no-deps --ignore-requires-python bertrend -d "$WHEELS"
"$PIP" install -q --no-deps --ignore-requires-python "$WHEELS"/bertrend-*.whl
"$PIP" install -q --no-deps bertopic==0.17.4
"$PIP" install -q "numpy>=2,<3" "pandas<3" loguru dill python-dotenv plotly nltk tqdm \
    scikit-learn scipy openai jsonlines requests langchain-core
PROJECT_SITE=$("$PROJECT_VENV/bin/python" -c 'import site; print(site.getsitepackages()[0])')
SITE=$("$VENV/bin/python" -c 'import site; print(site.getsitepackages()[0])')
echo "import sys; sys.path.append('$(realpath "$PROJECT_SITE")')" > "$SITE/zz_project_fallback.pth"
"$VENV/bin/python" -c "from bertrend.BERTrend import BERTrend; print('bertrend ok')"
