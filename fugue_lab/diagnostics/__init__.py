"""Frames, plots, monitoring and precision sweeps (needs the ``lab`` extra)."""
