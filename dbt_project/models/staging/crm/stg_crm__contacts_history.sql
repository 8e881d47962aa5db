-- CRM contacts, one row per distinct version (contact, updated_at), valid over
-- [valid_from, valid_to): lets features read a contact's attributes as of a snapshot.

with

source as (

    select
        contact_id,
        email_hash,
        phone_hash,
        region,
        age_band,
        acquisition_channel,
        marketing_consent,
        created_at,
        updated_at,
        _export_date,
        _line_number
    from {{ source('raw', 'crm_contacts') }}

),

renamed as (

    select
        -- ids
        {{ normalize_id('contact_id') }} as contact_id,

        -- identity hashes
        {{ normalize_hash('email_hash') }} as email_hash,
        {{ normalize_hash('phone_hash') }} as phone_hash,

        -- attributes
        {{ normalize_category('region') }} as region,
        {{ normalize_category('age_band') }} as age_band,
        {{ normalize_category('acquisition_channel') }} as acquisition_channel,
        marketing_consent,

        -- timestamps
        created_at,
        updated_at,

        -- load metadata
        _export_date,
        _line_number

    from source

),

deduplicated as (

    -- the same version exported more than once: keep the latest export of it
    select
        *,
        {{ version_rank(['contact_id', 'updated_at']) }} as version_rank
    from renamed

),

versioned as (

    select
        *,
        lead(updated_at) over (partition by contact_id order by updated_at) as next_updated_at
    from deduplicated
    where version_rank = 1

),

final as (

    select
        contact_id,
        email_hash,
        phone_hash,
        region,
        age_band,
        acquisition_channel,
        marketing_consent,
        created_at,
        updated_at,
        updated_at as valid_from,
        next_updated_at as valid_to,
        next_updated_at is null as is_current,
        _export_date
    from versioned

)

select * from final
