-- Support tickets: the latest version of each ticket.

with

source as (

    select
        ticket_id,
        contact_id,
        opened_at,
        category,
        status,
        satisfaction_score,
        updated_at,
        _export_date,
        _line_number,
        _loaded_at
    from {{ source('raw', 'crm_support_tickets') }}

),

renamed as (

    select
        -- ids
        {{ normalize_id('ticket_id') }} as ticket_id,
        {{ normalize_id('contact_id') }} as contact_id,

        -- categories
        {{ normalize_category('category') }} as category,
        {{ normalize_category('status') }} as status,

        -- measures
        satisfaction_score,

        -- timestamps
        opened_at,
        updated_at,

        -- load metadata
        _export_date,
        _line_number,
        _loaded_at

    from source

),

deduplicated as (

    select
        *,
        {{ version_rank(['ticket_id']) }} as version_rank
    from renamed

),

final as (

    select
        ticket_id,
        contact_id,
        category,
        status,
        satisfaction_score,
        opened_at,
        updated_at,
        _export_date,
        _loaded_at
    from deduplicated
    where version_rank = 1

)

select * from final
