{#- A score table of the ML step (a table of the `ml` source), or, while no run has written it yet (a
    model newer than the warehouse), an empty relation with the columns and types its source YAML
    declares (`data_type`), so the models reading it build with nulls there instead of failing. In a
    dbt unit test `source()` is the given rows, which are used as they are. -#}
{% macro ml_scores_or_empty(table_name) -%}
    {%- set scores = source('ml', table_name) -%}
    {%- if not execute or scores.type == 'cte' or load_relation(scores) is not none -%}
        {{ scores }}
    {%- else -%}
        {%- set declared = graph.sources.values()
            | selectattr('source_name', 'equalto', 'ml')
            | selectattr('name', 'equalto', table_name)
            | first -%}
        {%- set columns = declared.columns.values() | list -%}
        {%- if columns | rejectattr('data_type') | list -%}
            {{ exceptions.raise_compiler_error("source ml." ~ table_name ~ ": every column needs a data_type for the empty fallback") }}
        {%- endif -%}
        (select
            {%- for column in columns %}
            cast(null as {{ column.data_type }}) as {{ column.name }}{{ ',' if not loop.last }}
            {%- endfor %}
        where false) as {{ table_name }}
    {%- endif -%}
{%- endmacro %}
