"""Layer 7, archives: index tables, volumes, PDS4 bundles, catalog filters and the Intake plugin."""
