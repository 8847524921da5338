"""The one settings object that flows from the CLI or LSP initializationOptions down to the engine.

Each setting is declared once, as a field of Settings with its LSP key, CLI flag, allowed values, texts and
whether it reloads the model. The CLI's flags (kvcomplete/cli.py), the LSP options (lsp_server/settings.py),
the checks of values and docs/configuration.md's table all derive from that declaration (SETTINGS).
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass

DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("auto", "float32", "bfloat16", "float16")
LOG_LEVELS = ("error", "warning", "info", "debug")
KERNELS = ("auto", "triton", "torch")  # see completion/model/runner.py
WEIGHTS = ("auto", "bf16", "int8", "int4", "fp32")  # see completion/model/precision.py and completion/model/weights.py
FIM_LAYOUTS = ("auto", "ltr", "psm", "spm")  # see completion/prompt/layout.py
COMPILE = ("auto", "on", "off")  # torch.compile of the forward, see completion/model/compiled.py
BACKENDS = ("local", "llama-server", "openai")  # where the forwards run, see completion/remote/
# docs/configuration.md's settings table lies between these lines; docs_table() writes it.
TABLE_START = "<!-- settings table: generated from completion/config.py (tests/completion/test_config.py) -->"
TABLE_END = "<!-- end of the settings table -->"


@dataclass(frozen=True)
class Setting:
    """How one Settings field is given (LSP key, CLI flag), what it accepts and what it does."""

    lsp: str  # the camelCase key of LSP initializationOptions and workspace/didChangeConfiguration
    doc: str  # Markdown: what it does, for docs/configuration.md
    help: str | None = None  # the CLI flag's --help (phrased for the flag: --no-pie says what turning it off does)
    flag: str | None = None  # None: over LSP only; a boolean's flag turns its default around (--no-pie)
    commands: tuple[str, ...] = ()  # the subcommands with the flag; (): every one that takes the model's flags
    choices: tuple[str, ...] = ()  # the allowed values, when there is a list of them
    minimum: int | None = None
    command_line_only: bool = False  # refused over LSP: an editor's or a workspace's settings may not set it
    reloads_model: bool = False  # it names the model itself: a change loads another one; the rest apply in place
    name: str = ""  # the Settings field, its type and its default: filled in from the dataclass (SETTINGS)
    type: object = None
    default: object = None

    def check(self, value: object) -> None:
        """Refuse ``value`` outside the choices or under the minimum, naming the setting as the editor does."""
        if self.choices and value not in self.choices:
            raise ValueError(f"{self.lsp} must be one of {', '.join(self.choices)}, not {value!r}")
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"{self.lsp} must be at least {self.minimum}, not {value}")


def setting(default: typing.Any, **declared: typing.Any) -> typing.Any:
    """A Settings field with ``default``, declared by ``declared`` (Setting's arguments)."""
    return dataclasses.field(default=default, metadata={"setting": Setting(**declared)})


@dataclass(slots=True)
class Settings:
    """Engine settings; invalid values are refused here, with the name of the setting."""

    model: str | None = setting(
        None, lsp="model", flag="--model", reloads_model=True,
        help="model folder, id in the local HF cache, or .gguf (default: embedded)",
        doc="a model folder, a Hugging Face id already in the local cache, or a `.gguf` file; never downloaded; "
            "`null` (no `--model`): the embedded default model")
    device: str = setting(
        "auto", lsp="device", flag="--device", choices=DEVICES, reloads_model=True,
        help="where the model runs (auto: CUDA when torch sees one)",
        doc="`auto` (CUDA when torch sees one), `cpu`, `cuda`")
    dtype: str = setting(
        "auto", lsp="dtype", flag="--dtype", choices=DTYPES, reloads_model=True,
        help="the weights' and the cache's dtype (auto: bfloat16 on GPU and on CPUs with native bf16, else float32)",
        doc="`auto` (bf16 on GPU and on CPUs with native bf16, i.e. avx512_bf16 or AMX; fp32 on other CPUs; "
            "`kvcomplete info` shows the choice and why), `float32`, `bfloat16`, `float16`")
    weights: str = setting(
        "auto", lsp="weights", flag="--weights", choices=WEIGHTS, reloads_model=True,
        help="linear layers' format: dense (auto, bf16, fp32) or low-bit CPU kernels (int8, int4)",
        doc="the linear layers' (and LM head's) format: `bf16`, `fp32` (dense, and the dtype when that is `auto`), "
            "`int8`, `int4` (weight-only CPU kernels for forwards of up to 16 tokens, a dense copy of the same "
            "dequantised weights for wider ones; completion/model/weights.py); `int4` is taken by layers whose "
            "weights are 4-bit already (the default model's, from its Q4_1 GGUF: lossless), `int8` by the others; "
            "with low-bit layers the LM head computes the vocabulary in int8 and its 32 best rows again exactly "
            "(completion/model/head.py: greedy picks what a dense head picks); `auto` = `int4` on a CPU running bf16 "
            "when every linear layer is 4-bit already (the default model: its one-token step 14 ms against 25 ms "
            "dense bf16, suggestion #1 equal to fp32's as often as bf16's), dense otherwise (other models, GPUs, CPUs "
            "without native bf16). A `.gguf` model under `auto` or `int4` keeps its file's bits, no dense copy "
            "(completion/model/gguf_weights.py): Q4_K / Q6_K / Q8_0 / Q5_0 layers compute from the file's blocks "
            "(kernels/cpu_blocks.c, built by `kvcomplete setup`), other 4-bit types as int4, the rest as int8; docs/benchmarks.md, \"Model step\"; `kvcomplete info` shows each "
            "layer's format and why")
    compile: str = setting(
        "auto", lsp="compile", flag="--compile", choices=COMPILE, reloads_model=True,
        help="run the forward through torch.compile (auto: off; measured slower on CPU)",
        doc="`on` runs the model's forward through `torch.compile` (inductor, dynamic shapes), compiling the graphs "
            "of a first request at load (`$/progress`); `auto` = `off`: on a 2-core CPU a compiled one-token step "
            "of the default model measured 77–89 ms against 22.3 ms eager, after 30–110 s of compiling; on CUDA it "
            "is not measured yet (completion/model/compiled.py); `kvcomplete info` shows the choice and why")
    suggestions: int = setting(
        3, lsp="suggestions", flag="-k", commands=("complete", "demo"), minimum=1,
        help="number of suggestions per request",
        doc="k: suggestions per request, at most (suggestion #1 is exactly greedy decoding)")
    max_tokens: int = setting(
        48, lsp="maxTokens", flag="--max-tokens", commands=("complete", "demo"), minimum=1,
        help="tokens generated per suggestion, at most",
        doc="tokens generated per suggestion, at most")
    speculation: bool = setting(
        True, lsp="speculation", flag="--no-speculation", commands=("complete",),
        help="decode without drafts and tree verification (the same suggestions, more slowly)",
        doc="drafts (CopySpec, Superposed) verified as one token tree; the output is the same either way")
    pie: bool = setting(
        True, lsp="pie", flag="--no-pie",
        help="re-encode on every edit instead of PIE (also allows length-dependent rotary)",
        doc="`false` re-encodes from each edit on (the quality reference); also needed for length-dependent rotary")
    kv_budget_mb: int = setting(
        2048, lsp="kvBudgetMB", minimum=1,
        doc="KV cache memory across open documents; least recently used caches are evicted past it and "
            "re-encoded on their next request")
    stale_budget: int = setting(
        2048, lsp="staleBudget", minimum=0,
        doc="stale tokens (K/V computed before an edit earlier in the prompt) tolerated after the cursor; "
            "idle-time background work re-encodes them in chunks once there are more, and any stale token before "
            "the cursor at once (never inside a request)")
    context_tokens: int = setting(
        1024, lsp="contextTokens", flag="--context-tokens", minimum=256,
        help="the document window around the cursor that the cache holds, in tokens",
        doc="the cached prompt in tokens: the document window around the cursor (¾ before it when placed, aligned "
            "to a line start) and, with a workspace, a quarter for the cross-file context segment; capped by the "
            "model's trained context and by `kvBudgetMB`. Positions restart at the window, so a file of any size "
            "costs what its window costs (docs/architecture.md, \"The context window\"). 1024 by measurement: for "
            "the default model, next-line edit similarity 0.489 / 0.461 / 0.438 / 0.443 at 512 / 1024 / 2048 / "
            "4096 on 30 real lines (`kvcomplete bench window`), while the first request's encode grows with the "
            "window")
    latency_budget_ms: int = setting(
        200, lsp="latencyBudgetMs", flag="--latency-budget-ms", minimum=0,
        help="serve: answer by then with what is decoded, go on in the background (0: at the end)",
        doc="`serve`: a request answers by then with what is decoded (once suggestion #1 has text), counted from its "
            "arrival at the server (queueing included; a step that would end past it is not started), and decoding "
            "goes on in the background; the server then sends `kvcomplete/suggestionsChanged` and the plugins ask "
            "again; a request at the place a decoding is under way (asked again, or after the prefetch that "
            "follows an accept) answers at once with what it has. `0`: answer only with finished suggestions. "
            "`complete` and `bench` always decode to the end. 200 by measurement: a burst of real edits then a "
            "request answered at a p50 of 199 / 287 / 291 ms and a p95 of 280 / 311 / 440 ms with 200 / 300 / 0 "
            "(`python -P -m kvcomplete.bench.bursts`), typing at the same p50 (102 ms) and p95 293 / 297 ms "
            "(`kvcomplete bench latency`)")
    prefetch: bool = setting(
        True, lsp="prefetch",
        doc="after an accept (`kvcomplete/didAccept`), decode at the new cursor in the background as soon as the "
            "insertion arrives")
    next_edits: bool = setting(
        True, lsp="nextEdits",
        doc="after an edit, find the places where the same change could be made, score them on the warm cache in "
            "the background and send the best with `kvcomplete/nextEditsReady`; `false`: only "
            "`kvcomplete/nextEdits` requests compute them (docs/next-edits.md)")
    max_next_edits: int = setting(
        10, lsp="maxNextEdits", minimum=1,
        doc="next-edit proposals per set, at most (the best first)")
    next_edits_threshold: float = setting(
        -1.0, lsp="nextEditsThreshold",
        doc="a next-edit candidate is proposed when its score (log p of the new text − log p of the old, with "
            "the next 4 tokens, in nats) is above this, and within 4 of the best (docs/next-edits.md, \"The "
            "threshold\": pure insertions, deletions and renames get their own margins)")
    fim_layout: str = setting(
        "auto", lsp="fimLayout", flag="--fim-layout", choices=FIM_LAYOUTS,
        help="prompt layout: auto = fill-in-the-middle when the model has FIM tokens",
        doc="`ltr`, `psm`, `spm`; `auto` = SPM for StarCoder-family FIM models, PSM for other FIM models, else "
            "left-to-right (docs/architecture.md)")
    kernels: str = setting(
        "auto", lsp="kernels", flag="--kernels", choices=KERNELS,
        help="Triton kernels or PyTorch for tree attention and PIE re-rotation (auto: Triton on CUDA)",
        doc="`auto` (Triton on CUDA, PyTorch on CPU), `triton`, `torch`: the Triton kernels or PyTorch (SDPA) for "
            "tree attention in verification forwards and PIE's key re-rotation (docs/kernels.md)")
    max_file_bytes: int = setting(
        1_000_000, lsp="maxFileBytes", minimum=1,
        doc="larger documents are tracked (their text stays exact) but get no completions (one log message); "
            "larger workspace files are not indexed")
    index_max_files: int = setting(
        5000, lsp="indexMaxFiles", minimum=0,
        doc="workspace files indexed for the drafters (CopySpec, n-gram model), at most, in listing order; `0` "
            "turns the index off")
    index_max_bytes: int = setting(
        4_000_000, lsp="indexMaxBytes", minimum=0,
        doc="their total size, at most: 4 MB of Python is ~1M tokens, ~340 MB of n-gram counts and ~3 ms per "
            "CopySpec look-up (docs/architecture.md, \"The workspace index\")")
    allow_pickle: bool = setting(
        False, lsp="allowPickle", flag="--allow-pickle", command_line_only=True,
        help="allow pickled .bin checkpoints (can run code)",
        doc="pickled `.bin` checkpoints can run code: command line only, refused over LSP")
    backend: str = setting(
        "local", lsp="backend", flag="--backend", commands=("complete", "serve"), choices=BACKENDS,
        help="where the forwards run: this process (local), a llama-server or an OpenAI-compatible server",
        doc="`local` (this process), `llama-server` or `openai` (an OpenAI-compatible `/v1/completions`, e.g. vLLM) "
            "at `backendUrl`: the server runs the forwards, kvcomplete keeps the documents, prompt, token healing, "
            "stop rules and statistics; `model` names the tokenizer, which must be the served model's "
            "(docs/teams.md)")
    backend_url: str = setting(
        "http://127.0.0.1:8080", lsp="backendUrl", flag="--backend-url", commands=("complete", "serve"),
        help="the llama-server or OpenAI-compatible server of --backend",
        doc="the server of `backend` (`http://` or `https://`); the document text is sent to it")
    backend_model: str | None = setting(
        None, lsp="backendModel", flag="--backend-model", commands=("complete", "serve"),
        help="the `model` field of --backend openai requests (default: the server's first model)",
        doc="`openai`: the `model` of each request; `null`: the first model the server lists")
    backend_timeout_ms: int = setting(
        1000, lsp="backendTimeoutMs", flag="--backend-timeout-ms", commands=("complete", "serve"),
        minimum=1,
        help="a request with no text from the backend by then answers empty",
        doc="a request that has no text from the backend by then answers empty (with the reason in the log); "
            "`latencyBudgetMs` still cuts an answer that has text. A backend that fails is tried again after "
            "1, 2, 4, 8, then every 10 s")
    backend_fallback: bool = setting(
        False, lsp="backendFallback", flag="--backend-fallback", commands=("complete", "serve"),
        help="while the backend is down, answer with the local model (loaded at the first failure)",
        doc="while the backend is down, the local model answers: it loads in the background at the first failure "
            "(its weights on the workstation, as `backend: local`) and stays in step with the open documents; "
            "`false`: requests answer empty until the backend is back")
    log_level: str = setting(
        "info", lsp="logLevel", choices=LOG_LEVELS,
        doc="`error`, `warning`, `info`, `debug`: stderr and `window/logMessage`")

    def __post_init__(self) -> None:
        for declared in SETTINGS:
            declared.check(getattr(self, declared.name))

    def replace(self, **changes) -> Settings:
        """A copy with ``changes`` applied (and checked)."""
        return dataclasses.replace(self, **changes)

    def reloads_model(self, previous: Settings) -> bool:
        """Whether going from ``previous`` to these settings loads another model (a RELOAD_FIELDS one differs)."""
        return any(getattr(self, name) != getattr(previous, name) for name in RELOAD_FIELDS)


def _declared() -> tuple[Setting, ...]:
    """Each field's Setting, completed with the field's name, type and default."""
    types = typing.get_type_hints(Settings)
    return tuple(dataclasses.replace(field.metadata["setting"], name=field.name, type=types[field.name],
                                     default=field.default) for field in dataclasses.fields(Settings))


SETTINGS = _declared()
BY_LSP_KEY = {declared.lsp: declared for declared in SETTINGS}
# LSP initializationOptions use camelCase; the dataclass uses snake_case.
LSP_KEYS = {key: declared.name for key, declared in BY_LSP_KEY.items()}
COMMAND_LINE_ONLY = frozenset(declared.lsp for declared in SETTINGS if declared.command_line_only)
RELOAD_FIELDS = tuple(declared.name for declared in SETTINGS if declared.reloads_model)


def settings_from_lsp(options: dict, base: Settings | None = None) -> tuple[Settings, list[str]]:
    """Settings from LSP camelCase options over ``base``; also returns the unknown keys, to be reported."""
    known = {LSP_KEYS[key]: value for key, value in options.items() if key in LSP_KEYS}
    unknown = sorted(key for key in options if key not in LSP_KEYS)
    return (base or Settings()).replace(**known), unknown


def docs_table() -> str:
    """docs/configuration.md's settings table, between its markers: written from SETTINGS, so it cannot drift."""
    rows = [TABLE_START, "| LSP key | CLI flag | Default | What it does |", "| --- | --- | --- | --- |"]
    rows += [f"| `{s.lsp}` | {_shown_flag(s)} | {_shown_default(s)} | {s.doc} |" for s in SETTINGS]
    reloading = [f"`{s.lsp}`" for s in SETTINGS if s.reloads_model]
    listed = f"{', '.join(reloading[:-1])} or {reloading[-1]}"
    return "\n".join([*rows, "", f"Changing {listed} reloads the model in the background (with `$/progress`).",
                      TABLE_END])


def with_docs_table(markdown: str) -> str:
    """``markdown`` (docs/configuration.md) with its settings table replaced by docs_table()."""
    before, rest = markdown.split(TABLE_START, 1)
    return before + docs_table() + rest.split(TABLE_END, 1)[1]


def _shown_flag(declared: Setting) -> str:
    if declared.flag is None:
        return "—"
    return ", ".join(f"`{command} {declared.flag}`" for command in declared.commands) or f"`{declared.flag}`"


def _shown_default(declared: Setting) -> str:
    """The default as the editor writes it (JSON, strings without their quotes), and the minimum."""
    value = declared.default if isinstance(declared.default, str) else json.dumps(declared.default)
    return f"`{value}`" + ("" if declared.minimum is None else f" (≥ {declared.minimum})")
