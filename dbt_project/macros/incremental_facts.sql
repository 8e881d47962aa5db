{#- Keys of the rows an incremental fact already stores whose customer has since been resolved
    differently (a card or account exported after the order, two people found to be one): an incremental
    run rebuilds them with the rows of its window, so identity changes reach every stored row. `current`
    is the CTE holding the fact's rows as they would be written now. -#}
{% macro stored_keys_with_new_customer(current, key_columns) -%}
    select
        {%- for key in key_columns %}
        stored.{{ key }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ this }} as stored
    inner join {{ current }}
        on {% for key in key_columns -%}
            stored.{{ key }} = {{ current }}.{{ key }}{{ " and " if not loop.last }}
        {%- endfor %}
    where stored.customer_id is distinct from {{ current }}.customer_id
{%- endmacro %}
