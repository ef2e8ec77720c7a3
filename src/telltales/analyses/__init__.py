"""Providers of shared per-image inputs (see ``telltales.analysis``)."""
