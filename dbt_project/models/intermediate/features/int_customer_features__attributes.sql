-- Customer attributes per (customer, snapshot date) as they were known just before the snapshot:
-- for each of the person's contacts (and cards) the version in force then, and across them the most
-- recent non-null value of each attribute.

with

snapshots as (

    select customer_id, snapshot_date
    from {{ ref('int_customer_snapshots') }}

),

identities as (

    select source, source_id, customer_id
    from {{ ref('int_customer_identities') }}
    where source in ('contacts', 'loyalty_members')

),

contact_versions as (

    select
        identities.customer_id,
        history.contact_id,
        history.region,
        history.age_band,
        history.acquisition_channel,
        history.marketing_consent,
        history.valid_from,
        history.valid_to
    from {{ ref('stg_crm__contacts_history') }} as history
    inner join identities
        on identities.source = 'contacts'
        and history.contact_id = identities.source_id

),

card_versions as (

    select
        identities.customer_id,
        history.card_number,
        history.tier,
        history.valid_from,
        history.valid_to
    from {{ ref('stg_crm__loyalty_members_history') }} as history
    inner join identities
        on identities.source = 'loyalty_members'
        and history.card_number = identities.source_id

),

contact_attributes as (

    select
        snapshots.customer_id,
        snapshots.snapshot_date,
        {{ first_non_null('contact_versions.region', 'contact_versions.valid_from desc, contact_versions.contact_id desc') }} as region,
        {{ first_non_null('contact_versions.age_band', 'contact_versions.valid_from desc, contact_versions.contact_id desc') }} as age_band,
        {{ first_non_null('contact_versions.acquisition_channel', 'contact_versions.valid_from desc, contact_versions.contact_id desc') }} as acquisition_channel,
        {{ first_non_null('contact_versions.marketing_consent', 'contact_versions.valid_from desc, contact_versions.contact_id desc') }} as marketing_consent
    from snapshots
    inner join contact_versions
        on snapshots.customer_id = contact_versions.customer_id
        and {{ version_in_force_before('snapshots.snapshot_date', 'contact_versions.valid_from', 'contact_versions.valid_to') }}
    group by snapshots.customer_id, snapshots.snapshot_date

),

card_tiers as (

    select
        snapshots.customer_id,
        snapshots.snapshot_date,
        {{ first_non_null('card_versions.tier', 'card_versions.valid_from desc, card_versions.card_number desc') }} as loyalty_tier
    from snapshots
    inner join card_versions
        on snapshots.customer_id = card_versions.customer_id
        and {{ version_in_force_before('snapshots.snapshot_date', 'card_versions.valid_from', 'card_versions.valid_to') }}
    group by snapshots.customer_id, snapshots.snapshot_date

),

final as (

    select
        snapshots.customer_id,
        snapshots.snapshot_date,

        -- CRM attributes as of the snapshot
        contact_attributes.region,
        contact_attributes.age_band,
        contact_attributes.acquisition_channel,
        contact_attributes.marketing_consent,

        -- loyalty as of the snapshot
        coalesce(card_tiers.loyalty_tier, 'none') as loyalty_tier

    from snapshots
    left join contact_attributes
        on snapshots.customer_id = contact_attributes.customer_id
        and snapshots.snapshot_date = contact_attributes.snapshot_date
    left join card_tiers
        on snapshots.customer_id = card_tiers.customer_id
        and snapshots.snapshot_date = card_tiers.snapshot_date

)

select * from final
