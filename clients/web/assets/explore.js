// explore.js — the data explorer at /explore: the catalog, one dataset's schema, a query built with form controls from
// what the schema allows (filters, group_by, bucket, measures, order, limit), a preview table and chart (uPlot), the
// exact API URL and curl command, CSV/NDJSON links, and keyset paging through next_cursor.
import { applyTexts, copyButton, currentLang, el, fmtNum, initPage, problemText, t } from './common.js';

const texts = {
    da: {
        page_title: 'Dataudforsker — klimaspejl',
        h1: 'Dataudforsker',
        intro: 'Gennemse Københavns åbne klimadata, byg en forespørgsel, se resultatet og tag det præcise API-kald med dig.',
        datasets: 'Datasæt',
        loading: 'Henter …',
        n_datasets: '{n} datasæt',
        n_match: '{n} af {total} datasæt passer til »{q}«.',
        search_label: 'Søg i datasættene',
        search_hint: 'Titler, beskrivelser, nøgleord og kolonnenavne, på dansk eller engelsk.',
        schema: 'Kolonner (skema)',
        build: 'Byg en forespørgsel',
        filters: 'Filtre',
        add_filter: 'Tilføj filter',
        remove: 'Fjern',
        remove_filter: 'Fjern filter {n}',
        column: 'Kolonne',
        operator: 'Betingelse',
        value: 'Værdi',
        value_list_hint: 'Flere værdier adskilt med komma',
        value_between_hint: 'To værdier adskilt med komma: fra,til',
        group_by: 'Gruppér efter',
        bucket: 'Tidsinddeling',
        bucket_none: 'Ingen (som i data)',
        measures: 'Mål (aggregeringer)',
        measures_hint: 'Vælg mål at samle; uden gruppering og mål ser du selve rækkerne.',
        count: 'antal rækker (count)',
        order: 'Sortér efter',
        order_default: 'Standard',
        direction: 'Retning',
        asc: 'Stigende',
        desc: 'Faldende',
        limit: 'Rækker pr. side',
        run: 'Vis resultat',
        api_call: 'API-kaldet',
        copy_url: 'Kopiér API-adressen',
        copy_curl: 'Kopiér curl-kommandoen',
        dl_page: 'Denne side som',
        dl_all: 'Hele udsnittet (alle rækker der matcher filtrene) som',
        csv_excel: 'CSV til Excel (semikolon, decimalkomma)',
        xlsx: 'Excel-regneark (XLSX)',
        dl_all_grouped: 'Hele udsnittet (rå rækker, uden gruppering) som',
        preview: 'Resultat',
        rows_shown: '{n} rækker vist (side {page}).',
        rows_more: 'Der er flere rækker.',
        no_rows: 'Ingen rækker matcher.',
        next: 'Næste side',
        chart_label: 'Diagram over {cols}. Tallene står i tabellen nedenfor.',
        chart_loading: 'Diagrammet henter resten af resultatet …',
        chart_all: 'Diagrammet viser hele resultatet ({n} rækker); tabellen viser én side.',
        chart_capped: 'Diagrammet viser de første {n} rækker; resultatet er længere (grænsen er 50.000). Filtrér eller gruppér for at se det hele.',
        suppressed_note: 'Tomme felter (–) er undertrykt for at beskytte husstandene.',
        col_name: 'Kolonne',
        col_type: 'Type',
        col_unit: 'Enhed',
        col_desc: 'Beskrivelse',
        col_filter: 'Filtre',
        col_group: 'Gruppér',
        col_agg: 'Aggregeringer',
        yes: 'ja',
        no: 'nej',
        license: 'Licens',
        version: 'Version',
        synthetic: 'Syntetiske data',
        coverage: 'Dækker',
        local_time: 'dansk tid',
        cite: 'Citér som',
        op_eq: 'er lig med',
        op_ne: 'er ikke',
        op_lt: 'mindre end',
        op_lte: 'højst',
        op_gt: 'større end',
        op_gte: 'mindst',
        op_in: 'er en af',
        op_between: 'mellem',
        agg_sum: 'sum',
        agg_avg: 'gennemsnit',
        agg_min: 'min',
        agg_max: 'maks',
        invalid_limit: 'Rækker pr. side skal være mellem 1 og 10.000.',
        choose: 'Vælg et datasæt til venstre.',
    },
    en: {
        page_title: 'Data explorer — klimaspejl',
        h1: 'Data explorer',
        intro: "Browse Copenhagen's open climate datasets, build a query, preview it and take the exact API call with you.",
        datasets: 'Datasets',
        loading: 'Loading …',
        n_datasets: '{n} datasets',
        n_match: '{n} of {total} datasets match “{q}”.',
        search_label: 'Search the datasets',
        search_hint: 'Titles, descriptions, keywords and column names, in Danish or English.',
        schema: 'Columns (schema)',
        build: 'Build a query',
        filters: 'Filters',
        add_filter: 'Add filter',
        remove: 'Remove',
        remove_filter: 'Remove filter {n}',
        column: 'Column',
        operator: 'Condition',
        value: 'Value',
        value_list_hint: 'Several values separated by commas',
        value_between_hint: 'Two values separated by a comma: from,to',
        group_by: 'Group by',
        bucket: 'Time bucket',
        bucket_none: 'None (as in the data)',
        measures: 'Measures (aggregations)',
        measures_hint: 'Choose measures to aggregate; without group-by or measures you see the rows themselves.',
        count: 'number of rows (count)',
        order: 'Sort by',
        order_default: 'Default',
        direction: 'Direction',
        asc: 'Ascending',
        desc: 'Descending',
        limit: 'Rows per page',
        run: 'Show preview',
        api_call: 'The API call',
        copy_url: 'Copy the API URL',
        copy_curl: 'Copy the curl command',
        dl_page: 'This page as',
        dl_all: 'The whole slice (every row matching the filters) as',
        csv_excel: 'CSV for Excel (semicolons, decimal commas)',
        xlsx: 'Excel workbook (XLSX)',
        dl_all_grouped: 'The whole slice (raw rows, not grouped) as',
        preview: 'Preview',
        rows_shown: '{n} rows shown (page {page}).',
        rows_more: 'There are more rows.',
        no_rows: 'No rows match.',
        next: 'Next page',
        chart_label: 'Chart of {cols}. The numbers are in the table below.',
        chart_loading: 'The chart is fetching the rest of the result …',
        chart_all: 'The chart shows the whole result ({n} rows); the table shows one page.',
        chart_capped: 'The chart shows the first {n} rows; the result is longer (the cap is 50,000). Filter or group to see all of it.',
        suppressed_note: 'Empty cells (–) are suppressed to protect households.',
        col_name: 'Column',
        col_type: 'Type',
        col_unit: 'Unit',
        col_desc: 'Description',
        col_filter: 'Filters',
        col_group: 'Group',
        col_agg: 'Aggregations',
        yes: 'yes',
        no: 'no',
        license: 'Licence',
        version: 'Version',
        synthetic: 'Synthetic data',
        coverage: 'Covers',
        local_time: 'Copenhagen time',
        cite: 'Cite as',
        op_eq: 'equals',
        op_ne: 'is not',
        op_lt: 'less than',
        op_lte: 'at most',
        op_gt: 'greater than',
        op_gte: 'at least',
        op_in: 'is one of',
        op_between: 'between',
        agg_sum: 'sum',
        agg_avg: 'average',
        agg_min: 'min',
        agg_max: 'max',
        invalid_limit: 'Rows per page must be from 1 to 10,000.',
        choose: 'Choose a dataset on the left.',
    },
};

const $ = (id) => document.getElementById(id);
const state = { catalog: [], ds: null, page: 0, cursor: null, lastParams: null, filterSeq: 0, chart: null };

const TIME_TYPES = new Set(['date', 'datetime']);
const PALETTE = ['#0b5d3b', '#0a4fa8', '#b3400b', '#6b2c91', '#8a5a00', '#1f6f78', '#9b1c1c', '#444444'];

// --- catalog -------------------------------------------------------------------------------------------------------

// The catalog, searched by the API's own q (titles, descriptions, keywords and column names in both languages), so the
// explorer finds exactly what an API user finds. A newer search wins over an older answer still on its way.
async function loadCatalog() {
    const q = $('ds-q').value.trim();
    const seq = (state.searchSeq = (state.searchSeq || 0) + 1);
    if (!q) $('ds-status').textContent = t('loading');
    const res = await fetch(`/v1/datasets?lang=${currentLang()}${q ? `&q=${encodeURIComponent(q)}` : ''}`);
    if (seq !== state.searchSeq) return;
    if (!res.ok) {
        $('ds-status').textContent = await problemText(res);
        return;
    }
    const body = await res.json();
    if (seq !== state.searchSeq) return;
    state.catalog = body.datasets;
    state.catalogTotal = body.total ?? body.count;
    state.catalogQuery = body.q || '';
    renderCatalog();
}

function renderCatalog() {
    $('ds-status').textContent = state.catalogQuery
        ? t('n_match', { n: state.catalog.length, total: state.catalogTotal, q: state.catalogQuery })
        : t('n_datasets', { n: state.catalog.length });
    const list = $('ds-list');
    list.replaceChildren(
        ...state.catalog.map((d) =>
            el(
                'li',
                {},
                el(
                    'button',
                    {
                        type: 'button',
                        'aria-pressed': String(state.ds?.id === d.id),
                        'data-id': d.id,
                        onclick: () => openDataset(d.id, true),
                    },
                    el('strong', {}, d.title),
                    el('span', { class: 'theme' }, `${d.theme} · ${d.id}`),
                ),
            ),
        ),
    );
}

// --- one dataset ---------------------------------------------------------------------------------------------------

async function openDataset(id, focus) {
    const res = await fetch(`/v1/datasets/${encodeURIComponent(id)}?lang=${currentLang()}`);
    if (!res.ok) {
        $('ds-status').textContent = await problemText(res);
        return;
    }
    const keepForm = state.ds?.id === id;
    state.ds = await res.json();
    if (location.hash !== `#${id}`) history.replaceState(null, '', `#${id}`);
    for (const b of $('ds-list').querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.id === id));
    $('ds-detail').hidden = false;
    renderDetail();
    if (!keepForm) {
        buildForm();
        clearResult();
        updateApiBox();
    } else {
        relabelForm();
    }
    if (focus) $('detail-h').focus();
}

function renderDetail() {
    const d = state.ds;
    $('detail-h').textContent = d.title;
    $('detail-desc').textContent = d.description;
    // coverage: from the first to the last instant with data, in Copenhagen wall-clock time (the catalog's *_local)
    const local = (v) => (v ? v.slice(0, 16).replace('T', ' ') : '');
    const meta = [
        el('span', {}, `${t('license')}: `, d.license_url ? el('a', { href: d.license_url, rel: 'license' }, d.license) : d.license),
        `${t('version')}: ${d.version}`,
        d.temporal_start_local
            ? `${t('coverage')}: ${local(d.temporal_start_local)} – ${local(d.temporal_end_local)} (${t('local_time')})`
            : null,
        d.synthetic ? t('synthetic') : null,
    ].filter(Boolean);
    const parts = [];
    meta.forEach((m, i) => parts.push(...(i ? [' · ', m] : [m])));
    const released = (d.refreshed_at || '').slice(0, 10);
    const cite = `${d.publisher || 'Københavns Kommune (klimaspejl)'}: ${d.title}, ${t('version').toLowerCase()} ${d.version}`
        + `${released ? ` (${released})` : ''}, ${d.license}. ${location.origin}/v1/datasets/${d.id}`;
    $('detail-meta').replaceChildren(...parts, el('br'), `${t('cite')}: `, el('q', { class: 'cite' }, cite));
    const head = ['col_name', 'col_type', 'col_unit', 'col_desc', 'col_filter', 'col_group', 'col_agg'];
    $('schema-table').tHead.replaceChildren(el('tr', {}, head.map((k) => el('th', { scope: 'col' }, t(k)))));
    $('schema-table').tBodies[0].replaceChildren(
        ...d.schema.fields.map((f) => {
            const x = f['x-klimaspejl'];
            return el(
                'tr',
                {},
                el('th', { scope: 'row' }, el('code', {}, f.name)),
                el('td', {}, f.type + (f.format ? ` (${f.format})` : '')),
                el('td', {}, f.unit || ''),
                el('td', {}, f.description || ''),
                el('td', {}, x.filterable ? x.operators.join(' ') : '–'),
                el('td', {}, x.groupable ? t('yes') : t('no')),
                el('td', {}, x.aggregations.join(' ') || '–'),
            );
        }),
    );
}

const fields = () => state.ds.schema.fields;
const field = (name) => fields().find((f) => f.name === name);

// --- the query form ------------------------------------------------------------------------------------------------

function buildForm() {
    $('filters').replaceChildren();
    state.filterSeq = 0;
    $('filters-fs').hidden = !fields().some((f) => f['x-klimaspejl'].filterable);

    const groupable = fields().filter((f) => f['x-klimaspejl'].groupable);
    $('group-fs').hidden = groupable.length === 0;
    $('group').replaceChildren(
        ...groupable.map((f) =>
            el('label', {}, el('input', { type: 'checkbox', name: 'group', value: f.name, onchange: onFormChange }), f.name),
        ),
    );

    const measures = [el('label', {}, el('input', { type: 'checkbox', name: 'measure', value: 'count', onchange: onFormChange }), el('span', { 'data-i18n': 'count' }, t('count')))];
    for (const f of fields()) {
        for (const a of f['x-klimaspejl'].aggregations) {
            measures.push(
                el(
                    'label',
                    {},
                    el('input', { type: 'checkbox', name: 'measure', value: `${a}:${f.name}`, onchange: onFormChange }),
                    `${a}:${f.name}`,
                ),
            );
        }
    }
    $('measures').replaceChildren(...measures);
    $('limit').value = '100';
    $('order-dir').value = '';
    relabelForm();
    for (const id of ['bucket', 'order-col', 'order-dir', 'limit']) $(id).onchange = onFormChange;
    $('limit').oninput = onFormChange;
}

// Options whose texts depend on the language or on the current grouping.
function relabelForm() {
    const groups = checked('group');
    const hasTime = groups.some((g) => TIME_TYPES.has(field(g)?.type));
    const bucket = $('bucket');
    const prevBucket = bucket.value;
    const timeGroup = groups.find((g) => TIME_TYPES.has(field(g)?.type));
    const units = timeGroup && field(timeGroup).type === 'datetime' ? ['hour', 'day', 'week', 'month', 'year'] : ['day', 'week', 'month', 'year'];
    bucket.replaceChildren(el('option', { value: '' }, t('bucket_none')), ...units.map((u) => el('option', { value: u }, u)));
    bucket.value = units.includes(prevBucket) ? prevBucket : '';
    $('bucket-row').hidden = !hasTime;

    // With aggregation only group columns may order the result; otherwise any dimension.
    const aggregating = groups.length > 0 || checked('measure').length > 0;
    const orderable = aggregating ? groups : fields().filter((f) => f.role !== 'measure').map((f) => f.name);
    const oc = $('order-col');
    const prev = oc.value;
    oc.replaceChildren(el('option', { value: '' }, t('order_default')), ...orderable.map((n) => el('option', { value: n }, n)));
    oc.value = orderable.includes(prev) ? prev : '';
    for (const row of $('filters').children) relabelFilter(row);
    applyTexts($('query-form'));
}

function checked(name) {
    return [...$('query-form').querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
}

function addFilter() {
    const n = ++state.filterSeq;
    const filterable = fields().filter((f) => f['x-klimaspejl'].filterable);
    const col = el('select', { id: `f${n}-col`, class: 'f-col' }, filterable.map((f) => el('option', { value: f.name }, f.name)));
    const op = el('select', { id: `f${n}-op`, class: 'f-op' });
    const valWrap = el('div', { class: 'f-val-wrap' });
    const row = el(
        'div',
        { class: 'row filter', 'data-n': n },
        el('div', {}, el('label', { for: `f${n}-col`, 'data-i18n': 'column' }, t('column')), col),
        el('div', {}, el('label', { for: `f${n}-op`, 'data-i18n': 'operator' }, t('operator')), op),
        valWrap,
        el('div', {}, el('button', { type: 'button', class: 'secondary f-remove', onclick: () => removeFilter(row) }, t('remove'))),
    );
    col.addEventListener('change', () => {
        relabelFilter(row, true);
        onFormChange();
    });
    op.addEventListener('change', () => {
        relabelFilter(row, false, true);
        onFormChange();
    });
    $('filters').append(row);
    relabelFilter(row, true);
    col.focus();
    onFormChange();
}

function removeFilter(row) {
    const next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    (next?.querySelector('select') || $('add-filter')).focus();
    onFormChange();
}

// Fills a filter row's operator list and value control from its column (keeps the chosen values when it can).
function relabelFilter(row, colChanged = false, opChanged = false) {
    const n = row.dataset.n;
    const f = field(row.querySelector('.f-col').value);
    const ops = f['x-klimaspejl'].operators;
    const opSel = row.querySelector('.f-op');
    const prevOp = opSel.value;
    opSel.replaceChildren(...ops.map((o) => el('option', { value: o }, `${t(`op_${o}`)} (${o})`)));
    opSel.value = ops.includes(prevOp) ? prevOp : ops[0];
    row.querySelector('.f-remove').setAttribute('aria-label', t('remove_filter', { n }));
    const wrap = row.querySelector('.f-val-wrap');
    const old = wrap.querySelector('.f-val');
    if (!old || colChanged || opChanged) {
        const prevVal = old && !colChanged ? old.value : '';
        const op = opSel.value;
        const multi = op === 'in' || op === 'between';
        let input;
        const enumValues = f.constraints?.enum;
        if (!multi && (enumValues || f.type === 'boolean')) {
            const vals = enumValues || ['true', 'false'];
            input = el('select', { id: `f${n}-val`, class: 'f-val' }, vals.map((v) => el('option', { value: v }, v)));
            if (vals.includes(prevVal)) input.value = prevVal;
        } else {
            const type = multi ? 'text' : f.type === 'date' ? 'date' : f.type === 'integer' || f.type === 'number' ? 'number' : 'text';
            input = el('input', { id: `f${n}-val`, class: 'f-val', type, step: f.type === 'number' ? 'any' : undefined });
            if (f.type === 'datetime' && !multi) input.placeholder = '2025-01-01T00:00Z';
            input.value = prevVal;
        }
        input.addEventListener('input', onFormChange);
        input.addEventListener('change', onFormChange);
        const hintId = `f${n}-hint`;
        const hint = multi ? el('span', { class: 'hint', id: hintId }, t(op === 'in' ? 'value_list_hint' : 'value_between_hint')) : null;
        if (hint) input.setAttribute('aria-describedby', hintId);
        wrap.replaceChildren(...[el('label', { for: `f${n}-val` }, t('value')), input, hint].filter(Boolean));
    } else {
        wrap.querySelector('label').textContent = t('value');
        const hint = wrap.querySelector('.hint');
        if (hint) hint.textContent = t(opSel.value === 'in' ? 'value_list_hint' : 'value_between_hint');
    }
}

function onFormChange(e) {
    if (e && e.target && (e.target.name === 'group' || e.target.name === 'measure')) relabelForm();
    updateApiBox();
}

// The records query of the form, in a stable order: filters, group_by, bucket, measures, order, limit.
function formParams() {
    const p = new URLSearchParams();
    for (const row of $('filters').children) {
        const col = row.querySelector('.f-col').value;
        const op = row.querySelector('.f-op').value;
        const v = row.querySelector('.f-val').value.trim();
        if (v !== '') p.append(col, `${op}:${v}`);
    }
    const groups = checked('group');
    if (groups.length) p.set('group_by', groups.join(','));
    if (groups.length && $('bucket').value && !$('bucket-row').hidden) p.set('bucket', $('bucket').value);
    const measures = checked('measure');
    if (measures.length) p.set('measures', measures.join(','));
    if ($('order-col').value) p.set('order', $('order-dir').value + $('order-col').value);
    const limit = $('limit').value.trim();
    if (limit !== '' && limit !== '100') p.set('limit', limit);
    return p;
}

const recordsPath = (p) => `/v1/datasets/${state.ds.id}/records${p.toString() ? `?${p}` : ''}`;
const shellQuote = (s) => `'${s.replace(/'/g, "'\\''")}'`;

function updateApiBox() {
    if (!state.ds) return;
    const p = formParams();
    const url = new URL(recordsPath(p), location.origin).href;
    $('api-url').textContent = url;
    $('curl').textContent = `curl -sS ${shellQuote(url)}`;
    $('copy-url').replaceChildren(copyButton(() => $('api-url').textContent, t('copy_url'), $('res-status')));
    $('copy-curl').replaceChildren(copyButton(() => $('curl').textContent, t('copy_curl'), $('res-status')));

    const page = (fmt) => {
        const q = new URLSearchParams(p);
        q.set('format', fmt);
        return recordsPath(q);
    };
    // the download endpoint takes the filters and order only: the whole matching slice, not grouped
    const grouped = p.has('group_by') || p.has('measures');
    const dl = (fmt) => {
        const q = new URLSearchParams();
        for (const [k, v] of p) if (!['group_by', 'measures', 'bucket', 'limit', 'order'].includes(k) || (k === 'order' && !grouped)) q.append(k, v);
        q.set('format', fmt);
        return `/v1/datasets/${state.ds.id}/download?${q}`;
    };
    $('downloads').replaceChildren(
        `${t('dl_page')} `,
        el('a', { href: page('csv'), download: `${state.ds.id}-page.csv`, id: 'dl-page-csv' }, 'CSV'),
        ', ',
        el('a', { href: page('ndjson'), download: `${state.ds.id}-page.ndjson`, id: 'dl-page-ndjson' }, 'NDJSON'),
        ', ',
        el('a', { href: page('xlsx'), download: `${state.ds.id}-page.xlsx`, id: 'dl-page-xlsx' }, t('xlsx')),
        '. ',
        el('br'),
        `${t(grouped ? 'dl_all_grouped' : 'dl_all')} `,
        el('a', { href: dl('csv'), id: 'dl-csv' }, 'CSV'),
        ', ',
        // semicolons, decimal commas and a byte-order mark: what Danish Excel and LibreOffice read as numbers
        el('a', { href: `${dl('csv')}&delimiter=%3B&bom=1`, id: 'dl-csv-excel' }, t('csv_excel')),
        ', ',
        el('a', { href: dl('ndjson'), id: 'dl-ndjson' }, 'NDJSON'),
        ', ',
        // numbers as numbers, dates as dates, a sheet of units and the licence: no locale to get wrong
        el('a', { href: dl('xlsx'), id: 'dl-xlsx' }, t('xlsx')),
        '.',
    );
}

// --- results -------------------------------------------------------------------------------------------------------

function clearResult() {
    $('res-status').textContent = '';
    $('res-table').tHead.replaceChildren();
    $('res-table').tBodies[0].replaceChildren();
    $('next').hidden = true;
    if (state.chart) state.chart.destroy();
    state.chart = null;
    $('chart').replaceChildren();
    $('chart').removeAttribute('aria-label');
    $('chart-note').textContent = '';
    state.chartRun = (state.chartRun || 0) + 1;
}

async function run(cursor) {
    const limit = Number($('limit').value || 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10000) {
        $('res-status').textContent = t('invalid_limit');
        $('limit').focus();
        return;
    }
    const p = cursor ? new URLSearchParams(state.lastParams) : formParams();
    if (cursor) p.set('cursor', cursor);
    else {
        state.lastParams = p.toString();
        state.page = 0;
    }
    $('res-status').textContent = t('loading');
    $('run').disabled = true;
    try {
        const res = await fetch(recordsPath(p), { headers: { accept: 'application/json' } });
        if (!res.ok) {
            $('res-status').textContent = await problemText(res);
            $('res-status').className = 'error';
            return;
        }
        $('res-status').className = '';
        const body = await res.json();
        state.page += 1;
        state.cursor = body.next_cursor;
        renderRows(body.data);
        chartWholeResult(p, body);
        $('res-status').textContent = body.count === 0 ? t('no_rows') : `${t('rows_shown', { n: body.count, page: state.page })}${body.next_cursor ? ` ${t('rows_more')}` : ''}`;
        $('next').hidden = !body.next_cursor;
    } catch (err) {
        $('res-status').textContent = String(err);
    } finally {
        $('run').disabled = false;
    }
}

function renderRows(rows) {
    const cols = rows.length ? Object.keys(rows[0]) : [];
    const numeric = (c) => rows.some((r) => typeof r[c] === 'number');
    // column titles with their unit (aggregates such as sum_kg take their column's)
    const unitOf = (c) => field(c)?.unit || field(c.replace(/^(sum|avg|min|max)_/, ''))?.unit;
    $('res-table').tHead.replaceChildren(el('tr', {}, cols.map((c) => el('th', { scope: 'col' }, unitOf(c) ? `${c} (${unitOf(c)})` : c))));
    let suppressed = false;
    $('res-table').tBodies[0].replaceChildren(
        ...rows.map((r) =>
            el(
                'tr',
                {},
                cols.map((c) => {
                    const v = r[c];
                    if (v === null) suppressed = true;
                    return el('td', { class: typeof v === 'number' ? 'num' : undefined }, typeof v === 'number' ? fmtNum(v, 3) : v === null ? '–' : String(v));
                }),
            ),
        ),
    );
    if (suppressed) $('res-table').tBodies[0].append(el('tr', {}, el('td', { colspan: cols.length, class: 'hint' }, t('suppressed_note'))));
}

// The chart draws the whole result, not just the page in the table: it follows next_cursor (10,000 rows a request)
// up to CHART_MAX_ROWS rows and says so when the result is longer. A newer run abandons an older one's fetching.
const CHART_MAX_ROWS = 50000;
async function chartWholeResult(params, first) {
    const run = (state.chartRun = (state.chartRun || 0) + 1);
    const rows = [...first.data];
    let cursor = first.next_cursor;
    const note = $('chart-note');
    note.textContent = cursor ? t('chart_loading') : '';
    try {
        while (cursor && rows.length < CHART_MAX_ROWS) {
            const q = new URLSearchParams(params);
            q.delete('cursor');
            q.set('cursor', cursor);
            q.set('limit', String(Math.min(10000, CHART_MAX_ROWS - rows.length)));
            const res = await fetch(recordsPath(q), { headers: { accept: 'application/json' } });
            if (run !== state.chartRun) return;
            if (!res.ok) break;
            const body = await res.json();
            rows.push(...body.data);
            cursor = body.next_cursor;
        }
    } catch {
        // the chart shows what arrived; the note says it is not the whole result
    }
    if (run !== state.chartRun) return;
    const cols = rows.length ? Object.keys(rows[0]) : [];
    drawChart(rows, cols.filter((c) => rows.some((r) => typeof r[c] === 'number')));
    note.textContent = cursor ? t('chart_capped', { n: fmtNum(rows.length, 0) }) : first.next_cursor ? t('chart_all', { n: fmtNum(rows.length, 0) }) : '';
}

// A line chart over time when the rows have a date/time column, else bars per row; one series per numeric column,
// or, with one more dimension column (e.g. district), one series per value of it for the first measure.
function drawChart(rows, numCols) {
    if (state.chart) state.chart.destroy();
    state.chart = null;
    const box = $('chart');
    box.replaceChildren();
    box.removeAttribute('aria-label');
    const skip = new Set(['cells', 'suppressed_cells', 'district_id', 'hours', 'n_households']);
    let ys = numCols.filter((c) => !skip.has(c) && !(field(c)?.role === 'dimension'));
    if (!rows.length || !ys.length || typeof window.uPlot !== 'function') return;
    const cols = Object.keys(rows[0]);
    const timeCol = cols.find((c) => TIME_TYPES.has(field(c)?.type) || /^(day|month|hour_utc|hour_dk|week|year)$/.test(c));
    const dimCol = cols.find((c) => c !== timeCol && !numCols.includes(c) && typeof rows[0][c] === 'string' && field(c)?.role !== 'measure');
    const width = Math.max(280, Math.min(box.clientWidth || 600, 1000));
    let data;
    let series;
    let opts;
    if (timeCol) {
        const toSec = (v) => Date.parse(/^\d{4}-\d{2}$/.test(v) ? `${v}-01` : v) / 1000;
        if (dimCol) {
            const y = ys[0];
            const keys = [...new Set(rows.map((r) => r[dimCol]))].slice(0, 8);
            const xs = [...new Set(rows.map((r) => toSec(r[timeCol])))].sort((a, b) => a - b);
            const at = new Map(xs.map((x, i) => [x, i]));
            data = [xs, ...keys.map((k) => {
                const a = new Array(xs.length).fill(null);
                for (const r of rows) if (r[dimCol] === k) a[at.get(toSec(r[timeCol]))] = r[y];
                return a;
            })];
            series = keys.map((k) => ({ label: `${k} ${y}` }));
            ys = [y];
        } else {
            const sorted = [...rows].sort((a, b) => toSec(a[timeCol]) - toSec(b[timeCol]));
            data = [sorted.map((r) => toSec(r[timeCol])), ...ys.slice(0, 4).map((c) => sorted.map((r) => r[c]))];
            series = ys.slice(0, 4).map((c) => ({ label: c }));
        }
        opts = { scales: { x: { time: true } } };
    } else {
        const labels = rows.map((r) => (dimCol ? String(r[dimCol]) : cols.filter((c) => !numCols.includes(c)).map((c) => r[c]).join(' ')));
        data = [rows.map((_, i) => i), ...ys.slice(0, 4).map((c) => rows.map((r) => r[c]))];
        series = ys.slice(0, 4).map((c) => ({ label: c, paths: window.uPlot.paths.bars({ size: [0.6, 60] }), points: { show: false } }));
        opts = {
            scales: { x: { time: false, range: (u, min, max) => [min - 0.5, max + 0.5] } },
            axes: [{ values: (u, splits) => splits.map((s) => (Number.isInteger(s) ? labels[s] ?? '' : '')), rotate: 0 }, {}],
        };
    }
    series = series.map((s, i) => ({ stroke: PALETTE[i % PALETTE.length], fill: s.paths ? `${PALETTE[i % PALETTE.length]}cc` : undefined, width: 2, ...s }));
    const fmtY = (u, vals) => vals.map((v) => fmtNum(v, 1));
    state.chart = new window.uPlot(
        {
            width,
            height: 260,
            series: [{}, ...series],
            axes: opts.axes || [{}, { values: fmtY, size: 70 }],
            scales: opts.scales,
            legend: { live: false },
        },
        data,
        box,
    );
    box.setAttribute('aria-label', t('chart_label', { cols: series.map((s) => s.label).join(', ') }));
}

// --- start ---------------------------------------------------------------------------------------------------------

function onLang() {
    if (!document.body.dataset.started) return;
    loadCatalog().then(() => state.ds && openDataset(state.ds.id, false));
}

initPage(texts, onLang);
document.body.dataset.started = '1';
$('add-filter').addEventListener('click', addFilter);
$('query-form').addEventListener('submit', (e) => {
    e.preventDefault();
    run(null);
});
$('next').addEventListener('click', () => run(state.cursor));
let searchTimer;
$('ds-q').addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(loadCatalog, 200);
});
$('ds-search').addEventListener('submit', (e) => {
    e.preventDefault();
    clearTimeout(searchTimer);
    loadCatalog();
});
loadCatalog().then(() => {
    const want = decodeURIComponent(location.hash.slice(1));
    if (want && state.catalog.some((d) => d.id === want)) openDataset(want, false);
});
