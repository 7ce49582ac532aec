-- A scorecard per agency and report year (one row per row of mart_report_timeliness), in the
-- spirit of the transparency indexes researchers compile by hand. The era's expected sections
-- and figures come from the era registry through crosswalk_measure (the figures each era's layout
-- prints that feed a comparable measure; a section is one of its fact tables: 二 proactive,
-- 三 requests, 四 reviews); a missing report is held to the era of its year.
--   published_on_time     on_time -> true, late / missing -> false, date_unknown -> NULL
--   sections_present      the era's sections the report states at least one figure of
--   identities_passed     every accounting-identity check of the report passed (NULL: none ran);
--                         statements_agree is not an identity and is scored on its own
--   checks_passed/run     all checks of fct_check_results, statements_agree and the cross-year one included
--   statements_agree      the statements_agree check passed (NULL: no figure was stated twice)
--   figures_stated_share  share of the era's crosswalk figures the report states (not blank)
-- score, 0..100 (a missing report scores 0):
--   30  timeliness: on_time 30, date_unknown 15, late 10
--   20  sections: 20 x sections_present / sections_expected
--   20  identities: passed 20, none ran 10, failed 0
--   10  statements: agree 10, not compared 5, disagree 0
--   20  figures: 20 x figures_stated_share
with era_years as (
    select * from (values
    {{ era_first_years }}
    ) as e(era, first_year)
),
expected_era as (
    -- the era a report of the year is written in, when there is no report to ask
    select t.agency_id, t.report_year, arg_max(e.era, e.first_year) as era
    from mart_report_timeliness t
    join era_years e on e.first_year <= t.report_year
    group by all
),
era_expected as (
    select era, count(distinct fact_table) as sections_expected, count(*) as figures_expected
    from crosswalk_measure
    group by era
),
facts as (
    select report_id, era, 'requests' as fact_table, "row" as dim_1, applicant as dim_2 from fct_requests
    union all
    select report_id, era, 'reviews', proceeding, result from fct_reviews
    union all
    select report_id, era, 'proactive', item_type, measure from fct_proactive_disclosure
),
stated as (
    select f.report_id, count(distinct f.fact_table) as sections_present, count(*) as figures_stated
    from facts f
    join crosswalk_measure c using (era, fact_table, dim_1, dim_2)
    group by f.report_id
),
checks as (
    select report_id,
           bool_and(passed) filter (where check_name <> {{ check_family.statements_agree }}) as identities_passed,
           count(*) filter (where passed) as checks_passed,
           count(*) as checks_run,
           bool_and(passed) filter (where check_name = {{ check_family.statements_agree }}) as statements_agree
    from fct_check_results
    group by report_id
),
scored as (
    select t.agency_id, t.agency_name, t.level, t.region_code, t.province, a.city, a.county, t.report_year,
           t.report_id, t.status as timeliness_status,
           case t.status when 'on_time' then true when 'late' then false when 'missing' then false end
               as published_on_time,
           cast(coalesce(s.sections_present, 0) as integer) as sections_present,
           cast(x.sections_expected as integer) as sections_expected,
           c.identities_passed,
           cast(coalesce(c.checks_passed, 0) as integer) as checks_passed,
           cast(coalesce(c.checks_run, 0) as integer) as checks_run,
           c.statements_agree,
           cast(coalesce(s.figures_stated, 0) as double) / x.figures_expected as figures_stated_share
    from mart_report_timeliness t
    join dim_agency a using (agency_id)
    left join dim_report r on r.report_id = t.report_id
    left join expected_era e on e.agency_id = t.agency_id and e.report_year = t.report_year
    left join era_expected x on x.era = coalesce(r.era, e.era)
    left join stated s on s.report_id = t.report_id
    left join checks c on c.report_id = t.report_id
),
final as (
    select *,
           case when timeliness_status = 'missing' then 0.0
                else round(
                    case timeliness_status when 'on_time' then 30 when 'date_unknown' then 15 else 10 end
                    + 20.0 * coalesce(sections_present / nullif(sections_expected, 0), 0)
                    + case when identities_passed then 20 when identities_passed is null then 10 else 0 end
                    + case when statements_agree then 10 when statements_agree is null then 5 else 0 end
                    + 20.0 * coalesce(figures_stated_share, 0), 2)
           end as score
    from scored
)
select * from final
