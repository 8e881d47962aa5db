{#- Column types the marts promise, spelled once. -#}

{#- Money in the order currency: exact decimals. -#}
{% macro money(expression) -%}
    cast({{ expression }} as numeric(18, 2))
{%- endmacro %}


{#- Floating point for ML features (pandas reads decimals as objects). -#}
{% macro to_double(expression) -%}
    cast({{ expression }} as {{ type_double() }})
{%- endmacro %}


{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'clientele')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro duckdb__type_double() -%}
    double
{%- endmacro %}
