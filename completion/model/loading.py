"""Loading a rotary causal LM and its tokenizer from local files only, with checks that explain refusals."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import torch

from kvcomplete.completion.config import Settings
from kvcomplete.completion.model import attention, default_model
from kvcomplete.completion.model.compiled import compile_forward, resolve_compile, warm_up
from kvcomplete.completion.model.gguf_metadata import metadata_folder
from kvcomplete.completion.model.gguf_weights import load_in_bits
from kvcomplete.completion.model.head import HEAD_FORMAT, rescore_head
from kvcomplete.completion.model.precision import NOT_FOUR_BIT, Precision, PrecisionError, resolve
from kvcomplete.completion.model.runner import ModelRunner
from kvcomplete.completion.model.spec import LoadedModel, ModelError, Progress, RotarySpec
from kvcomplete.completion.model.weights import all_four_bit, quantize

# Rotary variants whose frequencies do not depend on the sequence length: keys can be re-rotated.
SHIFTABLE_ROPE_TYPES = {"default", "linear", "llama3", "yarn"}
# Frequencies change with length: a cached key's rotation is not a function of its position alone.
LENGTH_DEPENDENT_ROPE_TYPES = {"dynamic", "longrope"}
GGUF_IN_BITS = "the GGUF's blocks kept (4-bit types as int4, other quantized types as int8 per channel)"

def resolve_device(requested: str) -> torch.device:
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise ModelError("device 'cuda' was asked for, but torch sees no CUDA device (use --device cpu or auto)")
    return torch.device(requested)


def resolve_source(spec: str | None) -> tuple[str, str | None, str]:
    """(folder or hub id, gguf file name or None, display name) for a --model value; no network."""
    if spec is None:
        if not default_model.is_installed():
            raise ModelError(
                f"the default model is not installed in {default_model.default_model_dir()}; "
                "run `make setup` (or `kvcomplete setup`) once")
        return str(default_model.default_model_dir()), None, default_model.NAME
    path = Path(spec).expanduser()
    if spec.endswith(".gguf"):
        if not path.is_file():
            raise ModelError(f"GGUF file not found: {path}")
        return str(path.parent), path.name, path.name
    if path.exists() or spec.startswith((".", "/", "~")):
        if not path.is_dir():
            raise ModelError(f"model folder not found: {path}")
        if not (path / "config.json").is_file():
            raise ModelError(f"{path} has no config.json: not a Hugging Face model folder")
        return str(path), None, path.name
    return resolve_hub_cache(spec), None, spec


def resolve_hub_cache(model_id: str) -> str:
    """The local snapshot folder of a model id already in the Hugging Face cache."""
    from huggingface_hub import snapshot_download

    try:
        return snapshot_download(model_id, local_files_only=True)
    except Exception as error:  # the hub library raises several kinds for "not cached"
        raise ModelError(
            f"{model_id!r} is neither a folder nor a model in the local Hugging Face cache "
            f"(kvcomplete never downloads at run time): {error.__class__.__name__}") from None


def check_weights_format(folder: str, gguf_file: str | None, allow_pickle: bool) -> None:
    if gguf_file is not None:
        return
    files = {p.name for p in Path(folder).iterdir()}
    if any(name.endswith(".safetensors") for name in files):
        return
    if any(name.endswith(".bin") for name in files):
        if allow_pickle:
            return
        raise ModelError(f"{folder} holds only pickled .bin weights, which can run code when loaded; "
                         "convert them to safetensors or pass --allow-pickle if you trust them")
    raise ModelError(f"{folder} holds no weights (*.safetensors)")


def _rotary_per_layer_type(config) -> dict[str, dict]:
    """The rotary parameters of each layer type, for models whose layers differ in them (Gemma 3's local and
    global layers); empty for one set of parameters."""
    params = getattr(config, "rope_parameters", None)
    if isinstance(params, dict) and params and all(isinstance(value, dict) for value in params.values()):
        return params
    return {}


def rope_type_of(config) -> str | None:
    """The rotary variant from the config (the one variant all layer types share), or None for a model without
    rotary embeddings."""
    per_layer_type = _rotary_per_layer_type(config)
    if per_layer_type:
        kinds = {params.get("rope_type", "default") for params in per_layer_type.values()}
        return kinds.pop() if len(kinds) == 1 else "mixed: " + ", ".join(sorted(kinds))
    params = getattr(config, "rope_parameters", None)
    if isinstance(params, dict) and params:
        return params.get("rope_type", "default")
    return None


def check_rotary(config, pie: bool) -> str:
    rope_type = rope_type_of(config)
    if rope_type is None:
        raise ModelError(f"{config.model_type} models have no rotary position embeddings; "
                         "kvcomplete needs a rotary model (Llama, Qwen2, Starcoder2, GPT-NeoX, Phi, Gemma 3, ...)")
    if rope_type not in SHIFTABLE_ROPE_TYPES and pie:
        why = ("its rotary frequencies change with the sequence length"
               if rope_type in LENGTH_DEPENDENT_ROPE_TYPES else "kvcomplete cannot re-rotate this variant")
        raise ModelError(f"rotary variant {rope_type!r}: {why}, so cached keys cannot be moved (PIE); "
                         "run with PIE off (--no-pie / \"pie\": false) to re-encode on every edit")
    return rope_type


def rotary_spec(model: torch.nn.Module, rope_type: str) -> RotarySpec:
    """The inverse frequencies the model actually uses (scaling applied, YaRN's attention factor not): one set,
    or, where layer types differ in them, each layer's (transformers keeps ``<layer type>_inv_freq``)."""
    holder = next((module for module in model.modules()
                   if any(name.endswith("inv_freq") for name, _ in module.named_buffers(recurse=False))), None)
    if holder is None:
        raise ModelError(f"{model.config.model_type}: no rotary embedding module (inv_freq) found")
    layers = model.config.num_hidden_layers
    if isinstance(getattr(holder, "inv_freq", None), torch.Tensor):
        inv_freqs = [holder.inv_freq] * layers
    else:
        inv_freqs = [getattr(holder, f"{kind}_inv_freq") for kind in model.config.layer_types[:layers]]
    runs = _runs([freq.detach().to(torch.float32).clone() for freq in inv_freqs])
    return RotarySpec(layer_runs=runs, rotary_dim=2 * runs[0][1].numel(), rope_type=rope_type,
                      shiftable=rope_type in SHIFTABLE_ROPE_TYPES)


def _runs(inv_freqs: list[torch.Tensor]) -> tuple[tuple[slice, torch.Tensor], ...]:
    """Runs of consecutive layers with equal frequencies, as (layers, inv_freq)."""
    runs, start = [], 0
    for layer in range(1, len(inv_freqs) + 1):
        if layer == len(inv_freqs) or not torch.equal(inv_freqs[layer], inv_freqs[start]):
            runs.append((slice(start, layer), inv_freqs[start]))
            start = layer
    return tuple(runs)


def load(settings: Settings, progress: Progress | None = None) -> LoadedModel:
    """Load the model named by ``settings`` from local files; raises ModelError with a clear message."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    report = progress or (lambda message, fraction: None)
    started = time.perf_counter()
    folder, gguf_file, name = resolve_source(settings.model)
    check_weights_format(folder, gguf_file, settings.allow_pickle)
    device = resolve_device(settings.device)
    try:
        precision = resolve(settings.dtype, settings.weights, device)
    except PrecisionError as error:
        raise ModelError(str(error)) from None
    compiled, compile_reason = resolve_compile(settings.compile, device)
    report(f"reading {name}", 0.05)
    try:
        described = described_by(folder, gguf_file)
        config = AutoConfig.from_pretrained(described, local_files_only=True)
    except (OSError, ValueError, KeyError) as error:
        raise ModelError(f"cannot read the model config in {folder}: {error}") from None
    rope_type = check_rotary(config, settings.pie)
    report(f"loading {name} weights", 0.2)
    in_bits = gguf_file is not None and precision.weights == "int4"
    try:
        if in_bits:  # each layer straight from its blocks, in the nearest kernel to its bits
            model, counts = load_in_bits(Path(folder) / gguf_file, config, precision.dtype, attention.register(),
                                         lambda fraction: report(f"loading {name} weights", 0.2 + 0.6 * fraction))
        else:
            model = AutoModelForCausalLM.from_pretrained(
                folder, gguf_file=gguf_file, dtype=precision.dtype, local_files_only=True,
                use_safetensors=None if settings.allow_pickle or gguf_file else True,
                attn_implementation=attention.register())
        tokenizer = AutoTokenizer.from_pretrained(described, local_files_only=True)
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        raise ModelError(f"cannot load {name}: {error}") from None
    model.to(device).eval().requires_grad_(False)
    if in_bits:
        weights, weights_reason = _formats(counts), f"{'auto' if precision.only_if_lossless else 'set'}: {GGUF_IN_BITS}"
    else:
        weights, weights_reason = _apply_weights(model, precision, lambda: report(f"{name}: low-bit weights", 0.9))
    if weights != "dense" and rescore_head(model):  # low-bit layers: the head's int8 with exact top candidates
        weights = f"{weights}, {HEAD_FORMAT}"
    loaded = LoadedModel(model=model, tokenizer=tokenizer, rotary=rotary_spec(model, rope_type), name=name,
                         device=device, dtype=precision.dtype, load_seconds=0.0, dtype_reason=precision.dtype_reason,
                         weights=weights, weights_reason=weights_reason, compiled=compiled,
                         compile_reason=compile_reason)
    if compiled:
        _compile(loaded, settings.kernels, report)
    report(f"{name} loaded", 1.0)
    loaded.load_seconds = time.perf_counter() - started
    return loaded


def described_by(folder: str, gguf_file: str | None) -> str | Path:
    """The folder with the model's config and tokenizer: a GGUF's are converted once (gguf_metadata.py)."""
    return metadata_folder(Path(folder) / gguf_file) if gguf_file else folder


def load_tokenizer(settings: Settings) -> tuple[object, object, str]:
    """The tokenizer, config and display name of the model named by ``settings``, without its weights: what a
    remote backend (completion/remote/) needs to build prompts whose forwards run elsewhere."""
    from transformers import AutoConfig, AutoTokenizer

    folder, gguf_file, name = resolve_source(settings.model)
    try:
        described = described_by(folder, gguf_file)
        config = AutoConfig.from_pretrained(described, local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(described, local_files_only=True)
    except (OSError, ValueError, KeyError) as error:
        raise ModelError(f"cannot read the tokenizer of {name} in {folder}: {error}") from None
    return tokenizer, config, name


def _apply_weights(model, precision: Precision, reporting: Callable[[], None]) -> tuple[str, str]:
    """Swap the linear layers to ``precision``'s low-bit format, if any: (the layers' formats, why)."""
    if precision.only_if_lossless and not all_four_bit(model):
        return "dense", NOT_FOUR_BIT
    if precision.weights == "dense":
        return "dense", precision.weights_reason
    reporting()
    return _formats(quantize(model, precision.weights)), precision.weights_reason


def _formats(counts: dict[str, int]) -> str:
    return ", ".join(f"{kind} x{count}" for kind, count in sorted(counts.items()))


def _compile(loaded: LoadedModel, kernels: str, report: Progress) -> None:
    """Compile the forward, and the graphs of a first request now rather than in that request."""
    compile_forward(loaded.model)
    warm_up(ModelRunner(loaded, kernels), report, 0.92, 0.99)
