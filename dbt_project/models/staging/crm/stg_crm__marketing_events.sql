-- E-mail marketing events: one row per event (events never change but may be exported again).

with

source as (

    select
        event_id,
        contact_id,
        campaign_id,
        event_type,
        occurred_at,
        _export_date,
        _line_number,
        _loaded_at
    from {{ source('raw', 'crm_marketing_events') }}

),

renamed as (

    select
        -- ids
        {{ normalize_id('event_id') }} as event_id,
        {{ normalize_id('contact_id') }} as contact_id,
        {{ normalize_id('campaign_id') }} as campaign_id,

        -- categories
        {{ normalize_category('event_type') }} as event_type,

        -- timestamps
        occurred_at,

        -- load metadata
        _export_date,
        _line_number,
        _loaded_at

    from source

),

deduplicated as (

    select
        *,
        {{ version_rank(['event_id'], 'occurred_at') }} as version_rank
    from renamed

),

final as (

    select
        event_id,
        contact_id,
        campaign_id,
        event_type,
        occurred_at,
        _export_date,
        _loaded_at
    from deduplicated
    where version_rank = 1

)

select * from final
