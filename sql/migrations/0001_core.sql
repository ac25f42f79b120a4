-- 0001_core — schemas, roles and the raw (personal) tables of klimaspejl.
--
-- Runs inside one transaction opened by `klimaspejl migrate` (or `psql -1`). Roles are cluster-global and the
-- cluster is shared by several databases (tests use fresh ones), so every role is created only if missing.
-- Everything created here is owned by klima_owner; core is never readable by klima_api.

CREATE SCHEMA IF NOT EXISTS meta;

DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'klima_owner') THEN
        CREATE ROLE klima_owner NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'klima_api') THEN
        CREATE ROLE klima_api LOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'klima_ingest') THEN
        CREATE ROLE klima_ingest LOGIN;
    END IF;
END
$roles$;

-- klima_owner may create schemas in this database (later migrations run as it).
DO $grant$
BEGIN
    EXECUTE format('GRANT CREATE, CONNECT, TEMPORARY ON DATABASE %I TO klima_owner', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO klima_api, klima_ingest', current_database());
END
$grant$;

-- The migrating role (a superuser locally) must be able to act as klima_owner.
DO $member$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        EXECUTE format('GRANT klima_owner TO %I', current_user);
    END IF;
END
$member$;

CREATE SCHEMA IF NOT EXISTS core AUTHORIZATION klima_owner;
CREATE SCHEMA IF NOT EXISTS api AUTHORIZATION klima_owner;
ALTER SCHEMA meta OWNER TO klima_owner;

SET LOCAL ROLE klima_owner;

-- The 10 administrative districts (bydele) of Copenhagen Municipality with approximate centroids (WGS84).
CREATE TABLE core.districts (
    district_id smallint PRIMARY KEY,
    name text NOT NULL UNIQUE,
    name_en text NOT NULL,
    lat double precision NOT NULL,
    lon double precision NOT NULL
);

INSERT INTO core.districts (district_id, name, name_en, lat, lon) VALUES
    (1, 'Indre By', 'Inner City', 55.6805, 12.5830),
    (2, 'Østerbro', 'Østerbro', 55.7070, 12.5780),
    (3, 'Nørrebro', 'Nørrebro', 55.6965, 12.5430),
    (4, 'Vesterbro/Kongens Enghave', 'Vesterbro/Kongens Enghave', 55.6555, 12.5410),
    (5, 'Valby', 'Valby', 55.6605, 12.4990),
    (6, 'Vanløse', 'Vanløse', 55.6870, 12.4870),
    (7, 'Brønshøj-Husum', 'Brønshøj-Husum', 55.7060, 12.4920),
    (8, 'Bispebjerg', 'Bispebjerg', 55.7135, 12.5350),
    (9, 'Amager Øst', 'Amager East', 55.6560, 12.6130),
    (10, 'Amager Vest', 'Amager West', 55.6330, 12.5690);

CREATE TABLE core.households (
    household_id uuid PRIMARY KEY,
    district_id smallint NOT NULL REFERENCES core.districts,
    dwelling_type text NOT NULL CHECK (dwelling_type IN ('apartment', 'terraced', 'detached')),
    occupant_band text NOT NULL CHECK (occupant_band IN ('1', '2', '3-4', '5+')),
    floor_area_m2 smallint NOT NULL CHECK (floor_area_m2 BETWEEN 5 AND 2000)
);
CREATE INDEX households_district_idx ON core.households (district_id);

-- Hourly meter readings, range-partitioned by month (UTC boundaries). The foreign key makes PostgreSQL reject readings
-- of unknown households during ingest.
CREATE TABLE core.energy_hourly (
    household_id uuid NOT NULL REFERENCES core.households,
    hour_utc timestamptz NOT NULL,
    electricity_wh integer NOT NULL CHECK (electricity_wh >= 0),
    heat_wh integer NOT NULL CHECK (heat_wh >= 0),
    water_l real NOT NULL CHECK (water_l >= 0),
    PRIMARY KEY (household_id, hour_utc)
) PARTITION BY RANGE (hour_utc);

-- Catches readings outside every monthly partition; ensure_energy_partitions keeps it empty in normal operation.
CREATE TABLE core.energy_hourly_default PARTITION OF core.energy_hourly DEFAULT;

-- Creates the missing monthly partitions core.energy_hourly_YYYYMM covering [from_ts, to_ts] (UTC months, both ends
-- inclusive). Returns the number of partitions created. SECURITY DEFINER so klima_ingest can call it while the
-- partitions stay owned by klima_owner; serialised with an advisory lock so concurrent loaders do not collide.
CREATE FUNCTION core.ensure_energy_partitions(from_ts timestamptz, to_ts timestamptz)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    m timestamp;
    last_m timestamp;
    part text;
    created integer := 0;
BEGIN
    IF from_ts IS NULL OR to_ts IS NULL OR to_ts < from_ts THEN
        RAISE EXCEPTION 'ensure_energy_partitions: invalid range % .. %', from_ts, to_ts;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('core.ensure_energy_partitions'));
    m := date_trunc('month', from_ts AT TIME ZONE 'UTC');
    last_m := date_trunc('month', to_ts AT TIME ZONE 'UTC');
    WHILE m <= last_m LOOP
        part := 'energy_hourly_' || to_char(m, 'YYYYMM');
        IF to_regclass('core.' || part) IS NULL THEN
            EXECUTE format('CREATE TABLE core.%I PARTITION OF core.energy_hourly FOR VALUES FROM (%L) TO (%L)',
                           part, to_char(m, 'YYYY-MM-DD') || ' 00:00:00+00',
                           to_char(m + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+00');
            created := created + 1;
        END IF;
        m := m + interval '1 month';
    END LOOP;
    RETURN created;
END
$fn$;

-- Two years around the time of migration exist from the start; loaders create more on demand.
SELECT core.ensure_energy_partitions(date_trunc('month', now()) - interval '18 months', now() + interval '6 months');

CREATE TABLE core.waste_weighings (
    household_id uuid NOT NULL REFERENCES core.households,
    collected_on date NOT NULL,
    fraction text NOT NULL CHECK (fraction IN ('residual', 'food', 'paper', 'cardboard', 'plastic', 'glass', 'metal',
                                               'hazardous', 'garden')),
    kg real NOT NULL CHECK (kg >= 0),
    PRIMARY KEY (household_id, collected_on, fraction)
);

CREATE TABLE core.mobility_daily (
    household_id uuid NOT NULL REFERENCES core.households,
    day date NOT NULL,
    mode text NOT NULL CHECK (mode IN ('walk', 'bike', 'e-bike', 'bus', 'metro', 's-train', 'car-petrol',
                                       'car-electric')),
    trips smallint NOT NULL CHECK (trips >= 0),
    km real NOT NULL CHECK (km >= 0),
    PRIMARY KEY (household_id, day, mode)
);

CREATE TABLE core.grid_intensity_hourly (
    hour_utc timestamptz PRIMARY KEY,
    area text NOT NULL DEFAULT 'DK2',
    g_per_kwh real NOT NULL CHECK (g_per_kwh >= 0)
);

CREATE TABLE core.emission_factors (
    factor_id text PRIMARY KEY,
    category text NOT NULL,
    unit text NOT NULL,
    value double precision NOT NULL,
    valid_from date NOT NULL,
    valid_to date NULL,
    method text NOT NULL,
    source text NOT NULL,
    is_assumption boolean NOT NULL DEFAULT false,
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);

-- From /work/shared/FACTS.md. Ids without a year are the current factor of that item (valid_to NULL); year-suffixed
-- ids keep the history. Electricity per hour comes from core.grid_intensity_hourly; the electricity rows here are
-- reference values and the fallback when an hour has no intensity.
INSERT INTO core.emission_factors (factor_id, category, unit, value, valid_from, valid_to, method, source, is_assumption) VALUES
    ('district-heating', 'heat', 'g CO2e/kWh', 34.0, '2021-01-01', NULL,
     'HOFOR environmental declaration for district heating, 200 % method (2021 figure)',
     'hofor.dk miljødeklaration for fjernvarme', false),
    ('district-heating-2020', 'heat', 'g CO2e/kWh', 49.9, '2020-01-01', '2020-12-31',
     'HOFOR environmental declaration, 200 % method', 'hofor.dk miljødeklaration for fjernvarme', false),
    ('district-heating-2018', 'heat', 'g CO2e/kWh', 80.0, '2018-01-01', '2018-12-31',
     'HOFOR environmental declaration, 200 % method', 'hofor.dk miljødeklaration for fjernvarme', false),
    ('district-heating-lca-2025', 'heat', 'g CO2e/kWh', 87.8, '2025-01-01', NULL,
     'building-code LCA projection (Bilag 2 Tabel 8)', 'bygningsreglementet.dk Bilag 2 Tabel 8', false),
    ('electricity', 'electricity', 'g CO2e/kWh', 195.0, '2015-01-01', NULL,
     'national average, 125 % method (fallback when an hour has no DK2 intensity)', 'energinet.dk', false),
    ('electricity-national-200', 'electricity', 'g CO2e/kWh', 233.0, '2015-01-01', '2015-12-31',
     'national average, 200 % method', 'energinet.dk', false),
    ('electricity-dk1-2022', 'electricity', 'g CO2e/kWh', 165.7, '2022-01-01', '2022-12-31',
     'West Denmark (DK1) incl. 4.3 % grid loss', 'frb-forsyning.dk miljødeklarationer', false),
    ('electricity-lca-2025', 'electricity', 'g CO2e/kWh', 135.0, '2025-01-01', NULL,
     'building-code LCA projection (Bilag 2 Tabel 8)', 'bygningsreglementet.dk Bilag 2 Tabel 8', false),
    ('car-petrol', 'mobility', 'g CO2e/pkm', 99.0, '2023-01-01', NULL,
     'petrol/diesel car, average occupancy', 'Danish Transport Ministry answer 15 Dec 2023 (ft.dk TRU spm. 87)', false),
    ('car-electric', 'mobility', 'g CO2e/pkm', 15.0, '2023-01-01', NULL,
     'electric car, average occupancy', 'Danish Transport Ministry answer 15 Dec 2023 (ft.dk TRU spm. 87)', false),
    ('s-train', 'mobility', 'g CO2e/pkm', 11.0, '2023-01-01', NULL,
     'S-train', 'Danish Transport Ministry answer 15 Dec 2023 (ft.dk TRU spm. 87)', false),
    ('bus', 'mobility', 'g CO2e/pkm', 118.0, '2022-01-01', NULL,
     'diesel bus, 7.1 passengers per bus', 'dknyt.dk', false),
    ('bus-electric', 'mobility', 'g CO2e/pkm', 4.0, '2022-01-01', NULL,
     'electric bus (COWI for DSB)', 'danskpersontransport.dk', false),
    ('metro', 'mobility', 'g CO2e/pkm', 10.0, '2023-01-01', NULL,
     'assumption: electric rail, similar to the S-train', 'assumption (FACTS.md)', true),
    ('walk', 'mobility', 'g CO2e/pkm', 0.0, '2023-01-01', NULL,
     'assumption: zero emissions in use', 'assumption (FACTS.md)', true),
    ('bike', 'mobility', 'g CO2e/pkm', 0.0, '2023-01-01', NULL,
     'assumption: zero emissions in use', 'assumption (FACTS.md)', true),
    ('e-bike', 'mobility', 'g CO2e/pkm', 1.5, '2023-01-01', NULL,
     'assumption: about 1 kWh per 100 km at about 150 g CO2e/kWh', 'assumption', true),
    ('water', 'water', 'g CO2e/L', 0.3, '2020-01-01', NULL,
     'assumption: supply and wastewater treatment, about 0.3 kg CO2e per m3 (typical published utility figure)',
     'assumption', true),
    ('waste-residual', 'waste', 'kg CO2e/kg', 0.40, '2020-01-01', NULL,
     'assumption: incineration with energy recovery, fossil carbon (plastics, textiles) in mixed residual waste',
     'assumption — no Danish source found (FACTS.md); plausible published lifecycle value', true),
    ('waste-food', 'waste', 'kg CO2e/kg', 0.02, '2020-01-01', NULL,
     'assumption: anaerobic digestion to biogas, biogenic CO2 not counted; collection and treatment only',
     'assumption — no Danish source found (FACTS.md); plausible published lifecycle value', true),
    ('waste-paper', 'waste', 'kg CO2e/kg', 0.02, '2020-01-01', NULL,
     'assumption: recycling, collection and reprocessing emissions only (no avoided-burden credit)',
     'assumption — no Danish source found (FACTS.md); plausible published lifecycle value', true),
    ('waste-cardboard', 'waste', 'kg CO2e/kg', 0.02, '2020-01-01', NULL,
     'assumption: recycling, collection and reprocessing emissions only (no avoided-burden credit)',
     'assumption — no Danish source found (FACTS.md); plausible published lifecycle value', true),
    ('waste-plastic', 'waste', 'kg CO2e/kg', 0.20, '2020-01-01', NULL,
     'assumption: sorting and recycling, with the rejected share (about a third) incinerated',
     'assumption — no Danish source found (FACTS.md); plausible published lifecycle value', true),
    ('waste-glass', 'waste', 'kg CO2e/kg', 0.03, '2020-01-01', NULL,
     'assumption: recycling, collection and remelting emissions only (no avoided-burden credit)',
     'assumption — no Danish source found (FACTS.md); plausible published lifecycle value', true),
    ('waste-metal', 'waste', 'kg CO2e/kg', 0.03, '2020-01-01', NULL,
     'assumption: recycling, collection and remelting emissions only (no avoided-burden credit)',
     'assumption — no Danish source found (FACTS.md); plausible published lifecycle value', true),
    ('waste-hazardous', 'waste', 'kg CO2e/kg', 0.60, '2020-01-01', NULL,
     'assumption: high-temperature incineration of mostly fossil material',
     'assumption — no Danish source found (FACTS.md); plausible published lifecycle value', true),
    ('waste-garden', 'waste', 'kg CO2e/kg', 0.03, '2020-01-01', NULL,
     'assumption: composting, methane and nitrous oxide from the process',
     'assumption — no Danish source found (FACTS.md); plausible published lifecycle value', true);

RESET ROLE;

-- Privileges: core is raw, personal data. Nobody but its owner (and the loader) may touch it.
REVOKE ALL ON SCHEMA core FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA core FROM PUBLIC, klima_api;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA core FROM PUBLIC, klima_api;
REVOKE ALL ON SCHEMA core FROM klima_api;
ALTER DEFAULT PRIVILEGES FOR ROLE klima_owner IN SCHEMA core REVOKE ALL ON TABLES FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE klima_owner IN SCHEMA core REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

GRANT USAGE ON SCHEMA core TO klima_ingest;
GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA core TO klima_ingest;
GRANT EXECUTE ON FUNCTION core.ensure_energy_partitions(timestamptz, timestamptz) TO klima_ingest;

-- The server reaches only what later migrations publish in api and meta.
REVOKE ALL ON SCHEMA api FROM PUBLIC;
REVOKE ALL ON SCHEMA meta FROM PUBLIC;
GRANT USAGE ON SCHEMA api TO klima_api;
GRANT USAGE ON SCHEMA meta TO klima_api;
