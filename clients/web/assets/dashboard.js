// dashboard.js — the citizen dashboard at /: sign-in (auth.js), the month's summary (GET /v1/me/summary) with a bar
// chart per category against similar homes, the trend against last year, the KP2035 path and the tips; a month
// picker; "my apps" (GET /v1/me/consents, DELETE /v1/me/consents/{id}); and the data export (GET /v1/me/export).
import { authFetch, signIn, signOut, signedIn } from './auth.js';
import { currentLang, el, fmtNum, initPage, problemText, t } from './common.js';

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
        median: 'Lignende hjem (midten)',
        efficient: 'De mest effektive 20 %',
        compare_h: 'Sammenlignet med lignende hjem',
        compare_n: 'Sammenlignet med {n} hjem ({criteria}).',
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
        kp_text: 'Målet for {year} er {target} t CO2e pr. person om året (5 t i 2035). Jeres måned svarer til ca. {est} t om året for de områder, vi kan måle.',
        kp_you: 'Jer (målte områder, pr. år)',
        kp_target: 'Mål {year} (hele forbruget)',
        tips_h: 'Det vil hjælpe mest',
        tip_saving: 'Sparer ca. {kg} kg CO2e om måneden',
        greenest: 'De grønneste 3 timer i det næste døgn: kl. {from}–{to}{day} (ca. {g} g CO2/kWh, Energinets prognose for Østdanmark).',
        greenest_tip: 'Fx kl. {from}–{to}{day}.',
        greenest_none: 'Ingen prognose for elnettets CO2 i det næste døgn lige nu.',
        synthetic: 'Data er syntetiske (demo).',
        apps_h: 'Mine apps',
        apps_p: 'Disse apps må læse din husstands data. Tilbagekalder du, stopper de med det samme.',
        apps_none: 'Ingen apps har adgang.',
        scopes: 'Må læse',
        expires: 'Udløber',
        revoke: 'Tilbagekald',
        revoke_label: 'Tilbagekald adgangen for {name}',
        revoked: 'Adgangen for {name} er tilbagekaldt.',
        status_active: 'aktiv',
        status_revoked: 'tilbagekaldt',
        status_expired: 'udløbet',
        this_app: '(denne side)',
        exporting: 'Henter alle data …',
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
        median: 'Similar homes (middle)',
        efficient: 'Most efficient 20 %',
        compare_h: 'Compared with similar homes',
        compare_n: 'Compared with {n} homes ({criteria}).',
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
        kp_text: 'The target for {year} is {target} t CO2e per person a year (5 t in 2035). Your month amounts to about {est} t a year for the categories we can measure.',
        kp_you: 'You (measured categories, per year)',
        kp_target: 'Target {year} (all consumption)',
        tips_h: 'What would help most',
        tip_saving: 'Saves about {kg} kg CO2e a month',
        greenest: 'The greenest 3 hours in the next 24: {from}–{to}{day} (about {g} g CO2/kWh, Energinet\'s forecast for East Denmark).',
        greenest_tip: 'For example {from}–{to}{day}.',
        greenest_none: 'No forecast of the grid\'s CO2 for the next 24 hours right now.',
        synthetic: 'The data is synthetic (demo).',
        apps_h: 'My apps',
        apps_p: "These apps may read your household's data. Revoking stops them at once.",
        apps_none: 'No app has access.',
        scopes: 'May read',
        expires: 'Expires',
        revoke: 'Revoke',
        revoke_label: 'Revoke access for {name}',
        revoked: 'Access for {name} is revoked.',
        status_active: 'active',
        status_revoked: 'revoked',
        status_expired: 'expired',
        this_app: '(this page)',
        exporting: 'Fetching all your data …',
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
        $('summary').replaceChildren(el('p', {}, t('no_data', { month })));
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
                el('p', { id: 'rating-text' }, p.rating_text),
                p.percentile_rank !== null && p.percentile_rank !== undefined
                    ? el('p', { class: 'hint' }, t('rank', { p: fmtNum(p.percentile_rank, 0) }))
                    : null),
        ),
    );

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

    const kp = s.kp2035;
    const kmax = Math.max(kp.covered_t_per_person_year_estimate, kp.target_t_per_person_year);
    const tbar = (label, v, cls) => el('div', { class: `bar ${cls}` },
        el('div', { class: 'bar-label' }, `${label}: `, num(v, 2), ' t'),
        el('div', { class: 'bar-track', 'aria-hidden': 'true' }, el('div', { class: 'bar-fill', style: `width:${Math.max(1, Math.round((v / kmax) * 100))}%` })));
    parts.push(
        el('section', { class: 'panel', id: 'kp2035', 'aria-labelledby': 'kp-h' },
            el('h3', { id: 'kp-h' }, t('kp_h')),
            el('p', {}, t('kp_text', { year: kp.year, target: fmtNum(kp.target_t_per_person_year, 2), est: fmtNum(kp.covered_t_per_person_year_estimate, 2) })),
            tbar(t('kp_you'), kp.covered_t_per_person_year_estimate, 'you'),
            tbar(t('kp_target', { year: kp.year }), kp.target_t_per_person_year, 'median'),
            el('p', { class: 'hint' }, kp.covered_share_note)),
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
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Copenhagen' }).format(new Date());
    const day = w.start_dk.slice(0, 10) === today ? '' : ` (${w.start_dk.slice(0, 10)})`;
    const args = { from: w.start_dk.slice(11, 16), to: w.end_dk.slice(11, 16), day, g: fmtNum(w.mean_g_per_kwh, 0) };
    $('greenest').dataset.start = w.start_utc;
    $('greenest').textContent = t('greenest', args);
    const shift = document.querySelector('#tips li[data-tip="shift-dirty-hours"]');
    if (shift) shift.append(el('p', { class: 'hint greenest-tip' }, t('greenest_tip', args)));
}

function trendText(pct, month) {
    return t(pct >= 0 ? 'trend_up' : 'trend_down', { p: fmtNum(Math.abs(pct), 0), month });
}

// --- my apps -------------------------------------------------------------------------------------------------------

async function loadApps() {
    $('apps-status').textContent = t('loading');
    const res = await authFetch('/v1/me/consents');
    if (res === null || res.status === 401) {
        showState();
        return;
    }
    if (!res.ok) {
        $('apps-status').textContent = await problemText(res);
        return;
    }
    const consents = (await res.json()).filter((c) => c.status === 'active');
    $('apps-status').textContent = consents.length ? '' : t('apps_none');
    const mine = JSON.parse(sessionStorage.getItem('klimaspejl.auth') || '{}').clientId;
    $('apps-list').replaceChildren(
        ...consents.map((c) =>
            el('li', { class: 'card', 'data-consent': c.id },
                el('h3', {}, c.client_name, c.client_id === mine ? ` ${t('this_app')}` : ''),
                el('p', {}, `${t('scopes')}: `, c.scopes.join(', ')),
                el('p', {}, `${t('expires')}: ${new Date(c.expires_at).toLocaleDateString(currentLang() === 'da' ? 'da-DK' : 'en-GB')}`),
                el('button', { type: 'button', class: 'revoke', 'aria-label': t('revoke_label', { name: c.client_name }), onclick: () => revoke(c) }, t('revoke'))),
        ),
    );
}

async function revoke(c) {
    const res = await authFetch(`/v1/me/consents/${encodeURIComponent(c.id)}`, { method: 'DELETE' });
    if (res === null || res.status === 401) {
        showState();
        $('status').textContent = t('revoked', { name: c.client_name });
        return;
    }
    if (!res.ok && res.status !== 404) {
        $('apps-status').textContent = await problemText(res);
        return;
    }
    await loadApps();
    $('apps-status').textContent = t('revoked', { name: c.client_name });
    $('apps-h').focus();
}

// --- export --------------------------------------------------------------------------------------------------------

async function exportData() {
    $('status').textContent = t('exporting');
    const res = await authFetch('/v1/me/export');
    if (res === null || !res.ok) {
        $('status').textContent = res ? await problemText(res) : t('signed_out');
        return;
    }
    const blob = await res.blob();
    const file = `klimaspejl-export-${new Date().toISOString().slice(0, 10)}.ndjson`;
    const url = URL.createObjectURL(blob);
    const a = el('a', { href: url, download: file, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    $('status').textContent = t('exported', { file });
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
$('export').addEventListener('click', exportData);
$('month-go').addEventListener('click', loadSummary);
$('month').addEventListener('keydown', (e) => {
    if (e.key === 'Enter') loadSummary();
});
window.addEventListener('hashchange', () => {
    route();
    if (location.hash === '#apps') $('apps-h').focus();
});
showState();
