"""Inference algorithms built on the runtime: importance sampling, MH, SMC, batches."""
