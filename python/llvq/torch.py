"""PyTorch interop: LLVQ-compressed linear layers as ``torch.nn.Module``s (inference only).

``QuantizedLinear`` keeps the weights compressed and runs LLVQ's CPU kernels (fused decode +
GEMV for one token, decoded bands + GEMM for longer inputs) on CPU tensors, without copying
the activations in or the results out. ``replace_linear_layers`` swaps the ``nn.Linear``
layers of a Llama-style module for the compressed layers of a GGUF file written by
``llvq quantize`` / :func:`llvq.quantize`.

Importing this module needs PyTorch; ``import llvq`` does not.
"""
import re

import numpy as np
import torch
from torch import nn

from .models import load_model
from .tensor import QuantizedTensor

__all__ = ["QuantizedLinear", "replace_linear_layers"]


class QuantizedLinear(nn.Module):
    """``y = x @ W.T (+ bias)`` with W a :class:`llvq.QuantizedTensor`.

    Inputs: CPU tensors of shape (..., in_features), any float dtype (computed in float32,
    returned in the input's dtype). No gradients flow through W or x: it is an inference
    module. ``out_permutation`` reorders the outputs (the row order of q/k projections in
    Hugging Face checkpoints differs from GGUF's, see :func:`replace_linear_layers`).
    """

    def __init__(self, qtensor, bias=None, out_permutation=None):
        super().__init__()
        if not isinstance(qtensor, QuantizedTensor):
            raise TypeError("qtensor must be an llvq.QuantizedTensor")
        self.qtensor = qtensor
        self.out_features, self.in_features = qtensor.shape
        self.bias = None if bias is None else nn.Parameter(torch.as_tensor(bias, dtype=torch.float32), requires_grad=False)
        self.out_permutation = None if out_permutation is None else torch.as_tensor(out_permutation, dtype=torch.long)

    def forward(self, x):
        if x.device.type != "cpu":
            raise ValueError(f"QuantizedLinear runs on the CPU; got a tensor on {x.device}")
        if x.shape[-1] != self.in_features:
            raise ValueError(f"expected input (..., {self.in_features}), got {tuple(x.shape)}")
        flat = x.detach().reshape(-1, self.in_features).to(torch.float32).contiguous()
        # nanobind reads the tensor's memory through DLPack; the result is NumPy-owned memory
        # that torch.from_numpy wraps without a copy.
        y = torch.from_numpy(self.qtensor.matvec(flat))
        if self.out_permutation is not None:
            y = y[:, self.out_permutation]
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*x.shape[:-1], self.out_features).to(x.dtype)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, codec={self.qtensor.codec!r}, "
                f"bits_per_weight={self.qtensor.bits_per_weight:.4f}")


# GGUF tensor names (LLVQ's linear layers) → module paths of the two common Llama layouts.
_META = {"attn_q": "attention.wq", "attn_k": "attention.wk", "attn_v": "attention.wv", "attn_output": "attention.wo",
         "ffn_gate": "feed_forward.w1", "ffn_down": "feed_forward.w2", "ffn_up": "feed_forward.w3"}
_HF = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
       "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_down": "mlp.down_proj",
       "ffn_up": "mlp.up_proj"}


def _module_path(gguf_name, modules):
    """The module a GGUF linear layer belongs to, and whether it is in Hugging Face layout."""
    m = re.fullmatch(r"blk\.(\d+)\.(\w+)\.weight", gguf_name)
    if m is None:
        candidates = [("output", False), ("lm_head", True)] if gguf_name == "output.weight" else []
    else:
        layer, kind = m.groups()
        candidates = [(f"layers.{layer}.{_META[kind]}", False), (f"model.layers.{layer}.{_HF[kind]}", True),
                      (f"layers.{layer}.{_HF[kind]}", True)]
    for path, hf in candidates:
        if path in modules:
            return path, hf
    return None, False


def _half_split_order(rows, n_heads):
    """Output order of a q/k projection in Hugging Face's half-split RoPE layout: GGUF rows are
    interleaved (pairs 2i, 2i+1 per head), HF rows hold each head's first halves, then its
    second halves."""
    return np.arange(rows).reshape(n_heads, rows // n_heads // 2, 2).transpose(0, 2, 1).reshape(rows)


def replace_linear_layers(module, gguf_path, *, strict=True):
    """Replaces the ``nn.Linear`` layers of ``module`` by :class:`QuantizedLinear` layers made
    from the compressed layers of the GGUF file ``gguf_path``.

    The module may use Meta / llama2.c names (``layers.N.attention.wq``,
    ``layers.N.feed_forward.w1``, ``output``) or Hugging Face names
    (``model.layers.N.self_attn.q_proj``, ``model.layers.N.mlp.gate_proj``, ``lm_head``); for
    the latter, q/k outputs are reordered to its half-split RoPE layout. Layers the file keeps
    dense are left alone. With ``strict``, a compressed layer without a matching ``nn.Linear``
    of the same shape is an error. Returns the list of replaced module paths.
    """
    model = load_model(gguf_path)
    cfg = model.config
    modules = dict(module.named_modules())
    replaced = []
    for name in model.linear_names():
        layer = model.linear(name)
        if not isinstance(layer, QuantizedTensor):
            continue
        path, hf = _module_path(name, modules)
        target = modules.get(path)
        if not isinstance(target, nn.Linear) or (target.out_features, target.in_features) != layer.shape:
            if strict:
                raise ValueError(f"{gguf_path}: no nn.Linear of shape {layer.shape} for {name} in the module")
            continue
        order = None
        if hf and (".attn_q." in name or ".attn_k." in name):
            order = _half_split_order(layer.shape[0], cfg["n_heads"] if ".attn_q." in name else cfg["n_kv_heads"])
        bias = None if target.bias is None else target.bias.detach().clone()
        parent_path, _, child = path.rpartition(".")
        setattr(modules[parent_path] if parent_path else module, child, QuantizedLinear(layer, bias, order))
        replaced.append(path)
    return replaced
