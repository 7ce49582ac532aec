-- The crosswalk of the harmonised mart: which stated figure of which era feeds which
-- comparable measure of mart_agency_year. The rows are warehouse.eras.crosswalk_rows() (each era
-- declares its own). A measure is the SUM of the figures mapped to it that the report states;
-- when it states none of them the measure is NULL, never 0.
-- What maps to what, and why, is written in each era's module (warehouse/eras/*.py).
select * from (values
    {{ crosswalk_rows }}
) as crosswalk(measure, era, fact_table, dim_1, dim_2)
