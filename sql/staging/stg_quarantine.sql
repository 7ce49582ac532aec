-- Staging view over the parsed Parquet dataset `quarantine` (rename and cast only).
select content_sha256,
       url,
       source_id,
       report_year,
       reason,
       detail
from read_parquet('{{ parsed_dir }}/quarantine/**/*.parquet', hive_partitioning = false, union_by_name = true)
