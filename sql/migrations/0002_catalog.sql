-- 0002_catalog — the dataset catalog that drives the open-data API.
--
-- meta.datasets has one row per published dataset; meta.dataset_columns describes each column of its api view
-- (Frictionless Table Schema type, unit, bilingual description, role, and which filter operators and aggregate
-- measures the HTTP API may accept for it). The HTTP layer builds SQL only from these rows: a column, operator or
-- measure that is not catalogued here is rejected with a 400. meta.dataset_versions keeps one row per release.
-- The api views the rows describe are created by 0007_published_views.sql.

SET LOCAL ROLE klima_owner;

CREATE TABLE meta.datasets (
    id text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9-]{1,62}$'),
    title_da text NOT NULL,
    title_en text NOT NULL,
    description_da text NOT NULL,
    description_en text NOT NULL,
    license text NOT NULL DEFAULT 'CC-BY-4.0',
    license_url text NOT NULL DEFAULT 'https://creativecommons.org/licenses/by/4.0/',
    publisher text NOT NULL DEFAULT 'Københavns Kommune (klimaspejl)',
    theme text NOT NULL CHECK (theme IN ('energy', 'waste', 'mobility', 'climate')),
    keywords text[] NOT NULL DEFAULT '{}',
    -- Temporal coverage of the current release, [temporal_start, temporal_end) in UTC; set by meta.dataset_bump().
    temporal_start timestamptz,
    temporal_end timestamptz,
    temporal_resolution text NOT NULL,        -- ISO 8601 duration of one row's time bucket: PT1H, P1D, P1M
    spatial_coverage text NOT NULL DEFAULT 'Københavns Kommune / City of Copenhagen, Denmark',
    spatial_resolution text NOT NULL,         -- e.g. 'bydel (10 administrative districts)'
    update_frequency text NOT NULL,           -- ISO 8601 duration between refreshes, e.g. PT1H, P1D
    -- Disclosure control (DESIGN section 3). personal = false for datasets that hold no household data at all
    -- (grid intensity, emission factors); k, dominance and the cell-key noise (meta.disclosure_control) do not
    -- apply to them.
    personal boolean NOT NULL DEFAULT true,
    k integer NOT NULL DEFAULT 10 CHECK (k >= 1),
    dominance_n integer NOT NULL DEFAULT 2 CHECK (dominance_n >= 1),
    dominance_pct numeric NOT NULL DEFAULT 85 CHECK (dominance_pct > 0 AND dominance_pct <= 100),
    synthetic boolean NOT NULL DEFAULT true,
    -- The release that last changed the published rows (0 = never published). A release bumps it exactly when the
    -- rows' content hash changed; caches, ETags, cursors and downloads are keyed on it.
    version bigint NOT NULL DEFAULT 0,
    refreshed_at timestamptz,                 -- when this version was published
    content_hash text,                        -- md5 of the published rows in primary-key order (meta.dataset_content_hash)
    source_view text NOT NULL,                -- schema-qualified api view, e.g. api.energy_district_hourly
    primary_key text[] NOT NULL,              -- the view columns that identify a row (keyset cursors, ETags)
    default_order text[] NOT NULL,            -- ORDER BY of downloads and of records without `order`
    max_age_seconds integer NOT NULL DEFAULT 3600,   -- Cache-Control max-age suited to update_frequency
    sources text NOT NULL,                    -- where the figures come from (FACTS.md sources)
    citation text NOT NULL                    -- how to cite the dataset
);

COMMENT ON TABLE meta.datasets IS 'Published datasets (one row each); drives /v1/datasets and the records API.';

CREATE TABLE meta.dataset_columns (
    dataset_id text NOT NULL REFERENCES meta.datasets ON DELETE CASCADE,
    position integer NOT NULL CHECK (position >= 1),
    name text NOT NULL CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
    -- Frictionless Table Schema field type.
    type text NOT NULL CHECK (type IN ('string', 'integer', 'number', 'boolean', 'date', 'datetime')),
    -- Frictionless format hint; 'local' marks a wall-clock time in Europe/Copenhagen without offset.
    format text NOT NULL DEFAULT 'default',
    unit text,                                -- e.g. 'Wh', 'kWh', 'L', 'kg', 'km', 'kg CO2e', 'g CO2e/kWh'
    description_da text NOT NULL,
    description_en text NOT NULL,
    role text NOT NULL CHECK (role IN ('dimension', 'measure', 'flag')),
    filterable boolean NOT NULL DEFAULT false,
    groupable boolean NOT NULL DEFAULT false,
    -- Filter operators the API accepts on this column (col=op:value). 'in' takes a comma-separated list.
    operators text[] NOT NULL DEFAULT '{}'
        CHECK (operators <@ ARRAY['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in']::text[]),
    -- Aggregate measures the API accepts on this column (sum:col, avg:col, ...). `count` needs no column.
    aggregations text[] NOT NULL DEFAULT '{}'
        CHECK (aggregations <@ ARRAY['sum', 'avg', 'min', 'max']::text[]),
    enum_values text[],                       -- Frictionless constraints.enum, for closed vocabularies
    nullable boolean NOT NULL DEFAULT false,  -- true for measures that are NULL in suppressed cells
    -- Decimal places of a number column: the published value is a numeric rounded in SQL to this scale (the same
    -- bytes from every worker, no binary floating-point noise). NULL for columns that are not numbers.
    scale integer CHECK (scale IS NULL OR scale BETWEEN 0 AND 9),
    PRIMARY KEY (dataset_id, position),
    UNIQUE (dataset_id, name),
    CHECK (role <> 'measure' OR NOT groupable),
    CHECK (filterable OR cardinality(operators) = 0)
);

COMMENT ON TABLE meta.dataset_columns IS
    'Columns of each published view: type, unit, description, and the operators/measures the API accepts.';

-- One row per release (`klimaspejl refresh`): every published table is rebuilt from one snapshot of core in one
-- transaction (sql/migrations/0008_releases.sql).
CREATE TABLE meta.releases (
    release_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at timestamptz NOT NULL,          -- the transaction's start: the snapshot of core the release is built from
    published_at timestamptz,                 -- set when the release was built (it becomes visible at commit)
    requested text[],                         -- the datasets named on the command line (NULL: all)
    changed text[]                            -- the datasets whose content changed and so got a new version
);

-- One row per version of a dataset (written by meta.release_publish()).
CREATE TABLE meta.dataset_versions (
    dataset_id text NOT NULL REFERENCES meta.datasets ON DELETE CASCADE,
    version bigint NOT NULL,
    refreshed_at timestamptz NOT NULL DEFAULT now(),
    release_id bigint REFERENCES meta.releases,
    content_hash text,
    row_count bigint,
    suppressed_count bigint,
    -- Disclosure control as published in this version (household datasets; NULL otherwise): whether the cell-key
    -- noise was on, and the utility measured on the release's own cells: the mean absolute relative deviation
    -- (published vs true, in %) over the measures of published cells with at least 100 households, and the share of
    -- the cells with data that is not published (suppressed, or not listed because fewer than k households).
    cell_key_enabled boolean,
    mard_pct_cells_ge_100 numeric,
    cells_ge_100 bigint,
    suppressed_share numeric,
    cells bigint,
    PRIMARY KEY (dataset_id, version)
);

-- ---------------------------------------------------------------------------------------------------------------
-- Catalog rows for the published datasets

INSERT INTO meta.datasets (id, title_da, title_en, description_da, description_en, theme, keywords,
                           temporal_resolution, spatial_resolution, update_frequency, personal, source_view,
                           primary_key, default_order, max_age_seconds, sources, citation) VALUES
('energy-district-hourly',
 'Energiforbrug pr. bydel og time', 'Energy use per district and hour',
 'SYNTETISKE DATA: tallene er genereret af klimaspejl seed og er ikke målinger fra rigtige husstande, indtil rigtige data indlæses. Elforbrug og fjernvarme (Wh) og vandforbrug (L) summeret over husstandene i hver af Københavns 10 bydele pr. time, med antal husstande og gennemsnit pr. husstand. Celler, hvor de to største husstande står for mere end 85 % af summen, er undertrykt (null, suppressed = true); desuden sekundær undertrykkelse, så en undertrykt time ikke kan udregnes fra dagens total.',
 'SYNTHETIC DATA: the figures are generated by klimaspejl seed and are not measurements of real households until real data is loaded. Electricity and district heating (Wh) and water (L) summed over the households of each of Copenhagen''s 10 districts per hour, with the household count and per-household means. Cells where the two largest households make up more than 85 % of the total are suppressed (null, suppressed = true); secondary suppression keeps a suppressed hour from being derived from the day''s total.',
 'energy', ARRAY['elforbrug', 'fjernvarme', 'vand', 'electricity', 'district heating', 'water', 'hourly'],
 'PT1H', 'bydel (10 administrative districts)', 'P1D', true, 'api.energy_district_hourly',
 ARRAY['district_id', 'hour_utc'], ARRAY['hour_utc', 'district_id'], 3600,
 'Synthetic household meter readings (klimaspejl seed). Disclosure control: Eurostat/ESSnet dominance rule (n=2, 85 %); Statistics Denmark minimum cell sizes (as quoted in the LOIS manual, dok.lifa.dk); UK ONS Census 2021 (suppression, cell-key perturbation).',
 'Københavns Kommune, klimaspejl: Energy use per district and hour (synthetic), CC BY 4.0.'),
('energy-district-daily',
 'Energiforbrug pr. bydel og dag', 'Energy use per district and day',
 'SYNTETISKE DATA: tallene er genereret af klimaspejl seed og er ikke målinger fra rigtige husstande, indtil rigtige data indlæses. Elforbrug og fjernvarme (kWh) og vand (L) pr. bydel og døgn (dansk tid, Europe/Copenhagen; døgn ved skift til/fra sommertid har 23 eller 25 timer), med antal husstande og gennemsnit pr. husstand. Undertrykkelse efter dominansreglen (2 største > 85 %).',
 'SYNTHETIC DATA: the figures are generated by klimaspejl seed and are not measurements of real households until real data is loaded. Electricity and district heating (kWh) and water (L) per district and day (Copenhagen local time, Europe/Copenhagen; days at a daylight-saving change have 23 or 25 hours), with the household count and per-household means. Suppression by the dominance rule (2 largest > 85 %).',
 'energy', ARRAY['elforbrug', 'fjernvarme', 'vand', 'electricity', 'district heating', 'water', 'daily'],
 'P1D', 'bydel (10 administrative districts)', 'P1D', true, 'api.energy_district_daily',
 ARRAY['district_id', 'day'], ARRAY['day', 'district_id'], 3600,
 'Synthetic household meter readings (klimaspejl seed). Disclosure control: Eurostat/ESSnet dominance rule (n=2, 85 %); Statistics Denmark minimum cell sizes (LOIS manual, dok.lifa.dk).',
 'Københavns Kommune, klimaspejl: Energy use per district and day (synthetic), CC BY 4.0.'),
('energy-peergroup-monthly',
 'Energiforbrug pr. bydel, boligtype og husstandsstørrelse pr. måned',
 'Energy use per district, dwelling type and household size per month',
 'SYNTETISKE DATA: tallene er genereret af klimaspejl seed og er ikke målinger fra rigtige husstande, indtil rigtige data indlæses. Elforbrug og fjernvarme (kWh) og vand (L) pr. måned (dansk tid) for hver kombination af bydel, boligtype (lejlighed, rækkehus, parcelhus) og antal beboere (1, 2, 3-4, 5+). Mange grupper er små; grupper med færre end k husstande vises ikke, og dominansreglen og sekundær undertrykkelse inden for bydel og måned gælder.',
 'SYNTHETIC DATA: the figures are generated by klimaspejl seed and are not measurements of real households until real data is loaded. Electricity and district heating (kWh) and water (L) per month (Copenhagen local time) for each combination of district, dwelling type (apartment, terraced, detached) and occupant band (1, 2, 3-4, 5+). Many groups are small; groups of fewer than k households are not listed, and the dominance rule and secondary suppression within district and month apply.',
 'energy', ARRAY['elforbrug', 'fjernvarme', 'boligtype', 'electricity', 'district heating', 'dwelling type', 'monthly'],
 'P1M', 'bydel x boligtype x husstandsstørrelse', 'P1D', true, 'api.energy_peergroup_monthly',
 ARRAY['month', 'district_id', 'dwelling_type', 'occupant_band'],
 ARRAY['month', 'district_id', 'dwelling_type', 'occupant_band'], 3600,
 'Synthetic household meter readings (klimaspejl seed). Peer groups as in Opower home energy reports (Allcott 2011). Disclosure control: Eurostat/ESSnet dominance rule; Statistics Denmark minimum cell sizes.',
 'Københavns Kommune, klimaspejl: Energy use per district, dwelling type and household size (synthetic), CC BY 4.0.'),
('waste-district-monthly',
 'Affald pr. bydel, fraktion og måned', 'Waste per district, fraction and month',
 'SYNTETISKE DATA: tallene er genereret af klimaspejl seed og er ikke vejninger fra rigtige husstande, indtil rigtige data indlæses. Indsamlet affald (kg) pr. bydel, måned og fraktion (rest, mad, papir, pap, plast, glas, metal, farligt affald, have), med antal husstande, der har afleveret fraktionen, og kg pr. sådan husstand. Sjældne fraktioner vises ofte ikke (færre end k husstande); sekundær undertrykkelse sikrer, at en undertrykt fraktion ikke kan udregnes fra bydelens affalds-CO2e i footprint-district-monthly.',
 'SYNTHETIC DATA: the figures are generated by klimaspejl seed and are not weighings of real households until real data is loaded. Collected waste (kg) per district, month and fraction (residual, food, paper, cardboard, plastic, glass, metal, hazardous, garden), with the number of households that delivered the fraction and kg per such household. Rare fractions are often not listed (fewer than k households); secondary suppression keeps a suppressed fraction from being derived from the district''s waste CO2e in footprint-district-monthly.',
 'waste', ARRAY['affald', 'sortering', 'waste', 'recycling', 'monthly'],
 'P1M', 'bydel (10 administrative districts)', 'P1D', true, 'api.waste_district_monthly',
 ARRAY['month', 'district_id', 'fraction'], ARRAY['month', 'district_id', 'fraction'], 3600,
 'Synthetic waste weighings (klimaspejl seed). Disclosure control: Eurostat/ESSnet dominance rule; Statistics Denmark minimum cell sizes.',
 'Københavns Kommune, klimaspejl: Waste per district, fraction and month (synthetic), CC BY 4.0.'),
('mobility-district-monthly',
 'Transport pr. bydel, transportform og måned', 'Mobility per district, mode and month',
 'SYNTETISKE DATA: tallene er genereret af klimaspejl seed og er ikke rejser fra rigtige husstande, indtil rigtige data indlæses. Ture og personkilometer pr. bydel, måned og transportform (gang, cykel, elcykel, bus, metro, S-tog, benzin-/dieselbil, elbil), med antal husstande, der har brugt transportformen, og gennemsnit pr. sådan husstand. Undertrykkelse efter dominans- og sekundærreglen.',
 'SYNTHETIC DATA: the figures are generated by klimaspejl seed and are not trips of real households until real data is loaded. Trips and passenger-km per district, month and mode (walk, bike, e-bike, bus, metro, S-train, petrol/diesel car, electric car), with the number of households that used the mode and means per such household. Suppression by the dominance and secondary rules.',
 'mobility', ARRAY['transport', 'cykel', 'mobility', 'modal split', 'monthly'],
 'P1M', 'bydel (10 administrative districts)', 'P1D', true, 'api.mobility_district_monthly',
 ARRAY['month', 'district_id', 'mode'], ARRAY['month', 'district_id', 'mode'], 3600,
 'Synthetic daily mobility (klimaspejl seed). Disclosure control: Eurostat/ESSnet dominance rule; Statistics Denmark minimum cell sizes.',
 'Københavns Kommune, klimaspejl: Mobility per district, mode and month (synthetic), CC BY 4.0.'),
('footprint-district-monthly',
 'CO2e-aftryk pr. bydel, kategori og måned', 'CO2e footprint per district, category and month',
 'SYNTETISKE DATA: tallene er beregnet fra syntetiske data fra klimaspejl seed, indtil rigtige data indlæses. Udledning (kg CO2e) pr. bydel, måned og kategori: el (vægtet time for time med elnettets CO2-intensitet i DK2), fjernvarme (HOFOR), vand, affald og transport, samt total. Emissionsfaktorerne og deres kilder står i datasættet emission-factors; faktorer mærket antagelse er antagelser. Kategorierne dækker kun en del af det forbrugsbaserede aftryk (KP2035).',
 'SYNTHETIC DATA: computed from synthetic data generated by klimaspejl seed until real data is loaded. Emissions (kg CO2e) per district, month and category: electricity (weighted hour by hour with the DK2 grid CO2 intensity), district heating (HOFOR), water, waste and mobility, plus the total. The emission factors and their sources are in the emission-factors dataset; factors flagged as assumptions are assumptions. The categories cover only part of the consumption-based footprint (KP2035).',
 'climate', ARRAY['CO2e', 'klimaaftryk', 'KP2035', 'footprint', 'emissions', 'monthly'],
 'P1M', 'bydel (10 administrative districts)', 'P1D', true, 'api.footprint_district_monthly',
 ARRAY['month', 'district_id', 'category'], ARRAY['month', 'district_id', 'category'], 3600,
 'Emission factors: Energinet (energidataservice.dk, hourly CO2 intensity), HOFOR miljødeklaration for fjernvarme, Danish Transport Ministry answer 15 Dec 2023 (ft.dk TRU spm. 87), dknyt.dk, danskpersontransport.dk; assumptions marked in emission-factors. Disclosure control: Eurostat/ESSnet dominance rule; Statistics Denmark minimum cell sizes.',
 'Københavns Kommune, klimaspejl: CO2e footprint per district, category and month (synthetic), CC BY 4.0.'),
('grid-intensity-hourly',
 'Elnettets CO2-intensitet pr. time', 'Hourly CO2 intensity of electricity',
 'SYNTETISKE DATA indtil rigtige data indlæses (kilden er da Energinets datasæt CO2Emis/DeclarationGridEmission på energidataservice.dk). Gram CO2e pr. kWh forbrugt el i elområde DK2 (Østdanmark, København) pr. time, med UTC- og dansk tid. Indeholder ingen husstandsdata.',
 'SYNTHETIC DATA until real data is loaded (the real source is Energinet''s CO2Emis/DeclarationGridEmission datasets on energidataservice.dk). Grams CO2e per kWh of electricity consumed in price area DK2 (East Denmark, Copenhagen) per hour, with UTC and Copenhagen local time. Holds no household data.',
 'climate', ARRAY['CO2', 'elnet', 'DK2', 'grid intensity', 'hourly'],
 'PT1H', 'elområde DK2 (price area East Denmark)', 'P1D', false, 'api.grid_intensity_hourly',
 ARRAY['hour_utc'], ARRAY['hour_utc'], 3600,
 'Energinet: energidataservice.dk datasets CO2Emis and DeclarationGridEmission; energinet.dk lokationsbaseret deklaration.',
 'Københavns Kommune, klimaspejl: Hourly CO2 intensity of electricity, DK2 (synthetic), CC BY 4.0.'),
('emission-factors',
 'Emissionsfaktorer', 'Emission factors',
 'Emissionsfaktorerne bag klimaspejls CO2e-tal med enhed, gyldighedsperiode, metode og kilde. Faktorer mærket is_assumption = true er antagelser (fx affaldsfraktioner, hvor der ikke er fundet en dansk kilde). Tabellen er ikke syntetisk, men de husstandsdata, den bruges på, er syntetiske, indtil rigtige data indlæses.',
 'The emission factors behind klimaspejl''s CO2e figures with unit, validity, method and source. Factors with is_assumption = true are assumptions (for example waste fractions, where no Danish source was found). The table itself is not synthetic, but the household data it is applied to is synthetic until real data is loaded.',
 'climate', ARRAY['emissionsfaktor', 'emission factor', 'CO2e'],
 'P1Y', 'Danmark / Københavns Kommune', 'P1M', false, 'api.emission_factors',
 ARRAY['factor_id'], ARRAY['category', 'factor_id'], 86400,
 'HOFOR miljødeklaration for fjernvarme; energinet.dk; frb-forsyning.dk; bygningsreglementet.dk Bilag 2 Tabel 8; Danish Transport Ministry answer 15 Dec 2023 (ft.dk TRU spm. 87); dknyt.dk; danskpersontransport.dk; assumptions marked.',
 'Københavns Kommune, klimaspejl: Emission factors, CC BY 4.0.');

-- The emission factors table is real reference data, not generated.
UPDATE meta.datasets SET synthetic = false WHERE id = 'emission-factors';

-- What every household dataset shares: existence of small groups is not disclosed, and the values carry noise.
UPDATE meta.datasets SET
    description_da = description_da || ' Kombinationer, som færre end k husstande har, vises slet ikke. Antal og summer har cell-key-støj (en tilfældig, begrænset afvigelse; se disclosure_control), så datasættene summer ikke præcist til hinanden.',
    description_en = description_en || ' Combinations held by fewer than k households are not listed at all. Counts and sums carry cell-key noise (a random, bounded deviation; see disclosure_control), so the datasets do not add up to each other exactly.'
WHERE personal;

-- How the published datasets are linked: each row says that dataset_id's values are computed from the same data as
-- derived_from's and can be written as a formula of its published cells (relation). Shown as `derived_from` in the
-- catalog. Linked datasets are published together (one release) and protected together (one cell-key engine).
CREATE TABLE meta.dataset_links (
    dataset_id text NOT NULL REFERENCES meta.datasets ON DELETE CASCADE,
    derived_from text NOT NULL REFERENCES meta.datasets ON DELETE CASCADE,
    relation text NOT NULL,
    PRIMARY KEY (dataset_id, derived_from),
    CHECK (dataset_id <> derived_from)
);

INSERT INTO meta.dataset_links (dataset_id, derived_from, relation) VALUES
    ('energy-district-daily', 'energy-district-hourly',
     'a district-day is the sum of the district''s hours of that local day (electricity_kwh = sum electricity_wh / 1000, '
     'heat_kwh = sum heat_wh / 1000, water_l = sum water_l)'),
    ('energy-peergroup-monthly', 'energy-district-daily',
     'the peer groups of a district-month sum to the district''s days of that local month'),
    ('footprint-district-monthly', 'energy-district-hourly',
     'electricity co2e_kg of a district-month = sum over its hours of electricity_wh x g_per_kwh / 1e6'),
    ('footprint-district-monthly', 'grid-intensity-hourly', 'the hourly g_per_kwh weights electricity'),
    ('footprint-district-monthly', 'energy-district-daily',
     'district_heating co2e_kg = heat_kwh of the month x the district-heating factor / 1000; '
     'water co2e_kg = water_l x the water factor / 1000'),
    ('footprint-district-monthly', 'waste-district-monthly',
     'waste co2e_kg = sum over fractions of kg x the fraction''s factor'),
    ('footprint-district-monthly', 'mobility-district-monthly',
     'mobility co2e_kg = sum over modes of km x the mode''s factor / 1000'),
    ('footprint-district-monthly', 'emission-factors', 'the factors valid at the start of the month');

-- Columns. Operators and aggregations follow from type and role (below), so every dataset gets the same grammar.
INSERT INTO meta.dataset_columns (dataset_id, position, name, type, format, unit, description_da, description_en, role,
                                  enum_values, nullable)
SELECT c.dataset_id, c.position, c.name, c.type, c.format, c.unit, c.description_da, c.description_en, c.role,
       c.enum_values, c.nullable
FROM (VALUES
 -- energy-district-hourly
 ('energy-district-hourly', 1, 'district_id', 'integer', 'default', NULL, 'Bydelens nummer (1-10)', 'District number (1-10)', 'dimension', NULL::text[], false),
 ('energy-district-hourly', 2, 'district', 'string', 'default', NULL, 'Bydelens navn', 'District name (Danish)', 'dimension', NULL, false),
 ('energy-district-hourly', 3, 'hour_utc', 'datetime', 'default', NULL, 'Timens start i UTC', 'Start of the hour, UTC', 'dimension', NULL, false),
 ('energy-district-hourly', 4, 'hour_dk', 'datetime', 'local', NULL, 'Timens start i dansk tid (Europe/Copenhagen, uden offset; ved skift fra sommertid findes samme klokkeslæt to gange — brug hour_utc)', 'Start of the hour in Copenhagen local time (Europe/Copenhagen, no offset; when daylight saving time ends the same wall time occurs twice — use hour_utc)', 'dimension', NULL, false),
 ('energy-district-hourly', 5, 'n_households', 'integer', 'default', 'households', 'Antal husstande i cellen (med cell-key-støj, mindst k; null hvis undertrykt)', 'Households in the cell (with cell-key noise, at least k; null if suppressed)', 'measure', NULL, true),
 ('energy-district-hourly', 6, 'electricity_wh', 'number', 'default', 'Wh', 'Elforbrug, sum', 'Electricity use, sum', 'measure', NULL, true),
 ('energy-district-hourly', 7, 'heat_wh', 'number', 'default', 'Wh', 'Fjernvarmeforbrug, sum', 'District heating use, sum', 'measure', NULL, true),
 ('energy-district-hourly', 8, 'water_l', 'number', 'default', 'L', 'Vandforbrug, sum', 'Water use, sum', 'measure', NULL, true),
 ('energy-district-hourly', 9, 'electricity_wh_per_household', 'number', 'default', 'Wh', 'Elforbrug pr. husstand', 'Electricity use per household', 'measure', NULL, true),
 ('energy-district-hourly', 10, 'heat_wh_per_household', 'number', 'default', 'Wh', 'Fjernvarme pr. husstand', 'District heating per household', 'measure', NULL, true),
 ('energy-district-hourly', 11, 'water_l_per_household', 'number', 'default', 'L', 'Vand pr. husstand', 'Water per household', 'measure', NULL, true),
 ('energy-district-hourly', 12, 'suppressed', 'boolean', 'default', NULL, 'true: cellen er undertrykt af hensyn til privatlivet, og målene er null', 'true: the cell is suppressed for privacy and its measures are null', 'flag', NULL, false),
 -- energy-district-daily
 ('energy-district-daily', 1, 'district_id', 'integer', 'default', NULL, 'Bydelens nummer (1-10)', 'District number (1-10)', 'dimension', NULL, false),
 ('energy-district-daily', 2, 'district', 'string', 'default', NULL, 'Bydelens navn', 'District name (Danish)', 'dimension', NULL, false),
 ('energy-district-daily', 3, 'day', 'date', 'default', NULL, 'Døgnet i dansk tid (Europe/Copenhagen)', 'The day in Copenhagen local time (Europe/Copenhagen)', 'dimension', NULL, false),
 ('energy-district-daily', 4, 'day_start_utc', 'datetime', 'default', NULL, 'Døgnets start (dansk midnat) i UTC', 'Start of the day (Copenhagen midnight) in UTC', 'dimension', NULL, false),
 ('energy-district-daily', 5, 'hours', 'integer', 'default', 'h', 'Timer med data i døgnet (23/25 ved skift til/fra sommertid)', 'Hours with data in the day (23/25 at daylight-saving changes)', 'measure', NULL, false),
 ('energy-district-daily', 6, 'n_households', 'integer', 'default', 'households', 'Antal husstande i cellen (med cell-key-støj, mindst k; null hvis undertrykt)', 'Households in the cell (with cell-key noise, at least k; null if suppressed)', 'measure', NULL, true),
 ('energy-district-daily', 7, 'electricity_kwh', 'number', 'default', 'kWh', 'Elforbrug, sum', 'Electricity use, sum', 'measure', NULL, true),
 ('energy-district-daily', 8, 'heat_kwh', 'number', 'default', 'kWh', 'Fjernvarmeforbrug, sum', 'District heating use, sum', 'measure', NULL, true),
 ('energy-district-daily', 9, 'water_l', 'number', 'default', 'L', 'Vandforbrug, sum', 'Water use, sum', 'measure', NULL, true),
 ('energy-district-daily', 10, 'electricity_kwh_per_household', 'number', 'default', 'kWh', 'Elforbrug pr. husstand', 'Electricity use per household', 'measure', NULL, true),
 ('energy-district-daily', 11, 'heat_kwh_per_household', 'number', 'default', 'kWh', 'Fjernvarme pr. husstand', 'District heating per household', 'measure', NULL, true),
 ('energy-district-daily', 12, 'water_l_per_household', 'number', 'default', 'L', 'Vand pr. husstand', 'Water per household', 'measure', NULL, true),
 ('energy-district-daily', 13, 'suppressed', 'boolean', 'default', NULL, 'true: cellen er undertrykt af hensyn til privatlivet, og målene er null', 'true: the cell is suppressed for privacy and its measures are null', 'flag', NULL, false),
 -- energy-peergroup-monthly
 ('energy-peergroup-monthly', 1, 'month', 'date', 'default', NULL, 'Månedens første dag (dansk tid)', 'First day of the month (Copenhagen local time)', 'dimension', NULL, false),
 ('energy-peergroup-monthly', 2, 'month_start_utc', 'datetime', 'default', NULL, 'Månedens start i UTC', 'Start of the month in UTC', 'dimension', NULL, false),
 ('energy-peergroup-monthly', 3, 'district_id', 'integer', 'default', NULL, 'Bydelens nummer (1-10)', 'District number (1-10)', 'dimension', NULL, false),
 ('energy-peergroup-monthly', 4, 'district', 'string', 'default', NULL, 'Bydelens navn', 'District name (Danish)', 'dimension', NULL, false),
 ('energy-peergroup-monthly', 5, 'dwelling_type', 'string', 'default', NULL, 'Boligtype', 'Dwelling type', 'dimension', ARRAY['apartment', 'terraced', 'detached'], false),
 ('energy-peergroup-monthly', 6, 'occupant_band', 'string', 'default', NULL, 'Antal beboere', 'Number of occupants', 'dimension', ARRAY['1', '2', '3-4', '5+'], false),
 ('energy-peergroup-monthly', 7, 'n_households', 'integer', 'default', 'households', 'Antal husstande i cellen (med cell-key-støj, mindst k; null hvis undertrykt)', 'Households in the cell (with cell-key noise, at least k; null if suppressed)', 'measure', NULL, true),
 ('energy-peergroup-monthly', 8, 'electricity_kwh', 'number', 'default', 'kWh', 'Elforbrug, sum', 'Electricity use, sum', 'measure', NULL, true),
 ('energy-peergroup-monthly', 9, 'heat_kwh', 'number', 'default', 'kWh', 'Fjernvarmeforbrug, sum', 'District heating use, sum', 'measure', NULL, true),
 ('energy-peergroup-monthly', 10, 'water_l', 'number', 'default', 'L', 'Vandforbrug, sum', 'Water use, sum', 'measure', NULL, true),
 ('energy-peergroup-monthly', 11, 'electricity_kwh_per_household', 'number', 'default', 'kWh', 'Elforbrug pr. husstand', 'Electricity use per household', 'measure', NULL, true),
 ('energy-peergroup-monthly', 12, 'heat_kwh_per_household', 'number', 'default', 'kWh', 'Fjernvarme pr. husstand', 'District heating per household', 'measure', NULL, true),
 ('energy-peergroup-monthly', 13, 'water_l_per_household', 'number', 'default', 'L', 'Vand pr. husstand', 'Water per household', 'measure', NULL, true),
 ('energy-peergroup-monthly', 14, 'suppressed', 'boolean', 'default', NULL, 'true: cellen er undertrykt af hensyn til privatlivet, og målene er null', 'true: the cell is suppressed for privacy and its measures are null', 'flag', NULL, false),
 -- waste-district-monthly
 ('waste-district-monthly', 1, 'month', 'date', 'default', NULL, 'Månedens første dag (dansk tid)', 'First day of the month (Copenhagen local time)', 'dimension', NULL, false),
 ('waste-district-monthly', 2, 'month_start_utc', 'datetime', 'default', NULL, 'Månedens start i UTC', 'Start of the month in UTC', 'dimension', NULL, false),
 ('waste-district-monthly', 3, 'district_id', 'integer', 'default', NULL, 'Bydelens nummer (1-10)', 'District number (1-10)', 'dimension', NULL, false),
 ('waste-district-monthly', 4, 'district', 'string', 'default', NULL, 'Bydelens navn', 'District name (Danish)', 'dimension', NULL, false),
 ('waste-district-monthly', 5, 'fraction', 'string', 'default', NULL, 'Affaldsfraktion', 'Waste fraction', 'dimension', ARRAY['residual', 'food', 'paper', 'cardboard', 'plastic', 'glass', 'metal', 'hazardous', 'garden'], false),
 ('waste-district-monthly', 6, 'n_households', 'integer', 'default', 'households', 'Husstande, der har afleveret fraktionen i måneden (null hvis undertrykt)', 'Households that delivered the fraction in the month (null if suppressed)', 'measure', NULL, true),
 ('waste-district-monthly', 7, 'kg', 'number', 'default', 'kg', 'Indsamlet mængde, sum', 'Collected amount, sum', 'measure', NULL, true),
 ('waste-district-monthly', 8, 'kg_per_household', 'number', 'default', 'kg', 'kg pr. husstand, der har afleveret fraktionen', 'kg per household that delivered the fraction', 'measure', NULL, true),
 ('waste-district-monthly', 9, 'suppressed', 'boolean', 'default', NULL, 'true: cellen er undertrykt af hensyn til privatlivet, og målene er null', 'true: the cell is suppressed for privacy and its measures are null', 'flag', NULL, false),
 -- mobility-district-monthly
 ('mobility-district-monthly', 1, 'month', 'date', 'default', NULL, 'Månedens første dag (dansk tid)', 'First day of the month (Copenhagen local time)', 'dimension', NULL, false),
 ('mobility-district-monthly', 2, 'month_start_utc', 'datetime', 'default', NULL, 'Månedens start i UTC', 'Start of the month in UTC', 'dimension', NULL, false),
 ('mobility-district-monthly', 3, 'district_id', 'integer', 'default', NULL, 'Bydelens nummer (1-10)', 'District number (1-10)', 'dimension', NULL, false),
 ('mobility-district-monthly', 4, 'district', 'string', 'default', NULL, 'Bydelens navn', 'District name (Danish)', 'dimension', NULL, false),
 ('mobility-district-monthly', 5, 'mode', 'string', 'default', NULL, 'Transportform', 'Mode of transport', 'dimension', ARRAY['walk', 'bike', 'e-bike', 'bus', 'metro', 's-train', 'car-petrol', 'car-electric'], false),
 ('mobility-district-monthly', 6, 'n_households', 'integer', 'default', 'households', 'Husstande, der har brugt transportformen i måneden (null hvis undertrykt)', 'Households that used the mode in the month (null if suppressed)', 'measure', NULL, true),
 ('mobility-district-monthly', 7, 'trips', 'number', 'default', 'trips', 'Antal ture, sum', 'Trips, sum', 'measure', NULL, true),
 ('mobility-district-monthly', 8, 'km', 'number', 'default', 'km', 'Personkilometer, sum', 'Passenger-km, sum', 'measure', NULL, true),
 ('mobility-district-monthly', 9, 'trips_per_household', 'number', 'default', 'trips', 'Ture pr. husstand, der har brugt transportformen', 'Trips per household that used the mode', 'measure', NULL, true),
 ('mobility-district-monthly', 10, 'km_per_household', 'number', 'default', 'km', 'Personkilometer pr. husstand, der har brugt transportformen', 'Passenger-km per household that used the mode', 'measure', NULL, true),
 ('mobility-district-monthly', 11, 'suppressed', 'boolean', 'default', NULL, 'true: cellen er undertrykt af hensyn til privatlivet, og målene er null', 'true: the cell is suppressed for privacy and its measures are null', 'flag', NULL, false),
 -- footprint-district-monthly
 ('footprint-district-monthly', 1, 'month', 'date', 'default', NULL, 'Månedens første dag (dansk tid)', 'First day of the month (Copenhagen local time)', 'dimension', NULL, false),
 ('footprint-district-monthly', 2, 'month_start_utc', 'datetime', 'default', NULL, 'Månedens start i UTC', 'Start of the month in UTC', 'dimension', NULL, false),
 ('footprint-district-monthly', 3, 'district_id', 'integer', 'default', NULL, 'Bydelens nummer (1-10)', 'District number (1-10)', 'dimension', NULL, false),
 ('footprint-district-monthly', 4, 'district', 'string', 'default', NULL, 'Bydelens navn', 'District name (Danish)', 'dimension', NULL, false),
 ('footprint-district-monthly', 5, 'category', 'string', 'default', NULL, 'Kategori; total er summen af de andre', 'Category; total is the sum of the others', 'dimension', ARRAY['electricity', 'district_heating', 'water', 'waste', 'mobility', 'total'], false),
 ('footprint-district-monthly', 6, 'n_households', 'integer', 'default', 'households', 'Husstande med data i kategorien i måneden (null hvis undertrykt)', 'Households with data in the category in the month (null if suppressed)', 'measure', NULL, true),
 ('footprint-district-monthly', 7, 'co2e_kg', 'number', 'default', 'kg CO2e', 'Udledning, sum', 'Emissions, sum', 'measure', NULL, true),
 ('footprint-district-monthly', 8, 'co2e_kg_per_household', 'number', 'default', 'kg CO2e', 'Udledning pr. husstand', 'Emissions per household', 'measure', NULL, true),
 ('footprint-district-monthly', 9, 'suppressed', 'boolean', 'default', NULL, 'true: cellen er undertrykt af hensyn til privatlivet, og målene er null', 'true: the cell is suppressed for privacy and its measures are null', 'flag', NULL, false),
 -- grid-intensity-hourly
 ('grid-intensity-hourly', 1, 'hour_utc', 'datetime', 'default', NULL, 'Timens start i UTC', 'Start of the hour, UTC', 'dimension', NULL, false),
 ('grid-intensity-hourly', 2, 'hour_dk', 'datetime', 'local', NULL, 'Timens start i dansk tid (Europe/Copenhagen, uden offset)', 'Start of the hour in Copenhagen local time (Europe/Copenhagen, no offset)', 'dimension', NULL, false),
 ('grid-intensity-hourly', 3, 'area', 'string', 'default', NULL, 'Elområde', 'Price area', 'dimension', ARRAY['DK1', 'DK2'], false),
 ('grid-intensity-hourly', 4, 'g_per_kwh', 'number', 'default', 'g CO2e/kWh', 'CO2e pr. forbrugt kWh', 'CO2e per kWh consumed', 'measure', NULL, false),
 -- emission-factors
 ('emission-factors', 1, 'factor_id', 'string', 'default', NULL, 'Faktorens id (fx district-heating, car-petrol, waste-residual)', 'Factor id (e.g. district-heating, car-petrol, waste-residual)', 'dimension', NULL, false),
 ('emission-factors', 2, 'category', 'string', 'default', NULL, 'Kategori', 'Category', 'dimension', ARRAY['electricity', 'heat', 'water', 'waste', 'mobility'], false),
 ('emission-factors', 3, 'unit', 'string', 'default', NULL, 'Enhed for value', 'Unit of value', 'dimension', NULL, false),
 ('emission-factors', 4, 'value', 'number', 'default', NULL, 'Faktorens værdi i enheden unit', 'The factor in the unit given by unit', 'measure', NULL, false),
 ('emission-factors', 5, 'valid_from', 'date', 'default', NULL, 'Gyldig fra (inkl.)', 'Valid from (inclusive)', 'dimension', NULL, false),
 ('emission-factors', 6, 'valid_to', 'date', 'default', NULL, 'Gyldig til (inkl.); null = stadig gyldig', 'Valid to (inclusive); null = still valid', 'dimension', NULL, true),
 ('emission-factors', 7, 'method', 'string', 'default', NULL, 'Metode', 'Method', 'dimension', NULL, false),
 ('emission-factors', 8, 'source', 'string', 'default', NULL, 'Kilde', 'Source', 'dimension', NULL, false),
 ('emission-factors', 9, 'is_assumption', 'boolean', 'default', NULL, 'true: faktoren er en antagelse, ikke en kildebelagt værdi', 'true: the factor is an assumption, not a sourced figure', 'flag', NULL, false)
) AS c(dataset_id, position, name, type, format, unit, description_da, description_en, role, enum_values, nullable);

-- The query grammar per column: dimensions and flags filter and group; measures filter by range and aggregate.
-- Free-text columns (method, source, the Danish district name is fine to filter by equality) take eq/ne/in only.
UPDATE meta.dataset_columns SET
    filterable = true,
    groupable = role IN ('dimension', 'flag'),
    operators = CASE
        WHEN role = 'flag' THEN ARRAY['eq', 'ne']
        WHEN type IN ('integer', 'number', 'date', 'datetime') AND role = 'dimension'
            THEN ARRAY['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in']
        WHEN type IN ('integer', 'number') THEN ARRAY['eq', 'ne', 'lt', 'lte', 'gt', 'gte']
        ELSE ARRAY['eq', 'ne', 'in'] END,
    aggregations = CASE
        WHEN role <> 'measure' THEN '{}'::text[]
        WHEN name LIKE '%\_per\_household' OR name IN ('g_per_kwh', 'value', 'hours') THEN ARRAY['avg', 'min', 'max']
        ELSE ARRAY['sum', 'avg', 'min', 'max'] END;
UPDATE meta.dataset_columns SET filterable = false, groupable = false, operators = '{}'
WHERE dataset_id = 'emission-factors' AND name IN ('method', 'source');

-- Decimal places of every number column (the published numeric's scale). Sums keep the precision of the readings (Wh,
-- 0.1 L, g, 10 m); means one or two places more.
UPDATE meta.dataset_columns c SET scale = x.scale
FROM (VALUES
    ('energy-district-hourly', 'electricity_wh', 0), ('energy-district-hourly', 'heat_wh', 0),
    ('energy-district-hourly', 'water_l', 1), ('energy-district-hourly', 'electricity_wh_per_household', 1),
    ('energy-district-hourly', 'heat_wh_per_household', 1), ('energy-district-hourly', 'water_l_per_household', 2),
    ('energy-district-daily', 'electricity_kwh', 3), ('energy-district-daily', 'heat_kwh', 3),
    ('energy-district-daily', 'water_l', 1), ('energy-district-daily', 'electricity_kwh_per_household', 4),
    ('energy-district-daily', 'heat_kwh_per_household', 4), ('energy-district-daily', 'water_l_per_household', 3),
    ('energy-peergroup-monthly', 'electricity_kwh', 3), ('energy-peergroup-monthly', 'heat_kwh', 3),
    ('energy-peergroup-monthly', 'water_l', 1), ('energy-peergroup-monthly', 'electricity_kwh_per_household', 3),
    ('energy-peergroup-monthly', 'heat_kwh_per_household', 3), ('energy-peergroup-monthly', 'water_l_per_household', 3),
    ('waste-district-monthly', 'kg', 3), ('waste-district-monthly', 'kg_per_household', 3),
    ('mobility-district-monthly', 'trips', 0), ('mobility-district-monthly', 'km', 2),
    ('mobility-district-monthly', 'trips_per_household', 3), ('mobility-district-monthly', 'km_per_household', 3),
    ('footprint-district-monthly', 'co2e_kg', 3), ('footprint-district-monthly', 'co2e_kg_per_household', 3),
    ('grid-intensity-hourly', 'g_per_kwh', 2),
    ('emission-factors', 'value', 4)
) AS x(dataset_id, name, scale)
WHERE c.dataset_id = x.dataset_id AND c.name = x.name;

RESET ROLE;

REVOKE ALL ON meta.datasets, meta.dataset_columns, meta.dataset_versions, meta.dataset_links, meta.releases FROM PUBLIC;
GRANT USAGE ON SCHEMA meta TO klima_api;
GRANT SELECT ON meta.datasets, meta.dataset_columns, meta.dataset_versions, meta.dataset_links, meta.releases TO klima_api;
