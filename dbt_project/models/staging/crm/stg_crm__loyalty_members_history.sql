-- Loyalty cards, one row per distinct version (card, updated_at), valid over [valid_from, valid_to):
-- lets features read a card's tier as of a snapshot.

with

source as (

    select
        card_number,
        contact_id,
        tier,
        points_balance,
        enrolled_at,
        updated_at,
        _export_date,
        _line_number
    from {{ source('raw', 'crm_loyalty_members') }}

),

renamed as (

    select
        -- ids
        {{ normalize_id('card_number') }} as card_number,
        {{ normalize_id('contact_id') }} as contact_id,

        -- attributes
        {{ normalize_category('tier') }} as tier,
        points_balance,

        -- timestamps
        enrolled_at,
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
        {{ version_rank(['card_number', 'updated_at']) }} as version_rank
    from renamed

),

versioned as (

    select
        *,
        lead(updated_at) over (partition by card_number order by updated_at) as next_updated_at
    from deduplicated
    where version_rank = 1

),

final as (

    select
        card_number,
        contact_id,
        tier,
        points_balance,
        enrolled_at,
        updated_at,
        updated_at as valid_from,
        next_updated_at as valid_to,
        next_updated_at is null as is_current,
        _export_date
    from versioned

)

select * from final
