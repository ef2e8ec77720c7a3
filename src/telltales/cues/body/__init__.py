"""Cues of the taxonomy category: body."""
