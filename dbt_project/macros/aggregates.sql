{#- The first non-null value of `column` within a group in `order_by` order (e.g. `updated_at desc`
    for the most recent one). Portable across DuckDB and Postgres (ordered array_agg with a filter,
    1-based index). -#}
{% macro first_non_null(column, order_by) -%}
    (array_agg({{ column }} order by {{ order_by }}) filter (where {{ column }} is not null))[1]
{%- endmacro %}


{#- Count of rows matching a condition, portable and null-safe. -#}
{% macro count_where(condition) -%}
    count(case when {{ condition }} then 1 end)
{%- endmacro %}


{#- Sum of `value` over rows matching a condition, 0 when none match. -#}
{% macro sum_where(value, condition) -%}
    coalesce(sum(case when {{ condition }} then {{ value }} end), 0)
{%- endmacro %}
