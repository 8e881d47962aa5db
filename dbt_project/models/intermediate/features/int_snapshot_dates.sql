-- The feature snapshot calendar: the first of every month from the first month starting at least
-- 90 days after the first order, up to and including the scoring date, plus the scoring date itself
-- (when it is not a month start). The month starts come from the month spine (`month_starts`).

with

orders as (

    select min(ordered_at) as first_ordered_at
    from {{ ref('stg_sales__orders') }}

),

bounds as (

    select
        {{ dbt.dateadd('day', 90, 'first_ordered_at') }} as earliest_snapshot_at,
        {{ scoring_date() }} as scoring_date
    from orders

),

first_month as (

    select
        case
            when {{ dbt.date_trunc('month', 'earliest_snapshot_at') }} < earliest_snapshot_at
                then cast({{ dbt.dateadd('month', 1, dbt.date_trunc('month', 'earliest_snapshot_at')) }} as date)
            else cast({{ dbt.date_trunc('month', 'earliest_snapshot_at') }} as date)
        end as first_snapshot_date,
        scoring_date
    from bounds

),

month_starts as (

    {{ month_starts('first_month', 'first_snapshot_date') }}

),

snapshot_dates as (

    select month_start as snapshot_date
    from month_starts
    where month_start <= scoring_date

    union

    select scoring_date as snapshot_date
    from first_month

),

final as (

    select
        snapshot_date,
        snapshot_date = (select scoring_date from first_month) as is_scoring_date
    from snapshot_dates
    where snapshot_date is not null

)

select * from final
