-- Loyalty cards: the latest version of each card (the current row of its history).

with

history as (

    select * from {{ ref('stg_crm__loyalty_members_history') }}

),

final as (

    select
        card_number,
        contact_id,
        tier,
        points_balance,
        enrolled_at,
        updated_at,
        _export_date
    from history
    where is_current

)

select * from final
