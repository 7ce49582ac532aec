"""Storage: where data lives and how it is written. The raw archive, the parsed datasets and
their Parquet schemas, Arrow helpers, data-directory paths and the writer lock.

Imports only the domain; the stages, spiders and Dagster sit above it."""
