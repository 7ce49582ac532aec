-- Staging view over the parsed Parquet dataset `reports` (rename and cast only).
select *
from read_parquet('{{ parsed_dir }}/reports/**/*.parquet', hive_partitioning = false, union_by_name = true)
