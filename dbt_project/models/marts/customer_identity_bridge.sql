-- Which customer each identity record resolves to, and by which rule: one row per
-- (source, source_id).

with

identities as (

    select * from {{ ref('int_customer_identities') }}

),

final as (

    select
        source,
        source_id,
        customer_id,
        match_rule
    from identities

)

select * from final
