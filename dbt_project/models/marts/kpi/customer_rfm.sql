-- RFM scores per (customer, snapshot date) for customers with at least one order before the snapshot,
-- on the snapshot calendar of customer_features and from its point-in-time recency, frequency and
-- monetary values. Each score is the customer's quintile among that snapshot's customers:
-- 1 + floor(5 x (rank - 1) / customers), rank ascending from the worst value (oldest last order, fewest
-- orders, least net revenue), so 5 is best. Ties take the same rank (the lowest position of the tie), so
-- equal values always get the same score and a large tie can leave a quintile empty.

with

features as (

    select customer_id, snapshot_date, recency_days, frequency, monetary_total
    from {{ ref('customer_features') }}
    where frequency > 0

),

ranked as (

    select
        customer_id,
        snapshot_date,
        recency_days,
        frequency,
        monetary_total,
        count(*) over (partition by snapshot_date) as customers,
        rank() over (partition by snapshot_date order by recency_days desc) as recency_rank,
        rank() over (partition by snapshot_date order by frequency) as frequency_rank,
        rank() over (partition by snapshot_date order by monetary_total) as monetary_rank
    from features

),

scored as (

    select
        customer_id,
        snapshot_date,
        recency_days,
        frequency,
        monetary_total,
        {%- for measure in ['recency', 'frequency', 'monetary'] %}
        cast(floor(cast(5 * ({{ measure }}_rank - 1) as float8) / customers) as integer) + 1 as {{ measure }}_score{{ ',' if not loop.last }}
        {%- endfor %}
    from ranked

),

final as (

    select
        -- grain
        customer_id,
        snapshot_date,
        snapshot_date = {{ scoring_date() }} as is_scoring_date,

        -- point-in-time values
        recency_days,
        frequency,
        monetary_total,

        -- scores, 5 = best
        recency_score,
        frequency_score,
        monetary_score,
        cast(recency_score as varchar) || cast(frequency_score as varchar) || cast(monetary_score as varchar) as rfm_cell

    from scored

)

select * from final
