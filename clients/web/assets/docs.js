// docs.js — /docs: the API reference rendered by Redoc (vendored standalone bundle) from /openapi.json. Redoc draws
// into #redoc; its search runs in a worker made from a blob: URL, which the pages' CSP (worker-src 'self' blob:)
// allows.
import { initPage, t } from './common.js';

const texts = {
    da: {
        page_title: 'API-dokumentation — klimaspejl',
        h1: 'API-dokumentation',
        intro: 'Referencen nedenfor er lavet ud fra den OpenAPI-beskrivelse, serveren udgiver på',
        start_pre: 'Ny her? Læs',
        start_link: 'Kom i gang',
        start_post: '(registrér en app, samtykkeflowet med PKCE, et første kald).',
        english_only: 'Selve referencen er på engelsk.',
        loading: 'Henter API-beskrivelsen …',
        loaded: 'API-beskrivelsen er indlæst.',
        failed: 'API-beskrivelsen kunne ikke vises: {e}',
    },
    en: {
        page_title: 'API docs — klimaspejl',
        h1: 'API documentation',
        intro: 'The reference below is rendered from the OpenAPI description the server publishes at',
        start_pre: 'New here? Read',
        start_link: 'Getting started',
        start_post: '(register an app, the consent flow with PKCE, a first call).',
        english_only: 'The reference itself is in English.',
        loading: 'Loading the API description …',
        loaded: 'The API description is loaded.',
        failed: 'The API description could not be shown: {e}',
    },
};

initPage(texts);
const status = document.getElementById('docs-status');
status.textContent = t('loading');

function start() {
    if (!window.Redoc) {
        status.textContent = t('failed', { e: 'Redoc did not load' });
        return;
    }
    window.Redoc.init(
        '/openapi.json',
        {
            hideDownloadButton: false,
            expandResponses: '200',
            // contrast of Redoc's defaults is below WCAG AA in places; these colours pass
            theme: {
                colors: { primary: { main: '#0b5d3b' }, text: { primary: '#1a1a1a', secondary: '#4a4a4a' } },
                typography: { fontFamily: 'system-ui, sans-serif', headings: { fontFamily: 'system-ui, sans-serif' }, code: { fontFamily: 'ui-monospace, monospace' } },
                sidebar: { backgroundColor: '#f4f6f5', textColor: '#1a1a1a' },
                rightPanel: { backgroundColor: '#1f2623' },
            },
            scrollYOffset: 0,
        },
        document.getElementById('redoc'),
        (err) => {
            status.textContent = err ? t('failed', { e: String(err) }) : t('loaded');
        },
    );
    // Redoc's code samples scroll sideways; a keyboard user must be able to focus them to scroll (WCAG 2.1.1)
    const focusable = () => {
        for (const pre of document.querySelectorAll('#redoc pre:not([tabindex])')) pre.setAttribute('tabindex', '0');
    };
    new MutationObserver(focusable).observe(document.getElementById('redoc'), { childList: true, subtree: true });
    focusable();
}

if (document.readyState === 'complete') start();
else window.addEventListener('load', start);
