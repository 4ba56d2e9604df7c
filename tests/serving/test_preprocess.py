from pathlib import Path

import numpy as np
import pytest

from claimtype.preprocess import Encoder, normalize
from tests import tiny


def test_normalize_folds_quotes_space_and_controls() -> None:
    assert normalize("  “Fine,”\u00a0she\tsaid\u200b.\n") == '"Fine," she said .'
    assert normalize("it\u2019s") == "it's"
    assert normalize("a\x00b") == "a b"


def test_normalize_survives_lone_surrogates() -> None:
    assert normalize("bad \ud800 text") == "bad \ufffd text"


@pytest.fixture()
def encoder(tmp_path: Path) -> Encoder:
    tiny.build_tokenizer(tmp_path / "tokenizer.json")
    return Encoder.from_file(tmp_path / "tokenizer.json", max_length=8)


def test_collate_pads_with_pad_id_and_masks(encoder: Encoder) -> None:
    batch = encoder(["the union said", "the bridge"])
    ids, mask = batch.arrays["input_ids"], batch.arrays["attention_mask"]
    assert ids.dtype == np.int64 and ids.shape == mask.shape
    assert mask[1].sum() == 4  # [CLS] the bridge [SEP]
    assert (ids[1, 4:] == encoder.pad_id).all()
    assert set(batch.arrays) == {"input_ids", "attention_mask", "token_type_ids"}


def test_truncation_is_flagged(encoder: Encoder) -> None:
    batch = encoder(["the union said the bridge in lagos would close on monday", "the bridge"])
    assert batch.arrays["input_ids"].shape[1] == 8
    assert batch.truncated == [True, False]


def test_encoder_matches_transformers_tokenizer(tmp_path: Path) -> None:
    transformers = pytest.importorskip("transformers")
    tiny.build_tokenizer(tmp_path / "tokenizer.json")
    hf = transformers.PreTrainedTokenizerFast(
        tokenizer_file=str(tmp_path / "tokenizer.json"),
        pad_token="[PAD]",
        model_input_names=["input_ids", "token_type_ids", "attention_mask"],
    )
    encoder = Encoder.from_file(tmp_path / "tokenizer.json", max_length=16)
    texts = ["the union said", "no one was hurt when the factory in lagos caught fire"]
    ours = encoder(texts).arrays
    theirs = hf(texts, padding=True, truncation=True, max_length=16, return_tensors="np")
    for name in ("input_ids", "attention_mask", "token_type_ids"):
        assert (ours[name] == theirs[name]).all(), name


def test_max_length_floor(tmp_path: Path) -> None:
    tiny.build_tokenizer(tmp_path / "tokenizer.json")
    with pytest.raises(ValueError):
        Encoder.from_file(tmp_path / "tokenizer.json", max_length=2)
