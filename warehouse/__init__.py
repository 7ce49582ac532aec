"""Domain logic of the disclosure statistics warehouse: parsing, normalising,
schemas, checks and the SQL model runner. Imports neither Dagster nor Scrapy."""

PARSER_VERSION = "0.1.0"
