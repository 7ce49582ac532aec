"""The application layer: the `disclosure` CLI, console output, analyst commands and the demo.

Imports everything below it (stages, spiders, Dagster definitions); nothing imports it."""
