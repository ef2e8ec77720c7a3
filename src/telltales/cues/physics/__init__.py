"""Cues of the taxonomy category: physics."""
