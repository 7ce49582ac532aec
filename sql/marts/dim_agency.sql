-- One row per publishing body. agency_id spans renames: `names` lists every name it published
-- under. Level and region come from the agency registry, else are inferred from the name
-- (GB/T 2260 codes from cpca's table). Where the registry names no parent, the parent is the
-- government of the same region (for departments, townships and zones) or of the region above.
-- established / abolished: the years the registry says the body was set up and merged or abolished
-- (warehouse/agencies.py), NULL when it does not say.
with governments as (
    select agency_id, region_code, level
    from stg_agencies
    where level in ('provincial', 'prefecture', 'county') and region_code is not null
),
parents as (
    select a.agency_id,
           case
               when a.level in ('department', 'township', 'zone') then
                   (select min(g.agency_id) from governments g
                    where g.region_code = a.region_code and g.agency_id <> a.agency_id)
               when a.level = 'county' then
                   (select min(g.agency_id) from governments g
                    where g.level = 'prefecture' and g.region_code = left(a.region_code, 4) || '00')
               when a.level = 'prefecture' then
                   (select min(g.agency_id) from governments g
                    where g.level = 'provincial' and g.region_code = left(a.region_code, 2) || '0000')
           end as inferred_parent_id
    from stg_agencies a
),
report_span as (
    select agency_id, min(report_year) as first_report_year, max(report_year) as last_report_year,
           count(*) as report_count
    from dim_report
    where superseded_by is null
    group by agency_id
),
final as (
    select a.agency_id, a.agency_name, a.names, a.level, a.region_code, a.province, a.city, a.county,
           coalesce(a.parent_agency_id, p.inferred_parent_id) as parent_agency_id,
           a.parent_agency_id is null and p.inferred_parent_id is not null as parent_inferred,
           a.in_registry,
           s.first_report_year, s.last_report_year, coalesce(s.report_count, 0) as report_count,
           a.established, a.abolished
    from stg_agencies a
    left join parents p using (agency_id)
    left join report_span s using (agency_id)
)
select * from final
