"""Studies: a manifest of samples, pellets, cells and measurements, a lab database, a
pipeline that analyses everything (locally or on Dask) and a report."""
