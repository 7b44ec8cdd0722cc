-- Loaded by benches/peer/run.sh as qii_peer (idempotent) before PostGraphile starts, which
-- exposes the schemas `public` (qii's tables) and `peer` (this file). Nothing here touches
-- qii's tables or indexes: it adds, in a schema of its own, two functions of the kind a
-- PostGraphile deployment writes for what its generated schema cannot say.
--
-- activity-list: a range of start times, which the amber preset cannot express (its
-- `condition` argument is equality only; range filters need the connection-filter plugin,
-- not part of amber). A plain, STABLE SQL function, which PostgreSQL inlines into
-- PostGraphile's query, so the range uses qii's index idx_activity_starts_at as qii's own
-- SQL does; amber exposes it as `Query.peerActivitiesStartingBetween` (a connection with
-- totalCount).
CREATE SCHEMA IF NOT EXISTS peer;
CREATE OR REPLACE FUNCTION peer.activities_starting_between(starts_from timestamptz, starts_before timestamptz)
  RETURNS SETOF public.activity
  LANGUAGE sql STABLE
  AS $$ SELECT * FROM public.activity WHERE starts_at >= starts_from AND starts_at < starts_before $$;
-- The `+order` behaviour (v4's `@sortable`) gives the connection an orderBy argument, so
-- PostGraphile orders the page itself (starts_at, then id), as qii orders it.
COMMENT ON FUNCTION peer.activities_starting_between(timestamptz, timestamptz) IS E'@behavior +order';

-- The ranking board needs each unit's dimension contributions. qii stores them inside
-- unit_score.explanation, a JSON text that also holds every indicator (~3 KB a unit).
-- Handing PostGraphile the raw text would make it ship ~100 KB per board where qii ships
-- ~14 KB; this computed column (a function of the row, which amber exposes as the field
-- `UnitScore.dimensions`) lets PostgreSQL pick out the same fields qii's resolver does:
-- [{key, label, contribution}] in the script's order.
CREATE OR REPLACE FUNCTION peer.unit_score_dimensions(u public.unit_score)
  RETURNS jsonb
  LANGUAGE sql STABLE
  AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
             'key', l.value ->> 'key',
             'label', l.value ->> 'label',
             'contribution', x.e -> 'dimensions' -> (l.ordinality::int - 1) -> 'contribution')
           ORDER BY l.ordinality), '[]'::jsonb)
    FROM (SELECT u.explanation::jsonb AS e OFFSET 0) x,  -- OFFSET 0: parse the text once, not once per use
         jsonb_array_elements(x.e -> 'labels' -> 'dimensions') WITH ORDINALITY AS l(value, ordinality)
  $$;
