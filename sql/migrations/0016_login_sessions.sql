-- 0016_login_sessions — the citizen's login session at the consent service, kept server-side so that signing out ends
-- it (issue 15: on a shared computer, "Log ud" and then "Log ind" must show the login form, never the previous
-- household).
--
-- The browser holds only a random 256-bit session id (cookie __Host-klima_session); the database keeps its SHA-256, the
-- household it speaks for, and when it expires (30 minutes after the login) or was ended (POST /oauth/logout). A
-- session that is not here, expired or ended is no login. klima_api gets EXECUTE on the three functions and no table
-- privilege; like api.oauth_code_create, api.login_session_start takes a household id because it is the step right
-- after the citizen's login (the dev login's demo household, or the household of the identity provider's subject).

SET LOCAL ROLE klima_owner;

CREATE TABLE core.login_sessions (
    session_hash bytea PRIMARY KEY CHECK (length(session_hash) = 32),
    household_id uuid NOT NULL REFERENCES core.households ON DELETE CASCADE,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at timestamptz NOT NULL,
    ended_at timestamptz
);
CREATE INDEX login_sessions_expires ON core.login_sessions (expires_at);
CREATE INDEX login_sessions_household ON core.login_sessions (household_id);

COMMENT ON TABLE core.login_sessions IS
    'Citizens'' login sessions at the consent service: the SHA-256 of the random session id in the browser''s cookie, '
    'the household, the expiry (30 minutes after the login) and the sign-out time. Rows are removed a day after they '
    'ended or expired.';

-- Records a new login session for household (30 minutes); drops sessions that ended or expired more than a day ago.
CREATE FUNCTION api.login_session_start(session_hash bytea, household uuid)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    DELETE FROM core.login_sessions s
    WHERE s.expires_at < clock_timestamp() - interval '1 day' OR s.ended_at < clock_timestamp() - interval '1 day';
    INSERT INTO core.login_sessions (session_hash, household_id, expires_at)
    VALUES (login_session_start.session_hash, login_session_start.household, clock_timestamp() + interval '30 minutes');
    RETURN true;
END
$fn$;

-- The household of an active session (not ended, not expired) and its district, for "signed in as"; no row otherwise.
CREATE FUNCTION api.login_session(session_hash bytea)
RETURNS TABLE (household_id uuid, district text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT s.household_id, d.name
    FROM core.login_sessions s
    JOIN core.households h ON h.household_id = s.household_id
    LEFT JOIN core.districts d ON d.district_id = h.district_id
    WHERE s.session_hash = login_session.session_hash AND s.ended_at IS NULL AND s.expires_at > clock_timestamp();
$fn$;

-- Ends a session (sign-out); returns whether an active one was ended.
CREATE FUNCTION api.login_session_end(session_hash bytea)
RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
    WITH ended AS (
        UPDATE core.login_sessions s SET ended_at = clock_timestamp()
        WHERE s.session_hash = login_session_end.session_hash AND s.ended_at IS NULL
        RETURNING 1
    )
    SELECT count(*) > 0 FROM ended;
$fn$;

RESET ROLE;

REVOKE EXECUTE ON FUNCTION api.login_session_start(bytea, uuid), api.login_session(bytea), api.login_session_end(bytea)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.login_session_start(bytea, uuid), api.login_session(bytea), api.login_session_end(bytea)
    TO klima_api;
