"""The browser page served at ``/``: static HTML, CSS and ES modules, built on the public API."""
