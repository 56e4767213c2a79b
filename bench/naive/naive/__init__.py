"""The naive baseline: a minimal Django project as a team would first write it, standalone
(nothing of the Fabrknt app). bench/reads.py measures our reads against its 20-row read;
its click insert is the naive ingest to compare with."""
