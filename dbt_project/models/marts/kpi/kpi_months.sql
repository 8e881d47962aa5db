-- The calendar months the monthly KPI marts report: every month from the first order of an identified
-- customer to the month holding the last day before the scoring date (the month spine: `month_starts`).

with

bounds as (

    select
        min(activity_month) as first_month,
        {{ scoring_date() }} as scoring_date
    from {{ ref('customer_monthly_activity') }}

),

months as (

    {{ month_starts('bounds', 'first_month') }}

),

final as (

    select
        month_start,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'month_start')) }} as date) as month_end,
        -- the data covers the whole month: the scoring date is on or after the next month's first day
        cast({{ dbt.dateadd('month', 1, 'month_start') }} as date) <= scoring_date as is_complete
    from months
    where month_start < scoring_date

)

select * from final
