-- One row per annual report. report_id is a hash of the normalised text, so a report found
-- at two URLs is one row (see report_source_count), and every distinct content seen at a URL
-- (a page edited in place between two crawls) is a row of its own: a version. Of several
-- reports of one agency and year, the current one is a marked correction (更正/修订), else one
-- whose URLs did not later serve other content (replaced_at_url: the page was edited in place,
-- the newer content supersedes it), else the latest published, else the one with most facts,
-- else the smallest report_id; the others point to it through superseded_by and stay in the
-- table. first_seen_at is the earliest fetch of the report at any of its URLs.
with sources as (
    select report_id, count(distinct url) as report_source_count, list(distinct url order by url) as urls,
           min(fetched_at) as first_seen_at
    from stg_report_sources
    group by report_id
),
replaced as (
    -- a URL that served this report and, the last time it was fetched, other content (a page
    -- edited back to an earlier content serves that one again: it is the current one)
    select distinct s.report_id
    from stg_report_sources s
    join stg_report_sources later
      on later.url = s.url and later.report_id <> s.report_id and later.last_fetched_at > s.last_fetched_at
),
reports as (
    select r.*, s.report_source_count, s.urls, s.first_seen_at,
           r.report_id in (select report_id from replaced) as replaced_at_url
    from stg_reports r
    left join sources s using (report_id)
),
ranked as (
    select r.*,
           row_number() over (
               partition by r.agency_id, r.report_year
               order by r.is_correction desc, r.replaced_at_url, r.published_date desc nulls last,
                        r.fact_count desc, r.report_id
           ) as rank_in_year,
           first_value(r.report_id) over (
               partition by r.agency_id, r.report_year
               order by r.is_correction desc, r.replaced_at_url, r.published_date desc nulls last,
                        r.fact_count desc, r.report_id
           ) as current_report_id
    from reports r
),
final as (
    select report_id, agency_id, agency_name, report_year, era, title, published_date, url,
           content_sha256, parser_version, input_kind, is_correction, fact_count, notes,
           case when rank_in_year > 1 then current_report_id end as superseded_by,
           coalesce(report_source_count, 1) as report_source_count, urls,
           published_date_source, first_seen_at, replaced_at_url
    from ranked
)
select * from final
