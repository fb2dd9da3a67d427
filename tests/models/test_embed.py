"""Encoder plumbing: BLAS thread limits, one encoder per process, USE's tokenizer."""

import pytest
from threadpoolctl import threadpool_info

from models.embed import build_encoder, shared_encoder


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
    texts = ["Solid-state electrolytes for lithium metal batteries.",
             "量子计算机的纠错码研究取得进展", "CRISPR–Cas9 off-target effects (2019), 3.5% ± 0.2"]
    for text in texts:
        assert fast.encode(text, out_type=int, add_bos=True, add_eos=True) == \
            pure.encode(text, out_type=int, add_bos=True, add_eos=True)
