-- Published values carry their column's declared precision: every number column of every published view is a
-- numeric (no float4/float8, so no binary noise such as 275.79998779296875), every value has exactly the declared
-- scale, and every number column declares one.
BEGIN;
SELECT plan(3);

CREATE TEMP TABLE cols ON COMMIT DROP AS
    SELECT d.id, d.source_view, c.name, c.scale, format_type(a.atttypid, a.atttypmod) AS pg_type
    FROM meta.datasets d
    JOIN meta.dataset_columns c ON c.dataset_id = d.id
    JOIN pg_attribute a ON a.attrelid = d.source_view::regclass AND a.attname = c.name
    WHERE c.type = 'number';

SELECT is((SELECT array_agg(id || '.' || name ORDER BY id, name) FROM cols WHERE scale IS NULL),
          NULL, 'every number column declares its scale');
SELECT is((SELECT array_agg(id || '.' || name || ' ' || pg_type ORDER BY id, name) FROM cols WHERE pg_type <> 'numeric'),
          NULL, 'every number column of every published view is a numeric, never a binary float');

CREATE FUNCTION pg_temp.off_scale(v text, col text, s integer) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM %s WHERE %I IS NOT NULL AND scale(%I) <> %s', v, col, col, s) INTO n;
    RETURN n;
END
$$;
SELECT is((SELECT array_agg(id || '.' || name ORDER BY id, name) FROM cols WHERE pg_temp.off_scale(source_view, name, scale) > 0),
          NULL, 'every published value has exactly its column''s scale');

SELECT * FROM finish();
ROLLBACK;
