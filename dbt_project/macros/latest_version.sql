{#- Rank the versions of a record, newest first, deterministically: newest business version
    (`updated_at`, or `occurred_at` for events), then the latest export day, then the highest line
    of the export file. Rank 1 is the version staging keeps. -#}
{% macro version_rank(key_columns, version_column='updated_at') -%}
    row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by {{ version_column }} desc, _export_date desc, _line_number desc
    )
{%- endmacro %}
