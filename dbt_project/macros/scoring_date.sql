{#- The date the feature models, segments, KPIs and customer_360 are as of, as a SQL date literal: the
    `scoring_date` var, which Dagster passes on every build that reads it (orchestration/lib/scoring.py
    resolves it once per run: the launchpad's date, or the day after the last loaded export day). It has
    no default here, so dbt and the models can never disagree about it. -#}
{% macro scoring_date() -%}
    {%- set given = iso_date_var('scoring_date') -%}
    {%- if given is none and execute -%}
        {{ exceptions.raise_compiler_error("var 'scoring_date' is required (YYYY-MM-DD): Dagster passes the run's scoring date; by hand, pass --vars with it") }}
    {%- endif -%}
    {{ date_literal(given or '1970-01-01') }}
{%- endmacro %}


{#- A query for the latest scoring date of a model's score table at or before the run's scoring date:
    the scores customer_360 shows. A run for a past date never shows later scores. -#}
{% macro latest_scoring_date(scores) -%}
    select max(scoring_date) from {{ scores }} where scoring_date <= {{ scoring_date() }}
{%- endmacro %}
