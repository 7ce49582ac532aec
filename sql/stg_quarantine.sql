-- Staging view over the parsed Parquet dataset `quarantine` (rename and cast only).
select *
from read_parquet('{{ parsed_dir }}/quarantine/**/*.parquet', hive_partitioning = false, union_by_name = true)
