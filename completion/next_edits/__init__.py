"""Next edits: after the user changes one place, the same change proposed at the other places, scored by the model."""
