{#- Identifier and category normalisation shared by every staging model. Blank strings become null. -#}

{% macro normalize_id(column) -%}
    nullif(upper(trim({{ column }})), '')
{%- endmacro %}


{% macro normalize_category(column) -%}
    nullif(lower(trim({{ column }})), '')
{%- endmacro %}


{#- PII hashes arrive as hex digests from the loader; only guard blanks and case. -#}
{% macro normalize_hash(column) -%}
    nullif(lower(trim({{ column }})), '')
{%- endmacro %}


{#- A string from a var as a SQL string literal, quotes doubled. -#}
{% macro sql_string(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}


{#- A list of strings from a var as a SQL list literal: ['web', 'app'] -> ('web', 'app'). -#}
{% macro sql_string_list(values) -%}
    ({%- for value in values or [] -%}{{ sql_string(value) }}{{ ", " if not loop.last }}{%- endfor -%})
{%- endmacro %}
