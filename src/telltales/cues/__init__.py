"""The cues, one module each, grouped by the taxonomy's categories."""
