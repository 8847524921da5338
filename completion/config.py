"""The one settings object that flows from the CLI or LSP initializationOptions down to the engine."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("auto", "float32", "bfloat16", "float16")
LOG_LEVELS = ("error", "warning", "info", "debug")
KERNELS = ("auto", "triton", "torch")  # see completion/model/runner.py
WEIGHTS = ("auto", "bf16", "int8", "int4", "fp32")  # see completion/model/precision.py and completion/model/weights.py
FIM_LAYOUTS = ("auto", "ltr", "psm", "spm")  # see completion/prompt/layout.py
COMPILE = ("auto", "on", "off")  # torch.compile of the forward, see completion/model/compiled.py
# The settings that name the model itself: changing one loads another model; the others apply in place.
RELOAD_FIELDS = ("model", "device", "dtype", "weights", "compile")

# LSP initializationOptions use camelCase; the dataclass uses snake_case.
LSP_KEYS = {
    "model": "model",
    "device": "device",
    "dtype": "dtype",
    "suggestions": "suggestions",
    "maxTokens": "max_tokens",
    "speculation": "speculation",
    "pie": "pie",
    "kvBudgetMB": "kv_budget_mb",
    "staleBudget": "stale_budget",
    "fimLayout": "fim_layout",
    "maxFileBytes": "max_file_bytes",
    "allowPickle": "allow_pickle",
    "logLevel": "log_level",
    "kernels": "kernels",
    "weights": "weights",
    "compile": "compile",
    "contextTokens": "context_tokens",
    "latencyBudgetMs": "latency_budget_ms",
    "prefetch": "prefetch",
    "indexMaxFiles": "index_max_files",
    "indexMaxBytes": "index_max_bytes",
}


@dataclass(slots=True)
class Settings:
    """Engine settings; invalid values are refused here, with the name of the setting."""

    model: str | None = None  # folder, HF-cache id or .gguf; None = the embedded default model
    device: str = "auto"  # auto = cuda when available
    dtype: str = "auto"  # auto = bfloat16 on GPU and native-bf16 CPUs, else float32 (completion/model/precision.py)
    suggestions: int = 3  # k: how many suggestions a request returns
    max_tokens: int = 48  # generated tokens per suggestion, at most
    speculation: bool = True  # drafts + tree verification (exact either way)
    pie: bool = True  # False: re-encode on every edit (the quality reference)
    kv_budget_mb: int = 2048  # KV memory across documents; least recently used are evicted past it
    stale_budget: int = 2048  # stale tokens (K/V that predate an edit before them) tolerated before a refresh
    fim_layout: str = "auto"  # auto: a FIM layout when the tokenizer has FIM tokens, else left-to-right
    max_file_bytes: int = 1_000_000  # larger documents are tracked but get no completions
    allow_pickle: bool = False  # pickled .bin checkpoints can run code: only when asked
    log_level: str = "info"
    kernels: str = "auto"  # Triton kernels (tree attention, PIE re-rotation) or PyTorch; auto: Triton on CUDA
    weights: str = "auto"  # linear layers' format: dense (auto), or int8 / int4 CPU kernels for narrow forwards
    compile: str = "auto"  # torch.compile the forward: auto = off (measured slower on CPU, not yet measured on GPU)
    context_tokens: int = 1024  # the cached prompt (context segment + document window), capped by the model's
    # context; 1024 measured as good as 2048 or 4096 for the default model at half the encode (bench window)
    latency_budget_ms: int = 300  # a request answers with what is decoded by then; 0: only finished suggestions
    prefetch: bool = True  # after an accept, decode the next suggestion before it is asked for
    index_max_files: int = 5000  # workspace files indexed for the drafters at most; 0: no index
    index_max_bytes: int = 4_000_000  # their total size at most: ~1M tokens, ~340 MB of n-gram counts

    def __post_init__(self) -> None:
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {', '.join(DEVICES)}, not {self.device!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, not {self.dtype!r}")
        if self.fim_layout not in FIM_LAYOUTS:
            raise ValueError(f"fimLayout must be one of {', '.join(FIM_LAYOUTS)}, not {self.fim_layout!r}")
        if self.kernels not in KERNELS:
            raise ValueError(f"kernels must be one of {', '.join(KERNELS)}, not {self.kernels!r}")
        if self.weights not in WEIGHTS:
            raise ValueError(f"weights must be one of {', '.join(WEIGHTS)}, not {self.weights!r}")
        if self.compile not in COMPILE:
            raise ValueError(f"compile must be one of {', '.join(COMPILE)}, not {self.compile!r}")
        if self.log_level not in LOG_LEVELS:
            raise ValueError(f"logLevel must be one of {', '.join(LOG_LEVELS)}, not {self.log_level!r}")
        for name in ("suggestions", "max_tokens", "kv_budget_mb", "max_file_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.context_tokens < 256:
            raise ValueError(f"contextTokens must be at least 256, not {self.context_tokens}")
        for name in ("stale_budget", "index_max_files", "index_max_bytes", "latency_budget_ms"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be at least 0, not {getattr(self, name)}")

    def replace(self, **changes) -> Settings:
        """A copy with ``changes`` applied (and checked)."""
        return dataclasses.replace(self, **changes)

    def reloads_model(self, previous: Settings) -> bool:
        """Whether going from ``previous`` to these settings loads another model (a RELOAD_FIELDS one differs)."""
        return any(getattr(self, name) != getattr(previous, name) for name in RELOAD_FIELDS)


def settings_from_lsp(options: dict, base: Settings | None = None) -> tuple[Settings, list[str]]:
    """Settings from LSP camelCase options over ``base``; also returns the unknown keys, to be reported."""
    known = {LSP_KEYS[key]: value for key, value in options.items() if key in LSP_KEYS}
    unknown = sorted(key for key in options if key not in LSP_KEYS)
    return (base or Settings()).replace(**known), unknown
