-- One row per agency and report year the agency was expected to report: did it publish, and by the deadline?
-- Deadlines are warehouse.deadlines.RULES (rendered below): up to report year 2018 (2008 regulation)
-- 31 March of the next year for every body; from 2019 (2019 regulation, art. 49) 31 January for
-- departments (level 'department'), 31 March for the governments' own reports (every other level,
-- and a body of unknown level: never called late by a rule that may not apply to it).
-- Expected years: the agency's span of reports (first to last report year, all versions); a
-- registry agency up to the warehouse's latest report year, from its first report (from the
-- warehouse's first year when it has none). The registry's established year, when stated, is
-- where the span starts instead (not before the warehouse's first year); its abolished year ends
-- it (a body owes nothing for the year it was merged or abolished and after). A renamed body keeps its agency_id (dim_agency.names): years under an old name are not
-- missing. A year with no report whose deadline falls after the warehouse's last fetch of a report
-- (the data's own clock: no wall clock, so a build is reproducible) is not yet due: no row.
-- Status: a date the report states (page_field, signed_date, url_path) on or before the deadline
-- is on_time, after it late (days_late = published_date - deadline, <= 0 when on time). No stated
-- date: on_time with date_source 'first_crawl' when the crawl saw the report by the deadline (China
-- time), else date_unknown (never guessed from a later crawl). No report: missing. A stated date
-- before the report year began cannot be the report's and counts as no stated date. report_id and
-- url are the current report's; the dates are the year's first publication: the earliest date any
-- version states (a later 更正版 or an edit in place does not make a report published in time late).
with deadline_rules as (
    select * from (values
    {{ deadline_rules }}
    ) as rules(regulation, first_year, last_year, bodies, month, day)
),
versions as (
    -- every version of the agency's report of the year; a date before the report year began
    -- cannot be the report's
    select agency_id, report_year, report_id, url, superseded_by, first_seen_at, published_date_source,
           case when try_cast(published_date as date) >= make_date(report_year, 1, 1)
                then try_cast(published_date as date) end as stated_date
    from dim_report
),
current_reports as (
    -- the current report, published when its first version was (a 更正版 or an edit does not
    -- make a report published on time late): the earliest stated date of any version, the
    -- earliest first fetch of any version
    select v.agency_id, v.report_year,
           any_value(v.report_id) filter (where v.superseded_by is null) as report_id,
           any_value(v.url) filter (where v.superseded_by is null) as url,
           min(v.stated_date) as stated_date,
           arg_min(v.published_date_source, v.stated_date) as published_date_source,
           min(v.first_seen_at) as first_seen_at
    from versions v
    group by v.agency_id, v.report_year
),
warehouse_years as (
    select min(report_year) as first_year, max(report_year) as last_year from dim_report
),
data_clock as (
    -- the last time the crawl fetched any report, as a day in China
    select cast(timezone('Asia/Shanghai', max(last_fetched_at)) as date) as last_fetch_day from stg_report_sources
),
spans as (
    select agency_id, min(report_year) as first_year, max(report_year) as last_year
    from dim_report
    group by agency_id
),
bounds as (
    select a.agency_id,
           case when a.established is not null then greatest(a.established, w.first_year)
                else coalesce(s.first_year, case when a.in_registry then w.first_year end)
           end as start_year,
           least(case when a.in_registry then greatest(w.last_year, coalesce(s.last_year, w.last_year))
                      else s.last_year end,
                 coalesce(a.abolished - 1, 9999)) as end_year
    from dim_agency a
    cross join warehouse_years w
    left join spans s using (agency_id)
),
expected as (
    select agency_id, unnest(range(start_year, end_year + 1)) as report_year
    from bounds
    where start_year <= end_year
    union
    select agency_id, report_year from current_reports   -- a report is always a row of its year
),
with_deadline as (
    select e.agency_id, e.report_year, a.agency_name, a.level, a.region_code, a.province,
           d.regulation, make_date(e.report_year + 1, d.month, d.day) as deadline,
           r.report_id, r.url, r.first_seen_at, r.stated_date, r.published_date_source
    from expected e
    join dim_agency a using (agency_id)
    join deadline_rules d
      on e.report_year between d.first_year and d.last_year
     and (d.bodies = 'all' or (d.bodies = 'departments') = (coalesce(a.level, '') = 'department'))
    left join current_reports r using (agency_id, report_year)
),
judged as (
    select w.*,
           cast(timezone('Asia/Shanghai', w.first_seen_at) as date) <= w.deadline as seen_by_deadline
    from with_deadline w
    cross join data_clock c
    where w.report_id is not null or w.deadline <= c.last_fetch_day
),
final as (
    select agency_id, agency_name, level, region_code, province, report_year, regulation, deadline,
           report_id, url,
           case when stated_date is not null then stated_date
                when seen_by_deadline then cast(timezone('Asia/Shanghai', first_seen_at) as date)
           end as published_date,
           case when report_id is null then null
                when stated_date is not null then published_date_source
                when seen_by_deadline then 'first_crawl'
           end as date_source,
           first_seen_at,
           cast(stated_date - deadline as integer) as days_late,
           case when report_id is null then 'missing'
                when stated_date is not null then case when stated_date <= deadline then 'on_time' else 'late' end
                when seen_by_deadline then 'on_time'
                else 'date_unknown'
           end as status
    from judged
)
select * from final
