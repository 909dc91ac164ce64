"""Layer 8, cloud: Zarr layout, stores, provenance, conversion on dask, verification, virtual references."""
