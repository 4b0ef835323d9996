"""What a model is made of: addresses, distributions, numerics and the primitives."""
