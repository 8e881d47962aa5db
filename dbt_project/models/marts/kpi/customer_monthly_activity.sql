-- One row per (customer, calendar month) in which the customer ordered, as of the scoring date: the base
-- of the monthly KPIs. Only orders of identified customers (not the unknown customer) placed before the
-- scoring date count; revenue is net of every refund known so far, booked to the month of the order.

with

orders as (

    select customer_id, ordered_at, order_date, net_amount
    from {{ ref('fct_orders') }}
    where customer_id <> {{ unknown_customer_id() }}
        and ordered_at < {{ scoring_date() }}

),

customer_months as (

    select
        customer_id,
        cast({{ dbt.date_trunc('month', 'order_date') }} as date) as activity_month,
        count(*) as order_count,
        sum(net_amount) as net_revenue
    from orders
    group by 1, 2

),

final as (

    select
        -- grain
        customer_id,
        activity_month,

        -- the customer's acquisition cohort
        min(activity_month) over (partition by customer_id) as first_order_month,

        -- activity in the month
        order_count,
        {{ money('net_revenue') }} as net_revenue,

        -- orders up to and including this month
        cast(sum(order_count) over (
            partition by customer_id order by activity_month rows between unbounded preceding and current row
        ) as bigint) as orders_to_date

    from customer_months

)

select * from final
