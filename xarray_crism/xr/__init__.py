"""Layer 5, lazy xarray: the backend array, Datasets and DataTrees, the ``crism`` engine, stacking."""
