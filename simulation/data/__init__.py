"""The clinic's own records: the episode extract (reading, mapping, checking) and synthetic
extracts made from a simulation. Identifiers stop here: what leaves this package is re-numbered."""
