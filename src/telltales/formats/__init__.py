"""Byte-level readers for container formats (no pixel decoding)."""
