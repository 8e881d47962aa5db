-- The feature spine: one row per (customer, snapshot date) for customers first seen strictly
-- before the snapshot.

with

customers as (

    select customer_id, first_seen_at
    from {{ ref('int_customers') }}

),

snapshot_dates as (

    select snapshot_date, is_scoring_date
    from {{ ref('int_snapshot_dates') }}

),

final as (

    select
        customers.customer_id,
        snapshot_dates.snapshot_date,
        snapshot_dates.is_scoring_date,
        customers.first_seen_at
    from customers
    inner join snapshot_dates
        on customers.first_seen_at < snapshot_dates.snapshot_date

)

select * from final
