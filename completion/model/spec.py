"""The plain types every part of the engine shares about a loaded model, importable without torch.

The loader (``loading.py``) builds a ``LoadedModel``; the runner, the engine, the LSP worker and the CLI
read it and catch ``ModelError``. Keeping these types here, below everything else, is what lets the loader
import the runner (to warm up a compiled step) without an import circle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    import torch

Progress = Callable[[str, "float | None"], None]


class ModelError(Exception):
    """A model that cannot be used, with a message a user can act on."""


@dataclass(frozen=True, slots=True)
class FimTokens:
    """A tokenizer's fill-in-the-middle token ids."""

    prefix: int
    suffix: int
    middle: int


@dataclass(slots=True)
class RotarySpec:
    """What PIE needs to re-rotate keys: the model's inverse frequencies (fp32) and how many dims rotate."""

    # (layers, inv_freq [rotary_dim / 2] fp32) for each run of consecutive layers that share frequencies: one run
    # for most models, one per group of local or global layers for Gemma 3. PIE re-rotates once per run.
    layer_runs: tuple[tuple[slice, torch.Tensor], ...]
    rotary_dim: int
    rope_type: str
    shiftable: bool


@dataclass(slots=True)
class LoadedModel:
    model: torch.nn.Module
    tokenizer: object
    rotary: RotarySpec
    name: str
    device: torch.device
    dtype: torch.dtype
    load_seconds: float
    dtype_reason: str = "set"  # why this dtype (completion/precision.py): shown by `kvcomplete info`
    weights: str = "dense"  # the linear layers' formats (completion/weights.py), e.g. "int4 x210"
    weights_reason: str = "set"
    compiled: bool = False  # the forward runs through torch.compile (completion/compiled.py)
    compile_reason: str = "set"

    @property
    def config(self):
        return self.model.config

    def info(self) -> dict:
        """The facts `kvcomplete info` prints."""
        from kvcomplete.completion.model.weights import parameter_count  # torch-bound: loaded models only

        config = self.model.config
        return {
            "model": self.name,
            "family": config.model_type,
            "rotary": {"type": self.rotary.rope_type, "rotary_dim": self.rotary.rotary_dim,
                       "head_dim": head_dim(config), "shiftable": self.rotary.shiftable},
            "parameters": parameter_count(self.model),
            "layers": config.num_hidden_layers,
            "kv_heads": num_kv_heads(config),
            "device": str(self.device),
            "dtype": str(self.dtype).removeprefix("torch."),
            "dtype_reason": self.dtype_reason,
            "weights": self.weights,
            "weights_reason": self.weights_reason,
            "compile": "on" if self.compiled else "off",
            "compile_reason": self.compile_reason,
            "fim": fim_tokens(self.tokenizer) is not None,
            "load_seconds": round(self.load_seconds, 3),
        }


def head_dim(config) -> int:
    return getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads


def num_kv_heads(config) -> int:
    return getattr(config, "num_key_value_heads", None) or config.num_attention_heads


# (prefix, suffix, middle) as each family names them: StarCoder2; Qwen2.5-Coder; DeepSeek-Coder, whose
# <｜fim▁begin｜> prefix <｜fim▁hole｜> suffix <｜fim▁end｜> is the same prefix-suffix-middle prompt.
FIM_TOKEN_NAMES = (("<fim_prefix>", "<fim_suffix>", "<fim_middle>"),
                   ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),
                   ("<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"))


def fim_tokens(tokenizer) -> FimTokens | None:
    """The fill-in-the-middle token ids, when the tokenizer has them."""
    vocab = tokenizer.get_vocab()
    for names in FIM_TOKEN_NAMES:
        if all(name in vocab for name in names):
            return FimTokens(*(vocab[name] for name in names))
    return None


# The token that starts each file of a repository-level training sample, then the file's path on its own line,
# by the families trained on that format (Qwen2.5-Coder, StarCoder2). Other families may have such a token in
# their vocabulary without that training (SmolLM2 has <file_sep>): they keep path comments.
FILE_SEPARATORS = {"qwen2": "<|file_sep|>", "starcoder2": "<file_sep>"}


def file_separator(tokenizer, family: str) -> int | None:
    """The id of the file-separator token, when ``family`` (a config's model_type) was trained on it."""
    return tokenizer.get_vocab().get(FILE_SEPARATORS.get(family, ""))
