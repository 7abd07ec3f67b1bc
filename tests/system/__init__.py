"""Tests that start the product as real processes: gunicorn, ``archiver worker`` and the
``archiver`` command line, each against the simulator and real files."""
