-- Staging view over the parsed Parquet dataset `agencies` (rename and cast only).
select *
from read_parquet('{{ parsed_dir }}/agencies/**/*.parquet', hive_partitioning = false, union_by_name = true)
