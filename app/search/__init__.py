"""Queries of a catalogue: songs near a point of the plane, songs like a song, and
playlists that travel across the plane; the same answers for the command line, the
HTTP API and Python.

- :mod:`app.search.songs` reads the catalogue's Parquet dataset into columns;
- :mod:`app.search.index` keeps the similarity index of the songs' sound beside it;
- :mod:`app.search.filters`, :mod:`app.search.plane`, :mod:`app.search.similar` and
  :mod:`app.search.playlist` are the queries;
- :mod:`app.search.catalogue` opens a catalogue and answers them (:class:`Catalogue`);
- :mod:`app.search.cli` is the ``search``, ``similar`` and ``playlist`` commands.

It stands on the core (:mod:`app.table` names the columns the catalogue job writes,
:mod:`app.dataset` finds its part files) and never imports the job, the API or the
command line. Reading needs the ``catalogue`` extra (pyarrow and usearch); without it
:meth:`Catalogue.open` says so (:class:`app.errors.SearchUnavailableError`).
"""
