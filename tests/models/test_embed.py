"""Encoder plumbing: BLAS thread limits, one encoder per process, USE's tokenizer."""

import subprocess
import sys
from pathlib import Path

import pytest
from threadpoolctl import threadpool_info

from models.embed import build_encoder, shared_encoder
from pipeline.errors import ObservatoryError


def test_building_an_encoder_limits_the_blas_threads_already_loaded():
    build_encoder("hashing-64", threads=1)
    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert blas and all(pool["num_threads"] == 1 for pool in blas)


def test_a_worker_builds_its_encoder_once_by_name():
    first = shared_encoder("hashing-32")
    assert shared_encoder("hashing-32") is first
    assert shared_encoder("hashing-16") is not first


@pytest.mark.slow
def test_the_cpp_tokenizer_gives_use_the_same_ids_as_the_packages_port():
    from models.embed import UniversalSentenceEncoder, sentencepiece_tokenizer

    pure = UniversalSentenceEncoder(tokenizer="pure")._model._tokenizer
    fast = sentencepiece_tokenizer()
    texts = [
        "Solid-state electrolytes for lithium metal batteries.",
        "量子计算机的纠错码研究取得进展",
        "CRISPR–Cas9 off-target effects (2019), 3.5% ± 0.2",
    ]
    for text in texts:
        assert fast.encode(text, out_type=int, add_bos=True, add_eos=True) == pure.encode(
            text, out_type=int, add_bos=True, add_eos=True
        )


@pytest.mark.parametrize(
    "spec", ["st:paraphrase-multilingual-MiniLM-L12-v2", "minilm-offline", "/models/local-model"]
)
def test_a_sentence_transformers_encoder_without_the_st_extra_names_it(
    spec: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As on a default install, which leaves torch and sentence-transformers out.
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(ObservatoryError) as raised:
        build_encoder(spec)
    assert str(raised.value) == (
        f"encoder {spec!r} needs sentence-transformers and torch, which the default install "
        "leaves out; install the [st] extra: pip install torch==2.13.0 && "
        'pip install -c constraints.txt -e ".[st]"'
    )


def test_the_default_encoders_import_no_torch() -> None:
    code = (
        "import sys; from models.embed import build_encoder; build_encoder('hashing-64'); "
        "from models import engine, runner; from observatory import cli; "
        "print(sorted(m for m in ('torch', 'sentence_transformers') if m in sys.modules))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert shown.stdout.strip() == "[]"
