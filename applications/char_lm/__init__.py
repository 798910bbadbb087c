"""Character-level language model (seed 4.4): names and dinosaur names."""
