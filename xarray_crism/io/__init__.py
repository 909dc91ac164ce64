"""Layer 1, bytes: fsspec sources, byte-range reads, stamps, retries and path confinement."""
