"""Cues of the taxonomy category: semantics."""
