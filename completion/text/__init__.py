"""Text as the model sees it: token byte strings, the text ⇄ tokens mirror of a document, its syntax."""
