"""Layer 4, the product model (no xarray): PDS3 and PDS4 builders, the per-kind opening steps,
sidecars, map and Mastcam-Z enrichment, Bayer planes, product sets and the byte-range reader."""
