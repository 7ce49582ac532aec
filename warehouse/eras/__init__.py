"""The report layouts ("eras") behind one registry: each module of this package declares one.

An era says how to recognise its documents (words only its layout prints, the format notice
that introduced it, the first report year it applies to when only the outline survived), how
they are read (`layout`: the tables, then the tables flattened into text, then sentences; or
prose and the 2008 statistics table), what differs in its tables (its own wording of table 三
rows, the rows of 其他处理, the default unit of amounts), which identity families of
warehouse.checks apply to it, and which of its figures feed each comparable measure of
mart_agency_year (its crosswalk rows, from which the build generates the `crosswalk_measure`
model). Adding an era = one module here that calls `register`, plus fixtures; nothing else
names eras.

Imports nothing of the project (the era modules import only `registry` and `_shared`, and name
keys of warehouse.metrics and warehouse.checks as strings, which tests/test_era_registry.py
checks): metrics, the parser, the checks and the build import this, so metrics can derive its
era lists from the registry without a cycle.
"""
from warehouse.eras.registry import (  # noqa: F401  (the registry's API, asked of this package)
    PROSE, TABLES, CrosswalkRow, Era, crosswalk_rows, era_by_words, era_named, era_names, eras, first_table_year,
    prose_era, register, table_era_for_year, table_era_names, unregister,
)
from warehouse.eras import prose, table_2019, table_2021  # noqa: E402,F401  (each registers its era)
