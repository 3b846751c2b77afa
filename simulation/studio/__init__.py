"""The what-if studio: a local web page (Dash) where a planner changes a scenario in forms,
runs it, compares it with where they started and plans against targets, without writing
TOML. ``form`` turns a scenario into fields and the fields back into ``--set`` changes;
``jobs`` runs work in the background; ``app`` is the page. Installed with the ``studio``
extra; started by ``iopsim studio``."""
