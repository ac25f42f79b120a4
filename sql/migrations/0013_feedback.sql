-- 0013_feedback — citizen feedback (POST /v1/feedback): stored without any IP address; the country code is all that
-- is kept of the sender's network location. A household id is stored only for data-error reports sent with a consent
-- token (so staff can look at that household's data); anonymous feedback has none.
SET LOCAL ROLE klima_owner;

CREATE TABLE core.feedback (
    feedback_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now(),
    topic text NOT NULL CHECK (topic IN ('dataset', 'dashboard', 'data-error', 'idea')),
    dataset_id text REFERENCES meta.datasets ON DELETE SET NULL,
    rating smallint CHECK (rating BETWEEN 1 AND 5),
    message text NOT NULL DEFAULT '' CHECK (char_length(message) <= 2000),
    country char(2) NOT NULL DEFAULT 'ZZ' CHECK (country ~ '^[A-Z]{2}$'),
    household_id uuid,
    client_id text,
    CHECK (rating IS NOT NULL OR message <> '')
);
CREATE INDEX feedback_received ON core.feedback (received_at);

REVOKE ALL ON core.feedback FROM PUBLIC;

-- Stores one feedback; returns its id and time. Validation mirrors the server's (which answers 400 first). consent is
-- the consent id of the sender's token when a data-error report is to be linked to its household (NULL: anonymous);
-- the household and app are taken from that consent, which must be active and grant summary:read.
CREATE FUNCTION api.feedback_add(topic text, dataset text, rating integer, message text, country text, consent uuid)
RETURNS TABLE (feedback_id bigint, received_at timestamptz)
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
    INSERT INTO core.feedback (topic, dataset_id, rating, message, country, household_id, client_id)
    SELECT feedback_add.topic, dataset, rating::smallint, coalesce(message, ''), coalesce(country, 'ZZ'),
           CASE WHEN consent IS NOT NULL THEN core.consent_household(consent, 'summary:read') END,
           (SELECT c.client_id FROM core.consents c WHERE c.consent_id = consent)
    RETURNING feedback_id, received_at
$fn$;

-- Published counts per topic, month (UTC) and rating: no message text, no household, no country.
CREATE FUNCTION api.feedback_stats()
RETURNS TABLE (month text, topic text, rating integer, count bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT to_char(date_trunc('month', f.received_at AT TIME ZONE 'UTC'), 'YYYY-MM'), f.topic, f.rating::integer, count(*)
    FROM core.feedback f
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3 NULLS FIRST
$fn$;

REVOKE EXECUTE ON FUNCTION api.feedback_add(text, text, integer, text, text, uuid), api.feedback_stats() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.feedback_add(text, text, integer, text, text, uuid), api.feedback_stats() TO klima_api;
