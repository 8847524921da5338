"""The prompt of a request: the tokens the cache must hold, and where decoding starts in them.

The cached prompt is segments: [context from other files][the document window, left to right or as the FIM
layout's segments]. A request derives it from the document mirror, the window and the cursor; the session
then takes the difference as PIE edits (completion/cache/token_diff.py), so typing, a slid window and a cursor
move between FIM segments are the same operation.

Token healing: the text before the cursor usually ends inside a token the tokenizer would merge with what
comes next (newline + indentation, a half-typed word), so the prompt backs off to the token boundary before
the cursor's last token and decoding must first reproduce the removed bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from kvcomplete.completion.cache.window import Window, WindowPolicy
from kvcomplete.completion.model.spec import FimTokens
from kvcomplete.completion.open_documents import OpenDocument
from kvcomplete.completion.prompt.layout import Layout, fim_segments, flatten
from kvcomplete.completion.text.mirror import TokenMirror
from kvcomplete.completion.text.vocab import Vocabulary


@dataclass(frozen=True, slots=True)
class Prompt:
    """The prompt: slots [0, prefix_len) of the store, then ``last_token`` at ``last_position``."""

    prefix_len: int
    last_token: int
    last_position: int
    healed: bytes  # bytes before the cursor that the suggestion must start by reproducing
    context: tuple[int, ...] = ()  # the prompt's tokens, for drafters that match on context


@dataclass(frozen=True, slots=True)
class Target:
    """What a document's cache should hold: ``tokens`` (positions 0..), of which ``window`` is the
    document's part, and the request's ``prompt`` in them."""

    tokens: list[int]
    window: Window
    prompt: Prompt

    def window_held(self, cached: list[int]) -> Window:
        """The part of the window a session holding ``cached`` has: all of it, or after a partial update that
        appended to it (background growth) the part held so far."""
        if cached == self.tokens or self.tokens[: len(cached)] != cached:
            return self.window
        missing = len(self.tokens) - len(cached)
        return Window(self.window.start, max(self.window.start, self.window.end - missing))


@dataclass(frozen=True, slots=True)
class Split:
    """The cursor in token terms: tokens fully before it, the bytes of the token it cuts, and the healed
    prompt's length with the bytes decoding must reproduce."""

    index: int
    partial: bytes
    prompt_length: int
    healed: bytes


class PromptBuilder:
    def __init__(self, vocab: Vocabulary, start_token: int, layout: Layout, fim: FimTokens | None,
                 window: WindowPolicy) -> None:
        self.vocab, self.start_token = vocab, start_token
        self.layout, self.fim, self.window = layout, fim, window
        self.lead = leading_tokens(vocab.tokenizer)

    def split(self, mirror: TokenMirror, offset: int) -> Split:
        """Where ``offset`` falls in the tokens, with token healing applied."""
        index, partial = mirror.split_at(offset)
        length, healed = index, partial
        if not partial and index > 0 and mirror.tokens[index - 1] not in self.vocab.special_ids:
            length, healed = index - 1, self.vocab.bytes_of[mirror.tokens[index - 1]]
        return Split(index, partial, length, healed)

    def target(self, doc: OpenDocument, offset: int, context: Sequence[int] = (), full: bool = False) -> Target:
        """The cached prompt for a request at character ``offset``. Left to right, the window's tokens after
        the cursor are only encoded up to the budget with ``full`` (background work); a FIM prompt has its
        window's tokens after the cursor always (and never grows them: in SPM that would stale ``before``)."""
        mirror = doc.mirror
        split = self.split(mirror, offset)
        fim = self.layout is not Layout.LEFT_TO_RIGHT
        window = self.window.for_request(doc.window, split.prompt_length, len(mirror.tokens), doc.starts_line,
                                         with_after=fim, grow=full and not fim)
        before = mirror.tokens[window.start: split.prompt_length]
        context = self.lead + list(context)
        if not fim:
            tokens = context + mirror.tokens[window.start: window.end]
            return Target(tokens, window, self._prompt(context + before, split.healed))
        after = self._tokens_after(mirror, split, window.end)
        tokens = context + flatten(fim_segments(self.layout, self.fim, before, after))
        prompt = Prompt(prefix_len=len(tokens) - 1, last_token=tokens[-1], last_position=len(tokens) - 1,
                        healed=split.healed, context=tuple(before))
        return Target(tokens, window, prompt)

    def _prompt(self, before: list[int], healed: bytes) -> Prompt:
        """Left to right: decoding continues after ``before`` (cache slots 0..len(before))."""
        if not before:  # nothing before the cursor: start from BOS (or EOS, the usual document separator)
            return Prompt(prefix_len=0, last_token=self.start_token, last_position=0, healed=healed,
                          context=(self.start_token,))
        return Prompt(prefix_len=len(before) - 1, last_token=before[-1], last_position=len(before) - 1,
                      healed=healed, context=tuple(before))

    def _tokens_after(self, mirror: TokenMirror, split: Split, end: int) -> list[int]:
        """The tokens of the text after the cursor up to document token ``end`` (the window's): the document's,
        but the cut token re-tokenized. The segment thus ends at a fixed document token while the cursor moves
        within it, so typing never changes its end."""
        if not split.partial:
            return mirror.tokens[split.index: end]
        rest = self.vocab.bytes_of[mirror.tokens[split.index]][len(split.partial):]
        index = split.index + 1
        while True:  # a token may end inside a character that the next token completes
            try:
                return self.vocab.encode(rest.decode("utf-8")) + mirror.tokens[index: max(index, end)]
            except UnicodeDecodeError:
                rest, index = rest + self.vocab.bytes_of[mirror.tokens[index]], index + 1


def leading_tokens(tokenizer) -> list[int]:
    """What the tokenizer puts before any text: BOS for Gemma, Llama 2/3 and DeepSeek-Coder, nothing for Qwen2,
    StarCoder2 or SmolLM2. Prompts start the way the model saw text start in training (Gemma without its BOS
    suggests noticeably worse code)."""
    plain = tokenizer("x", add_special_tokens=False)["input_ids"]
    marked = tokenizer("x")["input_ids"]
    starts = [at for at in range(len(marked) - len(plain) + 1) if marked[at: at + len(plain)] == plain]
    return marked[: starts[0]] if starts else []
