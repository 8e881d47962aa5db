-- ABC x XYZ class per customer at the scoring date, over the `abc_xyz_window_months` complete calendar
-- months before it, for customers with an order in that window.
-- ABC: customers sorted by window net revenue, highest first; the cumulative revenue through a customer
-- (customers with equal revenue counted together, so they share a class) at most abc_a_share of
-- the total is A, at most abc_b_share is B, the rest C.
-- XYZ: coefficient of variation (sample standard deviation / mean) of the customer's monthly net revenue
-- over every month of the window, months without orders counting 0: below xyz_x_max_cv is X, below
-- xyz_y_max_cv is Y, otherwise, or with no positive mean, Z.

{%- set window_months = required_int_var('abc_xyz_window_months') %}

with

scoring as (

    select {{ scoring_date() }} as scoring_date

),

window_bounds as (

    select
        scoring_date,
        cast({{ dbt.dateadd('month', -1 * window_months, dbt.date_trunc('month', 'scoring_date')) }} as date) as window_start,
        cast({{ dbt.date_trunc('month', 'scoring_date') }} as date) as window_end
    from scoring

),

window_months as (

    {{ month_starts('window_bounds', 'window_start', window_months) }}

),

activity as (

    select
        customer_monthly_activity.customer_id,
        customer_monthly_activity.activity_month,
        customer_monthly_activity.net_revenue
    from {{ ref('customer_monthly_activity') }} as customer_monthly_activity
    inner join window_bounds
        on customer_monthly_activity.activity_month >= window_bounds.window_start
        and customer_monthly_activity.activity_month < window_bounds.window_end

),

customers as (

    select
        customer_id,
        sum(net_revenue) as net_revenue,
        count(*) as active_months
    from activity
    group by customer_id

),

customer_month_revenue as (

    -- every month of the window, 0 without orders
    select
        customers.customer_id,
        {{ to_double('coalesce(activity.net_revenue, 0)') }} as net_revenue
    from customers
    cross join window_months
    left join activity
        on customers.customer_id = activity.customer_id
        and window_months.month_start = activity.activity_month

),

variability as (

    select
        customer_id,
        avg(net_revenue) as monthly_revenue_mean,
        stddev_samp(net_revenue) as monthly_revenue_stddev
    from customer_month_revenue
    group by customer_id

),

cumulative as (

    select
        customer_id,
        net_revenue,
        active_months,
        sum(net_revenue) over () as total_revenue,
        sum(net_revenue) over (order by net_revenue desc range between unbounded preceding and current row) as cumulative_revenue
    from customers

),

measures as (

    select
        cumulative.customer_id,
        cumulative.net_revenue,
        cumulative.active_months,
        cumulative.cumulative_revenue,
        cumulative.total_revenue,
        {{ to_double('cumulative.cumulative_revenue') }} / nullif({{ to_double('cumulative.total_revenue') }}, 0) as cumulative_revenue_share,
        variability.monthly_revenue_mean,
        variability.monthly_revenue_stddev,
        case
            when variability.monthly_revenue_mean > 0
                then variability.monthly_revenue_stddev / variability.monthly_revenue_mean
        end as revenue_cv
    from cumulative
    inner join variability
        on cumulative.customer_id = variability.customer_id

),

classified as (

    select
        *,
        case
            when cumulative_revenue <= total_revenue * {{ var('abc_a_share') }} then 'A'
            when cumulative_revenue <= total_revenue * {{ var('abc_b_share') }} then 'B'
            else 'C'
        end as abc_class,
        case
            when revenue_cv < {{ var('xyz_x_max_cv') }} then 'X'
            when revenue_cv < {{ var('xyz_y_max_cv') }} then 'Y'
            else 'Z'
        end as xyz_class
    from measures

),

final as (

    select
        -- grain
        classified.customer_id,
        window_bounds.scoring_date,

        -- the window: complete calendar months before the scoring date
        window_bounds.window_start as window_start_month,
        cast({{ dbt.dateadd('month', -1, 'window_bounds.window_end') }} as date) as window_end_month,

        -- ABC
        {{ money('classified.net_revenue') }} as net_revenue,
        classified.cumulative_revenue_share,
        classified.abc_class,

        -- XYZ
        classified.active_months,
        classified.monthly_revenue_mean,
        classified.monthly_revenue_stddev,
        classified.revenue_cv,
        classified.xyz_class,

        -- the 9-cell matrix
        classified.abc_class || classified.xyz_class as abc_xyz_class

    from classified
    cross join window_bounds

)

select * from final
