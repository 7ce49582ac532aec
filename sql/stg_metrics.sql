-- Staging view over the parsed Parquet dataset `metrics` (rename and cast only).
select *
from read_parquet('{{ parsed_dir }}/metrics/**/*.parquet', hive_partitioning = false, union_by_name = true)
