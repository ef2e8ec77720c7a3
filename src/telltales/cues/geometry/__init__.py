"""Cues of the taxonomy category: geometry."""
