-- Staging view over the parsed Parquet dataset `reports` (rename and cast only).
select report_id,
       agency_id,
       agency_name,
       report_year,
       era,
       title,
       published_date,
       published_date_source,
       url,
       content_sha256,
       input_kind,
       parser_version,
       fetched_at,
       source_id,
       is_correction,
       fact_count,
       notes
from read_parquet('{{ parsed_dir }}/reports/**/*.parquet', hive_partitioning = false, union_by_name = true)
