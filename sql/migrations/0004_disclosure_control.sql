-- 0004_disclosure_control — the noise applied to published cells (DESIGN section 3 "Disclosure control").

SET LOCAL ROLE klima_owner;

-- ---------------------------------------------------------------------------------------------------------------
-- Noise: deterministic Laplace noise from a seed. u is uniform in (0, 1) from a 52-bit hash of the seed; the inverse
-- CDF gives Laplace(0, scale). Same seed -> same noise, so repeating a query cannot average it away.
CREATE FUNCTION meta.laplace_noise(seed text, scale double precision)
RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$
    SELECT -scale * sign(u - 0.5) * ln(1.0 - 2.0 * abs(u - 0.5))
    FROM (SELECT ((hashtextextended(seed, 0) & 4503599627370495)::double precision + 0.5) / 4503599627370496.0 AS u) s
$fn$;

-- The published value of one measure of one cell: NULL when suppressed; the exact sum without noise; with noise the
-- sum of clipped contributions plus Laplace(clip / epsilon) seeded by (dataset, version, cell key, column).
CREATE FUNCTION meta.publish(raw double precision, clipped double precision, suppressed boolean,
                             epsilon double precision, clip double precision, dataset text, version bigint,
                             cell_key text, col text)
RETURNS double precision
LANGUAGE sql STABLE PARALLEL SAFE   -- STABLE, not IMMUTABLE, so that it is inlined: the cell key is then built only
                                    -- when noise is on (text concatenation is only STABLE)
AS $fn$
    SELECT CASE WHEN suppressed THEN NULL
                WHEN epsilon IS NULL THEN raw
                ELSE clipped + meta.laplace_noise(dataset || '|' || version || '|' || cell_key || '|' || col,
                                                  clip / epsilon) END
$fn$;


RESET ROLE;
