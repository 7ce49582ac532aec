-- Do the parts add up? For each parent agency (dim_agency.parent_agency_id) with at least one child,
-- each report year in which a child was expected to report or reported, and each comparable measure
-- of mart_agency_year (the mart's measures, warehouse.metrics.MART_COLUMNS fed by the crosswalk):
-- the parent's figure, the sum of its children's (current reports), how many children state it
-- (children_reporting) and how many were expected to report that year (mart_report_timeliness).
-- status: no_parent_value (the parent states no such figure, or did not report), incomplete (fewer
-- children state it than were expected to report: the sum is partial), match (parent = sum),
-- mismatch. A government's report may cover itself alone (本级) or its whole area (全市汇总): a
-- mismatch says the totals do not add up, not which report is wrong.
with measures_long as (
    unpivot (select agency_id, report_year, {{ mart_measure_columns }} from mart_agency_year)
    on {{ mart_measure_columns }}
    into name measure value value
),
children as (
    select agency_id as child_id, parent_agency_id
    from dim_agency
    where parent_agency_id is not null and parent_agency_id <> agency_id
),
expected_children as (
    select c.parent_agency_id, t.report_year, count(*) as children_expected
    from children c
    join mart_report_timeliness t on t.agency_id = c.child_id
    group by all
),
child_values as (
    select c.parent_agency_id, m.report_year, m.measure, sum(m.value) as children_sum,
           count(*) as children_reporting
    from children c
    join measures_long m on m.agency_id = c.child_id
    group by all
),
parent_years as (
    select parent_agency_id, report_year from expected_children
    union
    select parent_agency_id, report_year from child_values
),
grid as (
    select y.parent_agency_id, y.report_year, m.measure
    from parent_years y
    cross join (select unnest([{{ mart_measures }}]) as measure) m
),
final as (
    select g.parent_agency_id, a.agency_name as parent_name, g.report_year, g.measure,
           p.value as parent_value, v.children_sum,
           cast(coalesce(v.children_reporting, 0) as integer) as children_reporting,
           cast(coalesce(e.children_expected, 0) as integer) as children_expected,
           p.value - v.children_sum as difference,
           case when p.value is null then 'no_parent_value'
                when coalesce(v.children_reporting, 0) = 0
                  or v.children_reporting < coalesce(e.children_expected, 0) then 'incomplete'
                when abs(p.value - v.children_sum) < 1e-6 then 'match'
                else 'mismatch'
           end as status
    from grid g
    join dim_agency a on a.agency_id = g.parent_agency_id
    left join measures_long p on p.agency_id = g.parent_agency_id and p.report_year = g.report_year
                             and p.measure = g.measure
    left join child_values v
      on v.parent_agency_id = g.parent_agency_id and v.report_year = g.report_year and v.measure = g.measure
    left join expected_children e on e.parent_agency_id = g.parent_agency_id and e.report_year = g.report_year
)
select * from final
