"""Layer 3, archive formats as pure tables: product kinds, CF conventions, array layouts, tables,
map projections, WV tables and wavelength rules. Nothing here reads a product's data."""
