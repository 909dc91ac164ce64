"""Layer 2, labels: PDS3 ODL (:mod:`~xarray_crism.labels.pds3`), PDS4 XML (:mod:`~xarray_crism.labels.pds4`),
attached ODL and VICAR headers (:mod:`~xarray_crism.labels.headers`)."""
