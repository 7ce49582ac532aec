"""The stages of a run, each a plain function over storage: parse the raw archive into a
parsed version (`parse_archive`, documents in `workers`), build the DuckDB warehouse (`build`),
and read-only looks at a built warehouse for checks and previews (`inspection`).

Dagster assets and the CLI call these; they import only the domain and storage."""
