-- SCD type 2 of each customer's golden-record attributes (region, age band, acquisition channel,
-- marketing consent, loyalty tier): one row per period over which they stayed the same, valid over
-- [valid_from, valid_to); valid_to is null and is_current true for the period in force now. The
-- attributes at any instant are `golden_record_attributes` over the versions in force at it, exactly as
-- dim_customers computes them for now.
--
-- Why a table derived from the staging history views, not a dbt snapshot or an incremental model: the
-- raw layer keeps every exported version, so the whole history is a pure function of raw, rebuilt
-- set-based in one pass. That recovers history exported before the model existed (a snapshot only
-- records what it sees at each run and misses versions between runs), restates the history when
-- identity resolution later merges two people, and runs in Dagster's marts build without another
-- step (snapshots are selected by none of the three builds).

with

attribute_versions as (

    select * from {{ ref('int_customer_attribute_versions') }}

),

change_points as (

    -- the golden record can only change when one of the person's versions starts (a version ends
    -- exactly when the next version of the same record starts)
    select distinct customer_id, valid_from as changed_at
    from attribute_versions

),

attributes_at_change as (

    select
        change_points.customer_id,
        change_points.changed_at,
        {{ golden_record_attributes('attribute_versions') }}
    from change_points
    inner join attribute_versions
        on change_points.customer_id = attribute_versions.customer_id
        and attribute_versions.valid_from <= change_points.changed_at
        and (attribute_versions.valid_to is null or attribute_versions.valid_to > change_points.changed_at)
    group by change_points.customer_id, change_points.changed_at

),

compared_with_previous as (

    select
        customer_id,
        changed_at,
        region,
        age_band,
        acquisition_channel,
        marketing_consent,
        coalesce(loyalty_tier, 'none') as loyalty_tier,
        lag(changed_at) over (partition by customer_id order by changed_at) as previous_changed_at,
        lag(region) over (partition by customer_id order by changed_at) as previous_region,
        lag(age_band) over (partition by customer_id order by changed_at) as previous_age_band,
        lag(acquisition_channel) over (partition by customer_id order by changed_at) as previous_acquisition_channel,
        lag(marketing_consent) over (partition by customer_id order by changed_at) as previous_marketing_consent,
        lag(coalesce(loyalty_tier, 'none')) over (partition by customer_id order by changed_at) as previous_loyalty_tier
    from attributes_at_change

),

periods as (

    -- a version that changed nothing the golden record shows (e.g. a new phone) opens no new period
    select *
    from compared_with_previous
    where previous_changed_at is null
        or region is distinct from previous_region
        or age_band is distinct from previous_age_band
        or acquisition_channel is distinct from previous_acquisition_channel
        or marketing_consent is distinct from previous_marketing_consent
        or loyalty_tier is distinct from previous_loyalty_tier

),

final as (

    select
        -- grain
        customer_id,
        changed_at as valid_from,
        lead(changed_at) over (partition by customer_id order by changed_at) as valid_to,
        lead(changed_at) over (partition by customer_id order by changed_at) is null as is_current,

        -- golden-record attributes over the period
        region,
        age_band,
        acquisition_channel,
        marketing_consent,
        loyalty_tier

    from periods

)

select * from final
