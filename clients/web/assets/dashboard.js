// dashboard.js — the citizen dashboard at /: sign-in (auth.js), the month's summary (GET /v1/me/summary) with a bar
// chart per category against similar homes (the group described in words), the trend against last year, 12 months of
// history per category and in total (GET /v1/me/history, history.js), the KP2035 path and the tips; a month
// picker; "my apps" (GET /v1/me/consents, DELETE /v1/me/consents/{id}); and the data export (GET /v1/me/export).
import { authFetch, signIn, signOut, signedIn } from './auth.js';
import { currentLang, el, fmtMonth, fmtNum, initPage, problemText, t } from './common.js';
import { historyCharts } from './history.js';

const texts = {
    da: {
        page_title: 'Min husstand — klimaspejl',
        h1: 'Din husstands klimaspejl',
        so_h: 'Se dit aftryk',
        so_p: 'Log ind for at se din husstands energi, affald og transport i måneden, hvordan I ligger i forhold til lignende hjem, og hvad der vil hjælpe mest. Du bestemmer, hvilke apps der må læse dine data.',
        sign_in: 'Log ind',
        so_dev: 'I denne udviklingsopsætning vælger du en demo-husstand; alle data er syntetiske.',
        tabs_label: 'Din side',
        tab_overview: 'Overblik',
        tab_apps: 'Mine apps',
        export: 'Hent alle mine data',
        sign_out: 'Log ud',
        ov_h: 'Din måned',
        month: 'Måned',
        show: 'Vis',
        loading: 'Henter …',
        no_data: 'Der er ingen data for {month}. Vælg en anden måned.',
        total: 'I alt',
        per_person: 'pr. person',
        kg: 'kg CO2e',
        you: 'Jer',
        median: 'Lignende hjem (median)',
        efficient: 'De mest effektive 20 %',
        compare_h: 'Sammenlignet med lignende hjem',
        month_words: 'Måneden: {month}',
        partial_month: 'Data for {month} er ufuldstændige: {h} af {total} timer. Tallene dækker kun den del af måneden.',
        trend_same: 'Omtrent som i {month}',
        history_h: 'Måned for måned',
        history_p: 'Jeres udledning i de 12 måneder til og med {month}, pr. område og i alt, med medianen for lignende hjem som anden linje.',
        hist_month: 'Måned',
        hist_you: 'Jer',
        hist_median: 'Lignende hjem (median)',
        hist_partial: 'ufuldstændig måned',
        hist_partial_months: 'Ufuldstændige måneder (hule punkter): {months}.',
        hist_table: 'Se tallene',
        hist_no_median: 'I måneder uden median var der færre end {n} lignende hjem med data, så der vises ingen sammenligning.',
        kp_measured: 'Jeres målte områder (el, fjernvarme, vand, affald, transport) svarer til ca. {est} t CO2e pr. person om året.',
        kp_compare_h: 'Jeres tempo mod planens',
        kp_you_change: 'Jeres målte områder mod {month}',
        kp_path_change: 'KP2035-stien i {year}',
        kp_no_change: 'Der er ingen data for samme måned sidste år, så jeres tempo kan ikke vises endnu.',
        kp_down: '{p} % mindre',
        kp_up: '{p} % mere',
        kp_same: 'omtrent uændret',
        kp_source: 'Kilde: {source}.',
        rank: 'Jeres placering: {p} % af lignende hjem bruger mindre.',
        categories_h: 'Pr. område',
        cat_electricity: 'El',
        cat_district_heating: 'Fjernvarme',
        cat_water: 'Vand',
        cat_waste: 'Affald',
        cat_mobility: 'Transport',
        trend_h: 'Udvikling siden sidste år',
        trend_up: '{p} % mere end {month}',
        trend_down: '{p} % mindre end {month}',
        trend_none: 'Ingen data for samme måned sidste år.',
        kp_h: 'Københavns klimaplan KP2035',
        tips_h: 'Det vil hjælpe mest',
        tip_saving: 'Sparer ca. {kg} kg CO2e om måneden',
        greenest: 'De grønneste 3 timer i det næste døgn: kl. {from}–{to}{day} (ca. {g} g CO2/kWh, Energinets prognose for Østdanmark).',
        greenest_tip: 'Fx kl. {from}–{to}{day}.',
        greenest_none: 'Ingen prognose for elnettets CO2 i det næste døgn lige nu.',
        tomorrow: 'i morgen',
        synthetic: 'Data er syntetiske (demo).',
        apps_h: 'Mine apps',
        apps_p: 'Disse apps må læse din husstands data. Tilbagekalder du, stopper de med det samme.',
        apps_none: 'Ingen apps har adgang.',
        scopes: 'Må læse',
        expires: 'Udløber',
        granted: 'Givet',
        last_used: 'Sidst brugt',
        never: 'endnu ikke',
        revoke: 'Tilbagekald',
        revoke_label: 'Tilbagekald adgangen for {name}',
        revoked: 'Adgangen for {name} er tilbagekaldt.',
        status_active: 'aktiv',
        status_revoked: 'tilbagekaldt',
        status_expired: 'udløbet',
        this_app: '(denne side)',
        exporting: 'Henter alle data …',
        export_h: 'Hent og udskriv',
        export_p: 'Alle jeres data som én NDJSON-fil, som CSV-filer pr. slags (til regneark) eller månedens rapport på én side til udskrift.',
        export_csv: 'Hent {kind} (CSV)',
        kind_household: 'husstand',
        kind_energy: 'energi pr. time',
        kind_waste: 'affald',
        kind_mobility: 'transport',
        report_link: 'Månedsrapport til udskrift ({month})',
        fields_h: 'Hvad felterne betyder',
        fields_household: 'household_id (jeres pseudonym), district_id og district (bydel), dwelling_type (apartment = lejlighed, terraced = rækkehus, detached = parcelhus), occupant_band (antal personer: 1, 2, 3-4, 5+), floor_area_m2 (boligareal i m²).',
        fields_energy: 'hour_utc (timens start, UTC, ISO 8601 med Z), hour_dk (samme time i dansk tid, uden tidszone), electricity_wh og heat_wh (el og fjernvarme i Wh i timen), water_l (vand i liter).',
        fields_waste: 'collected_on (tømningsdato), fraction (residual = rest, food = mad, paper, cardboard, plastic, glass, metal, hazardous = farligt, garden = have), kg (vejet).',
        fields_mobility: 'day (dato), mode (walk, bike, e-bike, bus, metro, s-train, car-petrol, car-electric), trips (antal ture), km.',
        fields_ndjson: 'NDJSON: én linje pr. række, {"kind": "household|energy|waste|mobility", "record": {…}} med de samme felter.',
        exported: 'Dine data er hentet som {file}.',
        signed_out: 'Du er logget ud.',
        signed_out_here: 'Du er logget ud, også hos klimaspejls login. Næste gang starter du på login-siden — også på en delt computer.',
    },
    en: {
        page_title: 'My household — klimaspejl',
        h1: "Your household's climate mirror",
        so_h: 'See your footprint',
        so_p: "Sign in to see your household's energy, waste and mobility this month, how you compare with similar homes, and what would help most. You decide which apps may read your data.",
        sign_in: 'Sign in',
        so_dev: 'In this development set-up you pick a demo household; all data is synthetic.',
        tabs_label: 'Your pages',
        tab_overview: 'Overview',
        tab_apps: 'My apps',
        export: 'Download all my data',
        sign_out: 'Sign out',
        ov_h: 'Your month',
        month: 'Month',
        show: 'Show',
        loading: 'Loading …',
        no_data: 'There is no data for {month}. Choose another month.',
        total: 'Total',
        per_person: 'per person',
        kg: 'kg CO2e',
        you: 'You',
        median: 'Similar homes (median)',
        efficient: 'Most efficient 20 %',
        compare_h: 'Compared with similar homes',
        month_words: 'The month: {month}',
        partial_month: 'The data for {month} is incomplete: {h} of {total} hours. The figures cover only that part of the month.',
        trend_same: 'About the same as {month}',
        history_h: 'Month by month',
        history_p: 'Your emissions in the 12 months up to {month}, per category and in total, with the median of similar homes as a second line.',
        hist_month: 'Month',
        hist_you: 'You',
        hist_median: 'Similar homes (median)',
        hist_partial: 'incomplete month',
        hist_partial_months: 'Incomplete months (hollow points): {months}.',
        hist_table: 'Show the figures',
        hist_no_median: 'In months without a median fewer than {n} similar homes had data, so no comparison is shown.',
        kp_measured: 'Your measured categories (electricity, district heating, water, waste, transport) amount to about {est} t CO2e per person a year.',
        kp_compare_h: 'Your pace against the plan',
        kp_you_change: 'Your measured categories against {month}',
        kp_path_change: 'The KP2035 path in {year}',
        kp_no_change: 'There is no data for the same month last year, so your pace cannot be shown yet.',
        kp_down: '{p} % less',
        kp_up: '{p} % more',
        kp_same: 'about unchanged',
        kp_source: 'Source: {source}.',
        rank: 'Your place: {p} % of similar homes use less.',
        categories_h: 'Per category',
        cat_electricity: 'Electricity',
        cat_district_heating: 'District heating',
        cat_water: 'Water',
        cat_waste: 'Waste',
        cat_mobility: 'Transport',
        trend_h: 'Trend since last year',
        trend_up: '{p} % more than {month}',
        trend_down: '{p} % less than {month}',
        trend_none: 'No data for the same month last year.',
        kp_h: "Copenhagen's climate plan KP2035",
        tips_h: 'What would help most',
        tip_saving: 'Saves about {kg} kg CO2e a month',
        greenest: 'The greenest 3 hours in the next 24: {from}–{to}{day} (about {g} g CO2/kWh, Energinet\'s forecast for East Denmark).',
        greenest_tip: 'For example {from}–{to}{day}.',
        greenest_none: 'No forecast of the grid\'s CO2 for the next 24 hours right now.',
        tomorrow: 'tomorrow',
        synthetic: 'The data is synthetic (demo).',
        apps_h: 'My apps',
        apps_p: "These apps may read your household's data. Revoking stops them at once.",
        apps_none: 'No app has access.',
        scopes: 'May read',
        expires: 'Expires',
        granted: 'Granted',
        last_used: 'Last used',
        never: 'not yet',
        revoke: 'Revoke',
        revoke_label: 'Revoke access for {name}',
        revoked: 'Access for {name} is revoked.',
        status_active: 'active',
        status_revoked: 'revoked',
        status_expired: 'expired',
        this_app: '(this page)',
        exporting: 'Fetching all your data …',
        export_h: 'Download and print',
        export_p: 'All your data as one NDJSON file, as CSV files per kind (for spreadsheets), or the month’s one-page report for printing.',
        export_csv: 'Download {kind} (CSV)',
        kind_household: 'household',
        kind_energy: 'energy per hour',
        kind_waste: 'waste',
        kind_mobility: 'transport',
        report_link: 'Monthly report for printing ({month})',
        fields_h: 'What the fields mean',
        fields_household: 'household_id (your pseudonym), district_id and district, dwelling_type (apartment, terraced, detached), occupant_band (people: 1, 2, 3-4, 5+), floor_area_m2 (floor area in m²).',
        fields_energy: 'hour_utc (the hour’s start, UTC, ISO 8601 with Z), hour_dk (the same hour in Copenhagen time, no offset), electricity_wh and heat_wh (electricity and district heating in Wh in that hour), water_l (water in litres).',
        fields_waste: 'collected_on (collection date), fraction (residual, food, paper, cardboard, plastic, glass, metal, hazardous, garden), kg (weighed).',
        fields_mobility: 'day (date), mode (walk, bike, e-bike, bus, metro, s-train, car-petrol, car-electric), trips, km.',
        fields_ndjson: 'NDJSON: one line per row, {"kind": "household|energy|waste|mobility", "record": {…}} with the same fields.',
        exported: 'Your data is saved as {file}.',
        signed_out: 'You are signed out.',
        signed_out_here: "You are signed out, also of klimaspejl's login. The next sign-in starts at the login page — on a shared computer too.",
    },
};

const $ = (id) => document.getElementById(id);
const CATS = [
    ['electricity', 'kwh', 'kWh'],
    ['district_heating', 'kwh', 'kWh'],
    ['water', 'litres', 'L'],
    ['waste', 'kg', 'kg'],
    ['mobility', 'km', 'km'],
];
let summary = null;
let started = false;

// The last whole month in Copenhagen (the API's default), as YYYY-MM.
function lastMonth() {
    const now = new Date(new Date().toLocaleString('en-US', { timeZone: 'Europe/Copenhagen' }));
    const d = new Date(now.getFullYear(), now.getMonth() - 1, 1);
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`;
}

// A number shown in the current language, with the API's exact value in data-value (the browser tests compare them).
const num = (v, digits = 1, attrs = {}) => el('span', { 'data-value': v, ...attrs }, fmtNum(v, digits));

function showState() {
    const inn = signedIn();
    $('signed-out').hidden = inn;
    $('signed-in').hidden = !inn;
    if (inn) route();
}

function route() {
    const apps = location.hash === '#apps';
    $('overview').hidden = apps;
    $('apps').hidden = !apps;
    $('tab-overview').setAttribute('aria-current', apps ? 'false' : 'page');
    $('tab-apps').setAttribute('aria-current', apps ? 'page' : 'false');
    if (apps) loadApps();
    else loadSummary();
}

// --- summary -------------------------------------------------------------------------------------------------------

async function loadSummary() {
    const month = $('month').value || lastMonth();
    $('month').value = month;
    $('status').textContent = t('loading');
    const res = await authFetch(`/v1/me/summary?month=${encodeURIComponent(month)}&lang=${currentLang()}`);
    if (res === null || res.status === 401) {
        showState();
        $('status').textContent = t('signed_out');
        return;
    }
    if (res.status === 404) {
        summary = null;
        $('summary').replaceChildren(el('p', {}, t('no_data', { month: fmtMonth(month) })));
        $('history').replaceChildren();
        $('status').textContent = '';
        return;
    }
    if (!res.ok) {
        $('status').textContent = await problemText(res);
        return;
    }
    summary = await res.json();
    $('status').textContent = '';
    renderSummary();
    renderExport();
    await loadHistory(summary.month);
}

function bar(label, value, max, cls) {
    const pct = max > 0 ? Math.max(1, Math.round((value / max) * 100)) : 0;
    return el(
        'div',
        { class: `bar ${cls}` },
        el('div', { class: 'bar-label' }, `${label}: `, num(value, 1), ` ${t('kg')}`),
        el('div', { class: 'bar-track', 'aria-hidden': 'true' }, el('div', { class: 'bar-fill', style: `width:${pct}%` })),
    );
}

function renderSummary() {
    const s = summary;
    const p = s.peers;
    const parts = [];
    parts.push(
        el(
            'div',
            { class: 'cards' },
            el('div', { class: 'card', id: 'total-card' },
                el('h3', {}, t('total')),
                el('p', { class: 'big' }, num(s.total_co2e_kg, 1, { id: 'total-co2e' }), ` ${t('kg')}`),
                el('p', {}, num(s.co2e_kg_per_person, 1, { id: 'per-person' }), ` ${t('kg')} ${t('per_person')}`)),
            el('div', { class: 'card', id: 'rating-card', 'data-rating': p.rating },
                el('h3', {}, t('compare_h')),
                p.group_text ? el('p', { id: 'group-text' }, p.group_text) : null,
                el('p', { id: 'rating-text' }, p.rating_text),
                p.widened_text ? el('p', { class: 'hint', id: 'widened-text' }, p.widened_text) : null,
                p.percentile_rank !== null && p.percentile_rank !== undefined
                    ? el('p', { class: 'hint' }, t('rank', { p: fmtNum(p.percentile_rank, 0) }))
                    : null),
        ),
    );
    const per = s.period || {};
    if (per.hours_with_data !== undefined && per.hours_with_data < per.hours_expected) {
        parts.unshift(el('p', { class: 'note', id: 'partial-month' },
            t('partial_month', { month: fmtMonth(s.month), h: fmtNum(per.hours_with_data, 0), total: fmtNum(per.hours_expected, 0) })));
    }
    parts.unshift(el('p', { id: 'month-words' }, t('month_words', { month: fmtMonth(s.month) })));

    // one chart per category: you, similar homes' median, efficient neighbours (kg CO2e)
    const cats = CATS.filter(([c]) => s.categories[c]);
    parts.push(el('h3', {}, t('categories_h')));
    parts.push(
        el(
            'div',
            { class: 'cards' },
            cats.map(([c, unit, unitLabel]) => {
                const mine = s.categories[c];
                const peer = p.categories?.[c] || {};
                const max = Math.max(mine.co2e_kg, peer.co2e_kg_median ?? 0, peer.co2e_kg_p20 ?? 0);
                const ly = s.last_year?.categories?.[c];
                return el(
                    'figure',
                    { class: 'card', id: `cat-${c}`, 'aria-labelledby': `cat-${c}-h` },
                    el('h4', { id: `cat-${c}-h`, class: 'cat-h' }, t(`cat_${c}`)),
                    el('p', {}, num(mine[unit], 1), ` ${unitLabel} · `, num(mine.co2e_kg, 1, { class: 'cat-co2e' }), ` ${t('kg')}`),
                    bar(t('you'), mine.co2e_kg, max, 'you'),
                    peer.co2e_kg_median !== undefined && peer.co2e_kg_median !== null
                        ? bar(t('median'), peer.co2e_kg_median, max, 'median') : null,
                    peer.co2e_kg_p20 !== undefined && peer.co2e_kg_p20 !== null
                        ? bar(t('efficient'), peer.co2e_kg_p20, max, 'efficient') : null,
                    ly && ly.change_pct !== null && ly.change_pct !== undefined
                        ? el('figcaption', { class: 'hint' }, trendText(ly.change_pct, s.last_year.month))
                        : null,
                );
            }),
        ),
    );

    parts.push(el('h3', {}, t('trend_h')));
    parts.push(
        el('p', { id: 'trend' }, s.last_year && s.last_year.change_pct !== null && s.last_year.change_pct !== undefined
            ? [trendText(s.last_year.change_pct, s.last_year.month), ' (', num(s.last_year.total_co2e_kg, 1), ` ${t('kg')})`]
            : t('trend_none')),
    );

    // KP2035, fair: the measured categories' change against the same month last year beside the path's own pace (the
    // path is one relative reduction for all consumption); never the measured part against the whole target
    const kp = s.kp2035;
    const change = (v) => (Math.abs(v) < 0.05 ? t('kp_same') : t(v < 0 ? 'kp_down' : 'kp_up', { p: fmtNum(Math.abs(v), 1) }));
    const rows = [];
    if (kp.measured_change_pct !== null && kp.measured_change_pct !== undefined) {
        rows.push([t('kp_you_change', { month: fmtMonth(s.last_year.month) }), kp.measured_change_pct, 'you', 'kp-you']);
    }
    rows.push([t('kp_path_change', { year: kp.year }), kp.path_change_pct_per_year, 'median', 'kp-path']);
    const kmax = Math.max(1, ...rows.map((r) => Math.abs(r[1])));
    parts.push(
        el('section', { class: 'panel', id: 'kp2035', 'aria-labelledby': 'kp-h' },
            el('h3', { id: 'kp-h' }, t('kp_h')),
            el('p', { id: 'kp-measured' }, t('kp_measured', { est: fmtNum(kp.covered_t_per_person_year_estimate, 2) })),
            el('p', {}, kp.path_note),
            el('h4', {}, t('kp_compare_h')),
            el('div', { class: 'kp-compare' }, rows.map(([label, v, cls, id]) => el('div', { class: `bar ${cls}`, id },
                el('div', { class: 'bar-label' }, `${label}: `, el('span', { 'data-value': v }, change(v))),
                el('div', { class: 'bar-track', 'aria-hidden': 'true' },
                    el('div', { class: `bar-fill${v > 0 ? ' up' : ''}`, style: `width:${Math.max(1, Math.round((Math.abs(v) / kmax) * 100))}%` }))))),
            kp.measured_change_pct === null || kp.measured_change_pct === undefined ? el('p', { class: 'hint' }, t('kp_no_change')) : null,
            el('p', { class: 'hint' }, kp.covered_share_note, ' ', t('kp_source', { source: kp.path_source }))),
    );

    parts.push(el('h3', {}, t('tips_h')));
    parts.push(
        el('ol', { id: 'tips' }, s.tips.map((tip) => el('li', { 'data-tip': tip.id },
            el('p', {}, tip.text),
            el('p', { class: 'hint' }, t('tip_saving', { kg: fmtNum(tip.saving_co2e_kg_per_month, 1) }))))),
    );
    parts.push(el('p', { id: 'greenest', class: 'hint', 'aria-live': 'polite' }));
    if (s.synthetic) parts.push(el('p', { class: 'note' }, t('synthetic')));
    $('summary').replaceChildren(...parts);
    loadGreenest();
}

// "The greenest 3 hours in the next 24" from the open forecast route, beside the tips; the shift tip names the window.
async function loadGreenest() {
    const res = await fetch('/v1/grid/forecast?hours=24&window=3').catch(() => null);
    const body = res && res.ok ? await res.json() : null;
    const w = body && body.greenest;
    if (!w) {
        $('greenest').textContent = t('greenest_none');
        return;
    }
    // the window's day in words, never as an ISO date: nothing today, "tomorrow", else the day and month by name
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Copenhagen' }).format(new Date());
    const next = new Date(`${today}T12:00:00Z`);
    next.setUTCDate(next.getUTCDate() + 1);
    const startDay = w.start_dk.slice(0, 10);
    const named = () =>
        new Date(`${startDay}T12:00:00Z`).toLocaleDateString(currentLang() === 'da' ? 'da-DK' : 'en-GB', { day: 'numeric', month: 'long', timeZone: 'UTC' });
    const day = startDay === today ? '' : startDay === next.toISOString().slice(0, 10) ? ` ${t('tomorrow')}` : ` (${named()})`;
    const args = { from: w.start_dk.slice(11, 16), to: w.end_dk.slice(11, 16), day, g: fmtNum(w.mean_g_per_kwh, 0) };
    $('greenest').dataset.start = w.start_utc;
    $('greenest').textContent = t('greenest', args);
    const shift = document.querySelector('#tips li[data-tip="shift-dirty-hours"]');
    if (shift) shift.append(el('p', { class: 'hint greenest-tip' }, t('greenest_tip', args)));
}

// The change against a month, in words: no "0 %" for a change that rounds to zero.
function trendText(pct, month) {
    if (Math.round(Math.abs(pct)) === 0) return t('trend_same', { month: fmtMonth(month) });
    return t(pct >= 0 ? 'trend_up' : 'trend_down', { p: fmtNum(Math.abs(pct), 0), month: fmtMonth(month) });
}

// --- history -------------------------------------------------------------------------------------------------------

async function loadHistory(month) {
    const box = $('history');
    const res = await authFetch(`/v1/me/history?to=${encodeURIComponent(month)}`);
    if (res === null || !res.ok) {
        box.replaceChildren(el('p', {}, res ? await problemText(res) : t('signed_out')));
        return;
    }
    const h = await res.json();
    box.replaceChildren(
        el('h3', { id: 'history-h' }, t('history_h')),
        el('p', {}, t('history_p', { month: fmtMonth(month) })),
        ...historyCharts(h, CATS.map(([c]) => [c, t(`cat_${c}`)])),
    );
}

// --- my apps -------------------------------------------------------------------------------------------------------

async function loadApps() {
    $('apps-status').textContent = t('loading');
    const res = await authFetch(`/v1/me/consents?lang=${currentLang()}`);
    if (res === null || res.status === 401) {
        showState();
        return;
    }
    if (!res.ok) {
        $('apps-status').textContent = await problemText(res);
        return;
    }
    // one card per app: the server keeps one active consent per household and app for its sign-ins; consents made
    // another way (an administrator's token) are shown on the same card and revoked with it
    const active = (await res.json()).filter((c) => c.status === 'active');
    const apps = new Map();
    for (const c of active) {
        const a = apps.get(c.client_id);
        if (!a) {
            apps.set(c.client_id, { ...c, ids: [c.id], scopes_text: [...(c.scopes_text || c.scopes)] });
            continue;
        }
        a.ids.push(c.id);
        for (const w of c.scopes_text || c.scopes) if (!a.scopes_text.includes(w)) a.scopes_text.push(w);
        if (c.created_at < a.created_at) a.created_at = c.created_at;
        if (c.last_used_at && (!a.last_used_at || c.last_used_at > a.last_used_at)) a.last_used_at = c.last_used_at;
        if (c.expires_at > a.expires_at) a.expires_at = c.expires_at;
    }
    $('apps-status').textContent = apps.size ? '' : t('apps_none');
    const mine = JSON.parse(sessionStorage.getItem('klimaspejl.auth') || '{}').clientId;
    const day = (iso) => (iso ? new Date(iso).toLocaleDateString(currentLang() === 'da' ? 'da-DK' : 'en-GB', { day: 'numeric', month: 'long', year: 'numeric' }) : t('never'));
    $('apps-list').replaceChildren(
        ...[...apps.values()].map((c) =>
            el('li', { class: 'card', 'data-consent': c.ids.join(' '), 'data-client': c.client_id },
                el('h3', {}, c.client_name, c.client_id === mine ? ` ${t('this_app')}` : ''),
                el('p', {}, `${t('scopes')}:`),
                el('ul', { class: 'scopes' }, c.scopes_text.map((w) => el('li', {}, w))),
                el('p', { class: 'granted' }, `${t('granted')}: ${day(c.created_at)}`),
                el('p', { class: 'last-used' }, `${t('last_used')}: ${day(c.last_used_at)}`),
                el('p', {}, `${t('expires')}: ${day(c.expires_at)}`),
                el('button', { type: 'button', class: 'revoke', 'aria-label': t('revoke_label', { name: c.client_name }), onclick: () => revoke(c) }, t('revoke'))),
        ),
    );
}

async function revoke(c) {
    for (const id of c.ids) {
        const res = await authFetch(`/v1/me/consents/${encodeURIComponent(id)}`, { method: 'DELETE' });
        if (res === null || res.status === 401) {
            showState();
            $('status').textContent = t('revoked', { name: c.client_name });
            return;
        }
        if (!res.ok && res.status !== 404) {
            $('apps-status').textContent = await problemText(res);
            return;
        }
    }
    await loadApps();
    $('apps-status').textContent = t('revoked', { name: c.client_name });
    $('apps-h').focus();
}

// --- export --------------------------------------------------------------------------------------------------------

// kind: undefined for everything as NDJSON, else household|energy|waste|mobility as CSV
async function exportData(kind) {
    $('status').textContent = t('exporting');
    const res = await authFetch(kind ? `/v1/me/export?format=csv&kind=${kind}` : '/v1/me/export');
    if (res === null || !res.ok) {
        $('status').textContent = res ? await problemText(res) : t('signed_out');
        return;
    }
    const blob = await res.blob();
    const day = new Date().toISOString().slice(0, 10);
    const file = kind ? `klimaspejl-export-${kind}-${day}.csv` : `klimaspejl-export-${day}.ndjson`;
    const url = URL.createObjectURL(blob);
    const a = el('a', { href: url, download: file, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    $('status').textContent = t('exported', { file });
}

const KINDS = ['household', 'energy', 'waste', 'mobility'];

function renderExport() {
    const month = summary?.month || $('month').value || lastMonth();
    $('downloads').replaceChildren(
        el('h3', { id: 'downloads-h' }, t('export_h')),
        el('p', {}, t('export_p')),
        el('p', { class: 'row' },
            KINDS.map((k) => el('button', { type: 'button', class: 'secondary', id: `export-${k}`, onclick: () => exportData(k) },
                t('export_csv', { kind: t(`kind_${k}`) }))),
            el('a', { href: `/report?month=${encodeURIComponent(month)}`, id: 'report-link', class: 'button secondary' }, t('report_link', { month: fmtMonth(month) }))),
        el('details', {}, el('summary', {}, t('fields_h')),
            el('dl', { id: 'export-fields' },
                KINDS.flatMap((k) => [el('dt', {}, `klimaspejl-export-${k}.csv`), el('dd', {}, t(`fields_${k}`))]),
                el('dt', {}, 'klimaspejl-export.ndjson'), el('dd', {}, t('fields_ndjson')))),
    );
}

// --- start ---------------------------------------------------------------------------------------------------------

initPage(texts, () => {
    if (started && signedIn()) route();
});
started = true;
$('month').max = lastMonth();
$('sign-in').addEventListener('click', () => signIn(currentLang()));
$('sign-out').addEventListener('click', async () => {
    await signOut();
    showState();
    $('status').textContent = t('signed_out_here');
});
$('export').addEventListener('click', () => exportData());
$('month-go').addEventListener('click', loadSummary);
$('month').addEventListener('keydown', (e) => {
    if (e.key === 'Enter') loadSummary();
});
window.addEventListener('hashchange', () => {
    route();
    if (location.hash === '#apps') $('apps-h').focus();
});
showState();
