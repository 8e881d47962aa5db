-- Every version of every record that carries a golden-record attribute, attributed to its resolved
-- customer: CRM contact versions (region, age band, acquisition channel, marketing consent) and loyalty
-- card versions (tier), each valid over [valid_from, valid_to). The survivorship macro
-- `golden_record_attributes` reads these rows as of any instant.
--
-- Declared source priority for ties (versions of one person starting at the same instant):
--   1 contacts, 2 loyalty_members. Today no attribute comes from both, so within a source the greater
--   source_id wins; a future source carrying the same attribute slots into this list.

with

identities as (

    select source, source_id, customer_id
    from {{ ref('int_customer_identities') }}
    where source in ('contacts', 'loyalty_members')

),

contact_versions as (

    select
        identities.customer_id,
        'contacts' as source,
        history.contact_id as source_id,
        1 as source_priority,
        history.valid_from,
        history.valid_to,
        history.region,
        history.age_band,
        history.acquisition_channel,
        history.marketing_consent,
        cast(null as {{ dbt.type_string() }}) as loyalty_tier
    from {{ ref('stg_crm__contacts_history') }} as history
    inner join identities
        on identities.source = 'contacts'
        and history.contact_id = identities.source_id

),

card_versions as (

    select
        identities.customer_id,
        'loyalty_members' as source,
        history.card_number as source_id,
        2 as source_priority,
        history.valid_from,
        history.valid_to,
        cast(null as {{ dbt.type_string() }}) as region,
        cast(null as {{ dbt.type_string() }}) as age_band,
        cast(null as {{ dbt.type_string() }}) as acquisition_channel,
        cast(null as {{ dbt.type_boolean() }}) as marketing_consent,
        history.tier as loyalty_tier
    from {{ ref('stg_crm__loyalty_members_history') }} as history
    inner join identities
        on identities.source = 'loyalty_members'
        and history.card_number = identities.source_id

),

final as (

    select * from contact_versions
    union all
    select * from card_versions

)

select * from final
