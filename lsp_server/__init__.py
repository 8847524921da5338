"""The LSP face of kvcomplete: pygls on uvloop. Protocol only; the engine runs on one worker thread."""
