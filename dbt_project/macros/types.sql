{#- Column types the marts promise, spelled once. Both spellings are valid in DuckDB and Postgres. -#}

{#- Money in the order currency: exact decimals. -#}
{% macro money(expression) -%}
    cast({{ expression }} as numeric(18, 2))
{%- endmacro %}


{#- 64-bit floating point for ML features (pandas reads decimals as Python objects). -#}
{% macro to_double(expression) -%}
    cast({{ expression }} as float8)
{%- endmacro %}
