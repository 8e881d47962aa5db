{#- A score table of the ML step (a table of the `ml` source) with every column its source YAML declares.
    While no run has written the table yet (a model newer than the warehouse), an empty relation with the
    declared columns and types (`data_type`); while the table predates some declared columns (a model that
    gained an output and no run has written the table since; the ML step adds them on its next write), the
    table with nulls in those. The models reading it build with nulls there instead of failing. In a dbt
    unit test `source()` is the given rows, which are used as they are. -#}
{% macro ml_scores_or_empty(table_name) -%}
    {%- set scores = source('ml', table_name) -%}
    {%- if not execute or scores.type == 'cte' -%}
        {{ scores }}
    {%- else -%}
        {%- set existing = load_relation(scores) -%}
        {%- if existing is none -%}
            (select
                {%- for column in declared_ml_columns(table_name) %}
                cast(null as {{ column.data_type }}) as {{ column.name }}{{ ',' if not loop.last }}
                {%- endfor %}
            where false) as {{ table_name }}
        {%- else -%}
            {%- set present = adapter.get_columns_in_relation(existing) | map(attribute='name') | map('lower') | list -%}
            {%- set missing = declared_ml_columns(table_name) | rejectattr('name', 'in', present) | list -%}
            {%- if missing -%}
                (select
                    *,
                    {%- for column in missing %}
                    cast(null as {{ column.data_type }}) as {{ column.name }}{{ ',' if not loop.last }}
                    {%- endfor %}
                from {{ scores }}) as {{ table_name }}
            {%- else -%}
                {{ scores }}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#- The columns the source YAML declares for ml.<table_name>, each with a data_type (else a compile error). -#}
{% macro declared_ml_columns(table_name) -%}
    {%- set declared = graph.sources.values()
        | selectattr('source_name', 'equalto', 'ml')
        | selectattr('name', 'equalto', table_name)
        | first -%}
    {%- set columns = declared.columns.values() | list -%}
    {%- if columns | rejectattr('data_type') | list -%}
        {{ exceptions.raise_compiler_error("source ml." ~ table_name ~ ": every column needs a data_type for ml_scores_or_empty") }}
    {%- endif -%}
    {{ return(columns) }}
{%- endmacro %}
