-- Staging view over the parsed Parquet dataset `report_sources` (rename and cast only).
select report_id,
       report_year,
       url,
       final_url,
       content_sha256,
       fetched_at,
       source_id,
       link_title,
       last_fetched_at
from read_parquet('{{ parsed_dir }}/report_sources/**/*.parquet', hive_partitioning = false, union_by_name = true)
