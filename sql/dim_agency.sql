-- One row per publishing body. agency_id spans renames: `names` lists every name it published under.
with report_span as (
    select agency_id, min(report_year) as first_report_year, max(report_year) as last_report_year,
           count(*) as report_count
    from dim_report
    where superseded_by is null
    group by agency_id
),
final as (
    select a.agency_id, a.agency_name, a.names, a.level, a.region_code, a.province, a.city, a.county,
           a.parent_agency_id, a.in_registry,
           s.first_report_year, s.last_report_year, coalesce(s.report_count, 0) as report_count
    from stg_agencies a
    left join report_span s using (agency_id)
)
select * from final
