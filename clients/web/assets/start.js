// start.js — /start, the getting-started page: the language switch, and the examples show this server's own origin.
import { initPage } from './common.js';

initPage({ da: { page_title: 'Kom i gang — klimaspejl' }, en: { page_title: 'Getting started — klimaspejl' } });
for (const s of document.querySelectorAll('.origin')) s.textContent = location.origin;
