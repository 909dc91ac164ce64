"""Layer 2, labels: PDS3 ODL (:mod:`.pds3`), PDS4 XML (:mod:`.pds4`), attached ODL and VICAR headers (:mod:`.headers`)."""
