// report.js — the printable one-page monthly report at /report?month=YYYY-MM: the month's summary (GET /v1/me/summary in
// the page's language) laid out for paper (report.css: A4, no site chrome), with every figure's meaning described at
// the bottom. Needs the dashboard's sign-in in this tab (auth.js); otherwise it says so and links back.
import { authFetch, signedIn } from './auth.js';
import { currentLang, el, fmtMonth, fmtNum, initPage, problemText, t } from './common.js';

const texts = {
    da: {
        page_title: 'Månedsrapport — klimaspejl',
        back: 'Tilbage til oversigten',
        print: 'Udskriv eller gem som PDF',
        loading: 'Henter …',
        not_signed_in: 'Log ind på oversigten først; rapporten bruger det samme login.',
        no_data: 'Der er ingen data for {month}.',
        h1: 'Klimarapport for {month}',
        household: '{dwelling} i {district}, {band}',
        partial: 'Data for måneden er ufuldstændige: {h} af {total} timer. Tallene dækker kun den del af måneden.',
        total_h: 'I alt',
        total: '{kg} kg CO2e i måneden, {pp} kg pr. person.',
        table_h: 'Pr. område',
        col_cat: 'Område',
        col_use: 'Forbrug',
        col_co2e: 'kg CO2e',
        col_median: 'Median, lignende hjem',
        col_change: 'Mod {month}',
        cat_electricity: 'El',
        cat_district_heating: 'Fjernvarme',
        cat_water: 'Vand',
        cat_waste: 'Affald',
        cat_mobility: 'Transport',
        compare_h: 'Sammenlignet med lignende hjem',
        kp_h: 'Københavns klimaplan KP2035',
        kp_measured: 'Jeres målte områder svarer til ca. {t} t CO2e pr. person om året.',
        kp_pace: 'Jeres målte områder mod samme måned sidste år: {you}. KP2035-stien i {year}: {path}.',
        kp_pace_none: 'KP2035-stien i {year}: {path}. Der er ingen data for samme måned sidste år.',
        tips_h: 'Det vil hjælpe mest',
        fields_h: 'Hvad tallene betyder',
        up: '{p} % mere',
        down: '{p} % mindre',
        same: 'omtrent uændret',
        printed: 'Udskrevet {date} fra klimaspejl.',
        synthetic: 'Data er syntetiske (demo).',
        dw_apartment: 'Lejlighed',
        dw_terraced: 'Rækkehus',
        dw_detached: 'Parcelhus',
        band_1: '1 person',
        band_2: '2 personer',
        'band_3-4': '3-4 personer',
        'band_5+': '5 eller flere personer',
        f_co2e: 'CO2e',
        f_co2e_d: 'Kg CO2-ækvivalenter: drivhusgasser omregnet til CO2. Strøm vægtes time for time med elnettets CO2-intensitet (Energinet); de øvrige områder med de faktorer, der står i API’et (/v1/emission-factors).',
        f_use: 'Forbrug',
        f_use_d: 'El og fjernvarme i kWh, vand i liter, affald i kg (vejet ved tømning) og transport i km, alt sammen i måneden (dansk tid).',
        f_median: 'Median',
        f_median_d: 'Den midterste værdi blandt lignende hjem: halvdelen udleder mere, halvdelen mindre. Vises kun, når gruppen har mindst 50 hjem.',
        f_group: 'Lignende hjem',
        f_group_d: 'Samme bydel, boligtype og antal personer; gruppen udvides (først antal personer, så boligtype, så bydel), når færre end 100 hjem har data.',
        f_change: 'Mod sidste år',
        f_change_d: 'Ændringen mod samme måned året før, når den måned har (næsten) fulde data.',
        f_pp: 'Pr. person',
        f_pp_d: 'Husstandens udledning delt med det antagne antal personer (midten af husstandens interval, 5 for 5+).',
        f_kp: 'KP2035-tempo',
        f_kp_d: 'Hvor meget udledningen skal falde om året for at følge klimaplanen (10 t pr. person i 2019, 7,5 t i 2030, 5 t i 2035). Tempoet gælder for hver del af forbruget, så vi sætter jeres målte områder op mod det, ikke mod hele målet.',
        f_hours: 'Timer med data',
        f_hours_d: 'En måned har 672-745 timer. Har husstanden færre timer med målinger, er måneden ufuldstændig, og tallene dækker kun den del.',
    },
    en: {
        page_title: 'Monthly report — klimaspejl',
        back: 'Back to the dashboard',
        print: 'Print or save as PDF',
        loading: 'Loading …',
        not_signed_in: 'Sign in on the dashboard first; the report uses the same sign-in.',
        no_data: 'There is no data for {month}.',
        h1: 'Climate report for {month}',
        household: '{dwelling} in {district}, {band}',
        partial: 'The data for the month is incomplete: {h} of {total} hours. The figures cover only that part of the month.',
        total_h: 'Total',
        total: '{kg} kg CO2e in the month, {pp} kg per person.',
        table_h: 'Per category',
        col_cat: 'Category',
        col_use: 'Use',
        col_co2e: 'kg CO2e',
        col_median: 'Median, similar homes',
        col_change: 'Against {month}',
        cat_electricity: 'Electricity',
        cat_district_heating: 'District heating',
        cat_water: 'Water',
        cat_waste: 'Waste',
        cat_mobility: 'Transport',
        compare_h: 'Compared with similar homes',
        kp_h: "Copenhagen's climate plan KP2035",
        kp_measured: 'Your measured categories amount to about {t} t CO2e per person a year.',
        kp_pace: 'Your measured categories against the same month last year: {you}. The KP2035 path in {year}: {path}.',
        kp_pace_none: 'The KP2035 path in {year}: {path}. There is no data for the same month last year.',
        tips_h: 'What would help most',
        fields_h: 'What the figures mean',
        up: '{p} % more',
        down: '{p} % less',
        same: 'about unchanged',
        printed: 'Printed {date} from klimaspejl.',
        synthetic: 'The data is synthetic (demo).',
        dw_apartment: 'Apartment',
        dw_terraced: 'Terraced house',
        dw_detached: 'Detached house',
        band_1: '1 person',
        band_2: '2 people',
        'band_3-4': '3-4 people',
        'band_5+': '5 or more people',
        f_co2e: 'CO2e',
        f_co2e_d: 'Kg of CO2 equivalents: greenhouse gases expressed as CO2. Electricity is weighted hour by hour with the grid’s CO2 intensity (Energinet); the other categories with the factors listed in the API (/v1/emission-factors).',
        f_use: 'Use',
        f_use_d: 'Electricity and district heating in kWh, water in litres, waste in kg (weighed at collection) and transport in km, all in the month (Copenhagen time).',
        f_median: 'Median',
        f_median_d: 'The middle value among similar homes: half emit more, half less. Shown only when the group has at least 50 homes.',
        f_group: 'Similar homes',
        f_group_d: 'Same district, dwelling type and number of people; the group is widened (first people, then dwelling type, then district) while fewer than 100 homes have data.',
        f_change: 'Against last year',
        f_change_d: 'The change against the same month a year before, when that month has (almost) complete data.',
        f_pp: 'Per person',
        f_pp_d: 'The household’s emissions divided by the assumed number of people (the middle of the household’s band, 5 for 5+).',
        f_kp: 'KP2035 pace',
        f_kp_d: 'How much emissions must fall a year to follow the climate plan (10 t per person in 2019, 7.5 t in 2030, 5 t in 2035). The pace holds for each part of consumption, so your measured categories are set against it, not against the whole target.',
        f_hours: 'Hours with data',
        f_hours_d: 'A month has 672-745 hours. When the household has readings for fewer, the month is incomplete and the figures cover only that part.',
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
const FIELDS = ['co2e', 'use', 'median', 'group', 'change', 'pp', 'kp', 'hours'];

const change = (v) => (v === null || v === undefined ? '–' : Math.abs(v) < 0.5 ? t('same') : t(v < 0 ? 'down' : 'up', { p: fmtNum(Math.abs(v), 0) }));

function render(s) {
    const p = s.peers;
    const per = s.period || {};
    const ly = s.last_year;
    const kp = s.kp2035;
    const hh = s.household || {};
    const parts = [
        el('h1', { id: 'report-h' }, t('h1', { month: fmtMonth(s.month) })),
        el('p', { class: 'meta', id: 'report-household' }, t('household', { dwelling: t(`dw_${hh.dwelling_type}`), district: hh.district, band: t(`band_${hh.occupant_band}`) })),
        per.hours_with_data < per.hours_expected
            ? el('p', { class: 'note', id: 'report-partial' }, t('partial', { h: fmtNum(per.hours_with_data, 0), total: fmtNum(per.hours_expected, 0) })) : null,
        el('h2', {}, t('total_h')),
        el('p', { id: 'report-total', 'data-value': s.total_co2e_kg }, t('total', { kg: fmtNum(s.total_co2e_kg, 1), pp: fmtNum(s.co2e_kg_per_person, 1) })),
        el('h2', {}, t('table_h')),
        el('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': t('table_h') }, el('table', { id: 'report-table' },
            el('thead', {}, el('tr', {},
                el('th', { scope: 'col' }, t('col_cat')), el('th', { scope: 'col' }, t('col_use')), el('th', { scope: 'col' }, t('col_co2e')),
                el('th', { scope: 'col' }, t('col_median')),
                ly ? el('th', { scope: 'col' }, t('col_change', { month: fmtMonth(ly.month) })) : null)),
            el('tbody', {}, CATS.map(([c, unit, unitLabel]) => el('tr', { 'data-cat': c },
                el('th', { scope: 'row' }, t(`cat_${c}`)),
                el('td', {}, `${fmtNum(s.categories[c][unit], 1)} ${unitLabel}`),
                el('td', { 'data-value': s.categories[c].co2e_kg }, fmtNum(s.categories[c].co2e_kg, 1)),
                el('td', {}, fmtNum(p.categories?.[c]?.co2e_kg_median ?? null, 1)),
                ly ? el('td', {}, change(ly.categories?.[c]?.change_pct)) : null))))),
        el('h2', {}, t('compare_h')),
        p.group_text ? el('p', {}, p.group_text) : null,
        el('p', { id: 'report-rating' }, p.rating_text),
        p.widened_text ? el('p', { class: 'meta' }, p.widened_text) : null,
        el('h2', {}, t('kp_h')),
        el('p', {}, t('kp_measured', { t: fmtNum(kp.covered_t_per_person_year_estimate, 2) }), ' ',
            kp.measured_change_pct !== null && kp.measured_change_pct !== undefined
                ? t('kp_pace', { you: change(kp.measured_change_pct), year: kp.year, path: t('down', { p: fmtNum(Math.abs(kp.path_change_pct_per_year), 1) }) })
                : t('kp_pace_none', { year: kp.year, path: t('down', { p: fmtNum(Math.abs(kp.path_change_pct_per_year), 1) }) }),
            ' ', kp.path_source),
        s.tips.length ? [el('h2', {}, t('tips_h')), el('ol', { id: 'report-tips' }, s.tips.map((tip) => el('li', {}, tip.text)))] : null,
        el('h2', {}, t('fields_h')),
        el('dl', { class: 'fields', id: 'report-fields' }, FIELDS.map((f) => el('div', {}, el('dt', {}, t(`f_${f}`)), el('dd', {}, t(`f_${f}_d`))))),
        el('p', { class: 'meta' }, t('printed', { date: new Intl.DateTimeFormat(currentLang() === 'da' ? 'da-DK' : 'en-GB', { dateStyle: 'long' }).format(new Date()) }),
            s.synthetic ? ` ${t('synthetic')}` : ''),
    ];
    $('report').replaceChildren(...parts.flat().filter((x) => x !== null && x !== undefined && x !== false));
}

async function load() {
    if (!signedIn()) {
        $('status').textContent = t('not_signed_in');
        return;
    }
    const month = new URLSearchParams(location.search).get('month');
    const q = new URLSearchParams({ lang: currentLang() });
    if (month && /^\d{4}-\d{2}$/.test(month)) q.set('month', month);
    $('status').textContent = t('loading');
    const res = await authFetch(`/v1/me/summary?${q}`);
    if (res === null || res.status === 401) {
        $('status').textContent = t('not_signed_in');
        return;
    }
    if (res.status === 404) {
        $('status').textContent = t('no_data', { month: fmtMonth(month) });
        return;
    }
    if (!res.ok) {
        $('status').textContent = await problemText(res);
        return;
    }
    const s = await res.json();
    $('status').textContent = '';
    render(s);
    document.title = `${t('h1', { month: fmtMonth(s.month) })} — klimaspejl`;
}

initPage(texts, () => load());
$('print').addEventListener('click', () => window.print());
