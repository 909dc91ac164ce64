"""Layer 6, analysis on the lazy Datasets (CRISM CAT workflow, Mastcam-Z spectral operations)."""
