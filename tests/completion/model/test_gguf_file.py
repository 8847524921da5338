"""The tensor table read past the metadata equals gguf's own reader's, whatever metadata comes before it."""

from __future__ import annotations

import numpy as np
import pytest
from gguf import GGMLQuantizationType, GGUFReader, GGUFWriter
from gguf.quants import quantize

from kvcomplete.completion.model import gguf_file


def write(path, alignment: int | None = None):
    writer = GGUFWriter(str(path), "llama")
    if alignment:
        writer.add_custom_alignment(alignment)
    writer.add_array("tokenizer.ggml.tokens", ["a", "bb", "ccc", "☃"])  # string arrays are stepped over
    writer.add_array("tokenizer.ggml.scores", [0.5, 1.5, 2.5, 3.5])
    writer.add_string("general.name", "tiny")
    writer.add_uint32("llama.block_count", 2)
    rng = np.random.default_rng(0)
    writer.add_tensor("a.weight", rng.standard_normal((8, 64), dtype=np.float32))
    writer.add_tensor("b.weight", rng.standard_normal((4, 32), dtype=np.float32).astype(np.float16))
    for name, kind in (("c.weight", GGMLQuantizationType.Q4_0), ("d.weight", GGMLQuantizationType.Q8_0)):
        writer.add_tensor(name, quantize(rng.standard_normal((16, 64), dtype=np.float32), kind), raw_dtype=kind)
    writer.add_tensor("norm.weight", np.ones(64, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@pytest.mark.parametrize("alignment", [None, 64])
def test_tensors_equal_ggufs_reader(tmp_path, alignment):
    path = write(tmp_path / "t.gguf", alignment)
    ours, theirs = gguf_file.read(path), GGUFReader(path)
    assert ours.architecture == "llama"
    assert [t.name for t in ours.tensors] == [t.name for t in theirs.tensors]
    for mine, reference in zip(ours.tensors, theirs.tensors):
        assert mine.tensor_type == reference.tensor_type
        assert np.array_equal(np.asarray(mine.data), np.asarray(reference.data)), mine.name
        assert mine.data.shape == reference.data.shape, mine.name


def test_a_file_that_is_not_gguf_is_refused(tmp_path):
    (tmp_path / "x.gguf").write_bytes(b"PK\x03\x04 not a gguf at all")
    with pytest.raises(ValueError, match="not a GGUF file"):
        gguf_file.read(tmp_path / "x.gguf")
