"""Cues of the taxonomy category: text_noise."""
