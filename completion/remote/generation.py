"""One suggestion read from a backend's stream: the healed text checked and stripped, the stop rule applied.

The server decodes greedily from the healed prompt (the prompt backed off to the token boundary before the
cursor, completion/prompt/builder.py); the text it streams must start with the bytes the prompt backed off
from. What follows is the suggestion, ended by the same StopRule as local decoding, at which point the
stream is closed (the server stops decoding).
"""

from __future__ import annotations

from dataclasses import dataclass

from kvcomplete.completion.decoding.stops import StopRule
from kvcomplete.completion.remote.api import Api, Usage, error_in
from kvcomplete.completion.remote.client import EngineUnavailable


@dataclass(slots=True)
class SuggestionReader:
    api: Api
    healed: str
    stop: StopRule
    raw: str = ""  # all text streamed so far, healed text included
    text: str = ""  # the suggestion as it stands
    done: bool = False  # ended by the stop rule or the stream's end (else: cut)
    diverged: bool = False  # the stream left the healed text: no suggestion (a server without healing)
    usage: Usage | None = None
    pieces: int = 0  # events with text: about the tokens generated

    def feed(self, event: dict) -> bool:
        """Take one event; True when the suggestion is complete and the stream can be closed."""
        message = error_in(event)
        if message is not None:
            raise EngineUnavailable(message)
        self.usage = self.api.usage_of(event) or self.usage
        piece = self.api.text_of(event)
        if not piece:
            return False
        self.raw += piece
        self.pieces += 1
        if not self.healed.startswith(self.raw[: len(self.healed)]):
            self.diverged = self.done = True
            return True
        if len(self.raw) < len(self.healed):
            return False
        generated = self.raw[len(self.healed):]
        end = self.stop.end_of(generated)
        self.text = self.stop.finish(generated if end is None else generated[:end])
        self.done = end is not None
        return self.done

    def ended(self) -> None:
        """The stream ended by itself: EOS or the token limit."""
        self.done = True
