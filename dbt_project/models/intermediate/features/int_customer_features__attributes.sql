-- Customer attributes per (customer, snapshot date) as they were known just before the snapshot: the
-- golden record (`golden_record_attributes`) over the contact and card versions in force then.

with

snapshots as (

    select customer_id, snapshot_date
    from {{ ref('int_customer_snapshots') }}

),

attribute_versions as (

    select * from {{ ref('int_customer_attribute_versions') }}

),

attributes_as_of_snapshot as (

    select
        snapshots.customer_id,
        snapshots.snapshot_date,
        {{ golden_record_attributes('attribute_versions') }}
    from snapshots
    inner join attribute_versions
        on snapshots.customer_id = attribute_versions.customer_id
        and {{ version_in_force_before('snapshots.snapshot_date', 'attribute_versions.valid_from', 'attribute_versions.valid_to') }}
    group by snapshots.customer_id, snapshots.snapshot_date

),

final as (

    select
        snapshots.customer_id,
        snapshots.snapshot_date,

        -- CRM attributes as of the snapshot
        attributes_as_of_snapshot.region,
        attributes_as_of_snapshot.age_band,
        attributes_as_of_snapshot.acquisition_channel,
        attributes_as_of_snapshot.marketing_consent,

        -- loyalty as of the snapshot
        coalesce(attributes_as_of_snapshot.loyalty_tier, 'none') as loyalty_tier

    from snapshots
    left join attributes_as_of_snapshot
        on snapshots.customer_id = attributes_as_of_snapshot.customer_id
        and snapshots.snapshot_date = attributes_as_of_snapshot.snapshot_date

)

select * from final
