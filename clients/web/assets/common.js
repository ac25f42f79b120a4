// common.js — what every klimaspejl page shares: the language (Danish/English, remembered in localStorage, default
// from navigator.language), translated texts on elements marked data-i18n, the language switch, and small DOM and
// formatting helpers. Pages import it as an ES module; no inline script is needed (the pages' CSP forbids it).

const STORAGE_KEY = 'klimaspejl.lang';

const shared = {
    da: {
        skip: 'Spring til indhold',
        nav_label: 'Hovedmenu',
        nav_dashboard: 'Min husstand',
        nav_explore: 'Dataudforsker',
        nav_docs: 'API-dokumentation',
        nav_start: 'Kom i gang',
        lang_switch: 'English',
        lang_switch_label: 'Switch to English',
        footer: 'klimaspejl — Københavns Kommunes klimadata. Data er syntetiske, indtil rigtige data indlæses.',
        copy: 'Kopiér',
        copied: 'Kopieret',
    },
    en: {
        skip: 'Skip to content',
        nav_label: 'Main menu',
        nav_dashboard: 'My household',
        nav_explore: 'Data explorer',
        nav_docs: 'API docs',
        nav_start: 'Getting started',
        lang_switch: 'Dansk',
        lang_switch_label: 'Skift til dansk',
        footer: 'klimaspejl — the City of Copenhagen\'s climate data. The data is synthetic until real data is loaded.',
        copy: 'Copy',
        copied: 'Copied',
    },
};

let dict = { da: { ...shared.da }, en: { ...shared.en } };
let lang = 'en';
const listeners = [];

function initialLang() {
    try {
        const saved = localStorage.getItem(STORAGE_KEY);
        if (saved === 'da' || saved === 'en') return saved;
    } catch {
        // storage may be disabled; fall back to the browser's language
    }
    const nav = (navigator.languages && navigator.languages[0]) || navigator.language || 'en';
    return /^(da|nb|no|nn)\b/i.test(nav) ? 'da' : 'en';
}

/** The current language: 'da' or 'en'. */
export const currentLang = () => lang;

/** The text for key in the current language (the key itself when missing), with {name} placeholders filled. */
export function t(key, vars = {}) {
    const s = dict[lang][key] ?? dict.en[key] ?? key;
    return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
}

/** Sets textContent (data-i18n), and attributes (data-i18n-ATTR, e.g. data-i18n-aria-label) of every marked element. */
export function applyTexts(root = document) {
    for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
    for (const el of root.querySelectorAll('*')) {
        for (const a of el.getAttributeNames()) {
            if (a.startsWith('data-i18n-')) el.setAttribute(a.slice(10), t(el.getAttribute(a)));
        }
    }
}

/** Switches the language, remembers it and tells every listener. */
export function setLang(next) {
    lang = next === 'da' ? 'da' : 'en';
    try {
        localStorage.setItem(STORAGE_KEY, lang);
    } catch {
        // not remembered, still switched
    }
    document.documentElement.lang = lang;
    applyTexts();
    if (dict[lang].page_title) document.title = t('page_title');
    for (const fn of listeners) fn(lang);
}

/**
 * Starts a page: merges its texts (pageTexts = {da: {...}, en: {...}}) into the shared ones, picks the language,
 * fills the header and footer, wires the language switch and calls onLang(lang) now and after every switch.
 */
export function initPage(pageTexts, onLang) {
    dict = { da: { ...shared.da, ...pageTexts.da }, en: { ...shared.en, ...pageTexts.en } };
    if (onLang) listeners.push(onLang);
    const btn = document.getElementById('lang-switch');
    if (btn) btn.addEventListener('click', () => setLang(lang === 'da' ? 'en' : 'da'));
    setLang(initialLang());
}

/** Creates an element: el('a', {href: '/x', class: 'y', onclick: fn}, 'text', child, ...). */
export function el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
        if (v === undefined || v === null || v === false) continue;
        if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
        else if (k === 'class') e.className = v;
        else if (v === true) e.setAttribute(k, '');
        else e.setAttribute(k, String(v));
    }
    for (const c of children.flat()) {
        if (c === null || c === undefined || c === false) continue;
        e.append(c instanceof Node ? c : String(c));
    }
    return e;
}

/** Formats a number for the current language (Danish: 1.234,5). */
export function fmtNum(v, digits = 1) {
    if (v === null || v === undefined || Number.isNaN(v)) return '–';
    return new Intl.NumberFormat(lang === 'da' ? 'da-DK' : 'en-GB', { maximumFractionDigits: digits }).format(v);
}

/** A month YYYY-MM in words in the current language ("november 2025", "November 2025"); style 'short' gives "nov. 25". */
export function fmtMonth(ym, style = 'long') {
    const m = /^(\d{4})-(\d{2})$/.exec(ym || '');
    if (!m) return ym ?? '';
    const opts = style === 'short' ? { month: 'short', year: '2-digit' } : { month: 'long', year: 'numeric' };
    return new Intl.DateTimeFormat(lang === 'da' ? 'da-DK' : 'en-GB', { ...opts, timeZone: 'UTC' }).format(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1));
}

/** A copy button for the text returned by getText(); announces success through the live region politeEl. */
export function copyButton(getText, label, politeEl) {
    const b = el('button', { type: 'button', class: 'secondary' }, t('copy'));
    b.setAttribute('aria-label', label);
    b.addEventListener('click', async () => {
        const text = getText();
        let ok = false;
        try {
            await navigator.clipboard.writeText(text);
            ok = true;
        } catch {
            // clipboard API refused (no permission / insecure context): select a hidden textarea and copy
            const ta = el('textarea', { class: 'visually-hidden', 'aria-hidden': 'true', tabindex: '-1' });
            ta.value = text;
            document.body.append(ta);
            ta.select();
            try {
                ok = document.execCommand('copy');
            } catch {
                ok = false;
            }
            ta.remove();
        }
        if (ok) {
            b.textContent = t('copied');
            if (politeEl) politeEl.textContent = t('copied');
            setTimeout(() => (b.textContent = t('copy')), 1500);
        }
    });
    return b;
}

/** Reads an RFC 9457 problem (or any error body) from a failed response into one sentence. */
export async function problemText(res) {
    try {
        const p = await res.json();
        return `${res.status} ${p.title || ''}${p.detail ? `: ${p.detail}` : ''}`;
    } catch {
        return `${res.status} ${res.statusText}`;
    }
}
