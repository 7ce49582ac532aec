-- One row per annual report. report_id is a hash of the normalised text, so a report found
-- at two URLs is one row (see report_source_count). Of several reports of one agency and year,
-- the current one is a marked correction (更正/修订), else the latest published, else the latest
-- fetched; the others point to it through superseded_by and stay in the table.
with sources as (
    select report_id, count(distinct url) as report_source_count, list(distinct url order by url) as urls
    from stg_report_sources
    group by report_id
),
ranked as (
    select r.*,
           row_number() over (
               partition by r.agency_id, r.report_year
               order by r.is_correction desc, r.published_date desc nulls last, r.fact_count desc, r.report_id
           ) as rank_in_year,
           first_value(r.report_id) over (
               partition by r.agency_id, r.report_year
               order by r.is_correction desc, r.published_date desc nulls last, r.fact_count desc, r.report_id
           ) as current_report_id
    from stg_reports r
),
final as (
    select ranked.report_id, agency_id, agency_name, report_year, era, title, published_date, url,
           content_sha256, parser_version, input_kind, is_correction, fact_count, notes,
           case when rank_in_year > 1 then current_report_id end as superseded_by,
           coalesce(s.report_source_count, 1) as report_source_count, s.urls
    from ranked
    left join sources s using (report_id)
)
select * from final
