"""Drafters: cheap guesses of what follows the cursor, for the engine to verify in one tree forward.

- ``CopySpec`` copies what followed earlier occurrences of the context's last tokens (documents, suggestions).
- ``SuperposedDrafter`` decodes k drafts with one forward per step (Superposed Decoding), pruned with an
  ``NGramModel`` of the workspace.

See docs/drafts.md for the parameters and measured costs.
"""

from kvcomplete.completion.drafts.base import Draft
from kvcomplete.completion.drafts.copyspec import CopySpec
from kvcomplete.completion.drafts.ngram import NGramModel
from kvcomplete.completion.drafts.superposed import SuperposedDrafter

__all__ = ["Draft", "CopySpec", "NGramModel", "SuperposedDrafter"]
