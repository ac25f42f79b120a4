// history.js — the dashboard's month-by-month charts (GET /v1/me/history): one small SVG line chart per category and
// one for the total, the household's own CO2e as a solid line and its comparison group's median as a dashed second
// line; months with incomplete data (partial) are hollow points and named in the caption and the table. Each chart has
// its figures in a table beside it (a <details>), so nothing is shown by the picture alone.
import { el, fmtMonth, fmtNum, t } from './common.js';

const NS = 'http://www.w3.org/2000/svg';
const W = 360;
const H = 170;
const PAD = { left: 40, right: 10, top: 12, bottom: 30 };

function svg(tag, attrs = {}, ...children) {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) e.setAttribute(k, String(v));
    for (const c of children.flat()) if (c) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
}

// The value of one series in one month: the household's own (kind 'you') or the group's median (kind 'median').
function value(month, cat, kind) {
    if (cat === 'total') return kind === 'you' ? month.total_co2e_kg : month.peers?.total_co2e_kg_median;
    return kind === 'you' ? month.categories?.[cat]?.co2e_kg : month.peers?.categories?.[cat]?.co2e_kg_median;
}

// A 'nice' top of the y axis: 1, 2 or 5 times a power of ten, at least max.
function niceTop(max) {
    if (!(max > 0)) return 1;
    const p = 10 ** Math.floor(Math.log10(max));
    for (const f of [1, 2, 5, 10]) if (f * p >= max) return f * p;
    return 10 * p;
}

function chart(months, cat, label) {
    const id = `hist-${cat}`;
    const mine = months.map((m) => value(m, cat, 'you'));
    const med = months.map((m) => value(m, cat, 'median'));
    const top = niceTop(Math.max(0, ...mine.filter((v) => v != null), ...med.filter((v) => v != null)));
    const x = (i) => PAD.left + (months.length > 1 ? (i * (W - PAD.left - PAD.right)) / (months.length - 1) : 0);
    const y = (v) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - v / top);
    const path = (vals) => {
        let d = '';
        let pen = false;
        vals.forEach((v, i) => {
            if (v == null) {
                pen = false;
                return;
            }
            d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
            pen = true;
        });
        return d;
    };
    const every = months.length > 12 ? 3 : 2;
    const partial = months.filter((m) => m.partial).map((m) => fmtMonth(m.month));
    const pic = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': `${id}-h`, class: 'history-chart', focusable: 'false' },
        // y axis: 0, half, top
        [0, top / 2, top].map((v) => [
            svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: 'grid' }),
            svg('text', { x: PAD.left - 4, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, fmtNum(v, 0)),
        ]),
        // every second (third) month named, counted back from the newest so that it always has its name
        months.map((m, i) => (months.length - 1 - i) % every === 0
            ? svg('text', { x: x(i), y: H - 10, 'text-anchor': 'middle', class: 'tick' }, fmtMonth(m.month, 'short')) : null),
        svg('path', { d: path(med), class: 'line median' }),
        svg('path', { d: path(mine), class: 'line you' }),
        months.map((m, i) => med[i] == null ? null
            : svg('circle', { cx: x(i), cy: y(med[i]), r: 2.5, class: 'pt median', 'data-month': m.month, 'data-value': med[i] })),
        months.map((m, i) => mine[i] == null ? null
            : svg('circle', { cx: x(i), cy: y(mine[i]), r: m.partial ? 4 : 3.5, class: `pt you${m.partial ? ' partial' : ''}`, 'data-month': m.month, 'data-value': mine[i], 'data-partial': m.partial ? 'true' : 'false' })),
    );
    const table = el('table', { class: 'history-table' },
        el('caption', { class: 'visually-hidden' }, label),
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, t('hist_month')), el('th', { scope: 'col' }, t('hist_you')), el('th', { scope: 'col' }, t('hist_median')))),
        el('tbody', {}, months.map((m, i) => el('tr', { 'data-month': m.month },
            el('th', { scope: 'row' }, fmtMonth(m.month), m.partial ? ` (${t('hist_partial')})` : ''),
            el('td', {}, mine[i] == null ? '–' : fmtNum(mine[i], 1)),
            el('td', {}, med[i] == null ? '–' : fmtNum(med[i], 1))))));
    return el('figure', { class: 'card history', id },
        el('h4', { id: `${id}-h`, class: 'cat-h' }, label, ` (${t('kg')})`),
        pic,
        el('figcaption', { class: 'hint' },
            partial.length ? t('hist_partial_months', { months: partial.join(', ') }) : null),
        el('details', {}, el('summary', {}, t('hist_table')), el('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-labelledby': `${id}-h` }, table)));
}

/** The history section's children: the legend and one chart for the total, then one per category in cats ([cat, label]). */
export function historyCharts(h, cats) {
    const months = h.months;
    const medianMissing = months.some((m) => !m.peers.available);
    return [
        el('p', { class: 'legend' },
            el('span', { class: 'key you' }, t('hist_you')), ' ',
            el('span', { class: 'key median' }, t('hist_median')), ' ',
            el('span', { class: 'key partial' }, t('hist_partial'))),
        medianMissing ? el('p', { class: 'hint' }, t('hist_no_median', { n: h.comparison_min })) : null,
        el('div', { class: 'cards history-cards' }, chart(months, 'total', t('total')), cats.map(([c, label]) => chart(months, c, label))),
    ].filter(Boolean);
}
