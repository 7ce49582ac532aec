-- Staging view over the parsed Parquet dataset `report_sources` (rename and cast only).
select *
from read_parquet('{{ parsed_dir }}/report_sources/**/*.parquet', hive_partitioning = false, union_by_name = true)
