"""The tensors of a GGUF file, read without parsing its metadata values.

gguf's ``GGUFReader`` turns every metadata value into numpy views as it opens a file, and a coder model's
vocabulary (150k tokens, as many merges) is most of that: seconds per load. Loading weights needs only the
architecture's name, the alignment and the tensor table, so this reader steps over the other values by their
lengths and maps each tensor's bytes from the file (no copy) as ``[rows, bytes per row]``, the shape gguf's
``dequantize`` takes. The format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, GGUFValueType

MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32
SCALAR_SIZES = {GGUFValueType.UINT8: 1, GGUFValueType.INT8: 1, GGUFValueType.UINT16: 2, GGUFValueType.INT16: 2,
                GGUFValueType.UINT32: 4, GGUFValueType.INT32: 4, GGUFValueType.FLOAT32: 4, GGUFValueType.BOOL: 1,
                GGUFValueType.UINT64: 8, GGUFValueType.INT64: 8, GGUFValueType.FLOAT64: 8}
READ_KEYS = {"general.architecture", "general.alignment"}


@dataclass(frozen=True, slots=True)
class Tensor:
    name: str
    tensor_type: GGMLQuantizationType
    shape: tuple[int, ...]  # rows first (GGUF lists dimensions innermost first)
    data: np.ndarray  # [rows, bytes per row] for quantized types, the values themselves for float ones


@dataclass(frozen=True, slots=True)
class GgufFile:
    architecture: str
    tensors: list[Tensor]


class _Cursor:
    def __init__(self, buffer: memoryview) -> None:
        self.buffer, self.offset = buffer, 0

    def unpack(self, layout: str) -> int:
        (value,) = struct.unpack_from("<" + layout, self.buffer, self.offset)
        self.offset += struct.calcsize(layout)
        return value

    def string(self) -> str:
        length = self.unpack("Q")
        self.offset += length
        return bytes(self.buffer[self.offset - length: self.offset]).decode("utf-8")

    def skip(self, kind: GGUFValueType) -> None:
        if kind == GGUFValueType.STRING:
            length = self.unpack("Q")  # first: `offset += unpack()` would add to the offset before the read
            self.offset += length
        elif kind == GGUFValueType.ARRAY:
            item, count = GGUFValueType(self.unpack("I")), self.unpack("Q")
            if item in SCALAR_SIZES:
                self.offset += SCALAR_SIZES[item] * count
            else:
                for _ in range(count):
                    self.skip(item)
        else:
            self.offset += SCALAR_SIZES[kind]


def read(path: Path) -> GgufFile:
    """The architecture and the tensors (mapped, not read) of the GGUF at ``path``; ValueError if it is not one."""
    mapped = np.memmap(path, mode="r")
    cursor = _Cursor(memoryview(mapped))
    if bytes(mapped[:4]) != MAGIC:
        raise ValueError(f"{path.name} is not a GGUF file")
    cursor.offset = 4
    version, tensor_count, value_count = cursor.unpack("I"), cursor.unpack("Q"), cursor.unpack("Q")
    if version < 2:
        raise ValueError(f"{path.name}: GGUF version {version} is too old (2 or later)")
    values: dict[str, object] = {}
    for _ in range(value_count):
        key, kind = cursor.string(), GGUFValueType(cursor.unpack("I"))
        if key in READ_KEYS and kind == GGUFValueType.STRING:
            values[key] = cursor.string()
        elif key in READ_KEYS and kind in SCALAR_SIZES:
            values[key] = cursor.unpack({1: "B", 2: "H", 4: "I", 8: "Q"}[SCALAR_SIZES[kind]])
        else:
            cursor.skip(kind)
    table = []
    for _ in range(tensor_count):
        name, dims = cursor.string(), cursor.unpack("I")
        shape = tuple(cursor.unpack("Q") for _ in range(dims))
        table.append((name, shape, GGMLQuantizationType(cursor.unpack("I")), cursor.unpack("Q")))
    alignment = int(values.get("general.alignment", DEFAULT_ALIGNMENT))
    start = -(-cursor.offset // alignment) * alignment
    return GgufFile(str(values.get("general.architecture", "")),
                    [_tensor(mapped, start, *entry) for entry in table])


def _tensor(mapped: np.ndarray, start: int, name: str, dims: tuple[int, ...], kind: GGMLQuantizationType,
            offset: int) -> Tensor:
    block, block_bytes = GGML_QUANT_SIZES[kind]
    shape = tuple(reversed(dims))
    row_bytes = shape[-1] // block * block_bytes
    rows = int(np.prod(shape[:-1], dtype=np.int64)) if len(shape) > 1 else 1
    raw = mapped[start + offset: start + offset + rows * row_bytes]
    if kind in (GGMLQuantizationType.F32, GGMLQuantizationType.F16):
        data = raw.view(np.float32 if kind == GGMLQuantizationType.F32 else np.float16).reshape(shape)
    else:
        data = raw.reshape(*shape[:-1], row_bytes)
    return Tensor(name, kind, shape, data)
