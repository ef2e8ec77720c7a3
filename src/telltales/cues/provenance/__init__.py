"""Supplementary cues: metadata and provenance."""
