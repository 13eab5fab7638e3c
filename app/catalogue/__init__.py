"""Score a whole music library into a Parquet dataset, resumably, locally or on Ray.

- :mod:`app.catalogue.sources` lists the audio files of files, folders, lists and URIs;
- :mod:`app.catalogue.rows` is the table's schema and the row of a result or a problem;
- :mod:`app.catalogue.scorer` scores files in a supervised analysis process (one class
  for both engines);
- :mod:`app.catalogue.store` writes part files and knows what OUT already holds;
- :mod:`app.catalogue.local` and :mod:`app.catalogue.ray_engine` schedule the scoring;
- :mod:`app.catalogue.cli` is the ``music-emotion catalogue`` command.
"""
