"""Imported by the kernel under test through `deps`; analysis never runs it."""

WIDTH = 64
