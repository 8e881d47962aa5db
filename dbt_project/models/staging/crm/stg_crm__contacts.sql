-- CRM contacts: the latest version of each contact (the current row of its history).

with

history as (

    select * from {{ ref('stg_crm__contacts_history') }}

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
        _export_date
    from history
    where is_current

)

select * from final
