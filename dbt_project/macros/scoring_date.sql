{#- The date the feature models score at, as a SQL expression: the `scoring_date` var when given,
    otherwise the day after the last export of raw orders (read through staging, set-based). -#}
{% macro scoring_date() -%}
    {%- set given = iso_date_var('scoring_date') -%}
    {%- if given is not none -%}
        {{ date_literal(given) }}
    {%- else -%}
        (
            select cast({{ dbt.dateadd('day', 1, 'max(_last_export_date)') }} as date)
            from {{ ref('stg_sales__orders') }}
        )
    {%- endif -%}
{%- endmacro %}
