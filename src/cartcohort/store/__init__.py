"""Keep a validated cohort in an embedded DuckDB database (all or nothing) and export it."""

from cartcohort.store.duckdb_store import export_cohort, read_cohort, read_provenance, write_cohort

__all__ = ["export_cohort", "read_cohort", "read_provenance", "write_cohort"]
